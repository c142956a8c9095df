/**
 * An ensemble's checkpoint (src/train/trainer-state.ts packTrainer/unpackTrainer) carries every
 * replica's weights, velocity, sampler position and generator, history and outcome: stopped at a
 * chunk boundary, written through the checkpoint file and restored on a fresh trainer, an ensemble
 * of 4 — momentum, dropout, weight decay, replacement sampling, one replica that diverges before
 * the stop and one after — ends bit-identical to the run that never stopped, and each diverged
 * replica keeps the weights of step d − 2 that it has when trained alone.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { gaussianMixture } from '../src/data/synthetic.ts';
import type { Dataset } from '../src/data/dataset.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import type { TrainConfig } from '../src/train/config.ts';
import { Trainer } from '../src/train/trainer.ts';
import { packTrainer, unpackTrainer, type TrainerState } from '../src/train/trainer-state.ts';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointArray } from '../src/util/checkpoint-file.ts';
import { expectBitIdentical } from './helpers/close.ts';

const ctx = useGpu();
const MODEL: MlpConfig = { widths: [16, 11, 7, 4], activation: 'relu', bias: true, init: { kind: 'pytorch' } };
const ALL = gaussianMixture({ classes: 4, d: 16, n: 300, sep: 1.5, seed: 8 });
const DATA = { train: { ...ALL, n: 240, x: ALL.x.slice(0, 240 * 16), y: ALL.y.slice(0, 240) } as Dataset, test: { ...ALL, n: 60, x: ALL.x.slice(240 * 16), y: ALL.y.slice(240) } as Dataset };
const SHARED: Partial<TrainConfig> = { batchSize: 12, steps: 120, epochs: null, chunkSteps: 9, evalEvery: 20, sampling: 'replacement' };
const CONFIGS: Partial<TrainConfig>[] = [
  { ...SHARED, seed: 3, lr: 0.05, momentum: 0.9 },
  { ...SHARED, seed: 4, lr: 40 }, // diverges within a few steps: before the stop
  { ...SHARED, seed: 5, lr: 0.08, dropout: 0.25, weightDecay: 0.01 },
  { ...SHARED, seed: 6, lr: 1.5, momentum: 0.9 }, // diverges later (step 24), after the stop
];

describe('ensemble checkpoints', () => {
  it('R = 4: stop, checkpoint file, restore: every replica bit-identical to the unbroken run', async () => {
    const c = ctx();
    const whole = await Trainer.create(c, MODEL, CONFIGS, DATA);
    const res = await whole.run();
    const ref = await whole.captureStates();
    expect(res.replicas[1].status).toBe('diverged');
    const d1 = res.replicas[1].step;
    const stopAt = d1 + 10;
    console.log(`outcomes: ${res.replicas.map((o) => `${o.status}@${o.step}`).join(', ')}; stop at ${stopAt}`);
    expect(res.replicas[3].status).toBe('diverged');
    expect(res.replicas[3].step).toBeGreaterThan(stopAt + 9);
    const first = await Trainer.create(c, MODEL, CONFIGS, DATA);
    expect((await first.run({ shouldStop: () => first.step >= stopAt })).status).toBe('stopped');
    expect(first.outcomes[1].status).toBe('diverged');
    const into = { meta: {} as Record<string, unknown>, arrays: {} as Record<string, CheckpointArray> };
    packTrainer(await first.captureStates(), 'trainer', into);
    const back = unpackTrainer(decodeCheckpoint(encodeCheckpoint({ kind: 'train', ...into }), 'test.ckpt'), 'trainer', 'test');
    expect(back).toHaveLength(4);
    const second = await Trainer.create(c, MODEL, CONFIGS, DATA);
    second.restoreStates(back);
    const end = await second.run();
    expect(end.replicas.map((o) => o.status)).toEqual(res.replicas.map((o) => o.status));
    const got = await second.captureStates();
    got.forEach((g: TrainerState, r) => {
      expectBitIdentical(g.params, ref[r].params, `replica ${r} weights`);
      if (ref[r].velocity) expectBitIdentical(g.velocity!, ref[r].velocity!, `replica ${r} velocity`);
      expectBitIdentical(g.history.loss, ref[r].history.loss, `replica ${r} minibatch losses`);
      expect(g.history.evals).toEqual(ref[r].history.evals);
      expect(g.outcome).toEqual(ref[r].outcome);
    });
    // Each diverged replica holds what it holds alone: the weights after step d − 2.
    for (const r of [1, 3]) {
      const alone = await Trainer.create(c, MODEL, CONFIGS[r], DATA);
      const a = await alone.run();
      expect(a.status).toBe('diverged');
      const good = (await alone.lastGoodParams())!;
      expect(good.step).toBe(res.replicas[r].step - 2);
      expectBitIdentical(ref[r].params, good.params, `replica ${r}: last good weights against the run alone`);
      expectBitIdentical((await second.lastGoodParams(r))!.params, good.params, `replica ${r}: last good weights after the resume`);
    }
  });

  it('a single run is stored as before (no replica prefix); a state list that does not fit is refused', async () => {
    const c = ctx();
    const t = await Trainer.create(c, MODEL, CONFIGS[0], DATA);
    await t.run({ shouldStop: () => true });
    const into = { meta: {} as Record<string, unknown>, arrays: {} as Record<string, CheckpointArray> };
    packTrainer(await t.captureStates(), 'trainer', into);
    expect(Object.keys(into.arrays)).toContain('trainer.params');
    expect(into.meta.trainer).toHaveProperty('step');
    const ens = await Trainer.create(c, MODEL, CONFIGS.slice(0, 2), DATA);
    expect(() => ens.restoreStates(unpackTrainer({ kind: 'train', ...into }, 'trainer', 'test'))).toThrow(/1 replica state\(s\) for a trainer of 2 replica/);
    await expect(ens.captureState()).rejects.toThrow(/use captureStates/);
  });
});
