/**
 * Checkpoints in process, on the GPU: a trainer's complete state (weights, momentum velocity,
 * sampler position and generator, metrics) through the checkpoint file and back gives a run
 * bit-identical to one that never stopped — with momentum, dropout and replacement sampling; the
 * Feng–Tu window recorder's state does the same for the trajectory, the scatter matrix and the
 * weight checkpoints; and a training session survives `device.destroy()` mid-run on a new device,
 * or reports "device-lost" with its last checkpoint when none can be had.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { acquireGpu, type GpuContext } from '../src/gpu/device.ts';
import { loadDataset, type LoadedData } from '../src/data/index.ts';
import { gaussianMixture } from '../src/data/synthetic.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { Trainer } from '../src/train/trainer.ts';
import type { TrainConfig } from '../src/train/config.ts';
import { packTrainerState, unpackTrainerState } from '../src/train/trainer-state.ts';
import { runTrainSession, type TrainSessionOptions } from '../src/train/session.ts';
import { metricsCsv } from '../src/train/run-files.ts';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointArray, type CheckpointContents } from '../src/util/checkpoint-file.ts';
import { prepareFengTu } from '../src/experiments/feng-tu/run.ts';
import { readF32 } from '../src/gpu/buffers.ts';
import { expectBitIdentical } from './helpers/close.ts';

const ctx = useGpu();
const MODEL: MlpConfig = { widths: [20, 24, 16, 4], activation: 'relu', bias: true, init: { kind: 'pytorch' } };
const data = (): Promise<LoadedData> => loadDataset({ kind: 'synthetic', generator: 'mixture', classes: 4, d: 20, n: 1000, seed: 3 });

/** Through the checkpoint file's bytes and back. */
function viaFile(c: CheckpointContents): CheckpointContents {
  return decodeCheckpoint(encodeCheckpoint(c), 'test.ckpt');
}

describe('trainer state', () => {
  const cases: [string, Partial<TrainConfig>][] = [
    ['momentum 0.9', { momentum: 0.9 }],
    ['momentum 0.5, dropout 0.2, weight decay', { momentum: 0.5, dropout: 0.2, weightDecay: 1e-3 }],
    ['replacement sampling', { sampling: 'replacement' }],
  ];
  for (const [name, extra] of cases) {
    it(`${name}: stop at an odd step, checkpoint, restore on a fresh trainer: bit-identical to an unbroken run`, async () => {
      const c = ctx();
      const d = await data();
      const cfg: Partial<TrainConfig> = { lr: 0.05, batchSize: 16, steps: 230, epochs: null, chunkSteps: 17, evalEvery: 40, seed: 4, ...extra };
      const whole = await Trainer.create(c, MODEL, cfg, { train: d.train, test: d.test });
      await whole.run();
      const ref = await whole.captureState();
      // Stopped at the first chunk boundary past step 90 (the sampler mid-epoch, momentum warm).
      const first = await Trainer.create(c, MODEL, cfg, { train: d.train, test: d.test });
      const stopped = await first.run({ shouldStop: () => first.step >= 90 });
      expect(stopped.status).toBe('stopped');
      const into = { meta: {} as Record<string, unknown>, arrays: {} as Record<string, CheckpointArray> };
      packTrainerState(await first.captureState(), 'trainer', into);
      const back = unpackTrainerState(viaFile({ kind: 'train', ...into }), 'trainer', 'test');
      const second = await Trainer.create(c, MODEL, cfg, { train: d.train, test: d.test });
      second.restoreState(back);
      await second.run();
      const got = await second.captureState();
      expect(got.step).toBe(230);
      expectBitIdentical(got.params, ref.params, 'weights');
      if (ref.velocity) expectBitIdentical(got.velocity!, ref.velocity, 'velocity');
      expectBitIdentical(got.history.loss, ref.history.loss, 'minibatch losses');
      expect(got.history.evals).toEqual(ref.history.evals);
      expect(metricsCsv(second.history, second.stepsPerEpoch)).toBe(metricsCsv(whole.history, whole.stepsPerEpoch));
    });
  }

  it('refuses a state that does not fit the trainer', async () => {
    const c = ctx();
    const d = await data();
    const t = await Trainer.create(c, MODEL, { steps: 20, epochs: null, batchSize: 16, momentum: 0.9 }, { train: d.train, test: d.test });
    await t.run({ shouldStop: () => true });
    const st = await t.captureState();
    const plain = await Trainer.create(c, MODEL, { steps: 20, epochs: null, batchSize: 16 }, { train: d.train, test: d.test });
    expect(() => plain.restoreState(st)).toThrow(/has momentum velocity, this run does not use momentum/);
    const other = await Trainer.create(c, MODEL, { steps: 20, epochs: null, batchSize: 16, momentum: 0.9 }, { train: d.train, test: d.test });
    expect(() => other.restoreState({ ...st, sampler: { ...st.sampler, cursor: 99999 } })).toThrow(/cursor 99999 is outside the permutation/);
    expect(() => decodeCheckpoint(encodeCheckpoint({ kind: 'train', meta: {}, arrays: { a: st.params } }).subarray(0, 500), 'cut.ckpt')).toThrow(/cut\.ckpt: not a usable sgdscope checkpoint/);
  });
});

