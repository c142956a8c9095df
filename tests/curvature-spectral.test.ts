/**
 * Curvature tools on the exact Hessian of a small network (float64, built column by column from
 * the R-operator reference mlpHvpCpu, itself checked against finite differences in
 * curvature-hvp.test.ts):
 *  - Lanczos (full re-orthogonalisation) top-10 against the dense symmetric eigensolver, with a
 *    float64 CPU operator and with the GPU Hessian–vector products;
 *  - SLQ: the broadened density integrates to 1, its mean is the Hutchinson estimate of trace/P
 *    with the same probes and matches the exact trace/P within its error; with m = P steps the
 *    quadrature nodes are the eigenvalues;
 *  - Hutchinson against the exact trace (and diagonal) within their standard errors;
 *  - the outlier rule; the gradient-noise covariance (projections and diagonal) against
 *    per-sample gradients computed one sample at a time, on the CPU and from the GPU pass;
 *    the power-law fit on data with a known exponent.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import type { Activation } from '../src/kernels/activation.ts';
import { mlpHvpCpu } from '../src/nn/hvp-cpu.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { initParams } from '../src/nn/init.ts';
import { mlpGradCpu } from '../src/nn/mlp-cpu.ts';
import { MlpGpu } from '../src/nn/mlp-gpu.ts';
import { paramLayout } from '../src/nn/params.ts';
import { uploadDataset } from '../src/train/gpu-dataset.ts';
import { symmetricEig } from '../src/analysis/numerics/symmetric-eig.ts';
import type { BlockOperator } from '../src/analysis/numerics/ritz.ts';
import {
  HvpEngine,
  blockGradientNoise,
  countAbove,
  hutchinson,
  lanczosTopK,
  layerCovarianceDiagonal,
  powerLawRelation,
  projectedCovariance,
  rademacherProbes,
  slq,
  spectralDensity,
  splitOutliers,
} from '../src/analysis/curvature/index.ts';
import { Rng } from '../src/util/rng.ts';

const ctx = useGpu();

interface Tiny {
  config: MlpConfig;
  params: Float32Array;
  x: Float32Array;
  y: Uint8Array;
  rows: number;
  /** Compact indices (all real parameters, layer order) and the dense Hessian over them. */
  n: number;
  H: Float64Array;
}

function tiny(activation: Activation, rows = 100): Tiny {
  const config: MlpConfig = { widths: [8, 12, 10, 4], activation, bias: true, init: { kind: 'normal', sigmaW: 1.5, sigmaB: 0.2 } };
  const rng = new Rng(5);
  const params = initParams(config, rng);
  const x = Float32Array.from({ length: rows * 8 }, () => rng.normal());
  const y = Uint8Array.from({ length: rows }, () => rng.int(4));
  const layout = paramLayout(config);
  const real: number[] = [];
  for (const L of layout.layers) for (let i = 0; i < L.size; i++) real.push(L.offset + i);
  const n = real.length;
  const H = new Float64Array(n * n);
  const e = new Float64Array(layout.total);
  real.forEach((fi, a) => {
    e.fill(0);
    e[fi] = 1;
    const hv = mlpHvpCpu(config, params, x, y, rows, e).hv;
    real.forEach((fj, b) => (H[a * n + b] = hv[fj]));
  });
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) H[a * n + b] = H[b * n + a] = 0.5 * (H[a * n + b] + H[b * n + a]);
  return { config, params, x, y, rows, n, H };
}

function denseOperator(H: Float64Array, n: number): BlockOperator {
  return async (V, b) => {
    const out = new Float64Array(n * b);
    for (let j = 0; j < b; j++) for (let r = 0; r < n; r++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += H[r * n + c] * V[j * n + c];
      out[j * n + r] = s;
    }
    return out;
  };
}

const T = tiny('tanh');
const exact = symmetricEig(T.H, T.n, { vectors: false }).values;
const exactTrace = Array.from({ length: T.n }, (_, i) => T.H[i * T.n + i]).reduce((a, b) => a + b, 0);

