/**
 * The per-replica settings record that shaders/sgd.wgsl and shaders/dropout.wgsl read from a
 * storage buffer (struct ReplicaSettings, 32 bytes): each replica of an ensemble has its own
 * learning rate, weight decay, momentum and dropout stream. Written with queue.writeBuffer when
 * they change, so a new value applies from the next submitted command buffer on.
 */
import type { GpuContext } from '../gpu/device.ts';
import { createStorage, writeBuffer } from '../gpu/buffers.ts';
import { dropoutScale, dropoutThreshold } from './dropout.ts';

export interface ReplicaSettings {
  lr: number;
  weightDecay: number;
  momentum: number;
  /** Dropout: drop probability p (0: keep all) and the key of the replica's mask stream. */
  dropout: number;
  seed: number;
}

export const REPLICA_SETTINGS_BYTES = 32;

export function packReplicaSettings(list: readonly ReplicaSettings[]): ArrayBuffer {
  const out = new ArrayBuffer(Math.max(1, list.length) * REPLICA_SETTINGS_BYTES);
  const v = new DataView(out);
  list.forEach((s, r) => {
    const o = r * REPLICA_SETTINGS_BYTES;
    v.setFloat32(o, s.lr, true);
    v.setFloat32(o + 4, s.weightDecay, true);
    v.setFloat32(o + 8, s.momentum, true);
    v.setFloat32(o + 12, dropoutScale(s.dropout), true);
    v.setUint32(o + 16, s.seed >>> 0, true);
    v.setUint32(o + 20, dropoutThreshold(s.dropout), true);
  });
  return out;
}

/** A buffer of R settings records (written now; update with writeReplicaSettings). */
export function createReplicaSettings(ctx: GpuContext, label: string, list: readonly ReplicaSettings[]): GPUBuffer {
  return createStorage(ctx, label, new Uint8Array(packReplicaSettings(list)));
}

export function writeReplicaSettings(ctx: GpuContext, buffer: GPUBuffer, list: readonly ReplicaSettings[]): void {
  const bytes = new Uint8Array(packReplicaSettings(list));
  if (bytes.byteLength > buffer.size) throw new Error(`${buffer.label}: ${list.length} replica settings do not fit (${buffer.size} bytes)`);
  writeBuffer(ctx, buffer, bytes);
}
