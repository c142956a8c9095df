/** shaders/gather.wgsl: xb[r] = data[idx[offset + r]], yb[r] = labels[idx[offset + r]]. */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';

export class Gather {
  private constructor(readonly kernel: Kernel) {}

  static async create(ctx: GpuContext, opts: { label?: string } = {}): Promise<Gather> {
    return new Gather(await Kernel.create(ctx, { shader: 'gather', label: opts.label ?? 'gather' }));
  }

  bind(b: { data: BufferResource; labels: BufferResource; idx: BufferResource; xb: BufferResource; yb: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: { rows: number; dim: number; offset: number; n: number }): void {
    batch.dispatch(this.kernel, bindGroup, { rows: s.rows, dim: s.dim, offset: s.offset, n: s.n }, [s.rows]);
  }
}
