/**
 * Ensembles (src/train/trainer.ts with R configurations, src/nn/train-step.ts): replica r of an
 * ensemble trained in lockstep is, bit for bit, the same configuration trained alone — weights,
 * per-step minibatch loss and accuracy, evaluations and outcome — for R ∈ {1, 2, 7, 16}, on odd
 * widths, with replicas that differ in seed, lr, weight decay, momentum and dropout, one that
 * diverges and one that stops at its target; the fused step equals the step before its fusions,
 * bit for bit. And the ensemble's settings checks.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import type { GpuContext } from '../src/gpu/device.ts';
import { gaussianMixture } from '../src/data/index.ts';
import type { Dataset } from '../src/data/dataset.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import type { TrainConfig } from '../src/train/config.ts';
import { seedEnsemble, validateEnsemble } from '../src/train/ensemble.ts';
import { Trainer, type History, type RunResult } from '../src/train/trainer.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { createStorage, readF32 } from '../src/gpu/buffers.ts';
import { MlpGpu } from '../src/nn/mlp-gpu.ts';
import { TrainStepPlan } from '../src/nn/train-step.ts';
import { initParams } from '../src/nn/init.ts';
import { uploadDataset } from '../src/train/gpu-dataset.ts';
import { Rng } from '../src/util/rng.ts';

const ctx = useGpu();

// Odd widths; the input layer's fan-in is a multiple of 4, so its vec4 and indexed loads are used.
const MODEL: MlpConfig = { widths: [12, 9, 7, 3], activation: 'relu', bias: true, init: { kind: 'pytorch' } };
const SHARED: Partial<TrainConfig> = { batchSize: 11, steps: 30, epochs: null, chunkSteps: 7, evalEvery: 10 };

/** Replica r's own settings: every 3rd with momentum, every 4th with dropout, r = 3 diverges, r = 5 has a target. */
function replicaConfig(r: number): Partial<TrainConfig> {
  return {
    ...SHARED,
    seed: 100 + 7 * r,
    lr: r === 3 ? 60 : 0.05 + 0.02 * r,
    weightDecay: r % 2 === 1 ? 0.01 * r : 0,
    momentum: r % 3 === 2 ? 0.9 : 0,
    dropout: r % 4 === 1 ? 0.25 : 0,
    ...(r === 5 ? { targetTrainAccuracy: 0.5 } : {}),
  };
}

interface Outcome {
  params: Float32Array;
  history: History;
  status: string;
  message: string;
}

function bitsEqual(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let diff = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) diff++;
  return diff;
}

async function alone(c: GpuContext, data: { train: Dataset; test: Dataset }, r: number): Promise<Outcome> {
  const t = await Trainer.create(c, MODEL, replicaConfig(r), data);
  const res = await t.run();
  const good = await t.lastGoodParams();
  return { params: good?.params ?? (await t.mlp.readParams()), history: t.history, status: res.status, message: res.message };
}

describe('an ensemble trains each replica exactly as it would train alone', () => {
  const data = (() => {
    const all = gaussianMixture({ classes: 3, d: 12, n: 260, sep: 1.5, seed: 9 });
    const cut = 200;
    const part = (from: number, to: number): Dataset => ({ ...all, n: to - from, x: all.x.slice(from * all.d, to * all.d), y: all.y.slice(from, to) });
    return { train: part(0, cut), test: part(cut, all.n) };
  })();
  const solo: Outcome[] = [];

  it('R ∈ {1, 2, 7, 16}: weights, histories, evaluations and outcomes bit-identical to the runs alone', async () => {
    const c = ctx();
    for (let r = 0; r < 16; r++) solo.push(await alone(c, data, r));
    // The special replicas really took their special paths alone.
    expect(solo[3].status).toBe('diverged');
    expect(solo[5].status).toBe('target-reached');
    expect(solo[0].status).toBe('completed');
    for (const R of [1, 2, 7, 16]) {
      const t = await Trainer.create(c, MODEL, Array.from({ length: R }, (_, r) => replicaConfig(r)), data);
      const res = await t.run();
      expect(res.replicas).toHaveLength(R);
      const T = t.mlp.layout.total;
      const all = await t.mlp.readParams();
      let checked = 0;
      for (let r = 0; r < R; r++) {
        const s = solo[r];
        const mine = all.subarray(r * T, (r + 1) * T);
        expect(bitsEqual(mine, s.params), `R=${R} replica ${r}: weights differ from the run alone`).toBe(0);
        if (s.status === 'diverged') expect(bitsEqual((await t.lastGoodParams(r))!.params, s.params)).toBe(0);
        const h = t.histories[r];
        expect(h.loss, `R=${R} replica ${r}: minibatch losses`).toEqual(s.history.loss);
        expect(h.accuracy).toEqual(s.history.accuracy);
        expect(h.evals).toEqual(s.history.evals);
        expect(res.replicas[r].status === 'running' ? 'completed' : res.replicas[r].status).toBe(s.status);
        if (s.status !== 'completed') expect(res.replicas[r].message).toBe(s.message);
        checked++;
      }
      expect(checked).toBe(R);
      if (R === 1) expect(res.status).toBe(solo[0].status);
      console.log(`R=${R}: ${res.message}; ${res.stepsPerSecond.toFixed(0)} ensemble steps/s`);
    }
  });

  it('tanh, no bias, a fan-in that is not a multiple of 4: R = 7 replicas of seeds s, s+1, … equal their runs alone', async () => {
    const c = ctx();
    const model: MlpConfig = { widths: [13, 6, 5, 3], activation: 'tanh', bias: false, init: { kind: 'normal', sigmaW: 1.3, sigmaB: 0 } };
    const d13 = gaussianMixture({ classes: 3, d: 13, n: 150, sep: 1.5, seed: 4 });
    const base: Partial<TrainConfig> = { batchSize: 9, steps: 17, epochs: null, chunkSteps: 5, lr: 0.2, seed: 21 };
    const t = await Trainer.create(c, model, seedEnsemble(base, 7), { train: d13, test: null });
    await t.run();
    const all = await t.mlp.readParams();
    const T = t.mlp.layout.total;
    for (let r = 0; r < 7; r++) {
      const one = await Trainer.create(c, model, { ...base, seed: 21 + r }, { train: d13, test: null });
      await one.run();
      expect(bitsEqual(all.subarray(r * T, (r + 1) * T), await one.mlp.readParams()), `replica ${r}`).toBe(0);
      expect(t.histories[r].loss).toEqual(one.history.loss);
    }
  });
});

