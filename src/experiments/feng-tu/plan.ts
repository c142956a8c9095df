/**
 * The shape of a Feng–Tu run, worked out from its settings alone (no GPU, no trainer): the analysed
 * layer's size P (from the model's widths), the run's step cap and steps per epoch
 * (⌊n_train / B⌋, as the sampler), the window length T, the PCA route and the defaults of k and
 * the direction stride. prepareFengTu builds its session from this plan, and the CLI calls it in
 * its input phase, so that a k or a window that cannot fit is bad input (exit 2) before the GPU
 * starts — one rule, in one place.
 */
import type { MlpConfig } from '../../nn/config.ts';
import { paramLayout } from '../../nn/params.ts';
import { stepsPerEpochOf, totalStepsOf, type TrainConfig } from '../../train/config.ts';
import { hasStopRule } from '../../train/stop-rule.ts';
import { autoEigMethod, type PcaRoute } from '../../analysis/noise/pca-gpu.ts';
import { DEFAULT_FENG_TU, type FengTuOptions } from './options.ts';

export interface FengTuPlan {
  /** The options with every default resolved (k, dirStride, eig). */
  o: FengTuOptions;
  /** Parameters of the analysed layer. */
  P: number;
  route: PcaRoute;
  stepsPerEpoch: number;
  /** Window length; the steps before it if the run goes to `total` (its length, or its cap when a
   * stop rule may end it: `open`, the window is then the last T steps, wherever it ends). */
  T: number;
  windowStart: number;
  total: number;
  open: boolean;
  /** Steps between weight checkpoints of the recorder. */
  checkpointEvery: number;
}

/**
 * Validates the options against the model and the (validated) training settings; `nTrain`: the
 * training samples. Throws a plain Error naming the setting and its allowed range.
 */
export function planFengTu(model: MlpConfig, train: TrainConfig, nTrain: number, options: Partial<FengTuOptions> = {}): FengTuPlan {
  const o: FengTuOptions = { ...DEFAULT_FENG_TU, ...options };
  const layers = paramLayout(model).layers;
  if (!(Number.isInteger(o.layer) && o.layer >= 0 && o.layer < layers.length)) {
    throw new Error(`layer must be an integer in [0, ${layers.length - 1}] for a ${layers.length}-layer model, got ${o.layer}`);
  }
  const P = layers[o.layer].size;
  const spe = stepsPerEpochOf(nTrain, train.batchSize);
  const total = totalStepsOf(train, spe);
  if (total === null) throw new Error('the Feng–Tu run needs a step or epoch cap (epochs or steps)');
  const open = hasStopRule(train) || train.targetTrainLoss !== null || train.targetTrainAccuracy !== null;
  const T = o.windowSteps ?? o.windowEpochs * spe;
  if (!(Number.isInteger(T) && T >= 3 && T <= total)) throw new Error(`the window must be between 3 and the ${total} training steps, got ${T} steps`);
  const route: PcaRoute = o.route === 'auto' ? (P <= o.maxCovarianceP ? 'covariance' : 'trajectory') : o.route;
  const k = o.k ?? (route === 'covariance' ? Math.min(1000, P, T - 1) : Math.min(40, P, T - 1));
  if (!(Number.isInteger(k) && k >= 2 && k <= Math.min(P, T - 1))) throw new Error(`k must be an integer in [2, min(P = ${P}, T − 1 = ${T - 1})], got ${k}`);
  const dirStride = o.dirStride ?? (k > 100 ? 10 : 1);
  if (!(Number.isInteger(dirStride) && dirStride >= 1)) throw new Error(`dirStride must be an integer >= 1, got ${dirStride}`);
  o.k = k;
  o.dirStride = dirStride;
  o.eig = o.eig === 'auto' ? autoEigMethod(P, k) : o.eig;
  // One epoch, or every few epochs so that a long cap (the authors': 1000 epochs) keeps ≤ 200.
  const checkpointEvery = o.checkpointEvery ?? spe * Math.max(1, Math.ceil(total / spe / 200));
  return { o, P, route, stepsPerEpoch: spe, T, windowStart: total - T, total, open, checkpointEvery };
}
