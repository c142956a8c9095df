/**
 * "Increase the batch size instead of decaying the learning rate" (src/experiments/batch-increase/):
 *  - the schedule arithmetic: (a) and (b) have the same lr·N/B in every epoch under the paper's
 *    rule (and g = lr(N/B − 1) lower by exactly (f^k − 1)/(N/B₀ − 1)), the same g to rounding
 *    under the equal-g rule; update counts ⌊N/B⌋ per epoch; bad settings refused by name;
 *  - phase by phase equals one run: the constant schedule trained as phases (each a new Trainer
 *    restored to the previous weights) gives the weights of one uninterrupted Trainer, bit for bit
 *    — the sampler continues across phases;
 *  - a short real run of the CLI: the run folder's curves and update counts, and numpy re-evaluating
 *    every schedule's saved weights on the saved test indices (scripts/check_batch_increase_numpy.py).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from './helpers/gpu.ts';
import { pythonWithNumpy, sgdscope } from './helpers/cli.ts';
import { loadDataset } from '../src/data/index.ts';
import { SEED_MLP } from '../src/nn/config.ts';
import { DEFAULT_TRAIN, type TrainConfig } from '../src/train/config.ts';
import { Trainer } from '../src/train/trainer.ts';
import { buildSchedules, phaseAt, prefixKey, scheduleProblems, validateBatchIncreaseSpec, type BatchIncreaseSpec } from '../src/experiments/batch-increase/schedule.ts';
import { runBatchIncrease } from '../src/experiments/batch-increase/run.ts';

const ROOT = join(import.meta.dirname, '..');
const ctx = useGpu();

const spec = (over: Partial<BatchIncreaseSpec> = {}, train: Partial<TrainConfig> = {}): BatchIncreaseSpec => ({
  model: SEED_MLP,
  train: { ...DEFAULT_TRAIN, epochs: 30, ...train },
  milestones: [10, 20],
  factor: 4,
  batchRule: 'factor',
  baseline: true,
  ...over,
});

describe('batch-increase: the schedule arithmetic', () => {
  it('the default on MNIST-10k (N 8000): lr 0.1 → 0.025 → 0.00625 at B 50 vs B 50 → 200 → 800 at lr 0.1; equal lr·N/B every epoch; 4800 vs 2100 updates', () => {
    const N = 8000;
    const [a, b, c] = buildSchedules(validateBatchIncreaseSpec(spec(), N), N);
    expect([a.name, b.name, c.name]).toEqual(['decay-lr', 'increase-batch', 'constant']);
    expect(a.phases.map((p) => [p.lr, p.batchSize])).toEqual([[0.1, 50], [0.025, 50], [0.00625, 50]]);
    expect(b.phases.map((p) => [p.lr, p.batchSize])).toEqual([[0.1, 50], [0.1, 200], [0.1, 800]]);
    expect(c.phases.map((p) => [p.lr, p.batchSize])).toEqual([[0.1, 50], [0.1, 50], [0.1, 50]]);
    expect([a.updates, b.updates, c.updates]).toEqual([30 * 160, 10 * 160 + 10 * 40 + 10 * 10, 4800]);
    for (let e = 0; e < 30; e++) {
      const pa = phaseAt(a, e);
      const pb = phaseAt(b, e);
      const k = e < 10 ? 0 : e < 20 ? 1 : 2;
      expect([pa.index, pb.index]).toEqual([k, k]);
      expect(pb.gApprox).toBeCloseTo(pa.gApprox, 12);
      // Exactly: g_b/g_a = (N/B₀ − f^k)/(N/B₀ − 1).
      expect(pb.g / pa.g).toBeCloseTo((N / 50 - 4 ** k) / (N / 50 - 1), 12);
      expect(pa.g).toBeCloseTo((0.1 / 4 ** k) * (N / 50 - 1), 12);
    }
    expect(b.phases.every((p) => p.droppedPerEpoch === 0)).toBe(true);
    // The first phase is the same in every schedule (trained once); the second differs.
    expect(new Set([a, b, c].map((s) => prefixKey(s, 0))).size).toBe(1);
    expect(new Set([a, b, c].map((s) => prefixKey(s, 1))).size).toBe(3);
  });

  it('equal-g: B solves lr(N/B − 1) = g_a, so g agrees to the rounding of B; drop-last counted in the updates', () => {
    const N = 8000;
    const [a, b] = buildSchedules(validateBatchIncreaseSpec(spec({ batchRule: 'equal-g', factor: 5 }), N), N);
    expect(b.phases.map((p) => p.batchSize)).toEqual([50, Math.round(N / (1 + 159 / 5)), Math.round(N / (1 + 159 / 25))]);
    for (const [i, pb] of b.phases.entries()) {
      const pa = a.phases[i];
      expect(pb.lr).toBe(0.1);
      // |Δg| ≤ lr·N/B² · ½ (B within ½ of the real root).
      expect(Math.abs(pb.g - pa.g)).toBeLessThanOrEqual((0.5 * pb.lr * N) / (pb.batchSize - 0.5) ** 2);
      expect(pb.stepsPerEpoch).toBe(Math.floor(N / pb.batchSize));
      expect(pb.droppedPerEpoch).toBe(N - pb.stepsPerEpoch * pb.batchSize);
      expect(pb.updates).toBe((pb.endEpoch - pb.startEpoch) * pb.stepsPerEpoch);
    }
    expect(b.updates).toBe(10 * 160 + 10 * Math.floor(N / b.phases[1].batchSize) + 10 * Math.floor(N / b.phases[2].batchSize));
  });

  it('refuses bad settings, naming the field and what is allowed', () => {
    const base = { lr: 0.1, batchSize: 50, epochs: 30, milestones: [10, 20], factor: 4, batchRule: 'factor' as const };
    expect(scheduleProblems(base, 8000)).toEqual({});
    expect(scheduleProblems({ ...base, milestones: [10, 30] }, 8000).milestones).toBe('milestones must be strictly increasing integers in [1, epochs − 1 = 29], got 10,30');
    expect(scheduleProblems({ ...base, milestones: [20, 10] }, 8000).milestones).toMatch(/strictly increasing/);
    expect(scheduleProblems({ ...base, factor: 2.5, milestones: [10, 20] }, 8000).factor).toMatch(/B₀·factor\^2 = 50·2\.5\^2 = 312\.5 is not a whole batch/);
    expect(scheduleProblems({ ...base, factor: 20 }, 8000).factor).toMatch(/after milestone 2 would be 20000, more than the 8000 training samples/);
    expect(scheduleProblems({ ...base, batchSize: 8000 }, 8000).batch).toMatch(/batch B₀ must be an integer in \[1, 7999\]/);
    expect(scheduleProblems({ ...base, factor: 1 }, 8000).factor).toBe('factor must be a number in (1, 1000], got 1');
    expect(() => validateBatchIncreaseSpec(spec({}, { momentum: 0.9 }), 8000)).toThrow(/train\.momentum must be 0 here, got 0\.9/);
    expect(() => validateBatchIncreaseSpec(spec({}, { steps: 100 }), 8000)).toThrow(/stops after train\.epochs only/);
  });
});

describe('batch-increase: phases on the GPU', () => {
  it('the constant schedule trained as restored phases equals one uninterrupted run, bit for bit', async () => {
    const loaded = await loadDataset({ kind: 'mnist10k', trainSize: 400, testSize: 200 });
    const data = { train: loaded.train, test: loaded.test };
    const train: TrainConfig = { ...DEFAULT_TRAIN, lr: 0.1, batchSize: 20, epochs: 3, seed: 4, chunkSteps: 7 };
    const r = await runBatchIncrease(ctx(), { ...spec({ milestones: [1, 2], factor: 2 }, train) }, data);
    const [a, b, c] = r.runs;
    expect([a.updates, b.updates, c.updates]).toEqual([60, 20 + 10 + 5, 60]);
    expect(b.shared).toEqual([0]);
    expect(c.shared).toEqual([0]);
    expect(a.evals.map((e) => [e.epoch, e.update])).toEqual([[0, 0], [1, 20], [2, 40], [3, 60]]);
    expect(b.evals.map((e) => [e.epoch, e.update, e.batchSize])).toEqual([[0, 0, 20], [1, 20, 20], [2, 30, 40], [3, 35, 80]]);
    expect(b.evals[1]).toEqual(a.evals[1]);

    const t = await Trainer.create(ctx(), SEED_MLP, train, data);
    await t.run();
    const whole = await t.mlp.readParams();
    let diff = 0;
    for (let i = 0; i < whole.length; i++) diff = Math.max(diff, Math.abs(whole[i] - c.params[i]));
    console.log(`constant schedule in 3 phases vs one run: max |Δw| ${diff}; test ${a.evals[3].test!.accuracy} (a), ${b.evals[3].test!.accuracy} (b), ${c.evals[3].test!.accuracy} (c)`);
    expect(diff).toBe(0);
    expect(c.loss).toEqual(t.history.loss);
    expect(c.evals.slice(1).map((e) => e.test!.accuracy)).toEqual(t.history.evals.map((e) => e.test!.accuracy));
  });
});

describe('sgdscope reproduce batch-increase', () => {
  it('a short run writes the run folder; numpy re-evaluates every schedule\'s weights', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sgdscope-bi-')), 'run');
    const r = sgdscope(['reproduce', 'batch-increase', '--train-size', '500', '--test-size', '300', '--batch', '25', '--epochs', '3', '--milestones', '1,2', '--factor', '2', '--seed', '2', '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    console.log(r.stdout.trim());
    expect(r.stdout).toMatch(/\(b\) increase B, fixed lr: completed 35 updates \(3 epochs\)/);
    expect(r.stdout).toMatch(/\(a\) needs 1\.71× the updates of \(b\)/);
    const files = readdirSync(out);
    for (const f of ['config.json', 'result.json', 'schedule.csv', 'evals.csv', 'metrics_decay-lr.csv', 'metrics_increase-batch.csv', 'metrics_constant.csv', 'weights_increase-batch_layer1.npy', 'train_indices.npy', 'test_indices.npy', 'charts.json', 'report.html']) expect(files).toContain(f);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result.schedules['increase-batch'].updates).toBe(35);
    expect(result.schedules['decay-lr'].updates).toBe(60);
    const charts = JSON.parse(readFileSync(join(out, 'charts.json'), 'utf8')) as { id: string; x: number[] }[];
    expect(charts.map((c) => c.id)).toEqual(['test-vs-epoch', 'test-vs-updates', 'train-loss-vs-epoch', 'noise-scale']);
    expect(charts[1].x).toEqual([20, 30, 35, 40, 60]);
    const check = spawnSync(pythonWithNumpy(), [join(ROOT, 'scripts/check_batch_increase_numpy.py'), out], { encoding: 'utf8' });
    console.log(check.stdout.trim());
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/agree/);
  }, 300_000);

  it('refuses a schedule that does not fit, before any training', () => {
    const r = sgdscope(['reproduce', 'batch-increase', '--epochs', '6', '--milestones', '2,6']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/milestones must be strictly increasing integers in \[1, epochs − 1 = 5\], got 2,6/);
    const f = sgdscope(['reproduce', 'batch-increase', '--factor', '20']);
    expect(f.status).toBe(2);
    expect(f.stderr).toMatch(/the batch after milestone 2 would be 20000, more than the 8000 training samples/);
  }, 60_000);
});
