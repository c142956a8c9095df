/**
 * The training loop end to end (Trainer on the GPU) and its CPU-side pieces: reproducibility by
 * seed, a short MNIST-10k run, divergence handling, stop rules, config validation, and the
 * minibatch sampler.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import type { GpuContext } from '../src/gpu/device.ts';
import { loadDataset, type LoadedData } from '../src/data/index.ts';
import { SEED_MLP, validateMlpConfig, type MlpConfig } from '../src/nn/config.ts';
import { initParams } from '../src/nn/init.ts';
import { paramLayout } from '../src/nn/params.ts';
import { mlpForwardCpu, mlpGradCpu } from '../src/nn/mlp-cpu.ts';
import { Trainer, type ChunkProgress, type RunResult } from '../src/train/trainer.ts';
import { DEFAULT_TRAIN, validateTrainConfig, type TrainConfig } from '../src/train/config.ts';
import { MinibatchSampler } from '../src/train/sampler.ts';
import { Rng } from '../src/util/rng.ts';

const ctx = useGpu();

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

/** 4-class Gaussian mixture, 20 features: 800 train / 200 test. */
function mixture(overrides: Partial<{ classes: number; d: number; n: number; seed: number; sep: number }> = {}): Promise<LoadedData> {
  return loadDataset({ kind: 'synthetic', generator: 'mixture', classes: 4, d: 20, n: 1000, seed: 3, ...overrides });
}

const SMALL: MlpConfig = { widths: [20, 32, 32, 4], activation: 'relu', bias: true, init: { kind: 'pytorch' } };

async function train(c: GpuContext, model: MlpConfig, cfg: Partial<TrainConfig>, data: LoadedData, chunks?: ChunkProgress[]): Promise<{ trainer: Trainer; result: RunResult; params: Float32Array }> {
  const trainer = await Trainer.create(c, model, cfg, { train: data.train, test: data.test });
  const result = await trainer.run(chunks ? { onChunk: (p) => void chunks.push(p) } : {});
  return { trainer, result, params: await trainer.mlp.readParams() };
}

/** Number of positions whose float32 bit patterns differ. */
function bitDiffs(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) n++;
  return n;
}

function allFinite(v: ArrayLike<number>): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

function mean(v: ArrayLike<number>, from = 0, to = v.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += v[i];
  return s / (to - from);
}

// ---------------------------------------------------------------------------------------------
// Reproducibility
// ---------------------------------------------------------------------------------------------

