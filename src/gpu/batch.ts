/**
 * A batch of GPU work for one submit: many dispatches in one compute pass, copies between them,
 * uniforms packed into the shared arena. Training encodes hundreds of SGD steps into one batch so
 * the GPU never waits for JavaScript between steps.
 *
 * With a Profiler attached each dispatch gets its own pass with timestamp writes, so the time of
 * every kernel is measured on the GPU (only where the adapter has timestamp-query).
 */
import type { GpuContext } from './device.ts';
import type { Kernel } from './kernel.ts';
import type { UniformValues } from './uniforms.ts';
import { uniformArena, type UniformArena } from './uniform-arena.ts';
import type { Profiler } from './profiler.ts';

export class GpuBatch {
  private encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | null = null;
  private readonly arena: UniformArena;
  private dispatches = 0;
  /** Dispatches encoded over the life of this batch, across automatic flushes. */
  totalDispatches = 0;

  /**
   * One compute pass per dispatch instead of one long pass. Some drivers track hazards across a
   * long pass more cheaply than they begin passes, others the reverse; bench/ measures both.
   */
  readonly passPerDispatch: boolean;

  constructor(readonly ctx: GpuContext, readonly label = 'batch', readonly profiler: Profiler | null = null, passPerDispatch = false) {
    this.passPerDispatch = passPerDispatch;
    this.arena = uniformArena(ctx);
    this.arena.claim(this);
    this.encoder = ctx.device.createCommandEncoder({ label: `${label}.encoder` });
  }

  dispatch(kernel: Kernel, bindGroup: GPUBindGroup, uniforms: UniformValues, workgroups: [number, number?, number?]): void {
    this.checkUsable();
    const [x, y = 1, z = 1] = workgroups;
    const lim = this.ctx.device.limits.maxComputeWorkgroupsPerDimension;
    let offset = 0;
    let allocated = false;
    try {
      if (x > lim || y > lim || z > lim) {
        throw new Error(`${kernel.label}: dispatch (${x}, ${y}, ${z}) exceeds maxComputeWorkgroupsPerDimension ${lim}`);
      }
      if (kernel.hasUniforms) {
        offset = this.arena.alloc(this, kernel.uniformSize);
        if (offset < 0) {
          // Arena full: submit what is encoded (with its uniforms) and continue in a fresh encoder.
          this.flush();
          offset = this.arena.alloc(this, kernel.uniformSize);
        }
        allocated = offset >= 0;
        kernel.packUniforms(uniforms, this.arena.view, offset);
      } else {
        kernel.packUniforms(uniforms, this.arena.view, 0);
      }
    } catch (e) {
      // A bad dispatch (a misspelt uniform field, too many workgroups) encodes nothing: its arena
      // slot is given back. The batch stays usable, but if it is dropped instead of submitted, the
      // next batch that needs the shared arena takes it over (abandoning this one) rather than
      // failing with "another batch has unsubmitted dispatches": the first error stays the one seen.
      if (allocated) this.arena.rollback(this, offset);
      this.failedWith ??= (e as Error).message;
      throw e;
    }
    const pass = this.computePass(kernel.label);
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, bindGroup, kernel.hasUniforms ? [offset] : []);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler || this.passPerDispatch) this.endPass();
    this.dispatches++;
    this.totalDispatches++;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.checkUsable();
    this.endPass();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  clear(buffer: GPUBuffer, offset = 0, size?: number): void {
    this.endPass();
    this.encoder.clearBuffer(buffer, offset, size);
  }

  /** Direct access for work the batch does not wrap (e.g. resolveQuerySet). Ends the open pass. */
  rawEncoder(): GPUCommandEncoder {
    this.endPass();
    return this.encoder;
  }

  /**
   * Drops everything encoded since the last flush (never submitted) and frees the uniform arena;
   * later use of this batch throws. For an error in the middle of encoding.
   */
  abandon(why = 'abandoned'): void {
    if (this.abandoned !== null) return;
    this.abandoned = why;
    if (this.pass) {
      try {
        this.pass.end();
      } catch {
        // The pass may already be invalid; the encoder is dropped unsubmitted either way.
      }
      this.pass = null;
    }
    this.arena.release(this);
  }

  private abandoned: string | null = null;
  /** The first error of a dispatch of this batch, if any. */
  failedWith: string | null = null;

  private checkUsable(): void {
    if (this.abandoned !== null) throw new Error(`GpuBatch '${this.label}' was abandoned after an error (${this.abandoned}); start a new batch`);
  }

  /** Submits everything encoded so far; the batch stays usable. */
  flush(): void {
    this.checkUsable();
    this.endPass();
    this.profiler?.resolve(this.encoder);
    this.arena.flush();
    this.ctx.device.queue.submit([this.encoder.finish({ label: `${this.label}.commands` })]);
    this.encoder = this.ctx.device.createCommandEncoder({ label: `${this.label}.encoder` });
    this.dispatches = 0;
  }

  /** Submits and marks the batch finished. */
  submit(): void {
    this.flush();
  }

  private computePass(kernelLabel: string): GPUComputePassEncoder {
    if (this.pass) return this.pass;
    const timestampWrites = this.profiler?.nextPass(kernelLabel);
    this.pass = this.encoder.beginComputePass({
      label: `${this.label}.pass`,
      ...(timestampWrites ? { timestampWrites } : {}),
    });
    return this.pass;
  }

  private endPass(): void {
    if (!this.pass) return;
    this.pass.end();
    this.pass = null;
  }
}
