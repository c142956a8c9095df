/**
 * What a training run records on the CPU, per replica: the minibatch loss and accuracy of every
 * step and the full train/test evaluations; and what each chunk reports to its hook.
 */
import type { EvalResult } from './evaluate.ts';

export interface EvalRecord {
  step: number;
  epoch: number;
  train: EvalResult;
  test: EvalResult | null;
}

/** Per-step history kept on the CPU (columnar, for CSV and charts). */
export class History {
  loss: number[] = [];
  accuracy: number[] = [];
  evals: EvalRecord[] = [];
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

