/**
 * Arithmetic on numbers and names for shader-side sizes: + - * / with the usual precedence,
 * parentheses, unary minus, ceil, floor, min, max, true/false (1/0), WGSL literal suffixes (4u).
 * Division is WGSL's integer division (floor) for override initializers (src/gpu/kernel.ts), or
 * real division for dispatch grids written as text (bench/core/grid.ts). Nothing is evaluated as
 * JavaScript. Errors name the expression and what is wrong with it.
 */
export function evaluate(expr: string, lookup: (name: string) => number, opts: { intDiv?: boolean } = {}): number {
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
    return lookup(t);
  };
  const product = (): number => {
    let v = atom();
    while (tokens[i] === '*' || tokens[i] === '/') {
      const op = tokens[i++];
      const w = atom();
      v = op === '*' ? v * w : opts.intDiv ? Math.floor(v / w) : v / w;
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
