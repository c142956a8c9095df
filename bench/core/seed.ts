/**
 * The seed experiment's training inputs, shared by sgdscope's whole-step benchmark and the peers'
 * training benchmarks so that all of them train the same network from the same weights on the same
 * minibatches: 784-50-50-10 ReLU without biases, PyTorch init from seed 1, SGD lr 0.1, B 50, on the
 * MNIST-10k training split (8000 rows), shuffled epochs from the trainer's sampler.
 *
 * The CPU reference (src/nn/mlp-cpu.ts, float64) gives the weights after a few steps, which every
 * implementation's weights are checked against before it is timed.
 */
import { loadDataset, type LoadedData } from '../../src/data/index.ts';
import { SEED_MLP } from '../../src/nn/config.ts';
import { initParams } from '../../src/nn/init.ts';
import { paramLayout, type ParamLayout } from '../../src/nn/params.ts';
import { mlpGradCpu } from '../../src/nn/mlp-cpu.ts';
import { sgdRef } from '../../src/kernels/sgd.ref.ts';
import { MinibatchSampler } from '../../src/train/sampler.ts';
import { Rng } from '../../src/util/rng.ts';

export const SEED_LR = 0.1;
export const SEED_B = 50;
export const SEED_WIDTHS = SEED_MLP.widths;

export interface SeedSetup {
  data: LoadedData;
  layout: ParamLayout;
  /** Initial flat parameters (layout of src/nn/params.ts). */
  init: Float32Array;
  /** Indices of the first `steps` minibatches (step s uses [s·B, (s+1)·B)). */
  batches(steps: number): Uint32Array;
  /** The layer blocks of a flat parameter vector, each (K, N) row-major. */
  weights(flat: ArrayLike<number>): Float32Array[];
  /** Weights after `steps` SGD steps on the CPU (float64 reference), flat layout. */
  cpuSteps(steps: number): Float64Array;
  /** The same for the run of another seed (its init and minibatch stream, as Trainer draws them). */
  initOf(seed: number): Float32Array;
  batchesOf(seed: number, steps: number): Uint32Array;
  cpuStepsOf(seed: number, steps: number): Float64Array;
}

let cached: Promise<SeedSetup> | null = null;

export function seedSetup(): Promise<SeedSetup> {
  cached ??= build();
  return cached;
}

async function build(): Promise<SeedSetup> {
  const data = await loadDataset({ kind: 'mnist10k' });
  const layout = paramLayout(SEED_MLP);
  const initOf = (seed: number): Float32Array => initParams(SEED_MLP, new Rng(seed));
  const init = initOf(1);
  // The same stream as Trainer (new Rng(seed).fork() for the sampler).
  const batchesOf = (seed: number, steps: number): Uint32Array => new MinibatchSampler(data.train.n, SEED_B, 'shuffle', new Rng(seed).fork()).next(steps);
  const batches = (steps: number): Uint32Array => batchesOf(1, steps);
  const weights = (flat: ArrayLike<number>): Float32Array[] =>
    layout.layers.map((L) => Float32Array.from({ length: L.fanIn * L.fanOut }, (_, i) => flat[L.offset + i]));
  const cpuStepsOf = (seed: number, steps: number): Float64Array => {
    const w = Float64Array.from(initOf(seed));
    const idx = batchesOf(seed, steps);
    const D = data.train.d;
    for (let s = 0; s < steps; s++) {
      const x = new Float32Array(SEED_B * D);
      const y = new Uint8Array(SEED_B);
      for (let r = 0; r < SEED_B; r++) {
        const i = idx[s * SEED_B + r];
        x.set(data.train.x.subarray(i * D, (i + 1) * D), r * D);
        y[r] = data.train.y[i];
      }
      const { grad } = mlpGradCpu(SEED_MLP, w, x, y, SEED_B);
      sgdRef(w, grad, SEED_LR, 0, 0);
    }
    return w;
  };
  const cpuSteps = (steps: number): Float64Array => cpuStepsOf(1, steps);
  return { data, layout, init, batches, weights, cpuSteps, initOf, batchesOf, cpuStepsOf };
}

/** Worst |a − b| relative to max |b| over the real weights of every layer. */
export function weightsError(layout: ParamLayout, got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (const L of layout.layers) {
    for (let i = 0; i < L.fanIn * L.fanOut; i++) {
      err = Math.max(err, Math.abs(got[L.offset + i] - ref[L.offset + i]));
      scale = Math.max(scale, Math.abs(ref[L.offset + i]));
    }
  }
  return err / scale;
}
