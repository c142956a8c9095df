/**
 * A hyperparameter sweep: a base run (model, training settings, data) and a grid over learning
 * rate, batch size, weight decay, dropout rate and seed; every combination is one run. Plus what
 * to measure after each run (the top Hessian eigenvalues) and how many runs share the device.
 */
import { showValue } from '../../util/keys.ts';
import { validateMlpConfig, type MlpConfig } from '../../nn/config.ts';
import { DEFAULT_TRAIN, validateTrainConfig, type TrainConfig } from '../../train/config.ts';
import type { DatasetSpec } from '../../data/index.ts';

export interface SweepGrid {
  lr: number[];
  batchSize: number[];
  weightDecay: number[];
  dropout: number[];
  seed: number[];
}

export interface SharpnessSpec {
  /** Top-k Hessian eigenvalues of the mean training loss (0: skip). */
  k: number;
  /** Training samples the Hessian is averaged over (stratified subsample; null: all). */
  samples: number | null;
  /** Layers of the Hessian block (null: the whole network). */
  layers: number[] | null;
  /** Lanczos residual tolerance relative to λ_max (float32 products: ≥ 1e-5). */
  residualTol: number;
  maxIter: number;
}

export interface SweepSpec {
  model: MlpConfig;
  /** Base training settings; the grid overrides lr, batchSize, weightDecay, dropout, seed. */
  train: Partial<TrainConfig>;
  data: DatasetSpec;
  grid: SweepGrid;
  sharpness: SharpnessSpec;
  /** Runs trained at the same time (interleaved on the one device); 1 = sequential. */
  concurrency: number;
  /** Which points to train and whether to stop runs early (search.ts; absent: the full grid). */
  search?: SearchSpec;
  /** Points sharing the batch size trained this many at a time as one ensemble (pack.ts); absent or 1: each alone. */
  pack?: number;
}

export interface AshaSpec {
  /** Reduction factor η: at each rung the best 1/η of the runs seen there go on. */
  eta: number;
  /** First rung (epochs); the rungs are minEpochs·η^k below the run's epochs. */
  minEpochs: number;
  /** What ranks the runs at a rung (the full test set's loss or accuracy). */
  metric: 'test-loss' | 'test-accuracy';
}

export interface SearchSpec {
  sampler: 'grid' | 'random';
  /** Random search: number of points, and the generator's seed. */
  trials: number;
  seed: number;
  /** Random search: ranges (null: pick from the grid's list). lr is drawn log-uniformly. */
  lrRange: [number, number] | null;
  weightDecayRange: [number, number] | null;
  dropoutRange: [number, number] | null;
  /** Early stopping by ASHA (null: every run trains to the end). */
  asha: AshaSpec | null;
}


export interface SweepPoint {
  index: number;
  lr: number;
  batchSize: number;
  weightDecay: number;
  dropout: number;
  seed: number;
}

export const DEFAULT_SHARPNESS: SharpnessSpec = { k: 5, samples: 512, layers: null, residualTol: 1e-3, maxIter: 60 };

const GRID_KEYS: (keyof SweepGrid)[] = ['lr', 'batchSize', 'weightDecay', 'dropout', 'seed'];

/** Every combination, lr varying slowest (then batch, weight decay, dropout, seed). */
export function expandGrid(g: SweepGrid): SweepPoint[] {
  const out: SweepPoint[] = [];
  for (const lr of g.lr)
    for (const batchSize of g.batchSize)
      for (const weightDecay of g.weightDecay)
        for (const dropout of g.dropout)
          for (const seed of g.seed) out.push({ index: out.length, lr, batchSize, weightDecay, dropout, seed });
  return out;
}