describe('the step before and after its fusions', () => {
  it('baseline step (gather, scalar loads, old tiles, grad_weight + sgd) = fused step (indexed vec4 input layer, update in grad_weight), bit for bit, R = 3', async () => {
    const c = ctx();
    const R = 3;
    const B = 13;
    const steps = 6;
    const d = gaussianMixture({ classes: 3, d: 12, n: 120, sep: 1.5, seed: 5 });
    const data = uploadDataset(c, 'fusion.data', d.x, d.y, d.d, 3);
    const idx = Uint32Array.from({ length: steps * R * B }, (_, i) => (i * 37 + 11) % d.n);
    const settings = [0, 1, 2].map((r) => ({ lr: 0.1 + 0.05 * r, weightDecay: 0.01 * r, momentum: r === 1 ? 0.9 : 0, dropout: r === 2 ? 0.3 : 0, seed: 40 + r }));
    const run = async (baseline: boolean): Promise<{ params: Float32Array; metrics: Float32Array }> => {
      const mlp = await MlpGpu.create(c, MODEL, { momentum: true, dropout: true, replicas: R, baseline });
      const metrics = createStorage(c, 'fusion.metrics', 2 * steps * R * 4);
      const plan = await TrainStepPlan.create(mlp, B, data, createStorage(c, 'fusion.idx', idx), metrics, { settings });
      expect(plan.fused).toBe(!baseline);
      expect(plan.fusedUpdate).toBe(!baseline);
      const T = mlp.layout.total;
      const init = new Float32Array(R * T);
      for (let r = 0; r < R; r++) init.set(initParams(MODEL, new Rng(3 + r)), r * T);
      mlp.uploadParams(init);
      const batch = new GpuBatch(c, 'fusion');
      for (let s = 0; s < steps; s++) plan.encodeStep(batch, s * R * B, s, s + 1);
      batch.submit();
      return { params: await mlp.readParams(), metrics: await readF32(c, metrics, 0, 2 * steps * R) };
    };
    const before = await run(true);
    const after = await run(false);
    expect(bitsEqual(after.params, before.params)).toBe(0);
    expect(Array.from(after.metrics)).toEqual(Array.from(before.metrics));
  });
});

describe('ensemble settings', () => {
  it('replicas must share batch size, sampling, stop rules, evaluation cadence and chunking', () => {
    expect(validateEnsemble([{ lr: 0.1 }, { lr: 0.2, seed: 3 }])).toHaveLength(2);
    expect(() => validateEnsemble([{ batchSize: 10 }, { batchSize: 20 }])).toThrow(/train\[1\]\.batchSize is 20 but train\[0\]\.batchSize is 10/);
    expect(() => validateEnsemble([{}, { epochs: 3 }])).toThrow(/train\[1\]\.epochs/);
    expect(() => validateEnsemble([{ lr: 0.1 }, { lr: -1 }])).toThrow(/train\[1\]\.lr must be/);
    expect(() => validateEnsemble([])).toThrow(/1 to 1024 replica/);
  });

  it('seedEnsemble gives seeds s, s+1, … or the listed ones', () => {
    expect(seedEnsemble({ seed: 5, lr: 0.3 }, 3).map((c) => [c.seed, c.lr])).toEqual([[5, 0.3], [6, 0.3], [7, 0.3]]);
    expect(seedEnsemble({}, 2, [9, 4]).map((c) => c.seed)).toEqual([9, 4]);
    expect(() => seedEnsemble({}, 3, [1, 2])).toThrow(/--seeds lists 2 seeds but --replicas is 3/);
  });
});
