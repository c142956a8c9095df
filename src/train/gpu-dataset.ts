/**
 * A dataset split uploaded once to the GPU: features (N, D) f32 and labels (N,) u32, contiguous,
 * so minibatches are gathered by index and evaluation reads aligned chunks directly.
 */
import type { GpuContext } from '../gpu/device.ts';
import { createStorage } from '../gpu/buffers.ts';

export interface GpuDataset {
  x: GPUBuffer;
  y: GPUBuffer;
  n: number;
  d: number;
  classes: number;
  label: string;
}

export function uploadDataset(ctx: GpuContext, label: string, x: Float32Array, y: ArrayLike<number>, d: number, classes: number): GpuDataset {
  const n = y.length;
  if (x.length !== n * d) throw new Error(`${label}: features hold ${x.length} values, expected ${n}×${d} = ${n * d}`);
  const labels = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (!(Number.isInteger(v) && v >= 0 && v < classes)) throw new Error(`${label}: label ${i} is ${v}, outside [0, ${classes - 1}]`);
    labels[i] = v;
  }
  return { x: createStorage(ctx, `${label}.x`, x), y: createStorage(ctx, `${label}.y`, labels), n, d, classes, label };
}
