/**
 * Comparison helpers for the analysis tests: |a − r| <= atol + |r|·rtol element-wise; on
 * failure the message lists the first mismatches and the largest difference.
 */
import { expect } from 'vitest';

export interface Tolerance {
  atol?: number;
  rtol?: number;
}

export function expectClose(
  label: string,
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  { atol = 0, rtol = 0 }: Tolerance,
): void {
  const a = typeof actual === 'number' ? [actual] : actual;
  const r = typeof expected === 'number' ? [expected] : expected;
  if (a.length !== r.length) expect.fail(`${label}: length ${a.length} != expected ${r.length}`);
  const bad: string[] = [];
  let maxDiff = 0;
  let maxAt = -1;
  let failures = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - r[i]);
    const ok = d <= atol + Math.abs(r[i]) * rtol; // false for NaN
    if (!(d <= maxDiff)) {
      maxDiff = d;
      maxAt = i;
    }
    if (!ok) {
      failures++;
      if (bad.length < 8) bad.push(`  [${i}] got ${a[i]}, want ${r[i]}, |diff| ${d}`);
    }
  }
  if (failures > 0) {
    expect.fail(
      `${label}: ${failures}/${a.length} outside atol=${atol}, rtol=${rtol}; max |diff| ${maxDiff} at [${maxAt}]\n${bad.join('\n')}`,
    );
  }
}

/** Random symmetric matrix Q·diag(values)·Qᵀ with a random orthogonal Q (row-major = col-major). */
export function matrixWithSpectrum(values: ArrayLike<number>, normal: () => number): { A: Float64Array; Q: Float64Array } {
  const n = values.length;
  // Random orthogonal Q by Gram–Schmidt on Gaussian columns (column-major).
  const Q = new Float64Array(n * n);
  for (let i = 0; i < Q.length; i++) Q[i] = normal();
  for (let j = 0; j < n; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        let c = 0;
        for (let t = 0; t < n; t++) c += Q[i * n + t] * Q[j * n + t];
        for (let t = 0; t < n; t++) Q[j * n + t] -= c * Q[i * n + t];
      }
    }
    let s = 0;
    for (let t = 0; t < n; t++) s += Q[j * n + t] ** 2;
    s = Math.sqrt(s);
    for (let t = 0; t < n; t++) Q[j * n + t] /= s;
  }
  const A = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const lam = values[k];
    for (let r = 0; r < n; r++) {
      const qr = lam * Q[k * n + r];
      if (qr === 0) continue;
      for (let c = 0; c < n; c++) A[r * n + c] += qr * Q[k * n + c];
    }
  }
  for (let r = 0; r < n; r++) for (let c = 0; c < r; c++) A[r * n + c] = A[c * n + r] = 0.5 * (A[r * n + c] + A[c * n + r]);
  return { A, Q };
}

/** Dense symmetric matrix times a column-major block: the CPU stand-in for the GPU's S·V. */
export function denseOperator(A: Float64Array, n: number): (V: Float64Array, b: number) => Promise<Float64Array> {
  return async (V, b) => {
    const out = new Float64Array(n * b);
    for (let j = 0; j < b; j++) {
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let c = 0; c < n; c++) s += A[r * n + c] * V[j * n + c];
        out[j * n + r] = s;
      }
    }
    return out;
  };
}

/** max_{i,j} |(VᵀV − I)_ij| for a column-major n×k block. */
export function orthogonalityError(V: Float64Array, n: number, k: number): number {
  let e = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += V[a * n + t] * V[b * n + t];
      e = Math.max(e, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return e;
}
