/**
 * Buffer creation and read-back. Every buffer is labelled. Read-back goes through a staging
 * buffer and waits gently (src/gpu/sync.ts) so Dawn's busy-polling does not steal a core from
 * the GPU work it is waiting for.
 */
import type { GpuContext } from './device.ts';
import { gentleWait } from './sync.ts';

/** Evaluated on call: in Node the GPUBufferUsage global exists only once Dawn has loaded. */
export function storageUsage(): number {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

/** A storage buffer (also copy source and destination), zero-filled or holding `data`. */
export function createStorage(ctx: GpuContext, label: string, sizeOrData: number | ArrayBufferView, extraUsage = 0): GPUBuffer {
  const bytes = typeof sizeOrData === 'number' ? sizeOrData : sizeOrData.byteLength;
  if (!(Number.isInteger(bytes) && bytes >= 0)) throw new Error(`${label}: buffer size must be a whole number of bytes, got ${bytes}`);
  const max = ctx.device.limits.maxBufferSize;
  const size = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (size > max) throw new Error(`${label}: ${size} bytes exceed this adapter's maxBufferSize ${max}`);
  const buffer = ctx.device.createBuffer({
    label,
    size,
    usage: storageUsage() | extraUsage,
    mappedAtCreation: typeof sizeOrData !== 'number',
  });
  if (typeof sizeOrData !== 'number') {
    const src = new Uint8Array(sizeOrData.buffer, sizeOrData.byteOffset, sizeOrData.byteLength);
    new Uint8Array(buffer.getMappedRange()).set(src);
    buffer.unmap();
  }
  return buffer;
}

export function writeBuffer(ctx: GpuContext, buffer: GPUBuffer, data: ArrayBufferView, offset = 0): void {
  if (offset + data.byteLength > buffer.size) {
    throw new Error(`${buffer.label}: write of ${data.byteLength} bytes at ${offset} exceeds size ${buffer.size}`);
  }
  ctx.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Copies [offset, offset+size) of `buffer` to the CPU. `expectedMs` is how long the GPU work
 * already submitted will take; the wait sleeps through most of it before asking Dawn to poll.
 */
export async function readBuffer(ctx: GpuContext, buffer: GPUBuffer, offset = 0, size = buffer.size - offset, expectedMs = 0): Promise<ArrayBuffer> {
  const padded = Math.ceil(size / 4) * 4;
  const staging = ctx.device.createBuffer({
    label: `${buffer.label}.readback`,
    size: padded,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = ctx.device.createCommandEncoder({ label: `${buffer.label}.readback.encoder` });
  enc.copyBufferToBuffer(buffer, offset, staging, 0, padded);
  ctx.device.queue.submit([enc.finish()]);
  await gentleWait(expectedMs, () => staging.mapAsync(GPUMapMode.READ));
  const out = staging.getMappedRange().slice(0, size);
  staging.unmap();
  staging.destroy();
  return out;
}

export async function readF32(ctx: GpuContext, buffer: GPUBuffer, offset = 0, count?: number, expectedMs = 0): Promise<Float32Array> {
  const size = count === undefined ? buffer.size - offset : count * 4;
  return new Float32Array(await readBuffer(ctx, buffer, offset, size, expectedMs));
}

export async function readU32(ctx: GpuContext, buffer: GPUBuffer, offset = 0, count?: number, expectedMs = 0): Promise<Uint32Array> {
  const size = count === undefined ? buffer.size - offset : count * 4;
  return new Uint32Array(await readBuffer(ctx, buffer, offset, size, expectedMs));
}

/** Waits until all submitted work is done (gently, see sync.ts). */
export async function finish(ctx: GpuContext, expectedMs = 0): Promise<void> {
  await gentleWait(expectedMs, () => ctx.device.queue.onSubmittedWorkDone());
}

const stubs = new WeakMap<GPUDevice, GPUBuffer[]>();

/**
 * A 16-byte stand-in for a binding a pipeline declares but, by its constants, never touches (e.g.
 * the row indices of a kernel that reads its rows in order). Slot 0 serves every read-only binding
 * (read-only bindings may share a buffer); a writable binding needs a slot of its own (1, 2, …),
 * since no two bindings of a dispatch may alias where one is writable.
 */
export function stubBuffer(ctx: GpuContext, slot = 0): GPUBuffer {
  let list = stubs.get(ctx.device);
  if (!list) stubs.set(ctx.device, (list = []));
  return (list[slot] ??= createStorage(ctx, `stub${slot}`, 16));
}
