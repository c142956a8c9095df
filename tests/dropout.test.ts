/**
 * Dropout (shaders/dropout.wgsl, TrainStepPlan's dropout option):
 *  - the GPU mask equals the CPU reference bit for bit (keep decisions and scale), on odd counts;
 *  - mask statistics: the kept fraction is 1 − p within binomial error, E[mask] = 1, masks of
 *    different steps / layers / seeds are uncorrelated, and the same (seed, layer, step) repeats;
 *  - the GPU gradient of a tiny MLP under dropout equals the float64 CPU gradient under the same
 *    (read-back) masks, and the CPU masked gradient equals finite differences at fixed masks;
 *  - training with dropout is reproducible by seed (bit-identical weights) and differs by seed;
 *  - TrainConfig.dropout is validated.
 */
import { describe, expect, it } from 'vitest';
import { useGpu, randomArray } from './helpers/gpu.ts';
import { compareClose } from './helpers/close.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { createStorage, readF32 } from '../src/gpu/buffers.ts';
import { Dropout, dropoutThreshold } from '../src/kernels/dropout.ts';
import { dropoutMaskRef } from '../src/kernels/dropout.ref.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { initParams } from '../src/nn/init.ts';
import { paramLayout } from '../src/nn/params.ts';
import { mlpForwardCpuMasked, mlpGradCpuMasked } from '../src/nn/mlp-cpu.ts';
import { MlpGpu } from '../src/nn/mlp-gpu.ts';
import { TrainStepPlan } from '../src/nn/train-step.ts';
import { createReplicaSettings } from '../src/kernels/replica-settings.ts';
import { uploadDataset } from '../src/train/gpu-dataset.ts';
import { validateTrainConfig } from '../src/train/config.ts';
import { Trainer } from '../src/train/trainer.ts';
import { gaussianMixture } from '../src/data/index.ts';
import { Rng } from '../src/util/rng.ts';

const ctx = useGpu();

async function gpuMask(count: number, rate: number, seed: number, layer: number, step: number): Promise<{ mask: Float32Array; y: Float32Array; h: Float32Array }> {
  const c = ctx();
  const d = await Dropout.create(c);
  const h = randomArray(count, 5 + count, 2);
  const bh = createStorage(c, 'test.h', h);
  const by = createStorage(c, 'test.y', (count + 3) * 4);
  const bm = createStorage(c, 'test.mask', new Float32Array(count + 3).fill(-7));
  const settings = createReplicaSettings(c, 'test.settings', [{ lr: 0, weightDecay: 0, momentum: 0, dropout: rate, seed }]);
  const batch = new GpuBatch(c, 'test.dropout');
  d.encodeForward(batch, d.bindForward({ h: bh, y: by, mask: bm, settings }), { count, layer, step });
  batch.submit();
  const mask = await readF32(c, bm, 0, count + 3);
  const y = await readF32(c, by, 0, count);
  for (const b of [bh, by, bm, settings]) b.destroy();
  return { mask, y, h };
}