describe('Lanczos top-k', () => {
  it('float64 operator: top-10 match the dense eigensolver to 1e-9', async () => {
    expect(T.n).toBe(282);
    expect(exact[T.n - 1]).toBeLessThan(0); // an indefinite Hessian: the top is the algebraic top
    const r = await lanczosTopK(denseOperator(T.H, T.n), { n: T.n, k: 10, residualTol: 1e-10, seed: 3 });
    expect(r.converged).toBe(true);
    assertClose(r.values, exact.subarray(0, 10), { atol: 0, rtol: 1e-9, label: 'Lanczos vs dense (float64)' });
    expect(r.orthogonalityLoss).toBeLessThan(1e-12);
    expect(r.iterations).toBeLessThan(T.n);
    // Residual estimates are the true residuals.
    const HU = await denseOperator(T.H, T.n)(r.vectors, 10);
    for (let i = 0; i < 10; i++) {
      let s = 0;
      for (let t = 0; t < T.n; t++) s += (HU[i * T.n + t] - r.values[i] * r.vectors[i * T.n + t]) ** 2;
      expect(Math.sqrt(s)).toBeLessThan(1e-9 * Math.abs(exact[0]) + 2 * r.residualEstimates[i]);
    }
  });

  it('GPU Hessian–vector products: top-10 match the dense float64 eigensolver to 1e-4', async () => {
    const c = ctx();
    const mlp = await MlpGpu.create(c, T.config, { momentum: false });
    mlp.uploadParams(T.params);
    const data = uploadDataset(c, 'tiny', T.x, T.y, 8, 4);
    const eng = await HvpEngine.create(mlp, data, { chunkRows: 64 });
    expect(eng.dim).toBe(T.n);
    const r = await lanczosTopK(eng.operator, { n: eng.dim, k: 10, residualTol: 1e-6, seed: 3 });
    assertClose(r.values, exact.subarray(0, 10), { atol: 1e-6 * Math.abs(exact[0]), rtol: 1e-4, label: 'Lanczos (GPU HVP) vs dense (float64)' });
    eng.destroy();
  });
});

