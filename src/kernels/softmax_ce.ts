/**
 * shaders/softmax_ce.wgsl: per-sample loss, dz = (softmax − onehot)·scale, [loss sum, correct] per
 * slot and replica (metrics[2·(slot·R + r)]), R replicas (one workgroup each, grid z).
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { indexRows } from './dense_forward.ts';
import { replicaCount, type ReplicaSpan } from './replicas.ts';

export interface SoftmaxCeDispatch extends ReplicaSpan {
  rows: number;
  classes: number;
  gradScale: number;
  slot: number;
  /** Rows between replicas' blocks of z, dz and losses (default rows; more for a short last chunk). */
  blockRows?: number;
  /** Labels between replicas' label vectors (default rows; 0: one label vector for all). */
  yStride?: number;
  /** Indexed kernels: first row index of replica 0 and indices between replicas (default rows). */
  idxOffset?: number;
  idxStride?: number;
}

export class SoftmaxCe {
  private constructor(readonly kernel: Kernel, readonly indexed: boolean) {}

  /**
   * writeGrad false: losses and metrics only (evaluation, flatness probes). indexed: labels read
   * as y[rows[…]] from a dataset's labels (the minibatch gather fused in).
   */
  static async create(ctx: GpuContext, opts: { writeGrad: boolean; indexed?: boolean; label?: string }): Promise<SoftmaxCe> {
    const indexed = opts.indexed ?? false;
    const kernel = await Kernel.create(ctx, {
      shader: 'softmax_ce',
      label: opts.label ?? `softmax_ce${opts.writeGrad ? '' : '.eval'}${indexed ? '.indexed' : ''}`,
      constants: { WRITE_GRAD: opts.writeGrad, INDEXED: indexed },
    });
    return new SoftmaxCe(kernel, indexed);
  }

  bind(b: { z: BufferResource; y: BufferResource; dz: BufferResource; losses: BufferResource; metrics: BufferResource; rows?: BufferResource }, label?: string): GPUBindGroup {
    const { rows, ...rest } = b;
    return this.kernel.bindGroup({ ...rest, rows: indexRows(this.kernel.ctx, rows, this.indexed, this.kernel.label) }, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: SoftmaxCeDispatch): void {
    const R = replicaCount(s, this.kernel.label);
    batch.dispatch(
      this.kernel,
      bindGroup,
      {
        rows: s.rows, classes: s.classes, grad_scale: s.gradScale, slot: s.slot, replicas: R, block_rows: s.blockRows ?? s.rows,
        y_stride: s.yStride ?? s.rows, idx_offset: s.idxOffset ?? 0, idx_stride: s.idxStride ?? s.rows,
      },
      [1, 1, R],
    );
  }
}
