/**
 * The training loop's vocabulary (src/train/trainer.ts): evaluations, a run's result, a chunk's
 * progress and plan, the hooks a caller gives run(), and the per-step history. Kept apart from
 * the Trainer so that what describes a run (trainer-state.ts, run-files.ts) needs no trainer.
 */
import type { GpuBatch } from '../gpu/batch.ts';
import type { Profiler } from '../gpu/profiler.ts';
import type { EvalResult } from './evaluate.ts';
import type { StepView } from './step-view.ts';

export interface EvalRecord {
  step: number;
  epoch: number;
  train: EvalResult;
  test: EvalResult | null;
}

export type RunStatus = 'completed' | 'target-reached' | 'diverged' | 'stopped';

export interface RunResult {
  status: RunStatus;
  /** Human-readable: "completed 3200 steps (20 epochs)", "diverged at step 812: minibatch loss NaN". */
  message: string;
  steps: number;
  seconds: number;
  stepsPerSecond: number;
}

export interface ChunkProgress {
  step: number;
  epoch: number;
  totalSteps: number | null;
  /** Minibatch loss and accuracy of the chunk's steps. */
  losses: Float32Array;
  accuracies: Float32Array;
  firstStep: number;
  eval: EvalRecord | null;
  stepsPerSecond: number;
}

/** A chunk about to be encoded: steps firstStep + 1 … firstStep + steps, ending in an evaluation or not. */
export interface ChunkPlan {
  firstStep: number;
  steps: number;
  evalDue: boolean;
}

export interface TrainHooks {
  /** Called while encoding, right after step `step`'s update (1-based): e.g. snapshot a layer. */
  onStepEncoded?(batch: GpuBatch, step: number, view?: StepView): void;
  /** Called while encoding step `view.step`, between its backward pass and its update (src/train/step-view.ts). */
  onStepGradient?(batch: GpuBatch, view: StepView): void;
  /** Before a chunk is encoded; may ask for this chunk's dispatches to be timed. */
  onChunkStart?(chunk: ChunkPlan): { profiler?: Profiler } | void;
  /** After a chunk's steps and copy-outs are encoded, before its submit (same command buffer). */
  onChunkEncoded?(batch: GpuBatch, chunk: ChunkPlan): void;
  /** Called once per chunk after its numbers were read. */
  onChunk?(p: ChunkProgress): void | Promise<void>;
  /** Polled between chunks; true stops the run (status 'stopped'). */
  shouldStop?(): boolean;
  /**
   * Polled between chunks with the step reached; true makes the trainer stop running ahead and,
   * as soon as no chunk is in flight, await onSnapshot (where captureState() may be called).
   */
  snapshotDue?(step: number): boolean;
  onSnapshot?(step: number): Promise<void>;
}

/** Per-step history kept on the CPU (columnar, for CSV and charts). */
export class History {
  loss: number[] = [];
  accuracy: number[] = [];
  evals: EvalRecord[] = [];
}
