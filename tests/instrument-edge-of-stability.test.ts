/**
 * The edge-of-stability instrument against independent float64 routes on a tiny tanh network with
 * biases, inside a real training run (refreshes during training warm-start Lanczos; the closing
 * refresh is at the final weights):
 *  - λ_max against a dense float64 eigendecomposition of the explicit Hessian of the full
 *    training loss (one float64 R-operator product per parameter);
 *  - the batch sharpness against float64 per-minibatch Hessians and gradients of the same
 *    minibatches (drawn with the instrument's seed);
 *  - HvpEngine.gradient() (new: the mean-loss gradient from the cached pass, chunks summed)
 *    against mlpGradCpu over several chunks with a short last one.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { compactGrad, dot, expectRel, explicitHessian, matVec, rowsOf, runTiny, TINY_MODEL as model, tinyData } from './helpers/curvature-ref.ts';
import { gaussianMixture } from '../src/data/synthetic.ts';
import { MlpGpu } from '../src/nn/mlp-gpu.ts';
import { uploadDataset } from '../src/train/gpu-dataset.ts';
import { HvpEngine } from '../src/analysis/curvature/hvp-gpu.ts';
import { drawMinibatches } from '../src/analysis/curvature/minibatch.ts';
import { symmetricEig } from '../src/analysis/numerics/symmetric-eig.ts';
import { edgeOfStability } from '../src/instruments/edge-of-stability.ts';
import { refreshSeed } from '../src/instruments/curvature-model.ts';
import { resolveValues } from '../src/instruments/values.ts';

const ctx = useGpu();
const rel = (got: number, want: number, tol: number) => expectRel(got, want, tol, 1e-7);

describe('HvpEngine.gradient', () => {
  it('is the mean-loss gradient over several chunks (short last chunk), whole network and a block', async () => {
    const data = gaussianMixture({ classes: 3, d: 6, n: 150, sep: 1, seed: 2 });
    const mlp = await MlpGpu.create(ctx(), model, { momentum: false });
    const params = Float32Array.from({ length: mlp.layout.total }, (_, i) => Math.sin(1.7 * i + 0.3) * 0.8);
    mlp.uploadParams(params);
    const gd = uploadDataset(ctx(), 'grad', data.x, data.y, data.d, 3);
    const all = rowsOf(data);
    for (const layers of [undefined, [1, 2]]) {
      const engine = await HvpEngine.create(mlp, gd, { chunkRows: 64, layers, maxVectors: 1 });
      const got = await engine.gradient();
      const want = compactGrad(model, params, all, layers);
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want[i]));
      engine.destroy();
    }
  });
});

describe('the edge-of-stability instrument', () => {
  it('tracks λ_max of the full loss and the batch sharpness as float64 explicit Hessians give them', async () => {
    const data = tinyData();
    const B = 9;
    const values = resolveValues(edgeOfStability, { every: 2, iters: 24, batches: 5, samples: 0 }, null);
    const { host, params, seed } = await runTiny(ctx(), data, 0.5, B, 6, [{ def: edgeOfStability, values }]);
    const t = host.store('edge-of-stability')!.data;
    const last = t.steps.step.length - 1;
    expect(t.steps.step[last]).toBe(6);
    expect(t.steps.step.length).toBeGreaterThanOrEqual(2);
    expect(t.steps.edge[last]).toBeCloseTo(4, 12);

    const all = rowsOf(data);
    const { H, dim } = explicitHessian(model, params, all);
    const eig = symmetricEig(H, dim, { vectors: false });
    console.log(`λ_max ${t.steps.lambda_max[last].toFixed(6)} (float64 dense ${eig.values[0].toFixed(6)}, ${t.steps.lanczos_iters[last]} products, relative residual ${t.steps.lambda_rel_residual[last].toExponential(1)}); batch sharpness ${t.steps.batch_sharpness[last].toFixed(5)}`);
    rel(t.steps.lambda_max[last], eig.values[0], 1e-4);

    // The same minibatches, each with its own float64 Hessian and gradient.
    const idx = drawMinibatches(data.n, B, 5, 'shuffle', refreshSeed(seed, 6, 2));
    // The closing refresh's minibatches are the last rows (a refresh started during training may
    // also have read the step-6 weights: the read is queued behind every chunk submitted so far).
    const n = t.minibatches.step.length;
    const rows = Array.from({ length: 5 }, (_, j) => n - 5 + j);
    expect(rows.every((r) => t.minibatches.step[r] === 6 && t.minibatches.batch[r] === r - rows[0])).toBe(true);
    let sum = 0;
    rows.forEach((r, j) => {
      const batch = rowsOf(data, idx.subarray(j * B, (j + 1) * B));
      const g = compactGrad(model, params, batch);
      const hb = explicitHessian(model, params, batch);
      const s = dot(g, matVec(hb.H, hb.dim, g)) / dot(g, g);
      rel(t.minibatches.sharpness[r], s, 1e-4);
      rel(t.minibatches.grad_sq[r], dot(g, g), 1e-4);
      sum += s;
    });
    rel(t.steps.batch_sharpness[last], sum / 5, 1e-4);
    host.dispose();
  });
});
