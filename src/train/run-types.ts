/**
 * The training loop's vocabulary (src/train/trainer.ts): evaluations, a run's result and each
 * replica's outcome, a chunk's progress and plan, the hooks a caller gives run(), and the
 * per-step history (one per replica). Kept apart from the Trainer so that what describes a run
 * (trainer-state.ts, run-files.ts) needs no trainer.
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

export type ReplicaStatus = 'running' | 'diverged' | 'target-reached';

/** What became of one replica: still training, or stopped by its own rule (with the step and why). */
export interface ReplicaOutcome {
  status: ReplicaStatus;
  /** Empty while running; e.g. "diverged at step 812 (epoch 5.07): minibatch loss NaN (lr 3, batch 50)". */
  message: string;
  /**
   * The step it stopped at: the last step while running, the target's step, or the first step d
   * whose minibatch loss was bad (its weights are then those after d − 2: Trainer.lastGoodParams).
   */
  step: number;
}

export interface RunResult {
  status: RunStatus;
  /** Human-readable: "completed 3200 steps (20 epochs)", "diverged at step 812: minibatch loss NaN". */
  message: string;
  steps: number;
  seconds: number;
  /** Steps per second of the ensemble (each step trains every replica). */
  stepsPerSecond: number;
  /** Per replica: its outcome (R = 1: the run's own). */
  replicas?: ReplicaOutcome[];
}

/** One replica's part of a chunk. */
export interface ReplicaChunk {
  losses: Float32Array;
  accuracies: Float32Array;
  eval: EvalRecord | null;
}

export interface ChunkProgress {
  step: number;
  epoch: number;
  totalSteps: number | null;
  /** Minibatch loss and accuracy of the chunk's steps (replica 0). */
  losses: Float32Array;
  accuracies: Float32Array;
  firstStep: number;
  /** Replica 0's evaluation at the chunk's end, if one was due. */
  eval: EvalRecord | null;
  stepsPerSecond: number;
  /** Every replica's losses, accuracies and evaluation (replica 0 first). */
  replicas: ReplicaChunk[];
}

/** A chunk about to be encoded: steps firstStep + 1 … firstStep + steps, ending in an evaluation or not. */
export interface ChunkPlan {
  firstStep: number;
  steps: number;
  evalDue: boolean;
}

/**
 * Hooks into the loop. A step that an instrument measures (`measures(step)`; without it, every
 * step when onStepGradient is given) is encoded through the open form of the step — the minibatch
 * gathered, the gradient written to mlp.grads, the update a dispatch of its own — so the step view
 * (src/train/step-view.ts) holds what it says; every other step runs fused (each layer's weight
 * gradient applies the update: no gradient buffer). Both forms give the same weights, bit for bit.
 * In an ensemble the views describe replica 0, whose blocks come first in every buffer.
 */
export interface TrainHooks {
  /**
   * Called while encoding, right after step `step`'s update (1-based): e.g. snapshot a layer. The
   * view is given on measured steps only.
   */
  onStepEncoded?(batch: GpuBatch, step: number, view?: StepView): void;
  /** Called while encoding a measured step `view.step`, between its backward pass and its update (src/train/step-view.ts). */
  onStepGradient?(batch: GpuBatch, view: StepView): void;
  /**
   * Whether step `step` (1-based) needs the step view: onStepGradient is called and onStepEncoded
   * gets the view on the steps this returns true for. Absent: every step when onStepGradient is
   * given, none otherwise. Called once per step while encoding, in step order.
   */
  measures?(step: number): boolean;
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
