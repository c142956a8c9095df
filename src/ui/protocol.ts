/**
 * Messages between the page (draws) and the engine worker (owns the GPU device). Small, typed,
 * columnar: a chunk of steps travels as typed arrays, never as one object per step.
 */
import type { MlpConfig } from '../nn/config.ts';
import type { TrainConfig } from '../train/config.ts';

export interface StartRequest {
  type: 'start';
  model: MlpConfig;
  train: Partial<TrainConfig>;
}

export type ToWorker = StartRequest | { type: 'stop' };

export interface EvalPoint {
  step: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
}

export type FromWorker =
  | { type: 'status'; text: string }
  | { type: 'ready'; adapter: string; trainN: number; testN: number; totalSteps: number | null }
  | { type: 'chunk'; firstStep: number; losses: Float32Array; accuracies: Float32Array; eval: EvalPoint | null; stepsPerSecond: number }
  | { type: 'done'; status: string; message: string; stepsPerSecond: number }
  | { type: 'error'; message: string };