describe('Feng–Tu window recorder state', () => {
  const train = gaussianMixture({ classes: 4, d: 12, n: 400, sep: 1.2, seed: 3 });
  const model: MlpConfig = { widths: [12, 10, 10, 4], activation: 'relu', bias: false, init: { kind: 'pytorch' } };
  const options = { windowEpochs: 3, k: 8, checkpointEvery: 11 };
  // A fixed window (steps 61–120), and a ring: a stop rule that never holds makes the window the
  // last 60 steps before the cap, written into a ring that has wrapped by step 85.
  for (const [name, extra] of [['a fixed window', {}], ['a ring (stop-rule run)', { stopLoss: 1e-30 }]] as const) {
    it(`${name}: restored inside the window, the trajectory and weight checkpoints are bit-identical`, async () => {
      const c = ctx();
      const cfg: Partial<TrainConfig> = { epochs: 6, batchSize: 20, lr: 0.1, seed: 2, chunkSteps: 7, momentum: 0.9, ...extra };
      const start = async () => {
        const trainer = await Trainer.create(c, model, cfg, { train, test: null });
        const s = await prepareFengTu(c, trainer, options);
        return { trainer, s };
      };
      const read = async (x: Awaited<ReturnType<typeof start>>) => ({
        traj: await x.s.recorder.readTrajectory(),
        ckpt: await readF32(c, x.s.recorder.checkpoints!, 0, x.s.recorder.checkpointSteps.length * x.trainer.mlp.layout.total),
        window: x.s.recorder.window,
      });
      const whole = await start();
      whole.s.recorder.recordInitial();
      await whole.trainer.run({ onStepEncoded: (b, step) => whole.s.recorder.onStepEncoded(b, step) });
      // Stopped at step ≥ 85: inside the window.
      const first = await start();
      first.s.recorder.recordInitial();
      await first.trainer.run({ onStepEncoded: (b, step) => first.s.recorder.onStepEncoded(b, step), shouldStop: () => first.trainer.step >= 85 });
      const tState = await first.trainer.captureState();
      const rState = await first.s.recorder.state(tState.step);
      expect(rState.recorded).toBe(first.s.open ? 60 : tState.step - 60);
      const second = await start();
      second.trainer.restoreState(tState);
      second.s.recorder.restore(rState);
      await second.trainer.run({ onStepEncoded: (b, step) => second.s.recorder.onStepEncoded(b, step) });
      expect(second.s.recorder.complete).toBe(true);
      const [a, b] = [await read(whole), await read(second)];
      expect(b.window).toEqual(a.window);
      expectBitIdentical(b.traj, a.traj, 'trajectory');
      expectBitIdentical(b.ckpt, a.ckpt, 'weight checkpoints');
    });
  }
});

describe('device loss', () => {
  const cfg: Partial<TrainConfig> = { lr: 0.05, momentum: 0.9, batchSize: 16, steps: 300, epochs: null, chunkSteps: 20, evalEvery: 50, seed: 9 };

  /** A session writing its checkpoints and metrics to memory; `lose` destroys the device at the first chunk past that step. */
  function session(d: LoadedData, lose: number | null, acquire: () => Promise<GpuContext>, log: string[]): { o: TrainSessionOptions; saved: CheckpointContents[]; metrics: string[] } {
    const saved: CheckpointContents[] = [];
    const metrics: string[] = [];
    let lost = lose === null;
    let current: GpuContext | null = null;
    return {
      saved,
      metrics,
      o: {
        kind: 'train',
        meta: {},
        resume: null,
        build: async (c) => {
          current = c;
          return { trainer: await Trainer.create(c, MODEL, cfg, { train: d.train, test: d.test }) };
        },
        acquire,
        policy: { steps: 60, seconds: null },
        stopRequested: () => false,
        sink: {
          saveCheckpoint: (c) => void saved.push(viaFile(c)),
          openMetrics: () => {
            metrics.length = 0;
            return { append: (t) => void metrics.push(t), sync: () => undefined };
          },
        },
        log: (m) => void log.push(m),
        onChunk: (p) => {
          if (!lost && p.step >= lose!) {
            lost = true;
            current!.device.destroy();
          }
        },
      },
    };
  }

  it('device.destroy() mid-run: a new device continues from the last checkpoint, bit-identical to an unbroken run', async () => {
    const d = await data();
    const own = await acquireGpu();
    const refLog: string[] = [];
    const ref = session(d, null, acquireGpu, refLog);
    const refOut = await runTrainSession(own, ref.o);
    expect(refOut.kind).toBe('ended');
    const refParams = await (refOut as { trainer: Trainer }).trainer.mlp.readParams();
    const log: string[] = [];
    const s = session(d, 150, acquireGpu, log);
    const out = await runTrainSession(refOut.kind === 'ended' ? refOut.ctx : own, s.o);
    console.log(log.join('\n'));
    expect(out.kind).toBe('ended');
    if (out.kind !== 'ended') return;
    expect(log.join('\n')).toMatch(/GPU device lost \(destroyed.*continuing on a new device/s);
    const from = Number(/continuing from the checkpoint at step (\d+)/.exec(log.join('\n'))?.[1]);
    expect(from).toBeGreaterThanOrEqual(60);
    expect(from).toBeLessThan(150 + 20);
    expect(out.result.steps).toBe(300);
    expectBitIdentical(await out.trainer.mlp.readParams(), refParams, 'final weights');
    expect(s.metrics.join('')).toBe(ref.metrics.join(''));
    out.ctx.destroy();
  });

  it('no device to be had: outcome "device-lost" with the last checkpoint', async () => {
    const d = await data();
    const log: string[] = [];
    const s = session(d, 150, () => Promise.reject(new Error('no adapter (test)')), log);
    const out = await runTrainSession(await acquireGpu(), s.o);
    expect(out.kind).toBe('device-lost');
    if (out.kind !== 'device-lost') return;
    expect(out.reason).toMatch(/GPU device lost .*no new device could be acquired: no adapter \(test\)/);
    expect(out.last).not.toBeNull();
    expect(unpackTrainerState(out.last!, 'trainer', 'test').step).toBeGreaterThanOrEqual(60);
  });
});
