/**
 * `sgdscope reproduce batch-increase`: trains the schedules of schedule.ts — (a) lr decayed at
 * fixed B, (b) B increased at fixed lr with the same noise-scale schedule g, (c) optionally both
 * constant — and records test accuracy against epochs and against parameter updates.
 *
 * Phase by phase, at the experiment level (the trainer's inner loop is untouched): each phase is a
 * Trainer created with that phase's (lr, B) and `restore`d to the previous phase's weights at the
 * step where the phase starts in its own units (startEpoch·⌊N/B⌋). Momentum is 0, so the weights
 * are the whole optimiser state. restore also advances the minibatch sampler past the earlier
 * epochs, and the shuffle sampler draws exactly one permutation of the seed's stream per epoch
 * whatever B is: epoch e of every schedule sees the same e-th permutation, cut into batches of its
 * phase's B (drop-last). So the schedules differ only in lr and in how each epoch's samples are
 * grouped, and they start from the same initial weights (the seed's).
 *
 * Schedules that agree up to a phase (all of them in their first phase) train it once: the
 * outcome of a phase is cached by the schedule's prefix (schedule.ts: prefixKey) and reused.
 */
import type { GpuContext } from '../../gpu/device.ts';
import type { Dataset } from '../../data/index.ts';
import { Trainer, type ChunkProgress, type EvalRecord, type RunStatus } from '../../train/trainer.ts';
import type { EvalResult } from '../../train/evaluate.ts';
import { buildSchedules, prefixKey, validateBatchIncreaseSpec, type BatchIncreaseSpec, type Phase, type Schedule, type ScheduleName } from './schedule.ts';

/** The full train/test evaluation after an epoch (epoch 0: the initial weights). */
export interface EpochPoint {
  epoch: number;
  /** Parameter updates made up to this point. */
  update: number;
  /** The phase that trained this epoch (0 for epoch 0). */
  phase: number;
  lr: number;
  batchSize: number;
  g: number;
  train: EvalResult;
  test: EvalResult | null;
}

export interface PhaseOutcome {
  phase: Phase;
  status: RunStatus;
  message: string;
  /** Minibatch loss and accuracy of every update of the phase. */
  loss: number[];
  accuracy: number[];
  /** Evaluations after each epoch of the phase (phase 0: epoch 0 first). */
  evals: EpochPoint[];
  /** The weights after the phase (after a divergence: the last known good). */
  params: Float32Array;
  /** Training time (the trainer's run) and wall time including kernel set-up and data upload. */
  seconds: number;
  wallSeconds: number;
}

export interface ScheduleRun {
  schedule: Schedule;
  status: RunStatus;
  message: string;
  phases: PhaseOutcome[];
  /** Indices of the phases taken from an earlier schedule with the same prefix (not trained again). */
  shared: number[];
  evals: EpochPoint[];
  loss: number[];
  accuracy: number[];
  params: Float32Array;
  /** Updates made (the schedule's total unless it diverged). */
  updates: number;
  /** Training time of all its phases (shared ones included: what the schedule costs alone). */
  seconds: number;
}

export interface BatchIncreaseResult {
  spec: BatchIncreaseSpec;
  trainSize: number;
  testSize: number;
  runs: ScheduleRun[];
  /** Wall time of the whole experiment (shared phases counted once). */
  seconds: number;
}

export interface BatchIncreaseHooks {
  onPhaseStart?(s: Schedule, p: Phase, shared: boolean): void;
  onChunk?(s: Schedule, p: Phase, c: ChunkProgress): void;
  onPhaseEnd?(s: Schedule, o: PhaseOutcome, shared: boolean): void;
}

function epochPoint(e: EvalRecord, phase: Phase, startStep: number): EpochPoint {
  return {
    epoch: e.epoch, update: phase.updatesBefore + (e.step - startStep), phase: phase.index,
    lr: phase.lr, batchSize: phase.batchSize, g: phase.g, train: e.train, test: e.test,
  };
}

async function trainPhase(ctx: GpuContext, s: BatchIncreaseSpec, sch: Schedule, phase: Phase, params: Float32Array | null, data: { train: Dataset; test: Dataset | null }, hooks: BatchIncreaseHooks): Promise<PhaseOutcome> {
  const w0 = performance.now();
  const t = await Trainer.create(ctx, s.model, { ...s.train, lr: phase.lr, batchSize: phase.batchSize, epochs: phase.endEpoch }, data);
  try {
    if (t.stepsPerEpoch !== phase.stepsPerEpoch) throw new Error(`batch-increase: the trainer makes ${t.stepsPerEpoch} steps per epoch at B ${phase.batchSize}, the schedule expected ${phase.stepsPerEpoch}`);
    const start = phase.startEpoch * t.stepsPerEpoch;
    if (params) t.restore(params, start);
    const evals: EpochPoint[] = phase.index === 0 ? [epochPoint(await t.evaluate(), phase, 0)] : [];
    const r = await t.run({ onChunk: (c) => hooks.onChunk?.(sch, phase, c) });
    const diverged = r.status === 'diverged';
    const after = (diverged ? (await t.lastGoodParams())?.params : null) ?? (await t.mlp.readParams());
    evals.push(...t.history.evals.map((e) => epochPoint(e, phase, start)));
    return {
      phase, status: r.status, message: r.message, loss: t.history.loss.slice(), accuracy: t.history.accuracy.slice(), evals, params: after,
      seconds: r.seconds, wallSeconds: (performance.now() - w0) / 1000,
    };
  } finally {
    // The per-phase dataset copies are the big buffers; the rest goes with the trainer object.
    for (const d of [t.trainData, t.testData]) {
      d?.x.destroy();
      d?.y.destroy();
    }
  }
}