describe('reproducibility', () => {
  const cfg: Partial<TrainConfig> = { lr: 0.05, momentum: 0.9, batchSize: 16, steps: 300, chunkSteps: 64, seed: 7 };

  it('same seed twice → bit-identical weights and history; different seed → different weights', async () => {
    const c = ctx();
    const data = await mixture();
    const t0 = performance.now();
    const a = await train(c, SMALL, cfg, data);
    const b = await train(c, SMALL, cfg, data);
    const other = await train(c, SMALL, { ...cfg, seed: 8 }, data);
    const init = initParams(SMALL, new Rng(7));
    const layout = paramLayout(SMALL);
    const moved = bitDiffs(a.params, init);
    console.log(
      `300 steps ×3 in ${((performance.now() - t0) / 1000).toFixed(2)} s; seed 7 vs 7: ${bitDiffs(a.params, b.params)} differing floats; ` +
        `seed 7 vs 8: ${bitDiffs(a.params, other.params)}/${layout.total}; weights changed from init: ${moved}/${layout.count}; ` +
        `loss first/last 20 steps ${mean(a.trainer.history.loss, 0, 20).toFixed(4)} → ${mean(a.trainer.history.loss, 280, 300).toFixed(4)}`,
    );
    expect(a.result.status).toBe('completed');
    expect(a.result.steps).toBe(300);
    expect(bitDiffs(a.params, b.params)).toBe(0);
    expect(Array.from(a.trainer.history.loss)).toEqual(Array.from(b.trainer.history.loss));
    expect(a.trainer.history.evals).toEqual(b.trainer.history.evals);
    // Training did something, and the other seed ends elsewhere (init and batch order both differ).
    expect(bitDiffs(a.params, init)).toBeGreaterThan(0.9 * layout.count);
    expect(bitDiffs(a.params, other.params)).toBeGreaterThan(0.9 * layout.count);
    expect(mean(a.trainer.history.loss, 280, 300)).toBeLessThan(0.5 * mean(a.trainer.history.loss, 0, 20));
  });

  it('the per-step losses in the history equal a float64 CPU replay of the same run (init, batches, SGD)', async () => {
    const c = ctx();
    const data = await mixture();
    const run: Partial<TrainConfig> = { lr: 0.05, momentum: 0.9, weightDecay: 0.01, batchSize: 16, steps: 9, chunkSteps: 4, seed: 11 };
    const { trainer, params } = await train(c, SMALL, run, data);
    // The CPU replay: the Trainer's seeding (init from Rng(seed), batches from Rng(seed).fork()).
    const w = Float64Array.from(initParams(SMALL, new Rng(11)));
    const v = new Float64Array(w.length);
    const sampler = new MinibatchSampler(data.train.n, 16, 'shuffle', new Rng(11).fork());
    const idx = sampler.next(9);
    const d = data.train.d;
    const cpuLoss: number[] = [];
    for (let s = 0; s < 9; s++) {
      const rows = Array.from(idx.subarray(s * 16, (s + 1) * 16));
      const x = new Float64Array(16 * d);
      rows.forEach((r, i) => x.set(data.train.x.subarray(r * d, (r + 1) * d), i * d));
      const y = rows.map((r) => data.train.y[r]);
      const { grad, forward } = mlpGradCpu(SMALL, w, x, y, 16);
      cpuLoss.push(forward.meanLoss);
      for (let i = 0; i < w.length; i++) {
        v[i] = 0.9 * v[i] + grad[i] + 0.01 * w[i];
        w[i] -= 0.05 * v[i];
      }
    }
    const diffs = cpuLoss.map((l, s) => Math.abs(l - trainer.history.loss[s]));
    let maxW = 0;
    for (let i = 0; i < w.length; i++) maxW = Math.max(maxW, Math.abs(w[i] - params[i]));
    console.log(`CPU replay: losses ${cpuLoss.map((l) => l.toFixed(5)).join(' ')}; max |GPU − CPU| loss ${Math.max(...diffs).toExponential(2)}, weights ${maxW.toExponential(2)}`);
    expect(trainer.history.loss.length).toBe(9);
    for (const dl of diffs) expect(dl).toBeLessThan(1e-5);
    expect(maxW).toBeLessThan(1e-5);
    // The losses move (the replay would not notice a trainer that never updates otherwise).
    expect(Math.abs(cpuLoss[8] - cpuLoss[0])).toBeGreaterThan(1e-2);
  });

  it('chunking and evaluation cadence do not change the weights (chunkSteps 64 vs 25, evalEvery 0 vs 7)', async () => {
    const c = ctx();
    const data = await mixture();
    const a = await train(c, SMALL, { ...cfg, steps: 130 }, data);
    const b = await train(c, SMALL, { ...cfg, steps: 130, chunkSteps: 25, evalEvery: 7 }, data);
    console.log(`chunkSteps 64 vs 25: ${bitDiffs(a.params, b.params)} differing floats; evals ${a.trainer.history.evals.length} vs ${b.trainer.history.evals.length}`);
    expect(bitDiffs(a.params, b.params)).toBe(0);
    expect(Array.from(a.trainer.history.loss)).toEqual(Array.from(b.trainer.history.loss));
    // 130 steps: 50-step epochs → evals at 50, 100, 130; every 7 → 18 evals + the final one.
    expect(a.trainer.history.evals.map((e) => e.step)).toEqual([50, 100, 130]);
    expect(b.trainer.history.evals.map((e) => e.step)).toEqual([...Array.from({ length: 18 }, (_, i) => 7 * (i + 1)), 130]);
  });
});

