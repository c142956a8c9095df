/** shaders/sgd.wgsl: w ← w − lr·(g + wd·w), or with momentum v ← μv + (g + wd·w), w ← w − lr·v. */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';

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
   * (WebGPU forbids aliasing a writable binding).
   */
  bind(b: { w: BufferResource; g: BufferResource; v: BufferResource }, label?: string): GPUBindGroup {
    const buf = (r: BufferResource): GPUBuffer => ('buffer' in r ? r.buffer : r);
    if (buf(b.v) === buf(b.w) || buf(b.v) === buf(b.g)) {
      throw new Error(`${this.kernel.label}: v must be a buffer of its own, not w or g (writable bindings may not alias)`);
    }
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: { count: number; lr: number; weightDecay: number; momentum: number }): void {
    const wg = this.kernel.workgroupSize[0];
    // Enough workgroups to occupy every core of a software adapter or every SM of a GPU, but no
    // more than the vector needs; the grid-stride loop covers the rest.
    const workgroups = Math.max(1, Math.min(Math.ceil(s.count / wg), 256));
    batch.dispatch(
      this.kernel,
      bindGroup,
      { count: s.count, lr: s.lr, weight_decay: s.weightDecay, momentum: s.momentum, grid_stride: workgroups * wg },
      [workgroups],
    );
  }
}
