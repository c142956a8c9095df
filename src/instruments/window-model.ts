/**
 * What the window instruments share (pca-window provides it, flatness, temperature,
 * temperature-loss and mlf read it through ctx.upstream('pca-window')):
 *
 *  - the analysis model: a separate copy of the network on the SIDE device with its own parameter
 *    buffer, and a seeded stratified subsample of the training set uploaded there (`liveSamples`,
 *    default 1,000; the finite-population factor of T_i uses the whole set's size), so an analysis
 *    never touches training nor waits behind its chunks; the full pass over the subsample (the
 *    analysed layer's input and per-sample output gradients) is compiled once;
 *  - the latest analysed window: its PCA (σ_i², p_i, w*), the directions chosen for F_i and T_i,
 *    the current weights at the window's end and w* (all weights, the layer at the window mean).
 * Dependents run one after another inside a refresh; each loads the weights it needs into the
 * analysis model before its GPU work.
 */
import type { GpuContext } from '../gpu/device.ts';
import { MlpGpu } from '../nn/mlp-gpu.ts';
import type { Trainer } from '../train/trainer.ts';
import { uploadDataset, type GpuDataset } from '../train/gpu-dataset.ts';
import { stratifiedSample } from '../data/split.ts';
import { subset, type Dataset } from '../data/dataset.ts';
import { FullSetPass, PerSampleProjector } from '../analysis/noise/full-pass.ts';
import type { PcaSummary } from '../analysis/numerics/pca-summary.ts';
import { temperatureFromPerSample } from '../analysis/numerics/temperature.ts';

export interface WindowModel {
  ctx: GpuContext;
  mlp: MlpGpu;
  data: GpuDataset;
  pass: FullSetPass;
  layer: number;
  /** Size of the training set the subsample stands for. */
  populationSize: number;
}

export async function createWindowModel(side: GpuContext, trainer: Trainer, train: Dataset, layer: number, samples: number): Promise<WindowModel> {
  if (train.n !== trainer.trainData.n) throw new Error(`window model: the training set has ${train.n} samples but the trainer's has ${trainer.trainData.n}`);
  const part = train.n <= samples ? train : subset(train, stratifiedSample(train.y, train.classes, samples, trainer.config.seed, 'lab.liveSamples'), `${train.name}[live]`);
  const classes = trainer.model.widths[trainer.model.widths.length - 1];
  const data = uploadDataset(side, 'live.data', part.x, part.y, part.d, classes);
  const mlp = await MlpGpu.create(side, trainer.model, { momentum: false });
  const pass = await FullSetPass.create(mlp, data, layer, 'live.full');
  return { ctx: side, mlp, data, pass, layer, populationSize: train.n };
}

export interface WindowState {
  kind: 'live' | 'final';
  /** Steps of the first and last row analysed, rows, and the step between rows. */
  first: number;
  last: number;
  rows: number;
  stride: number;
  /** Samples behind F_i, T_i, L and the MLF ensemble. */
  samples: number;
  P: number;
  k: number;
  variances: Float64Array;
  /** (k, P): component i at [i·P, (i+1)·P). */
  components: Float64Array;
  total: number;
  /** w*: the window mean of the layer. */
  wStar: Float64Array;
  summary: Pick<PcaSummary, 'pc1VsMeanWeight'> & { all: { cumulative: Float64Array; d90: number | null; d99: number | null }; pc1Removed: { d90: number | null; d99: number | null } | null };
  /** 0-based PCs whose F_i and T_i are measured, and the most there will be (size GPU work for it). */
  dirs: number[];
  maxDirs: number;
  /** All weights at the window's end (null for the final analysis) and with the layer at w*. */
  current: Float32Array | null;
  wStarParams: Float32Array;
  /** The analysis model on the side device (created at the first call). */
  model(): Promise<WindowModel>;
  /** Wall time of each refresh stage so far, ms. */
  ms: Record<string, number>;
}

/** Indices 0, then `count − 1` more spread evenly over 1 … k − 1 (distinct, increasing). */
export function spreadDirections(k: number, count: number): number[] {
  const n = Math.min(count, k);
  const out = [0];
  for (let j = 1; j < n; j++) {
    const i = n === 1 ? 0 : Math.round(1 + ((k - 2) * (j - 1)) / Math.max(1, n - 2));
    if (i > out[out.length - 1] && i < k) out.push(i);
  }
  for (let i = 1; out.length < n && i < k; i++) if (!out.includes(i)) out.push(i);
  return out.sort((a, b) => a - b);
}

/** Rows (n, P) of these components, padded to `rows` by repeating the last one. */
export function componentRows(components: Float64Array, P: number, list: number[], rows: number): Float64Array {
  const out = new Float64Array(rows * P);
  for (let j = 0; j < rows; j++) {
    const i = list[Math.min(j, list.length - 1)];
    out.set(components.subarray(i * P, (i + 1) * P), j * P);
  }
  return out;
}

/** "12" or ">k" (not reached within the k components). */
export const dText = (d: number | null, k: number): string => (d === null ? `>${k}` : String(d));

/**
 * T_i = (lr/2)·Var_μ[(∇L_μ − ∇L)·p_i] along components `list` of `w` at the weights `params`
 * (loaded into the window model), from per-sample gradient projections over the subsample with
 * the whole training set's finite-population factor; and the subsample's mean loss there.
 * `proj` is created on first use for `J` directions (fewer are padded) and reused.
 */
export async function temperaturesAlong(
  w: WindowState,
  params: Float32Array,
  list: number[],
  J: number,
  proj: PerSampleProjector | null,
  trainer: Trainer,
): Promise<{ T: Float64Array; loss: number; proj: PerSampleProjector }> {
  const m = await w.model();
  const p = proj ?? (await PerSampleProjector.create(m.pass, J));
  m.mlp.uploadParams(params);
  p.setDirections(componentRows(w.components, w.P, list, p.J));
  const { s, loss } = await p.run();
  const t = temperatureFromPerSample(s, p.J, { lr: trainer.config.lr, batchSize: trainer.config.batchSize, populationSize: m.populationSize });
  return { T: Float64Array.from(t.T.slice(0, list.length)), loss, proj: p };
}
