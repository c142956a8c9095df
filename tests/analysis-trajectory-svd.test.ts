import { describe, expect, it } from 'vitest';
import {
  denseTrajectoryOperator,
  trajectoryPcaCovariance,
  trajectoryPcaGram,
  trajectoryPcaRandomized,
  type TrajectoryPca,
} from '../src/analysis/numerics/trajectory-svd.ts';
import { Rng } from '../src/util/rng.ts';
import { expectClose } from './analysis-compare.ts';

/**
 * A synthetic SGD-like window: w_t = w* + drift·t·d + Σ_i sqrt(λ_i)·ξ_{t,i}·e_i, with an
 * anisotropic (power-law) spectrum along random orthonormal e_i and a large offset w*, so
 * centring matters.
 */
function syntheticTrajectory(T: number, P: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const wStar = Float64Array.from({ length: P }, () => 5 + rng.normal());
  const dirs = Float64Array.from({ length: P * P }, () => rng.normal() / Math.sqrt(P));
  const X = new Float64Array(T * P);
  for (let t = 0; t < T; t++) {
    for (let p = 0; p < P; p++) X[t * P + p] = wStar[p] * (1 + 0.002 * t);
    for (let i = 0; i < Math.min(P, 12); i++) {
      const a = Math.sqrt((i + 1) ** -2) * rng.normal();
      for (let p = 0; p < P; p++) X[t * P + p] += a * dirs[i * P + p];
    }
  }
  return X;
}

function componentCosines(a: TrajectoryPca, b: TrajectoryPca): Float64Array {
  const out = new Float64Array(a.k);
  for (let j = 0; j < a.k; j++) {
    let c = 0;
    for (let p = 0; p < a.P; p++) c += a.components[j * a.P + p] * b.components[j * b.P + p];
    out[j] = Math.abs(c);
  }
  return out;
}

describe('trajectory PCA', () => {
  it('divides by T − 1: three points on a line', () => {
    // x = 1, 2, 6 (P = 1): mean 3, Σ(x − x̄)² = 14, σ² = 14/2 = 7.
    const r = trajectoryPcaCovariance([1, 2, 6], 3, 1, 1);
    expectClose('variance', r.variances, [7], { rtol: 1e-15 });
    expectClose('total', r.totalVariance as number, 7, { rtol: 1e-15 });
    const g = trajectoryPcaGram([1, 2, 6], 3, 1, 1);
    expectClose('gram variance', g.variances, [7], { rtol: 1e-14 });
    expectClose('gram component', g.components, [1], { rtol: 1e-14 });
  });

  for (const [T, P] of [
    [40, 25],
    [25, 40],
  ] as const) {
    it(`covariance, Gram and randomised routes agree (T = ${T}, P = ${P})`, async () => {
      const X = syntheticTrajectory(T, P, T * 100 + P);
      const k = 6;
      const ref = trajectoryPcaCovariance(X, T, P, k);
      const gram = trajectoryPcaGram(X, T, P, k);
      const rnd = await trajectoryPcaRandomized(denseTrajectoryOperator(X, T, P), k, { tol: 1e-12, residualTol: 1e-10 });
      expect(rnd.solver?.converged).toBe(true);
      for (const [label, r] of [
        ['gram', gram],
        ['randomized', rnd],
      ] as const) {
        expectClose(`${label} variances`, r.variances, ref.variances, { rtol: 1e-9 });
        expectClose(`${label} |cos| with covariance PCs`, componentCosines(r, ref), new Float64Array(k).fill(1), { atol: 1e-8 });
        expectClose(`${label} total variance`, r.totalVariance as number, ref.totalVariance as number, { rtol: 1e-10 });
      }
      // The mean is the column mean.
      const m0 = Array.from({ length: T }, (_, t) => X[t * P]).reduce((a, b) => a + b, 0) / T;
      expectClose('mean[0]', (gram.mean as Float64Array)[0], m0, { rtol: 1e-14 });
    });
  }

  it('randomised route on already-centred data gives the same result without a mean', async () => {
    const T = 30;
    const P = 20;
    const X = syntheticTrajectory(T, P, 7);
    const ref = trajectoryPcaCovariance(X, T, P, 4);
    const Xc = Float64Array.from(X);
    for (let p = 0; p < P; p++) {
      const m = (ref.mean as Float64Array)[p];
      for (let t = 0; t < T; t++) Xc[t * P + p] -= m;
    }
    const r = await trajectoryPcaRandomized(denseTrajectoryOperator(Xc, T, P, true), 4, { tol: 1e-12, residualTol: 1e-10 });
    expect(r.mean).toBeNull();
    expectClose('centred variances', r.variances, ref.variances, { rtol: 1e-9 });
    expectClose('centred total', r.totalVariance as number, ref.totalVariance as number, { rtol: 1e-12 });
  });

  it('randomised route without sumOfSquares reports totalVariance null', async () => {
    const X = syntheticTrajectory(12, 6, 3);
    const op = denseTrajectoryOperator(X, 12, 6);
    delete op.sumOfSquares;
    const r = await trajectoryPcaRandomized(op, 2);
    expect(r.totalVariance).toBeNull();
  });

  it('rejects k beyond min(T − 1, P), wrong shapes and malformed callbacks', async () => {
    const X = syntheticTrajectory(5, 8, 1);
    expect(() => trajectoryPcaGram(X, 5, 8, 5)).toThrow(/k must be an integer in \[1, min\(T − 1, P\) = 4\]/);
    expect(() => trajectoryPcaCovariance(X, 5, 7, 2)).toThrow(/T·P = 35/);
    expect(() => trajectoryPcaGram(X, 1, 40, 1)).toThrow(/T must be an integer >= 2/);
    const op = denseTrajectoryOperator(X, 5, 8);
    await expect(trajectoryPcaRandomized({ ...op, mulX: async () => new Float64Array(3) }, 2)).rejects.toThrow(/mulX must return/);
    // Duplicate rows: rank 1 after centring, so a second Gram component does not exist.
    expect(() => trajectoryPcaGram([0, 0, 1, 1, 1, 1], 3, 2, 2)).toThrow(/numerical rank/);
  });
});
