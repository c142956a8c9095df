import { describe, expect, it } from 'vitest';
import { blockLanczos } from '../src/analysis/numerics/block-lanczos.ts';
import { orthonormalizeColumns } from '../src/analysis/numerics/orthonormalize.ts';
import { subspaceIteration } from '../src/analysis/numerics/subspace-iteration.ts';
import { Rng } from '../src/util/rng.ts';
import { denseOperator, expectClose, matrixWithSpectrum, orthogonalityError } from './analysis-compare.ts';

/** |cos| between column j of U (n×k) and column j of Q (n×n), both column-major. */
function alignments(U: Float64Array, Q: Float64Array, n: number, k: number): Float64Array {
  const out = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let c = 0;
    for (let t = 0; t < n; t++) c += U[j * n + t] * Q[j * n + t];
    out[j] = Math.abs(c);
  }
  return out;
}

describe('orthonormalizeColumns', () => {
  it('MGS twice gives orthonormality at round-off on a badly conditioned block', () => {
    // Columns A^j·x for a diagonal A with entries spread over 1e-3..1: condition ~1e15.
    const n = 80;
    const b = 8;
    const V = new Float64Array(n * b);
    for (let t = 0; t < n; t++) {
      const a = 10 ** (-3 * (t / (n - 1)));
      let v = 1;
      for (let j = 0; j < b; j++) {
        V[j * n + t] = v;
        v *= a ** 4;
      }
    }
    const replaced = orthonormalizeColumns(V, n, b, new Rng(1));
    expect(replaced).toBe(0);
    expect(orthogonalityError(V, n, b)).toBeLessThan(1e-14);
  });

  it('replaces dependent columns by random ones and respects an existing basis', () => {
    const rng = new Rng(2);
    const n = 20;
    const basis = new Float64Array(n * 3);
    for (let i = 0; i < basis.length; i++) basis[i] = rng.normal();
    orthonormalizeColumns(basis, n, 3, rng);
    // Block: col0 random, col1 = 2·col0, col2 = a basis vector (dependent on the basis), col3 = 0.
    const V = new Float64Array(n * 4);
    for (let t = 0; t < n; t++) {
      V[t] = rng.normal();
      V[n + t] = 2 * V[t];
      V[2 * n + t] = basis[n + t];
    }
    const replaced = orthonormalizeColumns(V, n, 4, rng, { basis, basisCols: 3 });
    expect(replaced).toBe(3);
    const all = new Float64Array(n * 7);
    all.set(basis, 0);
    all.set(V, 3 * n);
    expect(orthogonalityError(all, n, 7)).toBeLessThan(1e-14);
    expect(() => orthonormalizeColumns(new Float64Array(n * 18), n, 18, rng, { basis, basisCols: 3 })).toThrow(/basisCols \+ b must be <= n/);
  });
});

