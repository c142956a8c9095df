/**
 * The step view on the fused step (src/train/trainer.ts, TrainHooks.measures): only the steps an
 * instrument measures take the open form (gathered minibatch, gradient in mlp.grads, separate
 * update); the others run fused (no gradient buffer). Checked here:
 *  - a run that measures every 3rd step, and one that measures every step, leave the weights and
 *    histories bit-identical to a run without hooks — R = 1 and an ensemble of 3 with momentum,
 *    weight decay and dropout;
 *  - on a measured step that follows fused steps, the view holds what src/train/step-view.ts says:
 *    params = θ_{t−1}, grads = ∇L_B(θ_{t−1}) of the step's minibatch (float64 gradients agree),
 *    and onStepGradient is called on the measured steps only.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { gaussianMixture } from '../src/data/synthetic.ts';
import { createStorage, readF32 } from '../src/gpu/buffers.ts';
import type { GpuBatch } from '../src/gpu/batch.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { mlpGradCpu } from '../src/nn/mlp-cpu.ts';
import type { TrainConfig } from '../src/train/config.ts';
import type { StepView } from '../src/train/step-view.ts';
import { Trainer, type TrainHooks } from '../src/train/trainer.ts';

const ctx = useGpu();

const MODEL: MlpConfig = { widths: [12, 9, 7, 3], activation: 'tanh', bias: true, init: { kind: 'pytorch' } };
const DATA = gaussianMixture({ classes: 3, d: 12, n: 150, sep: 1.5, seed: 3 });
const SHARED: Partial<TrainConfig> = { batchSize: 11, steps: 23, epochs: null, chunkSteps: 5, evalEvery: 10 };
const REPLICAS: Partial<TrainConfig>[] = [
  { ...SHARED, seed: 5, lr: 0.1 },
  { ...SHARED, seed: 6, lr: 0.07, momentum: 0.9, weightDecay: 0.01 },
  { ...SHARED, seed: 7, lr: 0.12, dropout: 0.3 },
];

function differingBits(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) n++;
  return n;
}

async function train(configs: Partial<TrainConfig>[], hooks: (t: Trainer) => TrainHooks): Promise<{ params: Float32Array; losses: number[][] }> {
  const t = await Trainer.create(ctx(), MODEL, configs, { train: DATA, test: null });
  await t.run(hooks(t));
  return { params: await t.mlp.readParams(), losses: t.histories.map((h) => h.loss) };
}

describe('measured steps take the open form, the others run fused', () => {
  for (const R of [1, 3]) {
    it(`R = ${R}: measuring every 3rd step or every step leaves the weights bit-identical`, async () => {
      const configs = REPLICAS.slice(0, R);
      const plain = await train(configs, () => ({}));
      const seen: number[] = [];
      const every3 = await train(configs, () => ({ measures: (s) => s % 3 === 0, onStepGradient: (_b, v) => seen.push(v.step) }));
      expect(seen).toEqual([3, 6, 9, 12, 15, 18, 21]);
      const all: number[] = [];
      const everyStep = await train(configs, () => ({ onStepGradient: (_b, v) => all.push(v.step) }));
      expect(all).toHaveLength(23);
      // A hook that only snapshots after the update keeps the fused step.
      const encoded: (StepView | undefined)[] = [];
      const snapshots = await train(configs, () => ({ onStepEncoded: (_b, _s, v) => encoded.push(v) }));
      expect(encoded).toHaveLength(23);
      expect(encoded.every((v) => v === undefined)).toBe(true);
      for (const other of [every3, everyStep, snapshots]) {
        expect(differingBits(other.params, plain.params)).toBe(0);
        expect(other.losses).toEqual(plain.losses);
      }
    });
  }

  it('a measured step after fused ones: params θ_{t−1}, grads ∇L_B(θ_{t−1}) of its minibatch (replica 0 of 3)', async () => {
    const c = ctx();
    const B = SHARED.batchSize!;
    const t = await Trainer.create(c, MODEL, REPLICAS.slice(0, 2), { train: DATA, test: null });
    const T = t.mlp.layout.total;
    const measured = [7, 13];
    const keep = measured.map((s) => ({
      step: s,
      params: createStorage(c, `view.params${s}`, T * 4),
      grads: createStorage(c, `view.grads${s}`, T * 4),
      idx: createStorage(c, `view.idx${s}`, B * 4),
    }));
    let calls = 0;
    await t.run({
      measures: (s) => measured.includes(s),
      onStepGradient: (b: GpuBatch, v: StepView) => {
        calls++;
        expect(v.moment).toBe('gradient');
        const k = keep.find((x) => x.step === v.step)!;
        b.copy(v.params, 0, k.params, 0, T * 4);
        b.copy(v.grads, 0, k.grads, 0, T * 4);
        b.copy(v.indices, v.indexFirst * 4, k.idx, 0, B * 4);
      },
    });
    expect(calls).toBe(2);
    for (const k of keep) {
      const params = await readF32(c, k.params, 0, T);
      const grads = await readF32(c, k.grads, 0, T);
      const idx = new Uint32Array((await readF32(c, k.idx, 0, B)).buffer);
      const x = new Float64Array(B * DATA.d);
      idx.forEach((i, n) => x.set(DATA.x.subarray(i * DATA.d, (i + 1) * DATA.d), n * DATA.d));
      const want = mlpGradCpu(MODEL, params, x, Array.from(idx, (i) => DATA.y[i]), B).grad;
      let worst = 0;
      for (let p = 0; p < T; p++) worst = Math.max(worst, Math.abs(grads[p] - want[p]) / (1e-5 + 1e-3 * Math.abs(want[p])));
      expect(worst, `step ${k.step}: worst |gpu − float64| in units of atol + |ref|·rtol`).toBeLessThanOrEqual(1);
    }
  });
});
