/**
 * How an experiment's unit of work (one sweep point, one AWD run, one trainability cell) drives
 * its Trainer: in process it simply runs it; a queue worker (src/queue/) resumes it from the run's
 * last checkpoint, saves new ones while it trains, reports progress and stops it on shutdown. The
 * unit code is the same either way: it asks the control to train, possibly up to a step (ASHA's
 * rungs), and gets back the run's result with the time summed over every segment and restart.
 */
import type { RunResult, Trainer, TrainHooks } from '../train/trainer.ts';
import { summarizeRun } from '../train/ensemble.ts';

export interface TrainRequest {
  /** Names the trainer within the unit (e.g. 'train', 'phase 2'): checkpoints are kept per key. */
  key: string;
  /** Stop once this many steps are done (must be a chunk boundary, e.g. an evaluation step); null: to the end. */
  until?: number | null;
}

export interface TrainControl {
  /**
   * Trains `trainer` until its stop rules fire or `until`; may be called again to continue. The
   * result's seconds cover every segment of this key (and, for a resumed run, the time before).
   */
  train(trainer: Trainer, request: TrainRequest): Promise<RunResult>;
}

/**
 * Runs a trainer until `until` steps are done (or its own end): encoding stops as soon as a
 * chunk ending at or past `until` is encoded, so with `until` on a chunk boundary the trainer
 * halts exactly there ('stopped'). A trainer already at `until` returns at once.
 */
export async function runUntil(trainer: Trainer, until: number | null, hooks: TrainHooks = {}): Promise<RunResult> {
  if (until !== null && trainer.step >= until) {
    return { status: 'stopped', message: `stopped at step ${trainer.step}`, steps: trainer.step, seconds: 0, stepsPerSecond: 0, replicas: trainer.outcomes.map((o) => ({ ...o })) };
  }
  let encoded = trainer.step;
  // Counted per chunk, not per step: a per-step hook would put the trainer on its open step.
  return trainer.run({
    ...hooks,
    onChunkEncoded: (batch, chunk) => {
      encoded = chunk.firstStep + chunk.steps;
      hooks.onChunkEncoded?.(batch, chunk);
    },
    shouldStop: () => (until !== null && encoded >= until) || (hooks.shouldStop?.() ?? false),
  });
}

/** Sums a key's segments into one result (status and message of the last one). */
export class SegmentClock {
  private seconds = new Map<string, number>();

  /** Adds `r` to the time already spent on `key` (plus `before`, e.g. from a checkpoint) and returns the cumulative result. */
  add(key: string, r: RunResult, before = 0): RunResult {
    const total = (this.seconds.get(key) ?? before) + r.seconds;
    this.seconds.set(key, total);
    return { ...r, seconds: total, stepsPerSecond: r.steps / Math.max(total, 1e-9) };
  }
}

/** Thrown by a control whose stop was requested (a signal): the unit's result is not to be recorded. */
export class StopRequested extends Error {
  constructor(step: number) {
    super(`stopped on request at step ${step}`);
  }
}

/** The in-process control: no checkpoints, no progress reports; `stop` (polled between chunks) ends a unit with StopRequested. */
export function localTraining(stop?: () => boolean): TrainControl {
  const clock = new SegmentClock();
  return {
    train: async (t, r) => {
      const result = await runUntil(t, r.until ?? null, stop ? { shouldStop: stop } : {});
      if (stop?.() && result.status === 'stopped') throw new StopRequested(result.steps);
      return clock.add(r.key, result);
    },
  };
}

/** Replica r's result as its run alone reports it (status, message and steps from its outcome; the ensemble's timings). */
export function replicaResult(trainer: Trainer, all: RunResult, r: number): RunResult {
  const o = trainer.outcomes[r];
  const { status, message } = summarizeRun([o], all.status === 'stopped', o.step, trainer.epochOf(o.step));
  return { status, message, steps: o.step, seconds: all.seconds, stepsPerSecond: all.stepsPerSecond };
}
