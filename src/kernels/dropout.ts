/**
 * shaders/dropout.wgsl: inverted dropout with a counter-based (Threefry) mask. `forward` writes
 * mask = keep·1/(1−p) and y = h·mask; `backward` scales a gradient in place by the stored mask.
 * The mask is a pure function of (seed, layer, step, element): src/kernels/dropout.ref.ts. R
 * replicas per dispatch (grid z), each with the seed and rate of its settings record
 * (src/kernels/replica-settings.ts).
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { replicaCount, type ReplicaSpan } from './replicas.ts';

/** Key word 1 of the dropout stream of layer l is DROPOUT_STREAM + l (randnet uses 0.. and 0x80000000). */
export const DROPOUT_STREAM = 0x40000000;

/** Highest dropout rate accepted (p = 1 would drop everything and scale by ∞). */
export const MAX_DROPOUT = 0.95;

export interface DropoutDispatch extends ReplicaSpan {
  /** Elements per replica (rows·width). */
  count: number;
  /** Hidden layer index (its output is dropped). */
  layer: number;
  /** SGD step (1-based): a new mask per step. */
  step: number;
}

/** round(p·2³²) clamped to u32: drop when the 32-bit draw is below it, so P(drop) = threshold/2³². */
export function dropoutThreshold(rate: number): number {
  if (!(Number.isFinite(rate) && rate >= 0 && rate <= MAX_DROPOUT)) {
    throw new Error(`dropout rate must be in [0, ${MAX_DROPOUT}], got ${rate}`);
  }
  return Math.min(Math.round(rate * 4294967296), 4294967295);
}

export function dropoutScale(rate: number): number {
  return 1 / (1 - rate);
}

export class Dropout {
  private constructor(readonly forwardKernel: Kernel, readonly backwardKernel: Kernel) {}

  static async create(ctx: GpuContext, opts: { label?: string } = {}): Promise<Dropout> {
    const label = opts.label ?? 'dropout';
    const [f, b] = await Promise.all([
      Kernel.create(ctx, { shader: 'dropout', entry: 'forward', label: `${label}.forward` }),
      Kernel.create(ctx, { shader: 'dropout', entry: 'backward', label: `${label}.backward` }),
    ]);
    return new Dropout(f, b);
  }

  /** `settings`: R replica settings records (seed and rate of each replica's mask stream). */
  bindForward(b: { h: BufferResource; y: BufferResource; mask: BufferResource; settings: BufferResource }, label?: string): GPUBindGroup {
    return this.forwardKernel.bindGroup(b, label);
  }

  bindBackward(b: { mask: BufferResource; dz: BufferResource }, label?: string): GPUBindGroup {
    return this.backwardKernel.bindGroup(b, label);
  }

  private grid(kernel: Kernel, count: number): { groups: [number, number]; rowPairs: number } {
    const wg = kernel.workgroupSize[0];
    const pairs = Math.max(1, Math.ceil(count / 2));
    const lim = kernel.ctx.device.limits.maxComputeWorkgroupsPerDimension;
    const gx = Math.min(Math.ceil(pairs / wg), lim);
    const rowPairs = gx * wg;
    return { groups: [gx, Math.ceil(pairs / rowPairs)], rowPairs };
  }

  encodeForward(batch: GpuBatch, bg: GPUBindGroup, d: DropoutDispatch): void {
    const R = replicaCount(d, this.forwardKernel.label);
    if (!(Number.isInteger(d.step) && d.step >= 0 && d.step <= 0xffffffff)) throw new Error(`dropout: step must be a u32, got ${d.step}`);
    const g = this.grid(this.forwardKernel, d.count);
    batch.dispatch(this.forwardKernel, bg, { count: d.count, stream: (DROPOUT_STREAM + d.layer) >>> 0, step: d.step, row_pairs: g.rowPairs }, [...g.groups, R]);
  }

  /** dz ← dz ⊙ mask over R blocks of `count` elements (only count and row_pairs matter). */
  encodeBackward(batch: GpuBatch, bg: GPUBindGroup, count: number, replicas = 1): void {
    const R = replicaCount({ replicas }, this.backwardKernel.label);
    const g = this.grid(this.backwardKernel, count);
    batch.dispatch(this.backwardKernel, bg, { count, stream: 0, step: 0, row_pairs: g.rowPairs }, [...g.groups, R]);
  }
}