describe('dropout mask kernel', () => {
  it('GPU mask = CPU reference bit for bit on odd counts; y = h·mask; nothing written past the end', async () => {
    for (const [count, rate, seed, layer, step] of [
      [1, 0.5, 1, 0, 1],
      [7, 0.3, 42, 1, 17],
      [1001, 0.1, 3, 2, 123456],
      [50 * 50 + 1, 0.8, 0xffffffff, 0, 0xfffffff0],
    ] as const) {
      const { mask, y, h } = await gpuMask(count, rate, seed, layer, step);
      const ref = dropoutMaskRef(count, rate, seed, layer, step);
      for (let i = 0; i < count; i++) {
        if (mask[i] !== ref[i]) throw new Error(`count ${count} rate ${rate}: mask[${i}] = ${mask[i]}, reference ${ref[i]}`);
        expect(y[i]).toBe(Math.fround(h[i] * mask[i]));
      }
      expect(Array.from(mask.subarray(count))).toEqual([-7, -7, -7]);
    }
  });

  it('statistics: kept fraction 1 − p within 4σ, E[mask] = 1, independent across steps/layers/seeds, repeatable', async () => {
    const n = 200_000;
    for (const p of [0.1, 0.5, 0.9]) {
      const { mask } = await gpuMask(n, p, 9, 1, 5);
      let kept = 0;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        if (mask[i] !== 0) kept++;
        sum += mask[i];
      }
      const sigma = Math.sqrt(n * p * (1 - p));
      console.log(`p ${p}: kept ${kept}/${n} (expected ${(n * (1 - p)).toFixed(0)} ± ${sigma.toFixed(0)}), mean mask ${(sum / n).toFixed(4)}`);
      expect(Math.abs(kept - n * (1 - p))).toBeLessThan(4 * sigma);
      expect(Math.abs(sum / n - 1)).toBeLessThan((4 * sigma) / n / (1 - p));
    }
    // Exact threshold arithmetic.
    expect(dropoutThreshold(0)).toBe(0);
    expect(dropoutThreshold(0.5)).toBe(2 ** 31);
    expect(() => dropoutThreshold(1)).toThrow(/dropout rate/);
    // Independence: agreement of keep decisions between two masks is p² + (1−p)² for independent masks.
    const p = 0.5;
    const base = dropoutMaskRef(n, p, 9, 1, 5);
    const variants = {
      'next step': dropoutMaskRef(n, p, 9, 1, 6),
      'other layer': dropoutMaskRef(n, p, 9, 2, 5),
      'other seed': dropoutMaskRef(n, p, 10, 1, 5),
    };
    for (const [name, m] of Object.entries(variants)) {
      let agree = 0;
      for (let i = 0; i < n; i++) if ((base[i] === 0) === (m[i] === 0)) agree++;
      const expected = p * p + (1 - p) * (1 - p);
      const sigma = Math.sqrt(n * expected * (1 - expected));
      console.log(`${name}: keep decisions agree ${agree}/${n} (independent: ${(n * expected).toFixed(0)} ± ${sigma.toFixed(0)})`);
      expect(Math.abs(agree - n * expected)).toBeLessThan(4 * sigma);
    }
    const again = await gpuMask(n, p, 9, 1, 5);
    for (let i = 0; i < n; i++) if (again.mask[i] !== base[i]) throw new Error(`repeat differs at ${i}`);
  });
});

const TINY: MlpConfig = { widths: [6, 5, 4, 3], activation: 'relu', bias: true, init: { kind: 'normal', sigmaW: 1.6, sigmaB: 0.4 } };

