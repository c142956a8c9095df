/**
 * What one sweep run ends as: its outcome (trained, collapsed, diverged — classifyRun) and its
 * result record (SweepRun: one row of runs.csv), and the whole sweep's result. Shared by the
 * runner (run.ts), the unit of work (unit.ts), the files and the queue's collector.
 */
import type { EvalRecord, RunStatus } from '../../train/trainer.ts';
import type { SweepPoint, SweepSpec } from './grid.ts';
import type { AshaTrace } from './asha.ts';

/**
 * 'diverged': the minibatch loss became NaN/Inf or exceeded divergenceLoss ("diverged at step N").
 * 'collapsed': training finished but the network learned nothing — final training loss within 10%
 * of ln C (the loss of a constant uniform output), at chance accuracy or after a loss spike
 * (classifyRun). Beyond the stability edge a ReLU network usually ends this way rather than
 * blowing up: a loss burst kills the hidden units, the gradient vanishes, the loss sits at ln C.
 */
export type SweepOutcome = 'trained' | 'collapsed' | 'diverged';

/** Fraction of ln C above which a finished run at chance accuracy, or after a loss spike, counts as collapsed. */
export const COLLAPSE_FRACTION = 0.9;
/** Train accuracy up to this many times chance (1/C) counts as chance. */
export const CHANCE_FACTOR = 1.5;

/**
 * How a run ended. Collapsed: it finished near the untrained loss (≥ COLLAPSE_FRACTION·ln C)
 * either at chance accuracy (≤ CHANCE_FACTOR/C: its output no longer tells the classes apart) or
 * after a loss spike above 2·ln C (the burst that kills the hidden units past the stability edge).
 * A run merely slow to leave the initial plateau (small lr, few epochs) has no spike — its loss
 * starts at ln C and only falls — and is above chance: it stays 'trained', with its poor accuracy.
 * spikeStep: the first minibatch loss above 2·ln C (1-based), or null.
 */
export function classifyRun(diverged: boolean, finalTrain: { loss: number; accuracy: number } | null, minibatchLoss: number[], classes: number): { outcome: SweepOutcome; spikeStep: number | null } {
  const lnC = Math.log(classes);
  const spike = minibatchLoss.findIndex((l) => !(l <= 2 * lnC));
  const spikeStep = spike >= 0 ? spike + 1 : null;
  if (diverged) return { outcome: 'diverged', spikeStep };
  const collapsed = finalTrain !== null && finalTrain.loss >= COLLAPSE_FRACTION * lnC && (finalTrain.accuracy <= CHANCE_FACTOR / classes || spikeStep !== null);
  return { outcome: collapsed ? 'collapsed' : 'trained', spikeStep };
}

export interface SweepRun {
  point: SweepPoint;
  status: RunStatus;
  outcome: SweepOutcome;
  message: string;
  /** The step whose minibatch loss blew up (null unless diverged). */
  divergedStep: number | null;
  /** First step whose minibatch loss exceeded 2·ln C (a spike far above the untrained loss), or null. */
  spikeStep: number | null;
  steps: number;
  epochs: number;
  seconds: number;
  stepsPerSecond: number;
  trainLoss: number | null;
  trainAccuracy: number | null;
  testLoss: number | null;
  testAccuracy: number | null;
  /** Generalisation gap: test loss − train loss, and train accuracy − test accuracy. */
  gapLoss: number | null;
  gapAccuracy: number | null;
  /** ‖w‖ over every parameter, and per layer (of the final, or last good, weights). */
  weightNorm: number;
  layerNorms: number[];
  /** Smith–Le noise scale g = lr(N/B − 1)/(1 − momentum). */
  noiseScale: number;
  /** Top Hessian eigenvalues (descending), or null (diverged, or k = 0). */
  sharpness: number[] | null;
  sharpnessRelResiduals: number[] | null;
  sharpnessConverged: boolean | null;
  sharpnessSeconds: number;
  /** Evaluations along training (step, train/test loss and accuracy). */
  evals: EvalRecord[];
  /** With ASHA: the run's value and decision at each rung it reached, and where it stopped. */
  asha?: AshaTrace;
}


export interface SweepResult {
  spec: SweepSpec;
  runs: SweepRun[];
  trainSize: number;
  testSize: number;
  seconds: number;
  /** Samples the Hessian was averaged over. */
  hessianSamples: number;
  /** Points whose unit of work failed (a queue job that could not run): not in `runs`. */
  failed?: { point: SweepPoint; reason: string }[];
  /** True when a stop request (a signal) ended the sweep early: `runs` then has holes. */
  stopped?: boolean;
}
