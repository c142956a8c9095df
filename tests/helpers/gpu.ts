/** One GPU context per test file (Dawn in Node; SwiftShader when there is no GPU). */
import { afterAll, beforeAll } from 'vitest';
import { acquireGpu, type GpuContext } from '../../src/gpu/device.ts';

/**
 * Call at the top level of a test file; returns a getter for the context, valid inside tests.
 * After the file, any uncaptured WebGPU error fails it (they would otherwise only be printed).
 */
export function useGpu(): () => GpuContext {
  let ctx: GpuContext | null = null;
  beforeAll(async () => {
    ctx = await acquireGpu();
  });
  afterAll(() => {
    if (!ctx) return;
    const errors = [...ctx.uncapturedErrors];
    ctx.destroy();
    if (errors.length) throw new Error(`uncaptured WebGPU errors:\n${errors.join('\n')}`);
  });
  return () => {
    if (!ctx) throw new Error('GPU context not ready: call useGpu() at the top level of the test file');
    return ctx;
  };
}

/** Deterministic test data in [-scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}
