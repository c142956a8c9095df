/**
 * symmetricEigTop (tridiagonalisation + QL values + inverse iteration + back-transformation) against
 * symmetricEig: all eigenvalues, the top-k vectors' residuals and orthogonality, on spectra with
 * repeated and negative eigenvalues and on a graded PCA-like spectrum (1 … 1e-12).
 */
import { describe, expect, it } from 'vitest';
import { symmetricEig } from '../src/analysis/numerics/symmetric-eig.ts';
import { symmetricEigTop, tridiagonalise } from '../src/analysis/numerics/symmetric-eig-top.ts';
import { Rng } from '../src/util/rng.ts';
import { expectClose, matrixWithSpectrum, orthogonalityError } from './analysis-compare.ts';
import { loadLinalg } from '../src/analysis/numerics/wasm/linalg.ts';
import { scatterF64 } from '../src/analysis/numerics/window-scatter.ts';

/** max_j ‖A·v_j − λ_j·v_j‖ over the k vectors, relative to max|λ|. */
function residual(A: Float64Array, values: Float64Array, V: Float64Array, n: number, k: number): number {
  let e = 0;
  for (let j = 0; j < k; j++) {
    let r = 0;
    for (let a = 0; a < n; a++) {
      let s = 0;
      for (let b = 0; b < n; b++) s += A[a * n + b] * V[j * n + b];
      r += (s - values[j] * V[j * n + a]) ** 2;
    }
    e = Math.max(e, Math.sqrt(r));
  }
  return e / Math.max(Math.abs(values[0]), Math.abs(values[values.length - 1]));
}

describe('symmetricEigTop', () => {
  it('repeated and negative eigenvalues: all values, top-k residuals and orthogonality at round-off', () => {
    const rng = new Rng(3);
    const n = 60;
    const want = Array.from({ length: n }, (_, i) => (i < 4 ? 7 : i < 8 ? 3 : 2 - i * 0.1));
    const { A } = matrixWithSpectrum(want, () => rng.normal());
    const r = symmetricEigTop(A, n, 20);
    expectClose('eigenvalues', r.values, [...want].sort((a, b) => b - a), { atol: 1e-12 });
    expect(residual(A, r.values, r.vectors, n, 20)).toBeLessThan(1e-13);
    expect(orthogonalityError(r.vectors, n, 20)).toBeLessThan(1e-12);
    // Sign convention of symmetricEig: the largest-magnitude entry is positive.
    for (let j = 0; j < 20; j++) {
      const v = r.vectors.subarray(j * n, (j + 1) * n);
      expect(v.reduce((m, x) => (Math.abs(x) > Math.abs(m) ? x : m), 0)).toBeGreaterThan(0);
    }
  });

  it('a graded spectrum 1 … 1e-12: eigenvalues to 1e-3 relative down to 1e-9, vectors as symmetricEig', () => {
    const rng = new Rng(4);
    const n = 120;
    const want = Array.from({ length: n }, (_, i) => 10 ** (-12 * (i / (n - 1))));
    const { A } = matrixWithSpectrum(want, () => rng.normal());
    const r = symmetricEigTop(A, n, 80);
    const ref = symmetricEig(A, n);
    for (let i = 0; i < n; i++) {
      if (ref.values[i] < 1e-9) break;
      expect(Math.abs(r.values[i] - ref.values[i]) / ref.values[i], `λ${i}`).toBeLessThan(1e-3);
    }
    expect(residual(A, r.values, r.vectors, n, 80)).toBeLessThan(1e-13);
    expect(orthogonalityError(r.vectors, n, 80)).toBeLessThan(1e-10);
    // Well-separated leading vectors agree with symmetricEig's.
    const V = ref.vectors as Float64Array;
    for (let j = 0; j < 20; j++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += r.vectors[j * n + i] * V[j * n + i];
      expect(Math.abs(d), `v${j}`).toBeGreaterThan(1 - 1e-9);
    }
  });

  it('T = Qᵀ·A·Q: the tridiagonal has the eigenvalues of A; k = 0 gives values only; bad input is named', () => {
    const rng = new Rng(5);
    const n = 9;
    const { A } = matrixWithSpectrum([5, 4, 3, 2, 1, 0, -1, -2, -3], () => rng.normal());
    const t = tridiagonalise(A, n);
    const T = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      T[i * n + i] = t.d[i];
      if (i + 1 < n) T[i * n + i + 1] = T[(i + 1) * n + i] = t.e[i];
    }
    expectClose('tridiagonal spectrum', symmetricEig(T, n).values, [5, 4, 3, 2, 1, 0, -1, -2, -3], { atol: 1e-13 });
    expect(symmetricEigTop(A, n, 0).vectors.length).toBe(0);
    expect(symmetricEigTop([3], 1, 1).values[0]).toBe(3);
    expect(() => symmetricEigTop([1, 2, 3], 2, 1)).toThrow(/n² = 4/);
    expect(() => symmetricEigTop([1, 0, 0, 1], 2, 3)).toThrow(/k must be an integer in \[0, 2\]/);
  });
});

describe('the WebAssembly kernels against their JavaScript twins', () => {
  it('load here (Node 20 has WebAssembly SIMD)', async () => {
    expect(await loadLinalg()).not.toBeNull();
  });

  for (const [n, k] of [
    [2, 1],
    [3, 3],
    [7, 4],
    [53, 20],
  ] as const) {
    it(`symmetricEigTop n = ${n}, k = ${k}: same values and vectors`, async () => {
      await loadLinalg();
      const rng = new Rng(n);
      const { A } = matrixWithSpectrum(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 2 : 1 / (1 + i))), () => rng.normal());
      const w = symmetricEigTop(A, n, k);
      const j = symmetricEigTop(A, n, k, { js: true });
      expectClose('values', w.values, j.values, { atol: 1e-13 });
      expect(residual(A, w.values, w.vectors, n, k)).toBeLessThan(1e-13);
      expect(orthogonalityError(w.vectors, n, k)).toBeLessThan(1e-12);
    });
  }

  it('scatterF64 on odd shapes (P not a multiple of 4, odd rows, a partial last panel)', async () => {
    await loadLinalg();
    const [T, P] = [131, 37];
    const x = Float32Array.from({ length: T * P }, (_, i) => 0.1 + 1e-3 * Math.sin(i * 0.37) + 1e-6 * Math.cos(i * 1.7));
    const mean = Float64Array.from({ length: P }, (_, p) => {
      let s = 0;
      for (let t = 0; t < T; t++) s += x[t * P + p];
      return s / T;
    });
    const w = scatterF64(x, T, P, mean, { blockRows: 50 });
    const j = scatterF64(x, T, P, mean, { blockRows: 50, js: true });
    let scale = 0;
    for (const v of j) scale = Math.max(scale, Math.abs(v));
    expectClose('S', w, j, { atol: 1e-14 * scale });
  });
});
