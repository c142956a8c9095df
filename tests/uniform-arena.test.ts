/**
 * A dispatch whose uniforms cannot be packed (a misspelt field) fails with that error, and only
 * that one: its arena slot is given back, and when the failed batch is dropped unsubmitted, the
 * next batch takes the shared uniform arena over (it used to fail, with every later dispatch of the
 * process, with "another batch still has unsubmitted dispatches"); the dropped batch then refuses
 * further use, naming its first error.
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
    // The first batch is dropped here, as a caller that caught the error would.
    const second = new GpuBatch(ctx(), 'second');
    second.dispatch(kernel, bg, good, [1]);
    second.submit();
    expect(Array.from(await readF32(ctx(), out, 0, 2))).toEqual([0, 14]);
    expect(() => first.submit()).toThrow(/abandoned after an error \(.*has no field 'pp'/);
    // A batch without errors still guards the arena.
    const third = new GpuBatch(ctx(), 'third');
    third.dispatch(kernel, bg, good, [1]);
    expect(() => new GpuBatch(ctx(), 'fourth')).toThrow(/another still has unsubmitted dispatches/);
    third.submit();
  });
});
