/**
 * The worked example of docs/extending.md: the gradient noise scale instrument.
 *  - the kernel (shaders/grad_noise_scale.wgsl) against plain float64 loops, on shapes that are
 *    not multiples of its workgroup (more rows than threads, with and without a bias row);
 *  - the instrument inside a real training run against an independent route: per-sample gradients
 *    of a tiny network in float64 (one mlpGradCpu call per sample) at the same weights and minibatch.
 */
import { describe, expect, it } from 'vitest';
import { randomArray, useGpu } from './helpers/gpu.ts';
import { checkKernel } from './helpers/kernel-check.ts';
import { Trainer } from '../src/train/trainer.ts';
import { MinibatchSampler } from '../src/train/sampler.ts';
import { Rng } from '../src/util/rng.ts';
import { gaussianMixture } from '../src/data/synthetic.ts';
import { mlpGradCpu } from '../src/nn/mlp-cpu.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { InstrumentHost } from '../src/instruments/host.ts';
import { gradNoiseScale } from '../src/instruments/grad-noise-scale.ts';
import { resolveValues } from '../src/instruments/values.ts';

const ctx = useGpu();

describe('shaders/grad_noise_scale.wgsl', () => {
  for (const [rows, k, n, bias] of [[7, 13, 5, false], [100, 9, 3, true]] as const) {
    it(`Σ|g_n|² and |Ĝ|² for B = ${rows}, K = ${k}, N = ${n}${bias ? ' with a bias row' : ''}`, async () => {
      const scale = 1 / rows;
      const p = (k + (bias ? 1 : 0)) * n;
      const x = randomArray(rows * k, 1);
      const dz = randomArray(rows * n, 2, scale);
      const grad = randomArray(p, 3);
      const uniforms = { rows, k, n, p, slot: 1, grad_scale: scale };
      const norms = ({ x, dz }: { x: Float32Array; dz: Float32Array }) => {
        let s = 0;
        for (let r = 0; r < rows; r++) {
          let xx = bias ? 1 : 0;
          for (let i = 0; i < k; i++) xx += x[r * k + i] ** 2;
          let dd = 0;
          for (let j = 0; j < n; j++) dd += (dz[r * n + j] / scale) ** 2;
          s += xx * dd;
        }
        return { out: [0, 0, s, 0] };
      };
      await checkKernel(ctx(), { shader: 'grad_noise_scale', entry: 'sample_norms', constants: { HAS_BIAS: bias }, inputs: { x, dz }, outputs: { out: 4 }, uniforms, workgroups: [1], reference: norms });
      await checkKernel(ctx(), { shader: 'grad_noise_scale', entry: 'grad_sq', constants: { HAS_BIAS: bias }, inputs: { grad }, outputs: { out: 4 }, uniforms, workgroups: [1], reference: ({ grad }) => ({ out: [0, 0, 0, grad.reduce((a, v) => a + v * v, 0)] }) });
    });
  }
});

describe('the grad-noise-scale instrument', () => {
  it('measures tr Σ and |G|² of a layer and of the network as float64 per-sample gradients do', async () => {
    const model: MlpConfig = { widths: [6, 5, 4, 3], activation: 'tanh', bias: true, init: { kind: 'pytorch' } };
    const data = gaussianMixture({ classes: 3, d: 6, n: 90, sep: 1, seed: 4 });
    const train = { lr: 0.1, batchSize: 9, steps: 1, epochs: null, seed: 7, chunkSteps: 1 };
    const trainer = await Trainer.create(ctx(), model, train, { train: data, test: null });
    const params = await trainer.mlp.readParams();
    const values = resolveValues(gradNoiseScale, { every: 1, layer: 1, smooth: 1 }, null);
    const host = await InstrumentHost.create({ trainer, trainSet: data, active: [{ def: gradNoiseScale, values }], side: () => Promise.reject(new Error('no side device here')) });
    await trainer.run(host.hooks());
    await host.finish(trainer.step, false);
    const t = host.store('grad-noise-scale')!.data.steps;
    expect(t.step).toEqual([1]);

    // The same minibatch (the trainer's sampler, same seed) and per-sample gradients in float64.
    const B = train.batchSize;
    const idx = new MinibatchSampler(data.n, B, 'shuffle', new Rng(train.seed).fork()).next(1);
    const layout = trainer.mlp.layout;
    const perSample = Array.from(idx, (i) => mlpGradCpu(model, params, data.x.subarray(i * 6, i * 6 + 6), [data.y[i]], 1).grad);
    const stats = (lo: number, hi: number) => {
      let sum = 0;
      const mean = new Float64Array(hi - lo);
      for (const g of perSample) for (let p = lo; p < hi; p++) mean[p - lo] += g[p] / B;
      let trace = 0;
      for (const g of perSample) for (let p = lo; p < hi; p++) trace += (g[p] - mean[p - lo]) ** 2;
      trace /= B - 1;
      for (const v of mean) sum += v * v;
      return { trace, g2: sum - ((1 - B / data.n) * trace) / B };
    };
    const L1 = layout.layers[1];
    const layer = stats(L1.offset, L1.offset + L1.size);
    const net = layout.layers.map((L) => stats(L.offset, L.offset + L.size)).reduce((a, b) => ({ trace: a.trace + b.trace, g2: a.g2 + b.g2 }));
    const close = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-4 * Math.abs(want) + 1e-6);
    close(t.tr_sigma_layer[0], layer.trace);
    close(t.g2_layer[0], layer.g2);
    close(t.tr_sigma_net[0], net.trace);
    close(t.g2_net[0], net.g2);
    expect(t.b_simple_net[0]).toBeCloseTo(net.trace / net.g2, 3);
    console.log(`B_simple at step 1: layer ${t.b_simple_layer[0].toFixed(2)}, network ${t.b_simple_net[0].toFixed(2)} (float64: ${(layer.trace / layer.g2).toFixed(2)}, ${(net.trace / net.g2).toFixed(2)})`);
    host.dispose();
  });
});
