/**
 * A kernel's outputs against the CPU reference, |got − ref| ≤ atol + |ref|·rtol (the benchmark's
 * rule, bench/core/check.ts), reporting the first mismatches by position — y[3, 17] — so an
 * off-by-one store or an unwritten tile shows where it is. Outputs are filled with NaN before the
 * kernel runs, so an element the kernel never wrote reads NaN.
 */
import type { CheckResult } from '../../bench/core/check.ts';
import type { Expected } from './data.ts';

export interface Mismatch {
  /** 'y[3, 17]' or 'losses[5]' */
  at: string;
  got: number;
  ref: number;
}

export interface OutputCheck {
  output: string;
  checked: number;
  bad: number;
  maxErr: number;
  first: Mismatch[];
}

export const FIRST_MISMATCHES = 8;

export function checkOutput(got: ArrayLike<number>, e: Expected, atol: number, rtol: number): OutputCheck {
  const out: OutputCheck = { output: e.output, checked: e.values.length, bad: 0, maxErr: 0, first: [] };
  e.rows.forEach((r, i) => {
    for (let c = 0; c < e.cols; c++) {
      const ref = e.values[i * e.cols + c];
      const g = got[r * e.cols + c];
      const d = Math.abs(g - ref);
      if (Number.isNaN(d)) out.maxErr = Infinity;
      else if (d > out.maxErr) out.maxErr = d;
      if (d <= atol + Math.abs(ref) * rtol) continue;
      out.bad++;
      if (out.first.length < FIRST_MISMATCHES) out.first.push({ at: e.cols === 1 ? `${e.output}[${r}]` : `${e.output}[${r}, ${c}]`, got: g, ref });
    }
  });
  return out;
}

/** The benchmark's check text: 'ok (max err 3.1e-6)' or 'FAIL: y: 12/4096 …'. */
export function checkSummary(checks: OutputCheck[], atol: number, rtol: number): CheckResult {
  const failed = checks.find((c) => c.bad > 0);
  const maxErr = Math.max(0, ...checks.map((c) => c.maxErr));
  if (!failed) return { ok: true, message: `ok (max err ${maxErr.toExponential(1)})`, maxErr };
  const f = failed.first[0];
  return {
    ok: false,
    message: `FAIL: ${failed.output}: ${failed.bad}/${failed.checked} outside ${atol}+|ref|·${rtol}; first ${f.at} got ${f.got} ref ${f.ref}`,
    maxErr,
  };
}