// ---------------------------------------------------------------------------------------------
// MNIST-10k end to end
// ---------------------------------------------------------------------------------------------

describe('MNIST-10k, seed network', () => {
  it('2 epochs (320 steps) of the Feng–Tu defaults reach ≥ 80% test accuracy; GPU eval matches a CPU eval', async () => {
    const c = ctx();
    const t0 = performance.now();
    const data = await loadDataset({ kind: 'mnist10k' });
    const tLoad = performance.now();
    const { trainer, result, params } = await train(c, SEED_MLP, { epochs: 2, evalEvery: 0 }, data);
    const tTrain = performance.now();
    const evals = trainer.history.evals;
    const last = evals.at(-1)!;
    // The same weights evaluated on the CPU in float64.
    const cpu = mlpForwardCpu(SEED_MLP, params, data.test.x, data.test.y, data.test.n);
    const cpuAcc = cpu.correct / data.test.n;
    console.log(
      `MNIST-10k: load ${((tLoad - t0) / 1000).toFixed(2)} s, train ${result.seconds.toFixed(2)} s (${result.stepsPerSecond.toFixed(0)} steps/s), ` +
        `CPU eval ${((performance.now() - tTrain) / 1000).toFixed(2)} s; ` +
        evals.map((e) => `step ${e.step}: train ${e.train.loss.toFixed(4)}/${e.train.accuracy.toFixed(4)} test ${e.test!.loss.toFixed(4)}/${e.test!.accuracy.toFixed(4)}`).join('; ') +
        `; CPU test ${cpu.meanLoss.toFixed(4)}/${cpuAcc.toFixed(4)}`,
    );
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(320);
    expect(trainer.stepsPerEpoch).toBe(160);
    expect(evals.map((e) => e.step)).toEqual([160, 320]);
    expect(last.test!.n).toBe(2000);
    expect(last.train.n).toBe(8000);
    expect(last.test!.accuracy).toBeGreaterThanOrEqual(0.8);
    expect(last.train.accuracy).toBeGreaterThanOrEqual(0.8);
    // The GPU evaluator and the float64 reference agree on the final weights.
    expect(Math.abs(last.test!.accuracy - cpuAcc)).toBeLessThanOrEqual(2 / 2000);
    expect(Math.abs(last.test!.loss - cpu.meanLoss)).toBeLessThan(1e-4 * Math.max(1, cpu.meanLoss));
    expect(trainer.history.loss.length).toBe(320);
    expect(mean(trainer.history.loss, 300, 320)).toBeLessThan(0.5 * mean(trainer.history.loss, 0, 20));
  });
});

// ---------------------------------------------------------------------------------------------
// Divergence
// ---------------------------------------------------------------------------------------------

