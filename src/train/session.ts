/**
 * A training run that loses nothing: checkpoints of its complete state (trainer-state.ts plus
 * whatever a part adds, e.g. a Feng–Tu window) on a save policy and at every stop, metrics.csv
 * streamed to disk, a stop request honoured at the next chunk boundary, and a lost GPU device
 * replaced by a new one that continues from the last checkpoint. The CLI's long commands and the
 * queue worker drive their trainers through it; how the checkpoint and metrics reach the disk is
 * the sink's business (a RunDir in the CLI).
 */
import type { GpuContext } from '../gpu/device.ts';
import { withDeviceRecovery } from '../gpu/device-recovery.ts';
import type { CheckpointArray, CheckpointContents } from '../util/checkpoint-file.ts';
import { MetricsCsvStream } from './metrics-stream.ts';
import { SaveClock, type SavePolicy } from './save-policy.ts';
import { packTrainer, trainerStep, unpackTrainer } from './trainer-state.ts';
import type { ChunkProgress, RunResult, TrainHooks, Trainer } from './trainer.ts';

/** What a command adds to a trainer: its hooks and its share of the checkpoint. */
export interface SessionPart {
  onStepEncoded?: TrainHooks['onStepEncoded'];
  /** Wraps the session's hooks with the part's own (e.g. live instruments); the snapshot hooks stay the session's. */
  hooks?(base: TrainHooks): TrainHooks;
  /** Adds the part's state to a checkpoint being written (no chunk is in flight). */
  pack?(into: { meta: Record<string, unknown>; arrays: Record<string, CheckpointArray> }): Promise<void>;
}

export interface SessionSink {
  saveCheckpoint(c: CheckpointContents): void;
  /** A fresh (truncated) metrics.csv, or null for none. */
  openMetrics(): { append(text: string): void; sync(): void } | null;
}

export interface TrainSessionOptions {
  /** Checkpoint kind ('train', 'feng-tu', …) and the fields stored in every checkpoint (settings). */
  kind: string;
  meta: Record<string, unknown>;
  /** The checkpoint to continue from, or null for a fresh run. */
  resume: CheckpointContents | null;
  /** Builds the trainer (and part) on a device; the session restores the trainer's state after. */
  build(ctx: GpuContext, from: CheckpointContents | null): Promise<{ trainer: Trainer; part?: SessionPart }>;
  acquire(): Promise<GpuContext>;
  policy: SavePolicy;
  stopRequested(): boolean;
  /** Also write a checkpoint when the run completes (for commands with work after training). */
  checkpointAtEnd?: boolean;
  sink: SessionSink;
  log(message: string): void;
  onChunk?(p: ChunkProgress, trainer: Trainer): void;
}

export type SessionOutcome =
  | { kind: 'ended'; result: RunResult; trainer: Trainer; ctx: GpuContext; last: CheckpointContents | null }
  | { kind: 'stopped'; result: RunResult; trainer: Trainer; ctx: GpuContext; last: CheckpointContents }
  | { kind: 'device-lost'; reason: string; last: CheckpointContents | null };

export async function runTrainSession(first: GpuContext, o: TrainSessionOptions): Promise<SessionOutcome> {
  let last = o.resume;
  const checkpoint = async (trainer: Trainer, part: SessionPart | undefined): Promise<CheckpointContents> => {
    const states = await trainer.captureStates();
    const into = { meta: { ...o.meta, progress: states[0].step, savePolicy: o.policy } as Record<string, unknown>, arrays: {} as Record<string, CheckpointArray> };
    packTrainer(states, 'trainer', into);
    await part?.pack?.(into);
    const c: CheckpointContents = { kind: o.kind, meta: into.meta, arrays: into.arrays };
    o.sink.saveCheckpoint(c);
    last = c;
    return c;
  };
  const outcome = await withDeviceRecovery(
    first,
    async (ctx, attempt) => {
      if (attempt > 0) o.log(`continuing from the checkpoint at step ${last ? trainerStep(last, 'trainer', 'checkpoint') : 0}`);
      const { trainer, part } = await o.build(ctx, last);
      if (last) trainer.restoreStates(unpackTrainer(last, 'trainer', 'the checkpoint'));
      // metrics.csv: the rows up to the restored step, then each chunk's as it is read.
      const file = o.sink.openMetrics();
      const metrics = file ? new MetricsCsvStream((t) => file.append(t), trainer.stepsPerEpoch) : null;
      metrics?.update(trainer.history, trainer.step);
      const clock = new SaveClock(o.policy, trainer.step);
      const base: TrainHooks = {
        onStepEncoded: part?.onStepEncoded,
        onChunk: (p) => {
          metrics?.update(trainer.history, p.step);
          o.onChunk?.(p, trainer);
        },
        shouldStop: () => o.stopRequested(),
        snapshotDue: (step) => clock.due(step),
        onSnapshot: async (step) => {
          file?.sync();
          await checkpoint(trainer, part);
          clock.saved(step);
        },
      };
      const result = await trainer.run(part?.hooks ? { ...part.hooks(base), snapshotDue: base.snapshotDue, onSnapshot: base.onSnapshot } : base);
      metrics?.update(trainer.history);
      file?.sync();
      return { result, trainer, part };
    },
    { acquire: o.acquire, log: o.log },
  );
  if (!outcome.ok) return { kind: 'device-lost', reason: outcome.reason, last };
  const { result, trainer, part } = outcome.value;
  if (result.status === 'stopped') return { kind: 'stopped', result, trainer, ctx: outcome.ctx, last: await checkpoint(trainer, part) };
  if (o.checkpointAtEnd && result.status !== 'diverged') last = await checkpoint(trainer, part);
  return { kind: 'ended', result, trainer, ctx: outcome.ctx, last };
}
