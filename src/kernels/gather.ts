/** shaders/gather.wgsl: xb[r, i] = data[idx[offset + r·B + i]], yb[r, i] = labels[…], R replicas (grid z). */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { replicaCount, type ReplicaSpan } from './replicas.ts';

export class Gather {
  private constructor(readonly kernel: Kernel) {}

  static async create(ctx: GpuContext, opts: { label?: string } = {}): Promise<Gather> {
    return new Gather(await Kernel.create(ctx, { shader: 'gather', label: opts.label ?? 'gather' }));
  }

  bind(b: { data: BufferResource; labels: BufferResource; idx: BufferResource; xb: BufferResource; yb: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: { rows: number; dim: number; offset: number; n: number } & ReplicaSpan): void {
    const R = replicaCount(s, this.kernel.label);
    batch.dispatch(this.kernel, bindGroup, { rows: s.rows, dim: s.dim, offset: s.offset, n: s.n }, [s.rows, 1, R]);
  }
}
