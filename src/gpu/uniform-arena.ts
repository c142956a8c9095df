/**
 * One uniform buffer per device that every dispatch's uniform struct is written into, each at
 * its own 256-byte-aligned slot, bound with a dynamic offset. A command buffer of a thousand SGD
 * steps then costs one writeBuffer for all their uniforms, and no per-step bind groups.
 *
 * Reuse is safe: queue.writeBuffer and queue.submit execute in call order, so the next batch's
 * uniforms overwrite the arena only after the previous submit has consumed them. Two batches must
 * not be encoding at the same time (their slots would mix): a batch claims the arena and another
 * batch's claim while slots are unflushed is an error.
 */
import type { GpuContext } from './device.ts';

export class UniformArena {
  readonly buffer: GPUBuffer;
  readonly align: number;
  readonly capacity: number;
  private readonly bytes: ArrayBuffer;
  readonly view: DataView;
  private used = 0;
  private owner: object | null = null;

  constructor(readonly ctx: GpuContext, capacity = 1 << 20) {
    this.align = ctx.device.limits.minUniformBufferOffsetAlignment;
    this.capacity = capacity;
    this.buffer = ctx.device.createBuffer({
      label: 'uniforms.arena',
      size: capacity,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.bytes = new ArrayBuffer(capacity);
    this.view = new DataView(this.bytes);
  }

  /**
   * Makes `batch` the encoder whose uniforms the arena collects until the next flush. A batch
   * whose encoding failed (failedWith set) and that was left unsubmitted loses the arena to the
   * next one (it is abandoned: its later use throws with its first error).
   */
  claim(batch: object): void {
    if (this.owner && this.owner !== batch && this.used > 0) {
      const failed = this.owner as { failedWith?: string | null; abandon?(why: string): void };
      if (failed.failedWith && failed.abandon) failed.abandon(failed.failedWith);
      else throw new Error('uniform arena: a GpuBatch was created while another still has unsubmitted dispatches; submit the first batch before encoding another');
    }
    this.owner = batch;
  }

  /** Gives back the slot at `offset` of a dispatch that failed (the last one allocated). */
  rollback(batch: object, offset: number): void {
    if (this.owner !== batch || offset < 0) return;
    if (offset < this.used) this.used = offset;
    if (this.used === 0) this.owner = null;
  }

  /** Offset of a fresh slot of `size` bytes for `batch`, or -1 when the arena is full (flush first). */
  alloc(batch: object, size: number): number {
    this.claim(batch);
    const at = Math.ceil(this.used / this.align) * this.align;
    if (at + size > this.capacity) return -1;
    this.used = at + size;
    return at;
  }

  /** Forgets the unsubmitted slots of `batch` (abandoned after an error): the arena is free again. */
  release(batch: object): void {
    if (this.owner !== batch) return;
    this.used = 0;
    this.owner = null;
  }

  /** Uploads the slots written since the last flush and starts over. Call right before submit. */
  flush(): void {
    if (this.used === 0) return;
    this.ctx.device.queue.writeBuffer(this.buffer, 0, this.bytes, 0, Math.ceil(this.used / 4) * 4);
    this.used = 0;
    this.owner = null;
  }

  get bytesUsed(): number {
    return this.used;
  }
}

const arenas = new WeakMap<GPUDevice, UniformArena>();

export function uniformArena(ctx: GpuContext): UniformArena {
  let a = arenas.get(ctx.device);
  if (!a) arenas.set(ctx.device, (a = new UniformArena(ctx)));
  return a;
}