describe('dropout in the training step', () => {
  it('CPU masked gradient equals float64 central differences at fixed masks', () => {
    const rows = 5;
    const params = initParams(TINY, new Rng(3));
    const x = randomArray(rows * 6, 11, 1.5);
    const y = Uint8Array.from({ length: rows }, (_, i) => i % 3);
    const masks = [dropoutMaskRef(rows * 5, 0.4, 1, 0, 1), dropoutMaskRef(rows * 4, 0.4, 1, 1, 1)];
    const { grad } = mlpGradCpuMasked(TINY, params, x, y, rows, masks);
    const layout = paramLayout(TINY);
    const w = Float64Array.from(params);
    const h = 1e-6;
    const fd = new Float64Array(layout.total);
    for (const L of layout.layers) {
      for (let i = L.offset; i < L.offset + L.size; i++) {
        const w0 = w[i];
        w[i] = w0 + h;
        const up = mlpForwardCpuMasked(TINY, w, x, y, rows, masks).meanLoss;
        w[i] = w0 - h;
        const down = mlpForwardCpuMasked(TINY, w, x, y, rows, masks).meanLoss;
        w[i] = w0;
        fd[i] = (up - down) / (2 * h);
      }
    }
    const r = compareClose(grad, fd, { atol: 1e-7, rtol: 1e-5, label: 'masked CPU grad vs FD' });
    console.log(r.message);
    expect(r.ok, r.message).toBe(true);
    // Dropped units carry no gradient into the weights they feed.
    expect(masks[0].some((m) => m === 0)).toBe(true);
  });

  it('GPU gradient under dropout equals the CPU gradient under the same (read-back) masks', async () => {
    const c = ctx();
    const B = 9;
    const step = 37;
    const seed = 5;
    const rate = 0.35;
    const params = initParams(TINY, new Rng(8));
    const x = randomArray(B * 6, 21, 1.5);
    const y = Uint8Array.from({ length: B }, (_, i) => (i * 7) % 3);
    const mlp = await MlpGpu.create(c, TINY, { momentum: false, dropout: true });
    await mlp.prepare(B, true);
    mlp.uploadParams(params);
    const data = uploadDataset(c, 'test.data', x, y, 6, 3);
    const indices = createStorage(c, 'test.idx', Uint32Array.from({ length: B }, (_, i) => i));
    const metrics = createStorage(c, 'test.metrics', 16);
    const plan = await TrainStepPlan.create(mlp, B, data, indices, metrics, { update: 'kernel', settings: [{ lr: 0.1, weightDecay: 0, momentum: 0, dropout: rate, seed }] });
    const batch = new GpuBatch(c, 'test.dropgrad');
    plan.encodeForwardLoss(batch, 0, 0, step);
    plan.encodeBackward(batch);
    batch.submit();
    const layout = paramLayout(TINY);
    const got = await readF32(c, mlp.grads, 0, layout.total);
    const masks = await Promise.all(plan.masks.map((m, l) => readF32(c, m, 0, B * TINY.widths[l + 1])));
    // The masks the GPU used are the reference masks of (seed, layer, step).
    masks.forEach((m, l) => expect(Array.from(m)).toEqual(Array.from(dropoutMaskRef(m.length, rate, seed, l, step), Math.fround)));
    const { grad, forward } = mlpGradCpuMasked(TINY, params, x, y, B, masks);
    const r = compareClose(got, grad, { atol: 2e-6, rtol: 1e-4, label: 'GPU dropout grad vs CPU' });
    const loss = (await readF32(c, metrics, 0, 2))[0] / B;
    console.log(`${r.message}; loss GPU ${loss.toFixed(6)} CPU ${forward.meanLoss.toFixed(6)}; dropped ${masks.map((m) => m.filter((v) => v === 0).length).join('/')} units`);
    expect(r.ok, r.message).toBe(true);
    expect(Math.abs(loss - forward.meanLoss)).toBeLessThan(2e-6);
    expect(() => plan.encodeForwardLoss(new GpuBatch(c, 'nostep'), 0, 0)).toThrow(/step number/);
  });

  it('training with dropout is reproducible by seed, differs across seeds, and differs from no dropout', async () => {
    const c = ctx();
    const all = gaussianMixture({ classes: 4, d: 12, n: 400, sep: 2, seed: 3 });
    const model: MlpConfig = { widths: [12, 16, 16, 4], activation: 'relu', bias: false, init: { kind: 'pytorch' } };
    const run = async (seed: number, dropout: number): Promise<Float32Array> => {
      const t = await Trainer.create(c, model, { lr: 0.1, batchSize: 20, steps: 60, epochs: null, chunkSteps: 25, seed, dropout }, { train: all, test: null });
      const r = await t.run();
      expect(r.status).toBe('completed');
      return t.mlp.readParams();
    };
    const a = await run(1, 0.3);
    const b = await run(1, 0.3);
    const other = await run(2, 0.3);
    const none = await run(1, 0);
    expect(Array.from(a)).toEqual(Array.from(b));
    const diff = (u: Float32Array, v: Float32Array): number => u.reduce((m, x, i) => Math.max(m, Math.abs(x - v[i])), 0);
    console.log(`max |Δw|: same seed ${diff(a, b)}, other seed ${diff(a, other).toExponential(2)}, no dropout ${diff(a, none).toExponential(2)}`);
    expect(diff(a, other)).toBeGreaterThan(1e-3);
    expect(diff(a, none)).toBeGreaterThan(1e-3);
  });

  it('TrainConfig.dropout is validated', () => {
    expect(validateTrainConfig({ dropout: 0.5 }).dropout).toBe(0.5);
    expect(validateTrainConfig({}).dropout).toBe(0);
    expect(() => validateTrainConfig({ dropout: 1 })).toThrow(/train\.dropout must be \[0, 0\.95\], got 1/);
    expect(() => validateTrainConfig({ dropout: -0.1 })).toThrow(/train\.dropout/);
  });
});
