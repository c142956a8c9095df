/**
 * Training settings, their defaults (the Feng–Tu reference run) and their validation. Every error
 * names the field and the allowed range.
 */
import { checkKeys } from '../util/keys.ts';
import { validateMlpConfig, type MlpConfig } from '../nn/config.ts';

export type Sampling = 'shuffle' | 'replacement';

export interface TrainConfig {
  lr: number;
  batchSize: number;
  weightDecay: number;
  momentum: number;
  seed: number;
  /** 'shuffle': each epoch visits every training sample once in a fresh seeded order, dropping
   * the last partial batch (as PyTorch's drop_last); 'replacement': every batch is B uniform draws. */
  sampling: Sampling;
  /** Stop rules: whichever comes first. At least one of epochs/steps. */
  epochs: number | null;
  steps: number | null;
  targetTrainLoss: number | null;
  targetTrainAccuracy: number | null;
  /** The authors' stop rule (stop-rule.ts): full train loss < stopLoss and the mean train accuracy
   * of the last stopAccuracyEpochs evaluations > stopAccuracy; null parts are left out. */
  stopLoss: number | null;
  stopAccuracy: number | null;
  stopAccuracyEpochs: number;
  /** Full train/test evaluation every this many steps (0: once per epoch). */
  evalEvery: number;
  /** SGD steps encoded per command buffer; metrics are read back once per chunk. */
  chunkSteps: number;
  /** A minibatch loss above this (or NaN/Inf) stops the run as diverged. */
  divergenceLoss: number;
  /** Inverted dropout on every hidden activation during training: drop probability (0: off). */
  dropout: number;
}

export const DEFAULT_TRAIN: TrainConfig = {
  lr: 0.1,
  batchSize: 50,
  weightDecay: 0,
  momentum: 0,
  seed: 1,
  sampling: 'shuffle',
  epochs: 20,
  steps: null,
  targetTrainLoss: null,
  targetTrainAccuracy: null,
  stopLoss: null,
  stopAccuracy: null,
  stopAccuracyEpochs: 1,
  evalEvery: 0,
  chunkSteps: 200,
  divergenceLoss: 1e3,
  dropout: 0,
};

export const TRAIN_KEYS = Object.keys(DEFAULT_TRAIN);

type Range = { min: number; max: number; integer?: boolean; minExclusive?: boolean };

const RANGES: Record<string, Range> = {
  lr: { min: 0, max: 100, minExclusive: true },
  batchSize: { min: 1, max: 65536, integer: true },
  weightDecay: { min: 0, max: 10 },
  momentum: { min: 0, max: 0.999 },
  seed: { min: 0, max: 4294967295, integer: true },
  epochs: { min: 1, max: 100000, integer: true },
  steps: { min: 1, max: 1e9, integer: true },
  targetTrainLoss: { min: 0, max: 1e6, minExclusive: true },
  targetTrainAccuracy: { min: 0, max: 1, minExclusive: true },
  stopLoss: { min: 0, max: 1e6, minExclusive: true },
  stopAccuracy: { min: 0, max: 1 },
  stopAccuracyEpochs: { min: 1, max: 100000, integer: true },
  evalEvery: { min: 0, max: 1e9, integer: true },
  chunkSteps: { min: 1, max: 10000, integer: true },
  divergenceLoss: { min: 0, max: 1e30, minExclusive: true },
  dropout: { min: 0, max: 0.95 },
};

export function describeRange(r: Range): string {
  const lo = r.minExclusive ? `(${r.min}` : `[${r.min}`;
  return `${r.integer ? 'an integer in ' : ''}${lo}, ${r.max}]`;
}

/** v is a finite number inside r (and an integer when r asks for one). */
export function inRange(v: unknown, r: Range): v is number {
  return typeof v === 'number' && Number.isFinite(v) && (r.minExclusive ? v > r.min : v >= r.min) && v <= r.max && (!r.integer || Number.isInteger(v));
}

export function checkNumber(where: string, name: string, v: unknown, r: Range): void {
  if (!inRange(v, r)) throw new Error(`${where}.${name} must be ${describeRange(r)}, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
}

export function validateTrainConfig(partial: Partial<TrainConfig>, trainSize: number | null = null, where = 'train'): TrainConfig {
  checkKeys(partial, TRAIN_KEYS, where, 'setting');
  const c: TrainConfig = { ...DEFAULT_TRAIN, ...partial };
  for (const [name, r] of Object.entries(RANGES)) {
    const v = (c as unknown as Record<string, unknown>)[name];
    if (v === null && ['epochs', 'steps', 'targetTrainLoss', 'targetTrainAccuracy', 'stopLoss', 'stopAccuracy'].includes(name)) continue;
    checkNumber(where, name, v, r);
  }
  if (c.sampling !== 'shuffle' && c.sampling !== 'replacement') {
    throw new Error(`${where}.sampling must be 'shuffle' or 'replacement', got ${JSON.stringify(c.sampling)}`);
  }
  if (c.epochs === null && c.steps === null) throw new Error(`${where}: give epochs or steps (or both) so the run can end`);
  if (trainSize !== null && c.batchSize > trainSize) {
    throw new Error(`${where}.batchSize must be in [1, ${trainSize}] (the training set size), got ${c.batchSize}`);
  }
  return c;
}

/**
 * The checks of a run against its data that need no GPU (so the CLI makes them before starting
 * one): model and training settings, input width = features, output width ≥ classes, batch ≤
 * training samples. Returns the training settings with defaults filled in.
 */
export function checkRunFitsData(model: MlpConfig, train: Partial<TrainConfig>, data: { n: number; d: number; classes: number }, where = 'train'): TrainConfig {
  // The model first: the checks below index model.widths.
  validateMlpConfig(model);
  const config = validateTrainConfig(train, data.n, where);
  if (data.d !== model.widths[0]) throw new Error(`model.widths[0] is ${model.widths[0]} but the dataset has ${data.d} features per sample`);
  const classes = model.widths[model.widths.length - 1];
  if (data.classes > classes) throw new Error(`model output width ${classes} is smaller than the dataset's ${data.classes} classes`);
  return config;
}

/** SGD steps in one epoch: whole minibatches of the n training samples (the sampler drops the rest). */
export function stepsPerEpochOf(n: number, batchSize: number): number {
  return Math.floor(n / batchSize);
}

/** The run's step cap: the smaller of epochs × steps per epoch and steps; null when neither is set. */
export function totalStepsOf(c: Pick<TrainConfig, 'epochs' | 'steps'>, stepsPerEpoch: number): number | null {
  const fromEpochs = c.epochs === null ? Infinity : c.epochs * stepsPerEpoch;
  const t = Math.min(fromEpochs, c.steps ?? Infinity);
  return Number.isFinite(t) ? t : null;
}