function assemble(schedule: Schedule, phases: PhaseOutcome[], shared: number[]): ScheduleRun {
  const last = phases[phases.length - 1];
  const diverged = last.status === 'diverged';
  const loss = phases.flatMap((o) => o.loss);
  return {
    schedule,
    status: diverged ? 'diverged' : 'completed',
    message: diverged ? `phase ${last.phase.index + 1} (lr ${last.phase.lr}, B ${last.phase.batchSize}): ${last.message}` : `completed ${schedule.updates} updates (${schedule.phases[schedule.phases.length - 1].endEpoch} epochs)`,
    phases,
    shared,
    evals: phases.flatMap((o) => o.evals),
    loss,
    accuracy: phases.flatMap((o) => o.accuracy),
    params: last.params,
    updates: loss.length,
    seconds: phases.reduce((a, o) => a + o.seconds, 0),
  };
}

export async function runBatchIncrease(ctx: GpuContext, spec: BatchIncreaseSpec, data: { train: Dataset; test: Dataset | null }, hooks: BatchIncreaseHooks = {}): Promise<BatchIncreaseResult> {
  const t0 = performance.now();
  const s = validateBatchIncreaseSpec(spec, data.train.n);
  const cache = new Map<string, PhaseOutcome>();
  const runs: ScheduleRun[] = [];
  for (const sch of buildSchedules(s, data.train.n)) {
    const outcomes: PhaseOutcome[] = [];
    const shared: number[] = [];
    let params: Float32Array | null = null;
    for (const phase of sch.phases) {
      const key = prefixKey(sch, phase.index);
      let o = cache.get(key);
      hooks.onPhaseStart?.(sch, phase, o !== undefined);
      if (o) shared.push(phase.index);
      else {
        o = await trainPhase(ctx, s, sch, phase, params, data, hooks);
        cache.set(key, o);
      }
      hooks.onPhaseEnd?.(sch, o, shared.includes(phase.index));
      outcomes.push(o);
      params = o.params;
      if (o.status === 'diverged') break;
    }
    runs.push(assemble(sch, outcomes, shared));
  }
  return { spec: s, trainSize: data.train.n, testSize: data.test?.n ?? 0, runs, seconds: (performance.now() - t0) / 1000 };
}

export interface ScheduleComparison {
  /** Final test accuracy and updates per schedule. */
  finalTest: Partial<Record<ScheduleName, number | null>>;
  updates: Partial<Record<ScheduleName, number>>;
  /** (a) vs (b) over the epochs both evaluated (epoch 0 excluded): max and mean |Δ test accuracy|. */
  maxGap: number | null;
  meanGap: number | null;
  /** Updates of (a) over updates of (b). */
  updateRatio: number | null;
}

export function compareSchedules(r: BatchIncreaseResult): ScheduleComparison {
  const by = new Map(r.runs.map((x) => [x.schedule.name, x]));
  const finalTest: ScheduleComparison['finalTest'] = {};
  const updates: ScheduleComparison['updates'] = {};
  for (const x of r.runs) {
    finalTest[x.schedule.name] = x.status === 'completed' ? (x.evals.at(-1)?.test?.accuracy ?? null) : null;
    updates[x.schedule.name] = x.updates;
  }
  const a = by.get('decay-lr');
  const b = by.get('increase-batch');
  const gaps: number[] = [];
  if (a && b) {
    const bTest = new Map(b.evals.map((e) => [e.epoch, e.test?.accuracy]));
    for (const e of a.evals) {
      const other = bTest.get(e.epoch);
      if (e.epoch > 0 && e.test && other !== undefined) gaps.push(Math.abs(e.test.accuracy - other));
    }
  }
  return {
    finalTest,
    updates,
    maxGap: gaps.length ? Math.max(...gaps) : null,
    meanGap: gaps.length ? gaps.reduce((x, y) => x + y, 0) / gaps.length : null,
    updateRatio: a && b && b.updates > 0 ? a.updates / b.updates : null,
  };
}
