import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy } from '../src/util/npy.ts';

describe('npy', () => {
  it('round-trips every dtype and shape', () => {
    const cases = [
      [new Float32Array([1.5, -2, 3e-8]), [3]],
      [new Float64Array([Math.PI, -0, 1e300, 7, 8, 9]), [2, 3]],
      [new Int32Array([-5, 7]), [2, 1]],
      [new Uint32Array([0, 4294967295]), [2]],
      [new Uint8Array([0, 255, 3, 4]), [2, 2]],
    ] as const;
    for (const [data, shape] of cases) {
      const bytes = encodeNpy(data, [...shape]);
      expect((10 + (bytes[8] | (bytes[9] << 8))) % 64).toBe(0);
      const back = decodeNpy(bytes);
      expect(back.shape).toEqual(shape);
      expect(Array.from(back.data)).toEqual(Array.from(data));
      expect(back.data.constructor).toBe(data.constructor);
    }
  });

  it('reads small files from disk (Node Buffers share a memory pool)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    const path = join(dir, 'small.npy');
    writeFileSync(path, encodeNpy(new Float32Array([0.25, 0.5, 0.75]), [3]));
    // A few unrelated small buffers first, so the file lands at a non-zero pool offset.
    readFileSync(path);
    readFileSync(path);
    const back = decodeNpy(readFileSync(path));
    expect(Array.from(back.data)).toEqual([0.25, 0.5, 0.75]);
  });

  it('rejects what it cannot read', () => {
    expect(() => decodeNpy(new Uint8Array([1, 2, 3]))).toThrow(/bad magic/);
    const bytes = encodeNpy(new Float32Array(4), [4]);
    expect(() => decodeNpy(bytes.subarray(0, bytes.length - 4))).toThrow(/truncated/);
    expect(() => encodeNpy(new Float32Array(3), [2, 2])).toThrow(/shape \[2, 2\] holds 4 values, data has 3/);
  });
});
