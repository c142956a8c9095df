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
import { evaluate } from '../../src/gpu/expr.ts';

export type GridVars = Record<string, number | boolean>;

/** The value of one expression (real division); an unknown name is an error listing the known ones. */
export function evalExpr(expr: string, vars: GridVars): number {
  return evaluate(expr, (t) => {
    const v = vars[t];
    if (v === undefined) throw new Error(`'${expr}': unknown name '${t}' (known: ${Object.keys(vars).join(', ')})`);
    return typeof v === 'boolean' ? (v ? 1 : 0) : v;
  });
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
