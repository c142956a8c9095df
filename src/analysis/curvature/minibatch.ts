/**
 * Curvature of minibatch losses on the GPU: for a minibatch (B indices into a dataset held on the
 * CPU) its loss L_B = (1/B)·Σ_{n∈B} l_n, gradient g_B = ∇L_B and products H_B·v with H_B = ∇²L_B,
 * exact (Pearlmutter's R-operator, hvp-gpu.ts): an HvpEngine over a B-row GPU dataset whose rows
 * are rewritten for each minibatch (one chunk, so one pass per product).
 *
 * Used by the batch sharpness of Andreyev & Beneventano (../shared/science.md §7),
 *   S_B = g_Bᵀ H_B g_B / |g_B|²,  averaged over minibatches: E_B[S_B],
 * the curvature of each minibatch loss along its own gradient (the quantity minibatch SGD drives
 * to 2/η), and by the gradient noise scale's minibatch gradients (§8).
 *
 * Minibatches are drawn as training draws them (drawMinibatches: the trainer's sampler — a
 * uniform B-subset per batch for 'shuffle', B independent indices for 'replacement'), from a seed
 * of the caller's, so a test can draw the same ones.
 */
import { writeBuffer } from '../../gpu/buffers.ts';
import type { MlpGpu } from '../../nn/mlp-gpu.ts';
import type { Dataset } from '../../data/dataset.ts';
import { uploadDataset, type GpuDataset } from '../../train/gpu-dataset.ts';
import { MinibatchSampler } from '../../train/sampler.ts';
import type { Sampling } from '../../train/config.ts';
import { Rng } from '../../util/rng.ts';
import { HvpEngine } from './hvp-gpu.ts';

/** `count` minibatches of `batchSize` indices into [0, n), row-major (count, B), drawn as training draws. */
export function drawMinibatches(n: number, batchSize: number, count: number, sampling: Sampling, seed: number): Uint32Array {
  if (!(Number.isInteger(count) && count >= 1)) throw new Error(`drawMinibatches: count must be an integer >= 1, got ${count}`);
  return new MinibatchSampler(n, batchSize, sampling, new Rng(seed)).next(count);
}

/** One minibatch at the loaded weights. */
export interface MinibatchGradient {
  loss: number;
  /** g_B, whole network, compact (= flat layout without gaps: HvpEngine's order). */
  grad: Float64Array;
}

export interface BatchSharpness {
  /** S_B per minibatch, |g_B|² and L_B per minibatch. */
  values: Float64Array;
  gradSq: Float64Array;
  losses: Float64Array;
  /** Mean of S_B and its standard error over the minibatches (NaN for one). */
  mean: number;
  se: number;
}

export class MinibatchCurvature {
  private readonly x: Float32Array;
  private readonly y: Uint32Array;

  private constructor(
    readonly engine: HvpEngine,
    private readonly data: GpuDataset,
    readonly batchSize: number,
  ) {
    this.x = new Float32Array(batchSize * data.d);
    this.y = new Uint32Array(batchSize);
  }

  /** An engine for minibatches of `batchSize` rows of `d` features on mlp's device (weights: mlp.params). */
  static async create(mlp: MlpGpu, batchSize: number, label = 'minibatch'): Promise<MinibatchCurvature> {
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`MinibatchCurvature: batchSize must be an integer >= 1, got ${batchSize}`);
    const d = mlp.inputs;
    const data = uploadDataset(mlp.ctx, `${label}.rows`, new Float32Array(batchSize * d), new Uint32Array(batchSize), d, mlp.classes);
    const engine = await HvpEngine.create(mlp, data, { chunkRows: Math.ceil(batchSize / 64) * 64, maxVectors: 1, label: `${label}.hvp` });
    return new MinibatchCurvature(engine, data, batchSize);
  }

  get dim(): number {
    return this.engine.dim;
  }

  /** Loads rows `indices` of `set` (B of them) and runs the forward/backward pass at mlp.params. */
  async load(set: Dataset, indices: ArrayLike<number>): Promise<void> {
    const B = this.batchSize;
    if (indices.length !== B) throw new Error(`MinibatchCurvature.load: need ${B} indices, got ${indices.length}`);
    if (set.d !== this.data.d) throw new Error(`MinibatchCurvature.load: ${set.name} has ${set.d} features, the model expects ${this.data.d}`);
    for (let r = 0; r < B; r++) {
      const i = indices[r];
      if (!(Number.isInteger(i) && i >= 0 && i < set.n)) throw new Error(`MinibatchCurvature.load: index ${i} is outside [0, ${set.n})`);
      this.x.set(set.x.subarray(i * set.d, (i + 1) * set.d), r * set.d);
      this.y[r] = set.y[i];
    }
    writeBuffer(this.engine.mlp.ctx, this.data.x, this.x);
    writeBuffer(this.engine.mlp.ctx, this.data.y, this.y);
    await this.engine.refresh();
  }

  /** L_B and g_B of the loaded minibatch. */
  async gradient(): Promise<MinibatchGradient> {
    return { loss: this.engine.loss, grad: await this.engine.gradient() };
  }

  /** H_B·v for the loaded minibatch (v compact, one direction). */
  hvp(v: Float64Array): Promise<Float64Array> {
    return this.engine.apply(v, 1);
  }

  /** Batch sharpness over the minibatches (row-major (count, B) indices into `set`) at mlp.params. */
  async batchSharpness(set: Dataset, batches: Uint32Array): Promise<BatchSharpness> {
    const B = this.batchSize;
    const count = batches.length / B;
    const values = new Float64Array(count);
    const gradSq = new Float64Array(count);
    const losses = new Float64Array(count);
    for (let j = 0; j < count; j++) {
      await this.load(set, batches.subarray(j * B, (j + 1) * B));
      const { loss, grad } = await this.gradient();
      const hg = await this.hvp(grad);
      let gg = 0;
      let ghg = 0;
      for (let i = 0; i < grad.length; i++) {
        gg += grad[i] * grad[i];
        ghg += grad[i] * hg[i];
      }
      values[j] = gg > 0 ? ghg / gg : NaN;
      gradSq[j] = gg;
      losses[j] = loss;
    }
    const { mean, se } = meanAndError(values);
    return { values, gradSq, losses, mean, se };
  }

  destroy(): void {
    this.engine.destroy();
    this.data.x.destroy();
    this.data.y.destroy();
  }
}

/** Mean and standard error of the mean of the finite values (se NaN below two). */
export function meanAndError(v: ArrayLike<number>): { mean: number; se: number } {
  const xs = Array.from(v).filter(Number.isFinite);
  const n = xs.length;
  if (!n) return { mean: NaN, se: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, se: NaN };
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(variance / n) };
}
