/**
 * What the curvature instruments (edge-of-stability, b-noise) analyse on the SIDE device, so that
 * training neither waits for them nor is slowed on a real GPU: a copy of the network with its own
 * parameter buffer, the whole training set (G and the minibatches come from it), the rows behind
 * the Hessian (the whole set, or a seeded stratified subsample when `samples` asks for fewer) and
 * an engine over one minibatch's rows (src/analysis/curvature/minibatch.ts). Each instrument builds
 * its own on its first refresh (the kernels are compiled once per device and shared).
 *
 * The weights: every refresh reads the training device's parameters (the read is queued behind
 * every chunk submitted so far, so they are the weights after the last step encoded, which the
 * per-step hook records) and loads them into the copy.
 */
import type { GpuContext } from '../gpu/device.ts';
import { readF32 } from '../gpu/buffers.ts';
import { MlpGpu } from '../nn/mlp-gpu.ts';
import type { Trainer } from '../train/trainer.ts';
import { uploadDataset, type GpuDataset } from '../train/gpu-dataset.ts';
import { stratifiedSample } from '../data/split.ts';
import { subset, type Dataset } from '../data/dataset.ts';
import { MinibatchCurvature } from '../analysis/curvature/minibatch.ts';
import type { PerStepWork } from './types.ts';
import { int } from './settings.ts';

/** The settings both curvature instruments have: the refresh period and the rows behind H. */
export const refreshEvery = (steps: number) => int(steps, { min: 1, max: 1e9 }, 'SGD steps between refreshes (one runs at a time, beside training; one due while another runs is skipped)');
export const hessianSamples = (what: string) =>
  int(0, (c) => ({ min: 0, max: c.trainSize ?? 1e9 }), `training samples behind ${what} (a seeded stratified subsample); 0: the whole training set`);

export interface CurvatureModel {
  ctx: GpuContext;
  mlp: MlpGpu;
  /** The training set on the CPU (minibatches are drawn from it) and on the side device. */
  train: Dataset;
  all: GpuDataset;
  /** The rows behind H: `all` itself, or a stratified subsample of `samples` of them. */
  hessian: GpuDataset;
  minibatch: MinibatchCurvature;
  destroy(): void;
}

/** samples: rows behind H (0 or ≥ the set: the whole training set). */
export async function createCurvatureModel(side: GpuContext, trainer: Trainer, train: Dataset, samples: number, label: string): Promise<CurvatureModel> {
  if (train.n !== trainer.trainData.n) throw new Error(`${label}: the training set has ${train.n} samples but the trainer's has ${trainer.trainData.n}`);
  const classes = trainer.model.widths[trainer.model.widths.length - 1];
  const all = uploadDataset(side, `${label}.train`, train.x, train.y, train.d, classes);
  let hessian = all;
  if (samples > 0 && samples < train.n) {
    const part = subset(train, stratifiedSample(train.y, train.classes, samples, trainer.config.seed, `${label}.samples`), `${train.name}[${label}]`);
    hessian = uploadDataset(side, `${label}.hessian`, part.x, part.y, part.d, classes);
  }
  const mlp = await MlpGpu.create(side, trainer.model, { momentum: false });
  const minibatch = await MinibatchCurvature.create(mlp, trainer.config.batchSize, `${label}.minibatch`);
  return {
    ctx: side,
    mlp,
    train,
    all,
    hessian,
    minibatch,
    destroy() {
      minibatch.destroy();
      for (const b of new Set([all.x, all.y, hessian.x, hessian.y, mlp.params, mlp.grads, mlp.velocity])) b.destroy();
    },
  };
}

/**
 * The weights of the training run with the step they belong to: `perStep` records the last step
 * encoded (add it to the instrument's run); read() queues the read of the parameters at once.
 */
export function trainingWeights(trainer: Trainer): { perStep: PerStepWork; read(): Promise<{ step: number; params: Float32Array }> } {
  let last = trainer.step;
  return {
    perStep: {
      every: 1,
      moment: 'update',
      floats: 0,
      encode(_batch, view) {
        last = view.step;
      },
    },
    async read() {
      const step = last;
      const params = await readF32(trainer.ctx, trainer.mlp.params, 0, trainer.mlp.layout.total);
      return { step, params };
    },
  };
}

/** A seed for the minibatches drawn at a refresh: the run's seed and the step, mixed. */
export function refreshSeed(runSeed: number, step: number, salt: number): number {
  return (Math.imul(runSeed >>> 0, 0x9e3779b1) ^ Math.imul(step >>> 0, 0x85ebca6b) ^ salt) >>> 0;
}
