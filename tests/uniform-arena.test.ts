/**
 * A dispatch whose uniforms cannot be packed (a misspelt field) fails with that error, and only
 * that one: the batch is abandoned, the shared uniform arena is free again, and the next batch of
 * the process works (it used to fail with "another batch still has unsubmitted dispatches").
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { createStorage, readF32 } from '../src/gpu/buffers.ts';
import { Kernel } from '../src/gpu/kernel.ts';

const ctx = useGpu();

describe('uniform arena after a packing error', () => {
  it('reports the misspelt field, then lets the next batch run', async () => {
    const kernel = await Kernel.create(ctx(), { shader: 'grad_noise_scale', entry: 'grad_sq' });
    const grad = createStorage(ctx(), 'arena.grad', Float32Array.from([1, 2, 3]));
    const out = createStorage(ctx(), 'arena.out', 8);
    const bg = kernel.bindGroup({ grad, out });
    const good = { rows: 1, k: 1, n: 1, p: 3, slot: 0, grad_scale: 1 };
    const first = new GpuBatch(ctx(), 'first');
    first.dispatch(kernel, bg, good, [1]);
    const { p, ...rest } = good;
    expect(() => first.dispatch(kernel, bg, { ...rest, pp: p }, [1])).toThrow(/has no field 'pp'/);
    expect(() => first.submit()).toThrow(/abandoned after an error \(.*has no field 'pp'/);
    const second = new GpuBatch(ctx(), 'second');
    second.dispatch(kernel, bg, good, [1]);
    second.submit();
    expect(Array.from(await readF32(ctx(), out, 0, 2))).toEqual([0, 14]);
  });
});
