/**
 * The noise-lab GPU pipeline pieces against float64 CPU references on a tiny MLP:
 *  - per-sample gradient projections over a whole dataset (FullSetPass + PerSampleProjector) vs
 *    mlpGradCpu on single samples, and the temperatures derived from them;
 *  - per-sample gradients (materialised) averaged = the batch gradient of the training kernels;
 *  - the probe evaluator L(w* + θ·p) vs mlpForwardCpu, for a hidden and the last layer;
 *  - flatness through the GPU evaluator vs the CPU evaluator;
 *  - the GPU eigensolvers (scatter route: Lanczos, subspace, dense; trajectory route) vs a dense
 *    CPU solver: on a matrix with a known spectrum and on a trajectory with a large mean.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { createStorage, readF32 } from '../src/gpu/buffers.ts';
import type { GpuContext } from '../src/gpu/device.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { initParams } from '../src/nn/init.ts';
import { paramLayout } from '../src/nn/params.ts';
import { mlpForwardCpu, mlpGradCpu } from '../src/nn/mlp-cpu.ts';
import { MlpGpu } from '../src/nn/mlp-gpu.ts';
import { TrainStepPlan } from '../src/nn/train-step.ts';
import { uploadDataset, type GpuDataset } from '../src/train/gpu-dataset.ts';
import { Rng } from '../src/util/rng.ts';
import { FullSetPass, PerSampleProjector } from '../src/analysis/noise/full-pass.ts';
import { PerSampleMaterialize } from '../src/kernels/per_sample_grad.ts';
import { ProbeEvaluator } from '../src/analysis/noise/probe-eval.ts';
import { gpuFlatness } from '../src/analysis/noise/flatness-gpu.ts';
import { measureFlatness } from '../src/analysis/numerics/flatness.ts';
import { temperatureFromPerSample } from '../src/analysis/numerics/temperature.ts';
import { pcaFromScatter, pcaFromTrajectory } from '../src/analysis/noise/pca-gpu.ts';
import { ScatterKernels } from '../src/kernels/scatter.ts';
import { encodeCenteredWindow, readWindowStats, windowSumOfSquares, GpuScatter } from '../src/analysis/noise/gpu-scatter.ts';
import { trajectoryPcaCovariance } from '../src/analysis/numerics/trajectory-svd.ts';
import { symmetricEig } from '../src/analysis/numerics/symmetric-eig.ts';
import { absCos } from '../src/analysis/numerics/dense.ts';

const ctx = useGpu();

const M = 37;

async function tinySetup(c: GpuContext, bias: boolean): Promise<{ cfg: MlpConfig; mlp: MlpGpu; data: GpuDataset; x: Float32Array; y: Uint32Array; params: Float32Array }> {
  const cfg: MlpConfig = { widths: [6, 5, 4, 3], activation: 'relu', bias, init: { kind: 'normal', sigmaW: 1.5, sigmaB: 0.3 } };
  const rng = new Rng(7);
  const x = Float32Array.from({ length: M * 6 }, () => rng.normal());
  const y = Uint32Array.from({ length: M }, () => rng.int(3));
  const mlp = await MlpGpu.create(c, cfg, { momentum: false });
  const params = initParams(cfg, new Rng(3));
  mlp.uploadParams(params);
  return { cfg, mlp, data: uploadDataset(c, 'tiny', x, y, 6, 3), x, y, params };
}

function randomDirs(D: number, P: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const v = Float64Array.from({ length: D * P }, () => rng.normal());
  for (let d = 0; d < D; d++) {
    let n = 0;
    for (let p = 0; p < P; p++) n += v[d * P + p] ** 2;
    for (let p = 0; p < P; p++) v[d * P + p] /= Math.sqrt(n);
  }
  return v;
}

describe('per-sample gradients over a dataset', () => {
  for (const bias of [false, true]) {
    for (const layer of [0, 1, 2]) {
      it(`projections and temperatures vs mlpGradCpu per sample (layer ${layer}${bias ? ', biases' : ''})`, async () => {
        const c = ctx();
        const { cfg, mlp, data, x, y, params } = await tinySetup(c, bias);
        const L = paramLayout(cfg).layers[layer];
        const J = 3;
        const dirs = randomDirs(J, L.size, 11 + layer);
        const pass = await FullSetPass.create(mlp, data, layer);
        const proj = await PerSampleProjector.create(pass, J);
        proj.setDirections(dirs);
        const { s, loss } = await proj.run();
        const ref = new Float64Array(M * J);
        for (let n = 0; n < M; n++) {
          const g = mlpGradCpu(cfg, params, x.subarray(n * 6, n * 6 + 6), y.subarray(n, n + 1), 1).grad;
          for (let j = 0; j < J; j++) {
            let acc = 0;
            for (let p = 0; p < L.size; p++) acc += g[L.offset + p] * dirs[j * L.size + p];
            ref[n * J + j] = acc;
          }
        }
        assertClose(s, ref, { atol: 1e-5, rtol: 1e-4, label: `S layer ${layer}`, cols: J });
        expect(Math.abs(loss - mlpForwardCpu(cfg, params, x, y, M).meanLoss)).toBeLessThan(1e-5);
        const tGpu = temperatureFromPerSample(s, J, { lr: 0.1, batchSize: 5 });
        const tRef = temperatureFromPerSample(ref, J, { lr: 0.1, batchSize: 5 });
        assertClose(tGpu.T, tRef.T, { atol: 1e-9, rtol: 1e-3, label: 'T' });
        if (layer === 1) {
          // Minibatches drawn with replacement: Var = v/B (population variance v), no finite-population factor.
          const { temperatureAt } = await import('../src/analysis/noise/temperature-gpu.ts');
          const wr = await temperatureAt(proj, { lr: 0.1, batchSize: 5, withReplacement: true });
          for (let j = 0; j < J; j++) {
            let m = 0;
            for (let n = 0; n < M; n++) m += ref[n * J + j] / M;
            let v = 0;
            for (let n = 0; n < M; n++) v += (ref[n * J + j] - m) ** 2 / M;
            expect(Math.abs(wr.temperatures.T[j] - (0.05 * v) / 5) / ((0.05 * v) / 5)).toBeLessThan(1e-3);
          }
        }
      });
    }
  }

  it('materialised per-sample gradients average to the training kernels\' batch gradient', async () => {
    const c = ctx();
    const { cfg, mlp, data } = await tinySetup(c, true);
    const layer = 1;
    const L = paramLayout(cfg).layers[layer];
    const pass = await FullSetPass.create(mlp, data, layer);
    const mat = await PerSampleMaterialize.create(c, { bias: true });
    const G = createStorage(c, 'G', M * L.size * 4);
    await mlp.prepare(M, true);
    const indices = createStorage(c, 'idx', Uint32Array.from({ length: M }, (_, i) => i));
    const plan = await TrainStepPlan.create(mlp, M, data, indices, createStorage(c, 'metrics', 16), { update: 'kernel' });
    const batch = new GpuBatch(c, 'test');
    pass.encodeBackward(batch);
    mat.encode(batch, mat.bind({ a: pass.a, delta: pass.delta, g: G }), { m: M, k: L.fanIn, n: L.fanOut });
    plan.encodeForwardLoss(batch, 0, 0);
    plan.encodeBackward(batch);
    batch.submit();
    const g = await readF32(c, G, 0, M * L.size);
    const mean = new Float64Array(L.size);
    for (let n = 0; n < M; n++) for (let p = 0; p < L.size; p++) mean[p] += g[n * L.size + p] / M;
    const batchGrad = await readF32(c, mlp.grads, L.offset * 4, L.size);
    assertClose(mean, batchGrad, { atol: 1e-6, rtol: 1e-4, label: 'mean g_n vs training gradient' });
  });
});

describe('probe evaluator', () => {
  for (const layer of [1, 2, 0]) {
    it(`L(w* + θ·p) vs mlpForwardCpu, layer ${layer}`, async () => {
      const c = ctx();
      const { cfg, mlp, data, x, y, params } = await tinySetup(c, layer === 1);
      const L = paramLayout(cfg).layers[layer];
      const D = 3;
      const dirs = randomDirs(D, L.size, 5);
      const ev = await ProbeEvaluator.create(mlp, data, layer, D, { Q: 4, maxSlots: 2 });
      await ev.prepare(dirs);
      const probes = [0, 0.3, -0.7, 1.9, -2.5, 0.05, 4, -1, 0.6, 2.2].map((theta, i) => ({ dir: i % D, theta }));
      const r = await ev.evaluate(probes, true);
      probes.forEach((p, i) => {
        const w = Float64Array.from(params);
        for (let q = 0; q < L.size; q++) w[L.offset + q] += p.theta * dirs[p.dir * L.size + q];
        const f = mlpForwardCpu(cfg, w, x, y, M);
        expect(Math.abs(r.means[i] - f.meanLoss)).toBeLessThan(1e-5 * Math.max(1, f.meanLoss));
        assertClose(r.rows!.subarray(i * M, (i + 1) * M), f.losses, { atol: 1e-5, rtol: 1e-5, label: `rows of probe ${i}` });
      });
    });
  }

  it('flatness through the GPU evaluator matches the CPU evaluator', async () => {
    const c = ctx();
    const { cfg, mlp, data, x, y, params } = await tinySetup(c, false);
    const layer = 1;
    const L = paramLayout(cfg).layers[layer];
    const D = 4;
    const dirs = randomDirs(D, L.size, 9);
    const ev = await ProbeEvaluator.create(mlp, data, layer, D);
    await ev.prepare(dirs);
    const gpu = await gpuFlatness(ev, { nDirs: D, k: 2, weightNorm: 1, theta0: 0.05, thetaMax: 50 });
    const cpu = await measureFlatness(
      async (probes) =>
        Float64Array.from(probes, (p) => {
          const w = Float64Array.from(params);
          for (let q = 0; q < L.size; q++) w[L.offset + q] += p.theta * dirs[p.dir * L.size + q];
          return mlpForwardCpu(cfg, w, x, y, M).meanLoss;
        }),
      { nDirs: D, k: 2, theta0: 0.05, thetaMax: 50 },
    );
    for (let d = 0; d < D; d++) {
      const a = gpu.directions[d];
      const b = cpu.directions[d];
      expect(a.F === null).toBe(b.F === null);
      if (a.F !== null && b.F !== null) expect(Math.abs(a.F - b.F) / b.F).toBeLessThan(5e-3);
    }
  });
});

describe('GPU eigensolvers vs a dense CPU solver', () => {
  it('known spectrum: top-20 eigenvalues to 1e-4 (Lanczos, subspace, dense)', async () => {
    const c = ctx();
    const P = 150;
    const rng = new Rng(21);
    // Random orthonormal U (QR of a Gaussian via the CPU eigensolver of a random SPD matrix).
    const G = Float64Array.from({ length: P * P }, () => rng.normal());
    const A = new Float64Array(P * P);
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) {
      let s = 0;
      for (let t = 0; t < P; t++) s += G[t * P + i] * G[t * P + j];
      A[i * P + j] = s;
    }
    const U = symmetricEig(A, P).vectors as Float64Array; // column-major orthonormal
    const lambda = Float64Array.from({ length: P }, (_, i) => 1 / (1 + i) ** 1.5);
    const S = new Float32Array(P * P);
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) {
      let s = 0;
      for (let t = 0; t < P; t++) s += U[t * P + i] * lambda[t] * U[t * P + j];
      S[i * P + j] = s;
    }
    let trace = 0;
    for (let i = 0; i < P; i++) trace += S[i * P + i];
    const buf = createStorage(c, 'S', S);
    for (const method of ['lanczos', 'subspace', 'dense'] as const) {
      // As a scatter matrix of T = P + 1 rows: variances are λ(S)/(T − 1).
      const T = P + 1;
      const r = await pcaFromScatter(c, buf, P, T, 20, trace, { method });
      for (let i = 0; i < 20; i++) expect(Math.abs(r.variances[i] * (T - 1) - lambda[i]) / lambda[i], `${method} λ${i}`).toBeLessThan(1e-4);
      expect(Math.abs(r.total * (T - 1) - lambda.reduce((a, b) => a + b, 0))).toBeLessThan(1e-5);
      for (let i = 0; i < 5; i++) expect(absCos(r.components.subarray(i * P, (i + 1) * P), U.subarray(i * P, (i + 1) * P))).toBeGreaterThan(0.9999);
    }
  });

  it('trajectory with mean 1e3 × spread: scatter route (built block-wise) and trajectory route vs float64 PCA', async () => {
    const c = ctx();
    const [T, P, k] = [240, 70, 10];
    const rng = new Rng(5);
    const scales = Float64Array.from({ length: P }, (_, i) => 1 / (1 + i));
    const x = new Float32Array(T * P);
    const base = Float64Array.from({ length: P }, () => 1000 * (1 + rng.uniform()));
    // Correlated fluctuations: a random rotation of independent coordinates with decaying scales.
    const R = symmetricEig(Float64Array.from({ length: P * P }, (_, i) => (i % (P + 1) === 0 ? 2 : 0) + Math.sin(i * 0.37)), P, { symmetryTol: 1 }).vectors as Float64Array;
    for (let t = 0; t < T; t++) {
      const z = Float64Array.from(scales, (s) => s * rng.normal());
      for (let p = 0; p < P; p++) {
        let v = base[p];
        for (let q = 0; q < P; q++) v += R[q * P + p] * z[q];
        x[t * P + p] = v;
      }
    }
    const ref = trajectoryPcaCovariance(x, T, P, k);
    const bx = createStorage(c, 'x', x);
    const refRow = { buffer: bx, offset: 0, size: P * 4 };
    const sc = await GpuScatter.create(c, bx, refRow, P, 64);
    const kern = await ScatterKernels.create(c);
    const stats = createStorage(c, 'stats', 3 * P * 4);
    const xc = createStorage(c, 'xc', T * P * 4);
    const batch = new GpuBatch(c, 'test');
    for (let r0 = 0; r0 < T; r0 += 64) sc.encodeBlock(batch, r0, Math.min(64, T - r0));
    sc.encodeDiagonal(batch);
    encodeCenteredWindow(batch, kern, { x: bx, ref: refRow, stats, out: xc }, T, P, false);
    batch.submit();
    const w = await readWindowStats(c, stats, T, P);
    const viaScatter = await pcaFromScatter(c, sc.s, P, T, k, await sc.readTrace());
    const viaTraj = await pcaFromTrajectory(c, xc, T, P, k, windowSumOfSquares(w, false));
    for (const r of [viaScatter, viaTraj]) {
      for (let i = 0; i < k; i++) expect(Math.abs(r.variances[i] - ref.variances[i]) / ref.variances[i], `${r.route} σ²_${i}`).toBeLessThan(1e-4);
      expect(Math.abs(r.total - ref.totalVariance!) / ref.totalVariance!).toBeLessThan(1e-4);
      for (let i = 0; i < 3; i++) expect(absCos(r.components.subarray(i * P, (i + 1) * P), ref.components.subarray(i * P, (i + 1) * P))).toBeGreaterThan(0.999);
    }
  });
});

describe('gradient-noise covariance from per-sample gradients', () => {
  it('p·Σ_μ·p equals the minibatch variance of the projections (materialised in chunks, Chan-merged)', async () => {
    const c = ctx();
    const { cfg, mlp, data } = await tinySetup(c, true);
    const layer = 1;
    const L = paramLayout(cfg).layers[layer];
    const pass = await FullSetPass.create(mlp, data, layer);
    const { gradientNoiseCovariance } = await import('../src/analysis/noise/noise-covariance.ts');
    const cov = await gradientNoiseCovariance(pass, { chunkRows: 10 });
    const S = await cov.scatter.readScatter();
    const J = 3;
    const dirs = randomDirs(J, L.size, 17);
    const proj = await PerSampleProjector.create(pass, J);
    proj.setDirections(dirs);
    const { s } = await proj.run();
    const B = 5;
    const temps = temperatureFromPerSample(s, J, { lr: 0.1, batchSize: B });
    for (let j = 0; j < J; j++) {
      const v = dirs.subarray(j * L.size, (j + 1) * L.size);
      let q = 0;
      for (let a = 0; a < L.size; a++) for (let b = 0; b < L.size; b++) q += v[a] * S[a * L.size + b] * v[b];
      expect(Math.abs(q * cov.factor(B) - temps.minibatchVariance[j]) / temps.minibatchVariance[j]).toBeLessThan(1e-3);
    }
  });
});