/** Checks every grid value with the training settings' own ranges; names the axis and value. */
export function validateSweepSpec(s: SweepSpec, trainSize: number | null = null): SweepSpec {
  validateMlpConfig(s.model);
  for (const key of Object.keys(s.grid)) {
    if (!GRID_KEYS.includes(key as keyof SweepGrid)) throw new Error(`sweep.grid: unknown axis '${key}' (axes: ${GRID_KEYS.join(', ')})`);
  }
  for (const key of GRID_KEYS) {
    const values = s.grid[key];
    if (!Array.isArray(values) || values.length === 0) throw new Error(`sweep.grid.${key} must be a non-empty list of numbers`);
    if (new Set(values).size !== values.length) throw new Error(`sweep.grid.${key} lists a value twice: ${JSON.stringify(values)}`);
    for (const v of values) validateTrainConfig({ ...s.train, [key]: v }, trainSize, `sweep.grid.${key}`);
  }
  const sh = s.sharpness;
  if (!(Number.isInteger(sh.k) && sh.k >= 0 && sh.k <= 100)) throw new Error(`sweep.sharpness.k must be an integer in [0, 100], got ${showValue(sh.k)}`);
  if (sh.samples !== null && !(Number.isInteger(sh.samples) && sh.samples >= 10)) throw new Error(`sweep.sharpness.samples must be an integer ≥ 10 or null (all), got ${showValue(sh.samples)}`);
  if (!(sh.residualTol > 0 && sh.residualTol < 1)) throw new Error(`sweep.sharpness.residualTol must be in (0, 1), got ${showValue(sh.residualTol)}`);
  if (!(Number.isInteger(sh.maxIter) && sh.maxIter >= 1)) throw new Error(`sweep.sharpness.maxIter must be a positive integer, got ${showValue(sh.maxIter)}`);
  if (sh.layers !== null) {
    const n = s.model.widths.length - 1;
    for (const l of sh.layers) if (!(Number.isInteger(l) && l >= 0 && l < n)) throw new Error(`sweep.sharpness.layers: ${l} is not a layer index in [0, ${n - 1}]`);
  }
  if (!(Number.isInteger(s.concurrency) && s.concurrency >= 1 && s.concurrency <= 16)) throw new Error(`sweep.concurrency must be an integer in [1, 16], got ${showValue(s.concurrency)}`);
  if (s.pack !== undefined && !(Number.isInteger(s.pack) && s.pack >= 1 && s.pack <= 64)) throw new Error(`sweep.pack must be an integer in [1, 64], got ${showValue(s.pack)}`);
  if ((s.pack ?? 1) > 1 && s.search?.asha) throw new Error('sweep.pack: ASHA runs stop at their own rungs and are not packed; leave pack at 1');
  if (s.search) validateSearchSpec(s.search, s.train.epochs !== undefined ? s.train.epochs : s.train.steps != null ? null : DEFAULT_TRAIN.epochs, s.train as Record<string, unknown>);
  return s;
}

function checkRange(name: string, r: [number, number] | null, key: 'lr' | 'weightDecay' | 'dropout', train: Record<string, unknown>): void {
  if (r === null) return;
  if (!Array.isArray(r) || r.length !== 2 || !(r[0] < r[1])) throw new Error(`sweep.search.${name} must be [min, max] with min < max, got ${JSON.stringify(r)}`);
  for (const v of r) validateTrainConfig({ ...train, [key]: v }, null, `sweep.search.${name}`);
}

/** Checks a search spec; `epochs`: the runs' epochs (ASHA's rungs must lie below). */
export function validateSearchSpec(s: SearchSpec, epochs: number | null, train: Record<string, unknown>): SearchSpec {
  if (s.sampler !== 'grid' && s.sampler !== 'random') throw new Error(`sweep.search.sampler must be 'grid' or 'random', got '${String(s.sampler)}'`);
  if (s.sampler === 'random') {
    if (!(Number.isInteger(s.trials) && s.trials >= 1 && s.trials <= 100000)) throw new Error(`sweep.search.trials must be an integer in [1, 100000], got ${s.trials}`);
    if (!(Number.isInteger(s.seed) && s.seed >= 0 && s.seed <= 0xffffffff)) throw new Error(`sweep.search.seed must be an integer in [0, 4294967295], got ${s.seed}`);
    checkRange('lrRange', s.lrRange, 'lr', train);
    checkRange('weightDecayRange', s.weightDecayRange, 'weightDecay', train);
    checkRange('dropoutRange', s.dropoutRange, 'dropout', train);
  } else if (s.lrRange || s.weightDecayRange || s.dropoutRange) {
    throw new Error('sweep.search: ranges need random search (--search random, or asha with --trials)');
  }
  const a = s.asha;
  if (a) {
    if (!(Number.isInteger(a.eta) && a.eta >= 2 && a.eta <= 100)) throw new Error(`sweep.search.asha.eta must be an integer in [2, 100], got ${a.eta}`);
    if (!(Number.isInteger(a.minEpochs) && a.minEpochs >= 1)) throw new Error(`sweep.search.asha.minEpochs must be an integer ≥ 1, got ${a.minEpochs}`);
    if (a.metric !== 'test-loss' && a.metric !== 'test-accuracy') throw new Error(`sweep.search.asha.metric must be 'test-loss' or 'test-accuracy', got '${String(a.metric)}'`);
    if (epochs === null) throw new Error('sweep.search.asha: the rungs are in epochs, so the runs need --epochs (not --steps)');
    if (a.minEpochs >= epochs) throw new Error(`sweep.search.asha.minEpochs must be below the runs' ${epochs} epochs (no rung otherwise), got ${a.minEpochs}`);
    if (typeof train.evalEvery === 'number' && train.evalEvery !== 0) throw new Error('sweep.search.asha: the rungs need an evaluation at every epoch (leave --eval-every at 0)');
  }
  return s;
}

/** Smith & Le's noise scale g = ε(N/B − 1), divided by 1 − momentum. */
export function noiseScale(lr: number, trainSize: number, batchSize: number, momentum = 0): number {
  return (lr * (trainSize / batchSize - 1)) / (1 - momentum);
}
