/** shaders/softmax_ce.wgsl: per-sample loss, dz = (softmax − onehot)·scale, [loss sum, correct] per slot. */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';

export class SoftmaxCe {
  private constructor(readonly kernel: Kernel) {}

  /** writeGrad false: losses and metrics only (evaluation, flatness probes). */
  static async create(ctx: GpuContext, opts: { writeGrad: boolean; label?: string }): Promise<SoftmaxCe> {
    const kernel = await Kernel.create(ctx, {
      shader: 'softmax_ce',
      label: opts.label ?? `softmax_ce${opts.writeGrad ? '' : '.eval'}`,
      constants: { WRITE_GRAD: opts.writeGrad },
    });
    return new SoftmaxCe(kernel);
  }

  bind(b: { z: BufferResource; y: BufferResource; dz: BufferResource; losses: BufferResource; metrics: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: { rows: number; classes: number; gradScale: number; slot: number }): void {
    batch.dispatch(this.kernel, bindGroup, { rows: s.rows, classes: s.classes, grad_scale: s.gradScale, slot: s.slot }, [1]);
  }
}
