/**
 * Correctness before timing (llm.c style): a benchmark's output is compared with the plain-loop
 * CPU reference in src/kernels/*.ref.ts as |got − ref| ≤ atol + |ref|·rtol. The message names the
 * first mismatch and the largest difference, and the table's check column shows it.
 */
export interface CheckResult {
  ok: boolean;
  /** 'ok (max |err| 3.1e-6)' or 'FAIL: …'. */
  message: string;
  maxErr: number;
}

export function compare(got: ArrayLike<number>, ref: ArrayLike<number>, atol: number, rtol: number, label = 'output'): CheckResult {
  if (got.length < ref.length) return { ok: false, message: `FAIL: ${label}: ${got.length} values, expected ${ref.length}`, maxErr: Infinity };
  let maxErr = 0;
  let bad = 0;
  let first = -1;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    if (Number.isNaN(d)) {
      maxErr = Infinity;
    } else if (d > maxErr) maxErr = d;
    if (!(d <= atol + Math.abs(ref[i]) * rtol)) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad === 0) return { ok: true, message: `ok (max err ${maxErr.toExponential(1)})`, maxErr };
  return {
    ok: false,
    message: `FAIL: ${label}: ${bad}/${ref.length} outside ${atol}+|ref|·${rtol}; first [${first}] got ${got[first]} ref ${ref[first]}; max err ${maxErr.toExponential(2)}`,
    maxErr,
  };
}

/** Combines several checks of one benchmark (all must pass). */
export function combine(results: CheckResult[]): CheckResult {
  const failed = results.find((r) => !r.ok);
  if (failed) return failed;
  const maxErr = Math.max(0, ...results.map((r) => r.maxErr));
  return { ok: true, message: `ok (max err ${maxErr.toExponential(1)})`, maxErr };
}

/** Deterministic data in [-scale, scale) (xorshift32), the same in Node and the browser. */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}
