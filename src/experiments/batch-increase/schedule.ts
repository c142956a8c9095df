/**
 * The schedules of "Don't decay the learning rate, increase the batch size" (Smith, Kindermans,
 * Ying & Le, ICLR 2018), as pure arithmetic: which (lr, B) each schedule trains with in which
 * epochs, its SGD noise scale g = ε(N/B − 1) (Smith & Le; ../shared/science.md §4, §11) and how
 * many parameter updates it makes.
 *
 *   decay-lr        (a) B fixed at B₀, ε divided by f at each milestone:  ε_k = ε₀/f^k
 *   increase-batch  (b) ε fixed at ε₀, B multiplied instead:              B_k = B₀·f^k ('factor', the paper's rule)
 *                       or B_k = round(N / (1 + (N/B₀ − 1)/f^k))          ('equal-g': g_b = g_a to rounding)
 *   constant        (c) ε₀ and B₀ throughout (the baseline), with the same phase boundaries
 *
 * With g ≈ εN/B (B ≪ N) the 'factor' rule gives (a) and (b) the same g in every epoch; exactly,
 * g_b/g_a = (N/B_k − 1)/((N/B₀ − 1)/f^k) = (N/B₀ − f^k)/(N/B₀ − 1), a few per cent below 1 while
 * B_k ≪ N. The 'equal-g' rule solves ε₀(N/B − 1) = g_a for B instead and rounds it to a whole batch.
 *
 * An epoch is one pass of a fresh permutation cut into ⌊N/B⌋ batches (drop-last, as the trainer),
 * so phase k makes (end − start)·⌊N/B_k⌋ updates; (b) makes fewer because its batches are bigger.
 * Momentum must be 0: each phase is a new Trainer and momentum has state (and would divide g by 1 − m).
 */
import type { MlpConfig } from '../../nn/config.ts';
import { validateTrainConfig, type TrainConfig } from '../../train/config.ts';
import { noiseScale } from '../sweep/grid.ts';

export type ScheduleName = 'decay-lr' | 'increase-batch' | 'constant';
export const SCHEDULE_NAMES: ScheduleName[] = ['decay-lr', 'increase-batch', 'constant'];
export type BatchRule = 'factor' | 'equal-g';

export const SCHEDULE_LABELS: Record<ScheduleName, string> = {
  'decay-lr': '(a) decay lr, fixed B',
  'increase-batch': '(b) increase B, fixed lr',
  constant: '(c) constant lr and B',
};

export interface BatchIncreaseSpec {
  model: MlpConfig;
  /** lr = ε₀ and batchSize = B₀ (the first phase of every schedule), epochs = the whole run; seed,
   * sampling, chunkSteps, weightDecay, dropout, divergenceLoss are shared by every phase. */
  train: TrainConfig;
  /** Epochs (strictly increasing, in [1, epochs − 1]) at which lr is divided / B multiplied. */
  milestones: number[];
  /** f > 1. */
  factor: number;
  batchRule: BatchRule;
  /** Also train (c), the constant schedule. */
  baseline: boolean;
}

export interface Phase {
  /** 0-based; phase k follows k milestones. */
  index: number;
  startEpoch: number;
  endEpoch: number;
  lr: number;
  batchSize: number;
  stepsPerEpoch: number;
  /** Parameter updates in this phase: (endEpoch − startEpoch)·stepsPerEpoch. */
  updates: number;
  /** Updates of the earlier phases. */
  updatesBefore: number;
  /** g = lr·(N/B − 1) (momentum 0). */
  g: number;
  /** The small-batch form lr·N/B. */
  gApprox: number;
  /** Training samples left out of every epoch by drop-last: N − stepsPerEpoch·B. */
  droppedPerEpoch: number;
}

export interface Schedule {
  name: ScheduleName;
  label: string;
  phases: Phase[];
  /** Parameter updates of the whole run. */
  updates: number;
}

export const DEFAULT_BATCH_INCREASE = { epochs: 30, milestones: [10, 20], factor: 4, batchRule: 'factor' as BatchRule, baseline: true };

/** The batch of increase-batch's phase k (k multiplications by f). */
export function increasedBatch(b0: number, factor: number, k: number, n: number, rule: BatchRule): number {
  if (rule === 'factor') return b0 * factor ** k;
  return Math.round(n / (1 + (n / b0 - 1) / factor ** k));
}