describe('subspaceIteration / blockLanczos (CPU operator standing in for the GPU)', () => {
  const n = 150;
  const k = 10;
  // Power-law PSD spectrum λ_i = (i + 1)^−1.5: gaps shrink down the spectrum like a PCA's.
  const spectrum = Array.from({ length: n }, (_, i) => (i + 1) ** -1.5);
  const { A, Q } = matrixWithSpectrum(spectrum, (() => {
    const r = new Rng(10);
    return () => r.normal();
  })());
  const op = denseOperator(A, n);

  for (const solver of ['subspace', 'lanczos'] as const) {
    it(`${solver}: top-${k} eigenpairs of a power-law spectrum to the requested accuracy`, async () => {
      const res =
        solver === 'subspace'
          ? await subspaceIteration(op, { n, k, oversample: 10, tol: 1e-10, residualTol: 1e-8 })
          : await blockLanczos(op, { n, k, tol: 1e-10, residualTol: 1e-8 });
      expect(res.converged).toBe(true);
      expectClose(`${solver} eigenvalues`, res.values, spectrum.slice(0, k), { rtol: 1e-9 });
      // Eigenvector error ≲ residual / gap; the smallest relative gap here is ≈ 0.13·λ_k.
      expectClose(`${solver} |cos|`, alignments(res.vectors, Q, n, k), new Float64Array(k).fill(1), { atol: 1e-9 });
      expect(orthogonalityError(res.vectors, n, k)).toBeLessThan(1e-13);
      for (let j = 0; j < k; j++) {
        expect(res.relativeResiduals[j]).toBeLessThanOrEqual(1e-8);
        expectClose('relative residual', res.relativeResiduals[j], res.residuals[j] / res.values[0], { rtol: 1e-15 });
      }
      // Lanczos records no history until the basis holds k columns.
      if (solver === 'subspace') expect(res.history.length).toBe(res.iterations);
      else expect(res.history.length).toBeLessThanOrEqual(res.iterations);
      expect(res.operatorCalls).toBe(res.iterations);
    });
  }

  it('block Lanczos needs fewer operator columns than subspace iteration on the same problem', async () => {
    const si = await subspaceIteration(op, { n, k, oversample: 10, tol: 1e-10, residualTol: 1e-8 });
    const bl = await blockLanczos(op, { n, k, tol: 1e-10, residualTol: 1e-8 });
    expect(bl.operatorColumns).toBeLessThan(si.operatorColumns);
  });

  it('reported residuals are the true ‖A·u − θ·u‖', async () => {
    const res = await subspaceIteration(op, { n, k: 4, maxIterations: 5 });
    const AU = await op(res.vectors, 4);
    const check = new Float64Array(4);
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += (AU[j * n + t] - res.values[j] * res.vectors[j * n + t]) ** 2;
      check[j] = Math.sqrt(s);
    }
    expectClose('residuals', res.residuals, check, { rtol: 1e-8, atol: 1e-15 });
  });

  it('stops at maxIterations with converged = false', async () => {
    const res = await subspaceIteration(op, { n, k, oversample: 0, maxIterations: 3 });
    expect(res.converged).toBe(false);
    expect(res.iterations).toBe(3);
    const bl = await blockLanczos(op, { n, k, blockSize: 2, maxBasis: 12 });
    expect(bl.converged).toBe(false);
    expect(bl.operatorColumns).toBe(12);
  });

  it('low-rank operator (rank 4 < block size): exact top pairs, zero-eigenvalue padding tolerated', async () => {
    const rank = 4;
    const m = 60;
    const low = Array.from({ length: m }, (_, i) => (i < rank ? 4 - i : 0));
    const r = new Rng(11);
    const { A: L } = matrixWithSpectrum(low, () => r.normal());
    const opL = denseOperator(L, m);
    const si = await subspaceIteration(opL, { n: m, k: 6, oversample: 4 });
    expect(si.converged).toBe(true);
    expectClose('low-rank subspace', si.values, [4, 3, 2, 1, 0, 0], { atol: 1e-12 });
    const bl = await blockLanczos(opL, { n: m, k: 6, blockSize: 3 });
    expect(bl.converged).toBe(true);
    expectClose('low-rank lanczos', bl.values, [4, 3, 2, 1, 0, 0], { atol: 1e-12 });
  });

  it('warm start from the exact eigenvectors converges at once', async () => {
    const m = k + 5;
    const start = Q.slice(0, n * m);
    const res = await subspaceIteration(op, { n, k, oversample: 5, start });
    expect(res.converged).toBe(true);
    expect(res.iterations).toBe(2); // the first iteration has no previous Ritz values to compare
  });

  it('float32 operator (GPU-like rounding): the documented float32 tolerances converge', async () => {
    const f32: typeof op = async (V, b) => {
      const out = await op(Float64Array.from(V, Math.fround), b);
      return Float64Array.from(out, Math.fround);
    };
    const opts = { n, k, tol: 1e-5, residualTol: 1e-4, valueFloor: 1e-2 };
    for (const res of [await subspaceIteration(f32, { ...opts, oversample: 10 }), await blockLanczos(f32, opts)]) {
      expect(res.converged).toBe(true);
      expectClose('float32 eigenvalues', res.values, spectrum.slice(0, k), { rtol: 1e-4 });
    }
  });

  it('small n: k = n works (the basis is the whole space)', async () => {
    const rr = new Rng(12);
    const { A: S } = matrixWithSpectrum([3, 2, 1], () => rr.normal());
    const res = await blockLanczos(denseOperator(S, 3), { n: 3, k: 3 });
    expect(res.converged).toBe(true);
    expectClose('k = n', res.values, [3, 2, 1], { atol: 1e-14 });
  });

  it('rejects bad parameters and malformed operator output', async () => {
    await expect(subspaceIteration(op, { n, k: 0 })).rejects.toThrow(/k must be an integer in \[1, n = 150\]/);
    await expect(subspaceIteration(op, { n, k, tol: 2 })).rejects.toThrow(/tol must be in \(0, 1\)/);
    await expect(subspaceIteration(op, { n, k, oversample: -1 })).rejects.toThrow(/oversample/);
    await expect(subspaceIteration(op, { n, k, start: new Float64Array(3) })).rejects.toThrow(/start must be/);
    await expect(blockLanczos(op, { n, k, maxBasis: 5 })).rejects.toThrow(/maxBasis must be/);
    const short = async (V: Float64Array, b: number) => new Float64Array(n * b - 1);
    await expect(subspaceIteration(short, { n, k })).rejects.toThrow(/n·b/);
    const nan = async (V: Float64Array, b: number) => new Float64Array(n * b).fill(NaN);
    await expect(blockLanczos(nan, { n, k })).rejects.toThrow(/non-finite/);
  });
});