describe('stochastic Lanczos quadrature and Hutchinson', () => {
  it('density integrates to 1; its mean is trace/P (the probes\' Hutchinson estimate, and the exact one within error)', async () => {
    const op = denseOperator(T.H, T.n);
    const r = await slq(op, { n: T.n, probes: 12, steps: 40, seed: 11, batch: 5 });
    expect(r.probes).toHaveLength(12);
    for (const p of r.probes) expect(p.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // The quadrature mean is exactly (1/R) Σ zᵀHz / P for the same Rademacher probes.
    const Z = rademacherProbes(T.n, 12, 11);
    const HZ = await op(Z, 12);
    let h = 0;
    for (let i = 0; i < Z.length; i++) h += Z[i] * HZ[i];
    expect(r.mean).toBeCloseTo(h / 12 / T.n, 12);
    // And it estimates the exact trace/P within 4 standard errors.
    expect(Math.abs(r.trace - exactTrace)).toBeLessThan(4 * r.traceStdErr);
    const d = spectralDensity(r, { sigmaRel: 0.01, points: 4000 });
    expect(d.integral).toBeCloseTo(1, 5);
    expect(d.mean).toBeCloseTo(r.mean, 6);
    for (const v of d.density) expect(v).toBeGreaterThanOrEqual(0);
    // Count above a level: all P eigenvalues lie above min − 1.
    expect(countAbove(r, exact[T.n - 1] - 1)).toBeCloseTo(T.n, 6);
  });

  it('with m = P steps the quadrature nodes are the eigenvalues', async () => {
    const small = 40;
    const rng = new Rng(2);
    const A = new Float64Array(small * small);
    for (let i = 0; i < small; i++) for (let j = 0; j <= i; j++) A[i * small + j] = A[j * small + i] = rng.normal();
    const ev = symmetricEig(A, small, { vectors: false }).values;
    const r = await slq(denseOperator(A, small), { n: small, probes: 2, steps: small, seed: 1 });
    for (const p of r.probes) assertClose(p.nodes, ev, { atol: 1e-9, rtol: 1e-9, label: 'nodes vs eigenvalues' });
  });

  it('Hutchinson trace and diagonal are within their standard errors of the exact ones', async () => {
    const r = await hutchinson(denseOperator(T.H, T.n), { n: T.n, probes: 200, batch: 64, seed: 4 });
    expect(Math.abs(r.trace - exactTrace)).toBeLessThan(4 * r.stdErr);
    expect(r.stdErr).toBeGreaterThan(0);
    let z2 = 0;
    for (let i = 0; i < T.n; i++) z2 += ((r.diagonal[i] - T.H[i * T.n + i]) / r.diagonalStdErr[i]) ** 2;
    // Mean squared z-score of the diagonal estimate ≈ 1.
    expect(z2 / T.n).toBeGreaterThan(0.5);
    expect(z2 / T.n).toBeLessThan(1.6);
  });
});

describe('outliers, noise covariance, power laws', () => {
  it('the largest-gap rule', () => {
    expect(splitOutliers([10, 9, 8, 2, 1.9, 1.8, 1.7])).toMatchObject({ count: 3, bulkEdge: 2 });
    expect(splitOutliers([2, 1.9, 1.8, 1.7, 1.6]).count).toBe(0);
    // A gap too close to the end (fewer than minBulk below it) is not taken.
    expect(splitOutliers([5, 4.8, 4.6, 4.4, 1, 0.9]).count).toBe(0);
  });

  it('projections and diagonal of C against per-sample gradients one sample at a time (CPU and GPU)', async () => {
    const p = tiny('relu', 70);
    const layout = paramLayout(p.config);
    // Per-sample gradients by mlpGradCpu on single rows.
    const G: Float64Array[] = [];
    for (let r = 0; r < p.rows; r++) G.push(mlpGradCpu(p.config, p.params, p.x.subarray(r * 8, r * 8 + 8), p.y.subarray(r, r + 1), 1).grad);
    const rng = new Rng(8);
    const c = ctx();
    const mlp = await MlpGpu.create(c, p.config, { momentum: false });
    mlp.uploadParams(p.params);
    const data = uploadDataset(c, 'tiny', p.x, p.y, 8, 4);
    for (const layers of [[1], [0, 2]]) {
      const eng = await HvpEngine.create(mlp, data, { layers, chunkRows: 64 });
      const J = 3;
      const V = Float64Array.from({ length: eng.dim * J }, () => rng.normal());
      // Brute force in float64.
      const S = new Float64Array(p.rows * J);
      const gc = G.map((g) => eng.fromFlat(g));
      for (let r = 0; r < p.rows; r++) for (let j = 0; j < J; j++) {
        let s = 0;
        for (let i = 0; i < eng.dim; i++) s += gc[r][i] * V[j * eng.dim + i];
        S[r * J + j] = s;
      }
      const ref = projectedCovariance(S, p.rows, J);
      const mean = new Float64Array(eng.dim);
      const sq = new Float64Array(eng.dim);
      for (const g of gc) for (let i = 0; i < eng.dim; i++) {
        mean[i] += g[i] / p.rows;
        sq[i] += (g[i] * g[i]) / p.rows;
      }
      const centred = sq.map((v, i) => v - mean[i] * mean[i]);
      // CPU diagonal from a and δ of each layer agrees with the brute force.
      const got = await blockGradientNoise(mlp, data, eng.parts, V, J);
      assertClose(got.projected.centred, ref.centred, { atol: 1e-6, rtol: 1e-4, label: `v_iᵀCv_i layers ${layers}` });
      assertClose(got.projected.uncentred, ref.uncentred, { atol: 1e-6, rtol: 1e-4, label: `v_iᵀFv_i layers ${layers}` });
      assertClose(got.projected.mean, ref.mean, { atol: 1e-6, rtol: 1e-4, label: `ḡ·v_i layers ${layers}` });
      assertClose(got.diagonal.centred, centred, { atol: 1e-7, rtol: 1e-4, label: `C_ii layers ${layers}` });
      assertClose(got.diagonal.mean, mean, { atol: 1e-7, rtol: 1e-4, label: `ḡ_i layers ${layers}` });
      eng.destroy();
    }
    // layerCovarianceDiagonal alone, for layer 2 from CPU activations.
    expect(layout.layers[2].size).toBe(44);
    const d = layerCovarianceDiagonal([1, 2, 0, 3], [0.5, -1, 2, 1], 2, 2, 2, false);
    // g_0 = [1,2]⊗[0.5,−1] = [0.5,−1,1,−2], g_1 = [0,3]⊗[2,1] = [0,0,6,3]
    assertClose(d.mean, [0.25, -0.5, 3.5, 0.5], { atol: 1e-15, rtol: 0, label: 'mean' });
    assertClose(d.uncentred, [0.125, 0.5, 18.5, 6.5], { atol: 1e-15, rtol: 0, label: 'second moment' });
  });

  it('power-law fit recovers a known exponent and skips non-positive entries', () => {
    const rng = new Rng(3);
    const x = Array.from({ length: 400 }, () => Math.exp(4 * rng.uniform()));
    const y = x.map((v) => 0.3 * v ** 1.7 * Math.exp(0.05 * rng.normal()));
    x.push(0, -1);
    y.push(1, 1);
    const f = powerLawRelation(x, y);
    expect(f.gamma).toBeCloseTo(1.7, 1);
    expect(Math.abs(f.gamma - 1.7)).toBeLessThan(5 * f.gammaSE);
    expect(f.skipped).toBe(2);
    expect(f.r).toBeGreaterThan(0.99);
  });
});
