/**
 * The worker's training control (src/experiments/train-control.ts): checkpoints in the store, so a
 * job taken over from a dead worker resumes where that worker's last checkpoint left it instead of
 * starting again; progress reports; and a stop on shutdown (SIGTERM) that saves a checkpoint first.
 *
 * A checkpoint holds the weights after step s, the per-step history and evaluations up to s, the
 * training seconds so far and, once a trainer has finished, its final result (so a unit that died
 * in a later stage — a second training phase, the sharpness — does not train the first again).
 * Trainer.restore() fast-forwards the minibatch sampler to step s; dropout masks are keyed by
 * step, so a resumed run without momentum continues bit for bit. (Momentum's velocity is not in
 * it and restarts from zero: the reliability issue's trainer state will carry it.)
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { decodeExactJson, encodeExactJson } from '../util/exact-json.ts';
import { History, type EvalRecord, type RunResult, type Trainer } from '../train/trainer.ts';
import { runUntil, SegmentClock, type TrainControl, type TrainRequest } from '../experiments/train-control.ts';
import { writeFileAtomic } from './store.ts';

interface Checkpoint {
  kind: 'sgdscope-queue-checkpoint';
  key: string;
  step: number;
  seconds: number;
  params: Float32Array;
  loss: Float32Array;
  accuracy: Float32Array;
  evals: EvalRecord[];
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
      if (c.kind !== 'sgdscope-queue-checkpoint' || c.key !== key) throw new Error('not a checkpoint of this run');
      return c;
    } catch (e) {
      // A checkpoint that cannot be read is dropped: the run restarts rather than failing.
      process.stderr.write(`sgdscope worker: ignoring checkpoint ${path}: ${(e as Error).message}\n`);
      rmSync(path, { force: true });
      return null;
    }
  }

  private async save(trainer: Trainer, key: string, seconds: number, final: RunResult | null): Promise<void> {
    const h = trainer.history;
    const c: Checkpoint = {
      kind: 'sgdscope-queue-checkpoint', key, step: trainer.step, seconds,
      params: await trainer.mlp.readParams(), loss: Float32Array.from(h.loss), accuracy: Float32Array.from(h.accuracy), evals: h.evals, final,
    };
    writeFileAtomic(this.o.path(key), encodeExactJson(c));
  }

  async train(trainer: Trainer, r: TrainRequest): Promise<RunResult> {
    const { key } = r;
    let before = 0;
    if (!this.started.has(key)) {
      this.started.add(key);
      const c = this.load(key);
      if (c) {
        const history = new History();
        history.loss = Array.from(c.loss);
        history.accuracy = Array.from(c.accuracy);
        history.evals = c.evals;
        trainer.restore(c.params, c.step, history);
        this.resumedFrom.set(key, c.step);
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