/** Every problem of a spec for a training set of n samples, by field (empty when valid). */
export function scheduleProblems(s: Pick<BatchIncreaseSpec, 'milestones' | 'factor' | 'batchRule'> & { lr: number; batchSize: number; epochs: number }, n: number): Record<string, string> {
  const p: Record<string, string> = {};
  const m = s.milestones;
  if (!(Number.isFinite(s.factor) && s.factor > 1 && s.factor <= 1000)) p.factor = `factor must be a number in (1, 1000], got ${s.factor}`;
  if (!(Number.isInteger(s.epochs) && s.epochs >= 2)) p.epochs = `epochs must be an integer ≥ 2 (a milestone needs an epoch on each side), got ${s.epochs}`;
  if (m.length === 0) p.milestones = 'milestones: give at least one epoch at which the schedule changes';
  const bad = m.find((e, i) => !Number.isInteger(e) || e < 1 || e >= s.epochs || (i > 0 && e <= m[i - 1]));
  if (bad !== undefined) p.milestones = `milestones must be strictly increasing integers in [1, epochs − 1 = ${s.epochs - 1}], got ${m.join(',')}`;
  if (!(Number.isInteger(s.batchSize) && s.batchSize >= 1 && s.batchSize < n)) p.batch = `batch B₀ must be an integer in [1, ${n - 1}] (below the ${n} training samples, so that g = lr·(N/B − 1) > 0), got ${s.batchSize}`;
  if (p.factor || p.batch || p.milestones || p.epochs) return p;
  for (let k = 1; k <= m.length; k++) {
    const b = increasedBatch(s.batchSize, s.factor, k, n, s.batchRule);
    if (s.batchRule === 'factor' && !Number.isInteger(b)) {
      p.factor = `factor: B₀·factor^${k} = ${s.batchSize}·${s.factor}^${k} = ${b} is not a whole batch; choose B₀ and factor so that every B₀·factor^k is an integer (or the equal-g rule, which rounds)`;
      break;
    }
    if (b > n) {
      p.factor = `factor: the batch after milestone ${k} would be ${b}, more than the ${n} training samples; use a smaller factor, fewer milestones or a smaller B₀`;
      break;
    }
  }
  return p;
}

/** Throws the first problem; returns the spec with its train settings checked. */
export function validateBatchIncreaseSpec(s: BatchIncreaseSpec, n: number): BatchIncreaseSpec {
  const train = validateTrainConfig(s.train, n);
  if (train.momentum !== 0) throw new Error(`train.momentum must be 0 here, got ${train.momentum}: every phase starts a new trainer (a velocity would restart) and momentum divides g by 1 − m`);
  if (train.epochs === null || train.steps !== null || train.targetTrainLoss !== null || train.targetTrainAccuracy !== null) {
    throw new Error('train: this experiment stops after train.epochs only (no steps or target stop rules): every schedule must cover the same epochs');
  }
  if (train.evalEvery !== 0) throw new Error(`train.evalEvery must be 0 here (one evaluation per epoch, the curves' x), got ${train.evalEvery}`);
  if (s.batchRule !== 'factor' && s.batchRule !== 'equal-g') throw new Error(`batchRule must be 'factor' or 'equal-g', got ${JSON.stringify(s.batchRule)}`);
  const problems = Object.values(scheduleProblems({ ...s, lr: train.lr, batchSize: train.batchSize, epochs: train.epochs }, n));
  if (problems.length) throw new Error(problems.join('; '));
  return { ...s, train };
}

function phasesOf(s: BatchIncreaseSpec, n: number, at: (k: number) => { lr: number; batchSize: number }): Phase[] {
  const bounds = [0, ...s.milestones, s.train.epochs!];
  const phases: Phase[] = [];
  let before = 0;
  for (let k = 0; k + 1 < bounds.length; k++) {
    const { lr, batchSize } = at(k);
    const stepsPerEpoch = Math.floor(n / batchSize);
    const updates = (bounds[k + 1] - bounds[k]) * stepsPerEpoch;
    phases.push({
      index: k, startEpoch: bounds[k], endEpoch: bounds[k + 1], lr, batchSize, stepsPerEpoch, updates, updatesBefore: before,
      g: noiseScale(lr, n, batchSize), gApprox: (lr * n) / batchSize, droppedPerEpoch: n - stepsPerEpoch * batchSize,
    });
    before += updates;
  }
  return phases;
}

/** The schedules a spec trains ((a), (b) and, with baseline, (c)) on n training samples. */
export function buildSchedules(s: BatchIncreaseSpec, n: number): Schedule[] {
  const { lr, batchSize } = s.train;
  const f = s.factor;
  const rules: Record<ScheduleName, (k: number) => { lr: number; batchSize: number }> = {
    'decay-lr': (k) => ({ lr: lr / f ** k, batchSize }),
    'increase-batch': (k) => ({ lr, batchSize: increasedBatch(batchSize, f, k, n, s.batchRule) }),
    constant: () => ({ lr, batchSize }),
  };
  return SCHEDULE_NAMES.filter((name) => name !== 'constant' || s.baseline).map((name) => {
    const phases = phasesOf(s, n, rules[name]);
    return { name, label: SCHEDULE_LABELS[name], phases, updates: phases.reduce((a, p) => a + p.updates, 0) };
  });
}

/** The phase that trains epoch e + 1 (e = 0 … epochs − 1, the epoch's start). */
export function phaseAt(schedule: Schedule, epochStart: number): Phase {
  return schedule.phases.find((p) => epochStart >= p.startEpoch && epochStart < p.endEpoch) ?? schedule.phases[schedule.phases.length - 1];
}

/** A key for a schedule's first k + 1 phases: schedules with the same key train identically up to there. */
export function prefixKey(schedule: Schedule, k: number): string {
  return schedule.phases
    .slice(0, k + 1)
    .map((p) => `${p.startEpoch}-${p.endEpoch}:${p.lr}/${p.batchSize}`)
    .join('|');
}