describe('divergence', () => {
  const cases: { name: string; cfg: Partial<TrainConfig> }[] = [
    { name: 'lr 50, chunkSteps 1', cfg: { lr: 50, batchSize: 16, steps: 300, chunkSteps: 1, seed: 2 } },
    { name: 'lr 1, chunkSteps 4 (diverges mid-chunk after a few good steps)', cfg: { lr: 1, batchSize: 16, steps: 300, chunkSteps: 4, seed: 2, evalEvery: 4 } },
  ];
  for (const { name, cfg } of cases) {
    it(`${name}: status 'diverged', history stops before the step, lastGoodParams are those of step d − 2 (the last with a finite, bounded loss)`, async () => {
      const c = ctx();
      const data = await mixture();
      const { trainer, result } = await train(c, SMALL, cfg, data);
      const good = await trainer.lastGoodParams();
      const h = trainer.history;
      console.log(`${name}: ${result.status}: ${result.message}; history ${h.loss.length} steps (${Array.from(h.loss.slice(-4), (v) => v.toFixed(3)).join(' ')}), evals at ${h.evals.map((e) => e.step).join(',') || '-'}, last good step ${good?.step}`);
      expect(result.status).toBe('diverged');
      const m = /diverged at step (\d+)/.exec(result.message);
      expect(m, result.message).not.toBeNull();
      const at = Number(m![1]);
      expect(result.steps).toBe(at);
      expect(trainer.step).toBe(at);
      expect(at).toBeGreaterThan(1); // step 1's loss is at the initial weights: never a divergence
      // History: every step before the diverged one, all finite and bounded, nothing after.
      expect(h.loss.length).toBe(at - 1);
      expect(h.accuracy.length).toBe(at - 1);
      for (const l of h.loss) expect(Number.isFinite(l) && l <= DEFAULT_TRAIN.divergenceLoss).toBe(true);
      for (const e of h.evals) expect(e.step).toBeLessThan(at);
      // Last good weights: those after step d − 2, whose minibatch loss (measured at step d − 1)
      // was finite and bounded — not the chunk start (up to a chunk old), nor the diverged ones.
      expect(good).not.toBeNull();
      expect(good!.step).toBe(at - 2);
      expect(good!.good).toBe(true);
      expect(Number.isFinite(h.loss[good!.step]) && h.loss[good!.step] <= DEFAULT_TRAIN.divergenceLoss).toBe(true);
      expect(allFinite(good!.params)).toBe(true);
      expect(good!.params.length).toBe(paramLayout(SMALL).total);
      // ... and bit-identical to a fresh run stopped at that step (or the initial weights).
      const ref = good!.step === 0 ? initParams(SMALL, new Rng(cfg.seed!)) : (await train(c, SMALL, { ...cfg, steps: good!.step }, data)).params;
      expect(bitDiffs(good!.params, ref)).toBe(0);
      // A run that did not diverge has no last-good checkpoint.
      expect(await (await train(c, SMALL, { ...cfg, lr: 0.01, steps: 5 }, data)).trainer.lastGoodParams()).toBeNull();
    });
  }

  it("divergence on a chunk's first step, with momentum: the last good weights come from the chunk before, recomputed bit for bit", async () => {
    const c = ctx();
    const data = await mixture();
    const base: Partial<TrainConfig> = { lr: 1.5, momentum: 0.9, batchSize: 16, steps: 300, seed: 2, evalEvery: 1000 };
    const probe = await train(c, SMALL, { ...base, chunkSteps: 4 }, data);
    const at = probe.result.steps;
    expect(probe.result.status).toBe('diverged');
    expect(at).toBeGreaterThan(3);
    // Chunks of d − 1 steps: step d opens the second chunk, step d − 2 lies inside the first.
    const { trainer, result } = await train(c, SMALL, { ...base, chunkSteps: at - 1 }, data);
    expect(result.steps).toBe(at);
    const good = (await trainer.lastGoodParams())!;
    expect(good.step).toBe(at - 2);
    const ref = await train(c, SMALL, { ...base, steps: at - 2, chunkSteps: 4 }, data);
    expect(bitDiffs(good.params, ref.params)).toBe(0);
  });

  it('a low divergenceLoss threshold stops a healthy run and says why', async () => {
    const c = ctx();
    const data = await mixture();
    const { result, trainer } = await train(c, SMALL, { lr: 0.05, batchSize: 16, steps: 50, chunkSteps: 10, divergenceLoss: 0.5 }, data);
    console.log(`divergenceLoss 0.5: ${result.message}`);
    expect(result.status).toBe('diverged');
    expect(result.message).toMatch(/diverged at step 1 \(epoch 0\.00\): minibatch loss [\d.]+ > divergenceLoss 0\.5/);
    expect(trainer.history.loss.length).toBe(0);
    // Step 1 diverged: there are no good weights; the initial ones are returned and marked so.
    const good = await trainer.lastGoodParams();
    expect(good!.step).toBe(0);
    expect(good!.good).toBe(false);
    expect(bitDiffs(good!.params, initParams(SMALL, new Rng(DEFAULT_TRAIN.seed)))).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Stop rules
// ---------------------------------------------------------------------------------------------

describe('stop rules', () => {
  it('steps: 37 with chunkSteps 10 stops at exactly 37, completed, with a final evaluation', async () => {
    const c = ctx();
    const data = await mixture();
    const chunks: ChunkProgress[] = [];
    const { trainer, result } = await train(c, SMALL, { steps: 37, epochs: null, chunkSteps: 10, batchSize: 16, lr: 0.05 }, data, chunks);
    console.log(`steps 37: ${result.message}; chunks ${chunks.map((p) => `${p.firstStep}-${p.step}`).join(' ')}; evals at ${trainer.history.evals.map((e) => e.step).join(',')}`);
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(37);
    expect(trainer.step).toBe(37);
    expect(result.message).toMatch(/^completed 37 steps/);
    expect(trainer.totalSteps).toBe(37);
    expect(trainer.history.loss.length).toBe(37);
    expect(chunks.map((p) => [p.firstStep, p.step])).toEqual([[1, 10], [11, 20], [21, 30], [31, 37]]);
    expect(chunks.map((p) => p.losses.length)).toEqual([10, 10, 10, 7]);
    expect(trainer.history.evals.at(-1)!.step).toBe(37);
    // Resuming a completed run does no more steps.
    const again = await trainer.run();
    expect(again.steps).toBe(37);
    expect(trainer.history.loss.length).toBe(37);
  });

  it('epochs: 1 with steps: 1000 stops after one epoch (the earlier rule)', async () => {
    const c = ctx();
    const data = await mixture();
    const { trainer, result } = await train(c, SMALL, { epochs: 1, steps: 1000, batchSize: 16, lr: 0.05 }, data);
    expect(trainer.stepsPerEpoch).toBe(50); // 800 / 16
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(50);
  });

  it("targetTrainAccuracy on an easy mixture stops early with 'target-reached' at the first eval that meets it", async () => {
    const c = ctx();
    const data = await mixture({ classes: 3, d: 10, n: 600, seed: 5, sep: 1 });
    const model: MlpConfig = { widths: [10, 16, 3], activation: 'relu', bias: true, init: { kind: 'pytorch' } };
    const cfg: Partial<TrainConfig> = { lr: 0.05, batchSize: 16, epochs: 20, evalEvery: 5, chunkSteps: 5, targetTrainAccuracy: 0.9 };
    const { trainer, result } = await train(c, model, cfg, data);
    const accs = trainer.history.evals.map((e) => e.train.accuracy);
    console.log(`target accuracy 0.9: ${result.message}; evals ${trainer.history.evals.map((e) => `${e.step}:${e.train.accuracy.toFixed(3)}`).join(' ')}`);
    expect(result.status).toBe('target-reached');
    expect(result.message).toMatch(/target reached at step \d+: train accuracy [\d.]+ ≥ 0\.9/);
    expect(Number(/step (\d+)/.exec(result.message)![1])).toBe(result.steps);
    expect(result.steps).toBeLessThan(trainer.totalSteps!);
    expect(result.steps % 5).toBe(0);
    expect(accs.at(-1)!).toBeGreaterThanOrEqual(0.9);
    for (const a of accs.slice(0, -1)) expect(a).toBeLessThan(0.9);
    expect(trainer.history.evals.at(-1)!.step).toBe(result.steps);
    expect(trainer.history.loss.length).toBe(result.steps);
  });

  // KNOWN BUG (see report): when a target is reached, the next chunk has already been submitted
  // (two-deep pipelining) and is drained — but its SGD steps did run, so mlp.params hold the
  // weights of a later step than result.steps (and the eval). The CLI saves those weights with
  // paramsStep = result.steps. Remove `.fails` once Trainer.run stops pipelining past an eval
  // chunk while a target is set (or restores the weights at the target step).
  it('after target-reached the weights on the GPU are those of result.steps', async () => {
    const c = ctx();
    const data = await mixture({ classes: 3, d: 10, n: 600, seed: 5, sep: 1 });
    const model: MlpConfig = { widths: [10, 16, 3], activation: 'relu', bias: true, init: { kind: 'pytorch' } };
    const cfg: Partial<TrainConfig> = { lr: 0.05, batchSize: 16, epochs: 20, evalEvery: 5, chunkSteps: 5 };
    const a = await train(c, model, { ...cfg, targetTrainAccuracy: 0.9 }, data);
    expect(a.result.status).toBe('target-reached');
    const b = await train(c, model, { ...cfg, steps: a.result.steps }, data);
    console.log(`target-reached at ${a.result.steps}: ${bitDiffs(a.params, b.params)} floats differ from a run of exactly ${a.result.steps} steps`);
    expect(bitDiffs(a.params, b.params)).toBe(0);
  });

  it("targetTrainLoss stops with 'target-reached' once the full train loss is below it", async () => {
    const c = ctx();
    const data = await mixture({ classes: 3, d: 10, n: 600, seed: 5, sep: 1 });
    const model: MlpConfig = { widths: [10, 16, 3], activation: 'relu', bias: true, init: { kind: 'pytorch' } };
    const { trainer, result } = await train(c, model, { lr: 0.05, batchSize: 16, epochs: 20, evalEvery: 10, targetTrainLoss: 0.4 }, data);
    console.log(`target loss 0.4: ${result.message}`);
    expect(result.status).toBe('target-reached');
    expect(result.message).toMatch(/train loss [\d.]+ ≤ 0\.4/);
    const losses = trainer.history.evals.map((e) => e.train.loss);
    expect(losses.at(-1)!).toBeLessThanOrEqual(0.4);
    for (const l of losses.slice(0, -1)) expect(l).toBeGreaterThan(0.4);
  });

  it("sampling 'replacement' trains (loss falls) and differs from 'shuffle' with the same seed", async () => {
    const c = ctx();
    const data = await mixture();
    const cfg: Partial<TrainConfig> = { lr: 0.05, batchSize: 16, steps: 200, chunkSteps: 50, seed: 4 };
    const rep = await train(c, SMALL, { ...cfg, sampling: 'replacement' }, data);
    const shuf = await train(c, SMALL, cfg, data);
    const h = rep.trainer.history;
    console.log(`replacement: ${rep.result.message}; loss first/last 20 ${mean(h.loss, 0, 20).toFixed(4)} → ${mean(h.loss, 180, 200).toFixed(4)}; final train acc ${h.evals.at(-1)!.train.accuracy.toFixed(4)}`);
    expect(rep.result.status).toBe('completed');
    expect(rep.result.steps).toBe(200);
    expect(allFinite(rep.params)).toBe(true);
    expect(mean(h.loss, 180, 200)).toBeLessThan(0.5 * mean(h.loss, 0, 20));
    expect(bitDiffs(rep.params, shuf.params)).toBeGreaterThan(0);
  });

  it("shouldStop ends the run with 'stopped' and run() resumes it to the same weights as an uninterrupted run", async () => {
    const c = ctx();
    const data = await mixture();
    const cfg: Partial<TrainConfig> = { lr: 0.05, batchSize: 16, steps: 60, chunkSteps: 10, seed: 9 };
    const trainer = await Trainer.create(c, SMALL, cfg, { train: data.train, test: data.test });
    let chunksSeen = 0;
    const first = await trainer.run({ onChunk: () => void chunksSeen++, shouldStop: () => chunksSeen >= 2 });
    const second = await trainer.run();
    const whole = await train(c, SMALL, cfg, data);
    console.log(`stopped: ${first.message}; resumed: ${second.message}`);
    expect(first.status).toBe('stopped');
    expect(first.message).toBe(`stopped at step ${first.steps}`);
    expect(first.steps % 10).toBe(0);
    expect(first.steps).toBeLessThan(60);
    expect(second.status).toBe('completed');
    expect(second.steps).toBe(60);
    expect(bitDiffs(await trainer.mlp.readParams(), whole.params)).toBe(0);
    expect(Array.from(trainer.history.loss)).toEqual(Array.from(whole.trainer.history.loss));
  });
});

// ---------------------------------------------------------------------------------------------
// Config validation
// ---------------------------------------------------------------------------------------------

describe('bad configs name the field and the allowed range', () => {
  const trainCases: [string, Partial<TrainConfig> | Record<string, unknown>, RegExp][] = [
    ['batchSize 0', { batchSize: 0 }, /train\.batchSize must be an integer in \[1, 65536\], got 0/],
    ['batchSize 2.5', { batchSize: 2.5 }, /train\.batchSize must be an integer in \[1, 65536\], got 2\.5/],
    ['lr -1', { lr: -1 }, /train\.lr must be \(0, 100\], got -1/],
    ['lr 0', { lr: 0 }, /train\.lr must be \(0, 100\], got 0/],
    ['lr NaN', { lr: NaN }, /train\.lr must be \(0, 100\], got (null|NaN)/],
    ['momentum 1', { momentum: 1 }, /train\.momentum must be \[0, 0\.999\], got 1/],
    ['weightDecay -0.1', { weightDecay: -0.1 }, /train\.weightDecay must be \[0, 10\], got -0\.1/],
    ['unknown key learningRate', { learningRate: 0.1 }, /train: unknown setting 'learningRate' \(settings: lr, batchSize, /],
    ['batchSize > train size', { batchSize: 1000 }, /train\.batchSize must be in \[1, 800\] \(the training set size\), got 1000/],
    ['no epochs nor steps', { epochs: null, steps: null }, /train: give epochs or steps/],
    ['sampling typo', { sampling: 'random' }, /train\.sampling must be 'shuffle' or 'replacement', got "random"/],
    ['chunkSteps 0', { chunkSteps: 0 }, /train\.chunkSteps must be an integer in \[1, 10000\], got 0/],
    ['targetTrainAccuracy 1.5', { targetTrainAccuracy: 1.5 }, /train\.targetTrainAccuracy must be \(0, 1\], got 1\.5/],
  ];
  for (const [name, cfg, re] of trainCases) {
    it(`train: ${name}`, async () => {
      const c = ctx();
      const data = await mixture();
      expect(() => validateTrainConfig(cfg as Partial<TrainConfig>, 800)).toThrow(re);
      await expect(Trainer.create(c, SMALL, cfg as Partial<TrainConfig>, { train: data.train, test: data.test })).rejects.toThrow(re);
    });
  }

  it('train: the defaults and edge values are accepted', () => {
    expect(validateTrainConfig({})).toEqual(DEFAULT_TRAIN);
    const edge = validateTrainConfig({ lr: 100, momentum: 0.999, batchSize: 800, weightDecay: 10, epochs: null, steps: 1 }, 800);
    expect(edge.batchSize).toBe(800);
  });

  const big = (): Promise<LoadedData> => mixture({ d: 784, n: 100, classes: 4 });
  const modelCases: [string, MlpConfig, RegExp][] = [
    ['widths [784]', { ...SEED_MLP, widths: [784] }, /model\.widths must list at least 2 layer widths \(inputs and outputs\), got \[784\]/],
    ['widths [784, 0, 10]', { ...SEED_MLP, widths: [784, 0, 10] }, /model\.widths\[1\] must be an integer in \[1, 65536\], got 0/],
    ['widths []', { ...SEED_MLP, widths: [] }, /model\.widths must list at least 2 layer widths/],
    ['activation gelu', { ...SEED_MLP, activation: 'gelu' as never }, /model\.activation must be one of identity, relu, tanh, got 'gelu'/],
    ['one output class', { ...SEED_MLP, widths: [784, 1] }, /model\.widths: the output layer needs at least 2 classes/],
    ['dataset/model width mismatch', { ...SEED_MLP, widths: [20, 8, 4] }, /model\.widths\[0\] is 20 but the dataset has 784 features per sample/],
    ['too few outputs for the classes', { ...SEED_MLP, widths: [784, 8, 3] }, /model output width 3 is smaller than the dataset's 4 classes/],
  ];
  for (const [name, model, re] of modelCases) {
    it(`model: ${name}`, async () => {
      const c = ctx();
      const data = await big();
      await expect(Trainer.create(c, model, { steps: 1 }, { train: data.train, test: data.test })).rejects.toThrow(re);
    });
  }

  it('model: validateMlpConfig accepts the seed network', () => {
    expect(validateMlpConfig({ ...SEED_MLP })).toEqual(SEED_MLP);
  });
});

// ---------------------------------------------------------------------------------------------
// Sampler
// ---------------------------------------------------------------------------------------------

describe('MinibatchSampler', () => {
  function epochs(n: number, B: number, seed: number, nEpochs: number, pieces?: number[]): Uint32Array[] {
    const s = new MinibatchSampler(n, B, 'shuffle', new Rng(seed));
    const steps = s.stepsPerEpoch * nEpochs;
    let all: Uint32Array;
    if (pieces) {
      // Drawn in uneven pieces, as chunks of a run would draw them.
      const parts: Uint32Array[] = [];
      let done = 0;
      for (let i = 0; done < steps; i++) {
        const k = Math.min(pieces[i % pieces.length], steps - done);
        parts.push(s.next(k));
        done += k;
      }
      all = new Uint32Array(steps * B);
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
    } else all = s.next(steps);
    const per = s.stepsPerEpoch * B;
    return Array.from({ length: nEpochs }, (_, e) => all.slice(e * per, (e + 1) * per));
  }

  it('shuffle, n divisible by B: every epoch visits each index exactly once, in a new order', () => {
    const eps = epochs(100, 10, 1, 4);
    for (const e of eps) expect(Array.from(e).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    for (let i = 1; i < eps.length; i++) expect(Array.from(eps[i])).not.toEqual(Array.from(eps[i - 1]));
    expect(Array.from(eps[0])).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('shuffle, drop_last: n = 103, B = 10 → 10 steps per epoch, 100 distinct indices, 3 dropped', () => {
    const s = new MinibatchSampler(103, 10, 'shuffle', new Rng(2));
    expect(s.stepsPerEpoch).toBe(10);
    const eps = epochs(103, 10, 2, 6);
    const dropped = new Set<number>();
    for (const e of eps) {
      const set = new Set(e);
      expect(set.size).toBe(100);
      for (const i of e) expect(i).toBeLessThan(103);
      for (let i = 0; i < 103; i++) if (!set.has(i)) dropped.add(i);
    }
    console.log(`sampler drop_last: indices dropped over 6 epochs: ${dropped.size} distinct`);
    // A fresh permutation each epoch drops different samples (not always the same 3).
    expect(dropped.size).toBeGreaterThan(3);
  });

  it('is deterministic by seed and independent of how the steps are drawn', () => {
    const a = epochs(103, 10, 5, 3);
    const b = epochs(103, 10, 5, 3, [3, 7, 1, 11]);
    const c = epochs(103, 10, 6, 3);
    expect(a.map((e) => Array.from(e))).toEqual(b.map((e) => Array.from(e)));
    expect(Array.from(a[0])).not.toEqual(Array.from(c[0]));
  });

  it("replacement: B uniform draws per step, in range, with repeats, deterministic by seed", () => {
    const draw = (seed: number): Uint32Array => new MinibatchSampler(50, 10, 'replacement', new Rng(seed)).next(500);
    const a = draw(3);
    expect(Array.from(a)).toEqual(Array.from(draw(3)));
    expect(Array.from(a)).not.toEqual(Array.from(draw(4)));
    const counts = new Array(50).fill(0);
    for (const i of a) counts[i]++;
    expect(Math.min(...counts)).toBeGreaterThan(50); // 5000 draws, 100 expected per index
    expect(Math.max(...counts)).toBeLessThan(150);
    expect(new Set(a.subarray(0, 50)).size).toBeLessThan(50); // repeats within an epoch's worth
  });

  it('rejects a batch larger than the data', () => {
    expect(() => new MinibatchSampler(5, 6, 'shuffle', new Rng(1))).toThrow(/batchSize 6 exceeds the 5 training samples/);
  });
});

