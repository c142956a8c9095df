/**
 * The framework's per-step ring (src/instruments/chunk-ring.ts) with more chunks in flight than
 * the trainer keeps: three chunks are encoded and submitted before the first is read; each read
 * returns that chunk's rows only, in step order, and the staging pool holds one buffer per chunk
 * in flight, reused afterwards. A chunk that is never read (a trainer that discarded it) is dropped.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { createStorage } from '../src/gpu/buffers.ts';
import { ChunkRing } from '../src/instruments/chunk-ring.ts';

const ctx = useGpu();

describe('the instruments ring', () => {
  it('reads each chunk back once, whatever the chunks in flight', async () => {
    // Region 0: 3 floats per row, region 1: 1 float (rows: at most 4 per chunk).
    const ring = new ChunkRing(ctx(), [{ floats: 3, rows: 4 }, { floats: 1, rows: 4 }]);
    const out = [createStorage(ctx(), 'ring.out0', 12), createStorage(ctx(), 'ring.out1', 4)];
    const encodeChunk = (first: number, steps: number): void => {
      const b = new GpuBatch(ctx(), 'ring');
      ring.startChunk();
      for (let s = first + 1; s <= first + steps; s++) {
        // The "measurement" of step s: (s, 2s, 3s) and −s, written on the GPU timeline.
        ctx().device.queue.writeBuffer(out[0], 0, Float32Array.from([s, 2 * s, 3 * s]));
        ctx().device.queue.writeBuffer(out[1], 0, Float32Array.from([-s]));
        ring.encodeRow(b, 0, out[0], s);
        if (s % 2 === 0) ring.encodeRow(b, 1, out[1], s);
        // Submitted before the next step's values are written.
        b.flush();
      }
      ring.endChunk(b, first);
      b.submit();
    };
    encodeChunk(0, 4);
    encodeChunk(4, 3);
    encodeChunk(7, 4);
    expect(ring.stagingCount).toBe(3);
    const a = (await ring.read(0))!;
    expect(a[0].steps).toEqual([1, 2, 3, 4]);
    expect(Array.from(a[0].rows)).toEqual([1, 2, 3, 2, 4, 6, 3, 6, 9, 4, 8, 12]);
    expect(a[1].steps).toEqual([2, 4]);
    expect(Array.from(a[1].rows)).toEqual([-2, -4]);
    // Chunk 4…7 is never read (discarded); chunk 7…11 is.
    const c = (await ring.read(7))!;
    expect(c[0].steps).toEqual([8, 9, 10, 11]);
    expect(Array.from(c[1].rows)).toEqual([-8, -10]);
    expect(await ring.read(7)).toBeNull();
    encodeChunk(11, 2);
    expect(ring.stagingCount).toBe(3);
    expect((await ring.read(11))![0].steps).toEqual([12, 13]);
    ring.destroy();
  });
});
