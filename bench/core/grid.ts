/**
 * Dispatch grids written as text, so a grid can be shown, edited and shared with the kernel it
 * belongs to (the matmul ladder in bench/ladder.ts, the kernel lab's grid fields):
 *
 *   ['ceil(N / (TN * WG_X))', 'ceil(M / (TM * WG_Y))']
 *
 * An expression has numbers, names (problem sizes such as M, K, N; override constants; template
 * keys; wg_x, wg_y, wg_z = the entry point's workgroup size; booleans count 1 or 0), + - * /
 * (real division), parentheses and ceil, floor, min, max. Nothing is evaluated as JavaScript.
 */
export type GridVars = Record<string, number | boolean>;

/** The value of one expression; errors name the expression and what is wrong with it. */
export function evalExpr(expr: string, vars: GridVars): number {
  const tokens = expr.match(/\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?[uif]?|[A-Za-z_]\w*|[-+*/(),]|\S)/g)?.map((t) => t.trim()) ?? [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`'${expr}': ${why}`);
  };
  const expect = (t: string): void => {
    if (tokens[i] !== t) fail(`expected '${t}'${tokens[i] ? ` at '${tokens[i]}'` : ' at the end'}`);
    i++;
  };
  const FUNCS: Record<string, (...a: number[]) => number> = { ceil: Math.ceil, floor: Math.floor, min: Math.min, max: Math.max };
  const atom = (): number => {
    const t = tokens[i++];
    if (t === undefined) return fail('ends too early');
    if (t === '(') {
      const v = sum();
      expect(')');
      return v;
    }
    if (t === '-') return -atom();
    if (/^\d/.test(t)) return Number(t.replace(/[uif]$/, ''));
    if (!/^[A-Za-z_]/.test(t)) return fail(`unexpected '${t}'`);
    if (t in FUNCS && tokens[i] === '(') {
      i++;
      const args = [sum()];
      while (tokens[i] === ',') {
        i++;
        args.push(sum());
      }
      expect(')');
      if ((t === 'ceil' || t === 'floor') && args.length !== 1) fail(`${t}() takes one argument`);
      return FUNCS[t](...args);
    }
    if (t === 'true') return 1;
    if (t === 'false') return 0;
    const v = vars[t];
    if (v === undefined) return fail(`unknown name '${t}' (known: ${Object.keys(vars).join(', ')})`);
    return typeof v === 'boolean' ? (v ? 1 : 0) : v;
  };
  const product = (): number => {
    let v = atom();
    while (tokens[i] === '*' || tokens[i] === '/') {
      const op = tokens[i++];
      const w = atom();
      v = op === '*' ? v * w : v / w;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (tokens[i] === '+' || tokens[i] === '-') {
      const op = tokens[i++];
      const w = product();
      v = op === '+' ? v + w : v - w;
    }
    return v;
  };
  if (tokens.length === 0) fail('empty');
  const v = sum();
  if (i < tokens.length) fail(`unexpected '${tokens[i]}'`);
  return v;
}

/**
 * Workgroup counts [x, y, z] from one to three expressions (missing ones are 1). Each must be a
 * whole number in [1, maxPerDim].
 */
export function evalGrid(exprs: readonly string[], vars: GridVars, maxPerDim = 65535): [number, number, number] {
  if (exprs.length < 1 || exprs.length > 3) throw new Error(`a grid has 1 to 3 expressions, got ${exprs.length}`);
  const out: number[] = [];
  ['x', 'y', 'z'].forEach((axis, d) => {
    const e = exprs[d]?.trim() || '1';
    const v = evalExpr(e, vars);
    if (!Number.isInteger(v)) throw new Error(`grid ${axis} = '${e}' = ${v} is not a whole number (use ceil(...))`);
    if (v < 1 || v > maxPerDim) throw new Error(`grid ${axis} = '${e}' = ${v} is outside [1, ${maxPerDim}] workgroups`);
    out.push(v);
  });
  return out as [number, number, number];
}
