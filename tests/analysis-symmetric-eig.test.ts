import { describe, expect, it } from 'vitest';
import { symmetricEig } from '../src/analysis/numerics/symmetric-eig.ts';
import { Rng } from '../src/util/rng.ts';
import { expectClose, matrixWithSpectrum, orthogonalityError } from './analysis-compare.ts';

/** max |A·v_j − λ_j·v_j| over all entries, A row-major, V column-major. */
function residual(A: Float64Array, values: Float64Array, V: Float64Array, n: number): number {
  let e = 0;
  for (let j = 0; j < n; j++) {
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += A[r * n + c] * V[j * n + c];
      e = Math.max(e, Math.abs(s - values[j] * V[j * n + r]));
    }
  }
  return e;
}

describe('symmetricEig', () => {
  it('2×2 closed form', () => {
    // [[2, 1], [1, 2]]: λ = 3, 1 with vectors (1, 1)/√2, (1, −1)/√2 (largest entry positive).
    const r = symmetricEig([2, 1, 1, 2], 2);
    expectClose('values', r.values, [3, 1], { atol: 1e-15 });
    const s = Math.SQRT1_2;
    const v = r.vectors as Float64Array;
    expectClose('v0', v.subarray(0, 2), [s, s], { atol: 1e-15 });
    expect(Math.abs(v[2])).toBeCloseTo(s, 15);
    expect(v[2] * v[3]).toBeCloseTo(-0.5, 15);
  });

  it('recovers a prescribed spectrum (negative and repeated eigenvalues) with residual and orthogonality at round-off', () => {
    const rng = new Rng(1);
    const n = 40;
    const want = Array.from({ length: n }, (_, i) => (i < 3 ? 5 : 10 - i * 0.5));
    const { A } = matrixWithSpectrum(want, () => rng.normal());
    const r = symmetricEig(A, n);
    const sorted = [...want].sort((a, b) => b - a);
    expectClose('eigenvalues', r.values, sorted, { atol: 1e-12 });
    const V = r.vectors as Float64Array;
    expect(residual(A, r.values, V, n)).toBeLessThan(1e-12);
    expect(orthogonalityError(V, n, n)).toBeLessThan(1e-13);
  });

  it('eigenvectors agree with the known ones up to sign, and the sign convention holds', () => {
    const rng = new Rng(2);
    const n = 25;
    const want = Array.from({ length: n }, (_, i) => n - i); // distinct
    const { A, Q } = matrixWithSpectrum(want, () => rng.normal());
    const r = symmetricEig(A, n);
    const V = r.vectors as Float64Array;
    const cosines = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let c = 0;
      for (let t = 0; t < n; t++) c += V[j * n + t] * Q[j * n + t];
      cosines[j] = Math.abs(c);
      let big = 0;
      for (let t = 0; t < n; t++) if (Math.abs(V[j * n + t]) > Math.abs(big)) big = V[j * n + t];
      expect(big).toBeGreaterThan(0);
    }
    expectClose('|cos(v_j, q_j)|', cosines, new Float64Array(n).fill(1), { atol: 1e-12 });
  });

  it('graded spectrum 1 … 1e-12: absolute eigenvalue error at ε·‖A‖', () => {
    const rng = new Rng(3);
    const n = 30;
    const want = Array.from({ length: n }, (_, i) => 10 ** (-12 * i / (n - 1)));
    const { A } = matrixWithSpectrum(want, () => rng.normal());
    const r = symmetricEig(A, n);
    expectClose('graded eigenvalues', r.values, want, { atol: 1e-14 });
  });

  it('values-only path gives the same eigenvalues', () => {
    const rng = new Rng(4);
    const n = 60;
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) A[i * n + j] = A[j * n + i] = rng.normal();
    const full = symmetricEig(A, n);
    const vals = symmetricEig(A, n, { vectors: false });
    expect(vals.vectors).toBeNull();
    expectClose('values-only vs full', vals.values, full.values, { atol: 1e-12 });
  });

  it('degenerate inputs: diagonal, zero, already tridiagonal, n = 1', () => {
    const diag = new Float64Array(9);
    diag[0] = 1;
    diag[4] = 3;
    diag[8] = 2;
    const r = symmetricEig(diag, 3);
    expectClose('diagonal', r.values, [3, 2, 1], { atol: 0 });
    expectClose('diagonal vector 0', (r.vectors as Float64Array).subarray(0, 3), [0, 1, 0], { atol: 0 });
    expectClose('zero matrix', symmetricEig(new Float64Array(16), 4).values, [0, 0, 0, 0], { atol: 0 });
    // Tridiagonal Toeplitz (2, −1): λ_j = 2 − 2cos(jπ/(n+1)).
    const n = 12;
    const T = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      T[i * n + i] = 2;
      if (i + 1 < n) T[i * n + i + 1] = T[(i + 1) * n + i] = -1;
    }
    const want = Array.from({ length: n }, (_, j) => 2 - 2 * Math.cos(((n - j) * Math.PI) / (n + 1)));
    expectClose('tridiagonal Toeplitz', symmetricEig(T, n).values, want, { atol: 1e-14 });
    const one = symmetricEig([7], 1);
    expectClose('n = 1', one.values, [7], { atol: 0 });
    expectClose('n = 1 vector', one.vectors as Float64Array, [1], { atol: 0 });
  });

  it('n = 300 (the Rayleigh–Ritz size) is accurate', () => {
    const rng = new Rng(5);
    const n = 300;
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) A[i * n + j] = A[j * n + i] = rng.normal();
    const t0 = performance.now();
    const r = symmetricEig(A, n);
    const ms = performance.now() - t0;
    expect(residual(A, r.values, r.vectors as Float64Array, n)).toBeLessThan(1e-11);
    expect(orthogonalityError(r.vectors as Float64Array, n, n)).toBeLessThan(1e-12);
    // Trace is preserved.
    let tr = 0;
    for (let i = 0; i < n; i++) tr += A[i * n + i];
    expectClose('trace', r.values.reduce((a, b) => a + b, 0), tr, { atol: 1e-10 });
    // How quick it is belongs to bench/, not to a pass/fail threshold on a shared machine.
    console.log(`symmetricEig n = ${n}: ${ms.toFixed(0)} ms`);
  });

  it('symmetrises float32-level asymmetry, rejects real asymmetry and bad input', () => {
    const r = symmetricEig([2, 1 + 1e-7, 1, 2], 2);
    expectClose('nearly symmetric', r.values, [3 + 0.5e-7, 1 - 0.5e-7], { atol: 1e-15 });
    expect(() => symmetricEig([2, 1.5, 1, 2], 2)).toThrow(/not symmetric/);
    expect(() => symmetricEig([1, 2, 3], 2)).toThrow(/n² = 4/);
    expect(() => symmetricEig([1, NaN, NaN, 1], 2)).toThrow(/must be finite/);
    expect(() => symmetricEig([1], 0)).toThrow(/n must be an integer >= 1/);
  });
});
