/**
 * How one dispatch spans R replicas (shaders/README.md, "Ensembles"): the grid's z is the
 * replica, and each operand of replica r starts r·stride floats into its binding. R = 1 is the
 * ordinary dispatch (z = 1; strides never multiply anything but 0).
 */
import type { BufferResource } from '../gpu/kernel.ts';

export interface ReplicaSpan {
  /** R: replicas in the dispatch (default 1). */
  replicas?: number;
}

export function replicaCount(s: ReplicaSpan, who: string): number {
  const r = s.replicas ?? 1;
  if (!(Number.isInteger(r) && r >= 1 && r <= 65535)) throw new Error(`${who}: replicas must be an integer in [1, 65535], got ${r}`);
  return r;
}

/** A stride that must be given once there is more than one replica (a default would be a guess). */
export function requiredStride(stride: number | undefined, replicas: number, who: string, what: string): number {
  if (stride !== undefined) {
    if (!(Number.isInteger(stride) && stride >= 0 && stride <= 0xffffffff)) throw new Error(`${who}: ${what} must be a u32 number of floats, got ${stride}`);
    return stride;
  }
  if (replicas > 1) throw new Error(`${who}: ${replicas} replicas need ${what} (floats between replicas' blocks)`);
  return 0;
}

/** Byte offset and size of a binding, for alignment checks of vec4 views. */
export function bindingRange(r: BufferResource): { buffer: GPUBuffer; offset: number; size: number } {
  const b: GPUBufferBinding = 'buffer' in r ? r : { buffer: r };
  const offset = b.offset ?? 0;
  return { buffer: b.buffer, offset, size: b.size ?? b.buffer.size - offset };
}

/**
 * The CPU reference of a kernel over R replicas, from its single-network reference: replica r's
 * output is the single reference on replica r's operand blocks (the spec every replica kernel
 * follows), the outputs laid end to end.
 */
export function replicaRef(replicas: number, one: (r: number) => ArrayLike<number>): Float64Array {
  const parts = Array.from({ length: replicas }, (_, r) => one(r));
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Replica r's block of `len` values of an operand laid out `stride` apart (stride 0: shared). */
export function replicaBlock<T extends Float32Array | Uint32Array | Float64Array>(a: T, r: number, stride: number, len: number): T {
  return a.subarray(r * stride, r * stride + len) as T;
}
