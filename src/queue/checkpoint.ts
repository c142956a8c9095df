/**
 * The worker's training control (src/experiments/train-control.ts): checkpoints in the store, so a
 * job taken over from a dead worker resumes where that worker's last checkpoint left it instead of
 * starting again; progress reports; and a stop on shutdown (SIGTERM) that saves a checkpoint first.
 *
 * A checkpoint holds the trainer's complete state after step s (src/train/trainer-state.ts:
 * weights, momentum velocity, the sampler's permutation, position and generator, the per-step
 * history and evaluations), the training seconds so far and, once a trainer has finished, its
 * final result (so a unit that died in a later stage — a second training phase, the sharpness —
 * does not train the first again). Dropout masks are keyed by step, so a resumed run continues
 * bit for bit, with or without momentum.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { decodeExactJson, encodeExactJson } from '../util/exact-json.ts';
import type { RunResult, Trainer } from '../train/trainer.ts';
import type { TrainerState } from '../train/trainer-state.ts';
import { runUntil, SegmentClock, type TrainControl, type TrainRequest } from '../experiments/train-control.ts';
import { writeFileAtomic } from './store.ts';

interface Checkpoint {
  kind: 'sgdscope-queue-checkpoint';
  version: 2;
  key: string;
  seconds: number;
  state: TrainerState;
  final: RunResult | null;
}

export interface CheckpointPolicy {
  /** Checkpoint after this many seconds of training (null: never by time). */
  seconds: number | null;
  /** ...or after this many steps (null: never by steps). */
  steps: number | null;
}

export interface Progress {
  key: string;
  step: number;
  totalSteps: number | null;
  loss: number;
}

export class ShutdownError extends Error {
  constructor(step: number) {
    super(`stopped for shutdown at step ${step} (checkpoint saved)`);
  }
}

export interface QueueTrainingOptions {
  /** Where a trainer key's checkpoint lives. */
  path(key: string): string;
  policy: CheckpointPolicy;
  onProgress?(p: Progress): void;
  /** True once the worker is shutting down. */
  stopping(): boolean;
}

/** The control a worker passes to a unit; resumedFrom says where each key restarted. */
export class QueueTraining implements TrainControl {
  private readonly clock = new SegmentClock();
  private readonly started = new Set<string>();
  readonly resumedFrom = new Map<string, number>();

  constructor(private readonly o: QueueTrainingOptions) {}

  private load(key: string): Checkpoint | null {
    const path = this.o.path(key);
    if (!existsSync(path)) return null;
    try {
      const c = decodeExactJson<Checkpoint>(readFileSync(path, 'utf8'));
      if (c.kind !== 'sgdscope-queue-checkpoint' || c.version !== 2 || c.key !== key || !c.state) throw new Error('not a checkpoint of this run (or of an older sgdscope)');
      return c;
    } catch (e) {
      // A checkpoint that cannot be read is dropped: the run restarts rather than failing.
      process.stderr.write(`sgdscope worker: ignoring checkpoint ${path}: ${(e as Error).message}\n`);
      rmSync(path, { force: true });
      return null;
    }
  }

  private async save(trainer: Trainer, key: string, seconds: number, final: RunResult | null): Promise<void> {
    const c: Checkpoint = { kind: 'sgdscope-queue-checkpoint', version: 2, key, seconds, state: await trainer.captureState(), final };
    writeFileAtomic(this.o.path(key), encodeExactJson(c));
  }

  async train(trainer: Trainer, r: TrainRequest): Promise<RunResult> {
    const { key } = r;
    let before = 0;
    if (!this.started.has(key)) {
      this.started.add(key);
      const c = this.load(key);
      if (c) {
        trainer.restoreState(c.state);
        this.resumedFrom.set(key, c.state.step);
        if (c.final) return this.clock.add(key, { ...c.final, seconds: 0 }, c.seconds);
        before = c.seconds;
      }
    }
    const until = r.until ?? null;
    for (;;) {
      const t0 = performance.now();
      const byTime = this.o.policy.seconds;
      const byStep = this.o.policy.steps !== null ? trainer.step + this.o.policy.steps : null;
      const due = (): boolean => this.o.stopping() || (byTime !== null && performance.now() - t0 > byTime * 1000) || (byStep !== null && trainer.step >= byStep);
      const seg = await runUntil(trainer, until, {
        shouldStop: due,
        onChunk: (p) => this.o.onProgress?.({ key, step: p.step, totalSteps: p.totalSteps, loss: p.losses[p.losses.length - 1] }),
      });
      const result = this.clock.add(key, seg, before);
      before = 0;
      const segmentEnd = seg.status === 'stopped' && !(until !== null && trainer.step >= until);
      if (!segmentEnd) {
        // The trainer's own end (or the caller's `until`): remember it so a restart does not redo it.
        if (seg.status !== 'diverged') await this.save(trainer, key, result.seconds, seg.status === 'stopped' ? null : result);
        return result;
      }
      await this.save(trainer, key, result.seconds, null);
      if (this.o.stopping()) throw new ShutdownError(trainer.step);
    }
  }
}
