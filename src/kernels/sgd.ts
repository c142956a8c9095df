/**
 * shaders/sgd.wgsl: w ← w − lr·(g + wd·w), or with momentum v ← μv + (g + wd·w), w ← w − lr·v, for
 * R replicas at once (grid z), each with its lr, wd and μ from a settings buffer
 * (src/kernels/replica-settings.ts).
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { replicaCount, requiredStride, type ReplicaSpan } from './replicas.ts';

export class Sgd {
  private constructor(readonly kernel: Kernel, readonly momentum: boolean) {}

  static async create(ctx: GpuContext, opts: { momentum: boolean; label?: string }): Promise<Sgd> {
    const kernel = await Kernel.create(ctx, {
      shader: 'sgd',
      label: opts.label ?? `sgd${opts.momentum ? '.momentum' : ''}`,
      constants: { MOMENTUM: opts.momentum },
    });
    return new Sgd(kernel, opts.momentum);
  }

  /**
   * Without momentum `v` is bound but never touched; it may be any storage buffer except w or g
   * (WebGPU forbids aliasing a writable binding). `hyper`: R settings records.
   */
  bind(b: { w: BufferResource; g: BufferResource; v: BufferResource; hyper: BufferResource }, label?: string): GPUBindGroup {
    const buf = (r: BufferResource): GPUBuffer => ('buffer' in r ? r.buffer : r);
    if (buf(b.v) === buf(b.w) || buf(b.v) === buf(b.g)) {
      throw new Error(`${this.kernel.label}: v must be a buffer of its own, not w or g (writable bindings may not alias)`);
    }
    return this.kernel.bindGroup(b, label);
  }

  /** `count` parameters per replica, replica r's vector at r·stride (stride needed for R > 1). */
  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: { count: number; stride?: number } & ReplicaSpan): void {
    const R = replicaCount(s, this.kernel.label);
    const wg = this.kernel.workgroupSize[0];
    // ~8 parameters per thread: enough workgroups for every core or SM, few enough that per-
    // workgroup cost (large on SwiftShader: 256 workgroups for 42k parameters took 1 ms) stays small.
    const workgroups = Math.max(1, Math.min(Math.ceil(s.count / (wg * 8)), 1024));
    batch.dispatch(
      this.kernel,
      bindGroup,
      { count: s.count, stride: requiredStride(s.stride, R, this.kernel.label, 'stride'), grid_stride: workgroups * wg },
      [workgroups, 1, R],
    );
  }
}
