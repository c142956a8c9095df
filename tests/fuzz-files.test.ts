/**
 * Property-based: data files as they arrive broken — IDX files (plain and gzip) and .npy files,
 * valid ones mutated by truncation, appended bytes, flipped bytes, rewritten headers (dims, dtype,
 * shape, version, header length), and gzip streams that inflate past what their header declares.
 * Every file is either read exactly as its header says or refused with a message naming the file;
 * never a RangeError, a stack overflow or a multi-gigabyte allocation. Seeded (FUZZ_SEED).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { readIdx } from '../src/data/idx.ts';
import { decodeNpy, encodeNpy, type NpyArray } from '../src/util/npy.ts';
import { FUZZ_SEED, cleanly, cleanlyAsync } from './helpers/fuzz.ts';

const TYPES: [number, number][] = [[0x08, 1], [0x09, 1], [0x0b, 2], [0x0c, 4], [0x0d, 4], [0x0e, 8]];

/** A valid IDX file: type, 1–3 small dims, random payload. */
const idxFile = fc.record({
  type: fc.constantFrom(...TYPES),
  dims: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }),
  seed: fc.integer({ min: 0, max: 1e6 }),
}).map(({ type: [code, size], dims, seed }) => {
  const count = dims.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(4 + 4 * dims.length + count * size);
  out.set([0, 0, code, dims.length]);
  const v = new DataView(out.buffer);
  dims.forEach((d, k) => v.setUint32(4 + 4 * k, d, false));
  for (let i = 4 + 4 * dims.length, s = seed; i < out.length; i++) out[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
});

type Edit = (b: Uint8Array) => Uint8Array;
const edits = (maxPos: number): fc.Arbitrary<Edit> =>
  fc.oneof(
    fc.integer({ min: 0, max: maxPos }).map((n): Edit => (b) => b.slice(0, Math.min(n, b.length))),
    fc.uint8Array({ minLength: 1, maxLength: 9 }).map((extra): Edit => (b) => Uint8Array.from([...b, ...extra])),
    fc.tuple(fc.integer({ min: 0, max: maxPos }), fc.integer({ min: 0, max: 255 })).map(([at, x]): Edit => (b) => {
      const c = b.slice();
      if (c.length) c[at % c.length] = x;
      return c;
    }),
    // A dimension (or the header length) replaced by something large or absurd.
    fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom(0, 1, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 60000, 28)).map(([k, d]): Edit => (b) => {
      const c = b.slice();
      if (c.length >= 8 + 4 * k) new DataView(c.buffer).setUint32(4 + 4 * k, d, false);
      return c;
    }),
  );

describe('fuzzed IDX files', () => {
  it('2,500 mutated files, plain and gzip: read as declared or refused naming the file', async () => {
    let read = 0;
    await fc.assert(
      fc.asyncProperty(idxFile, fc.array(edits(120), { maxLength: 3 }), fc.constantFrom('plain', 'gzip', 'gzip-then-edit'), async (file, es, form) => {
        const edited = (b: Uint8Array): Uint8Array => es.reduce<Uint8Array>((x, e) => e(x), b);
        let bytes: Uint8Array = form === 'gzip' ? new Uint8Array(gzipSync(edited(file))) : edited(file);
        if (form === 'gzip-then-edit') bytes = edited(new Uint8Array(gzipSync(file)));
        const r = await cleanlyAsync(() => readIdx(bytes, 'fuzz.idx'), /IDX file fuzz\.idx/);
        if (r) {
          read++;
          expect(r.data.length).toBe(r.dims.reduce((a, b) => a * b, 1));
        }
      }),
      { seed: FUZZ_SEED, numRuns: 2500 },
    );
    console.log(`IDX: 2500 cases, ${read} read`);
    expect(read).toBeGreaterThan(100);
  }, 120_000);

  it('a gzip bomb is refused without inflating it: the header says 10 images, the stream holds 256 MB', async () => {
    const header = Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28]);
    const bomb = new Uint8Array(gzipSync(Buffer.concat([header, Buffer.alloc(256 << 20)]), { level: 9 }));
    const before = process.memoryUsage().arrayBuffers;
    await expect(readIdx(bomb, 'bomb.gz')).rejects.toThrow(/IDX file bomb\.gz: decompresses to more than the 7856 bytes its header declares/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
    // A header declaring more than sgdscope reads is refused before inflating anything.
    const huge = Uint8Array.from([0, 0, 0x0e, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0]);
    await expect(readIdx(new Uint8Array(gzipSync(huge)), 'huge.gz')).rejects.toThrow(/IDX file huge\.gz: dims \[4294967295, 256\] of double declare .* bytes, more than/);
  }, 60_000);
});

const npyArray = fc.oneof(
  fc.float32Array({ maxLength: 12 }).map((a): NpyArray => a),
  fc.float64Array({ maxLength: 12 }).map((a): NpyArray => a),
  fc.array(fc.integer({ min: -1e9, max: 1e9 }), { maxLength: 12 }).map((a): NpyArray => Int32Array.from(a)),
  fc.array(fc.nat(), { maxLength: 12 }).map((a): NpyArray => Uint32Array.from(a)),
  fc.uint8Array({ maxLength: 12 }).map((a): NpyArray => a),
);

/** Rewrites of the header text: what a hand-edited or foreign .npy may hold. */
const headerEdit = fc.oneof(
  fc.constantFrom("'<f4'", "'<f8'", "'>f4'", "'<i8'", "'|b1'", "'<u1'", "'O'", "''", "'<f4' '<f8'").map((d) => (h: string) => h.replace(/'descr': '[^']*'/, `'descr': ${d}`)),
  fc.constantFrom('(-200,)', '(3, -1)', '(99999999999, 99999999999)', '()', '(1e3,)', '(0x10,)', '(,)', '(3 4)', '(1, 2, 3, 4, 5, 6, 7)', '(2,', '((1,),)').map((sh) => (h: string) => h.replace(/'shape': \([^)]*\)/, `'shape': ${sh}`)),
  fc.constantFrom('True', 'Maybe', '1').map((f) => (h: string) => h.replace(/'fortran_order': False/, `'fortran_order': ${f}`)),
  fc.string({ maxLength: 6 }).map((junk) => (h: string) => `${junk}${h.slice(junk.length)}`),
);

function withHeader(bytes: Uint8Array, edit: (h: string) => string): Uint8Array {
  const len = bytes[8] | (bytes[9] << 8);
  const header = edit(String.fromCharCode(...bytes.subarray(10, 10 + len)));
  const out = new Uint8Array(10 + header.length + bytes.length - 10 - len);
  out.set(bytes.subarray(0, 8));
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i) & 0xff;
  out.set(bytes.subarray(10 + len), 10 + header.length);
  return out;
}

describe('fuzzed .npy files', () => {
  it('2,500 mutated files: read as their header says or refused naming the file', () => {
    let read = 0;
    fc.assert(
      fc.property(npyArray, fc.option(headerEdit, { nil: undefined }), fc.array(edits(140), { maxLength: 3 }), fc.constantFrom(0, 1, 2, 3, 9), (a, he, es, version) => {
        let bytes = encodeNpy(a, [a.length]);
        if (he) bytes = withHeader(bytes, he);
        if (version !== 1) bytes = Uint8Array.from([...bytes.subarray(0, 6), version, 0, bytes[8], bytes[9], 0, 0, ...bytes.subarray(10)]);
        bytes = es.reduce<Uint8Array>((b, e) => e(b), bytes);
        const r = cleanly(() => decodeNpy(bytes, 'runs/x/weights_layer1.npy'), /^runs\/x\/weights_layer1\.npy: /);
        if (r) {
          read++;
          expect(r.data.length).toBe(r.shape.reduce((x, y) => x * y, 1));
        }
      }),
      { seed: FUZZ_SEED, numRuns: 2500 },
    );
    console.log(`npy: 2500 cases, ${read} read`);
    expect(read).toBeGreaterThan(50);
  });

  it('the findings of the issue: negative and absurd shapes, a huge header length', () => {
    const ok = encodeNpy(new Float32Array(50), [50]);
    expect(() => decodeNpy(withHeader(ok, (h) => h.replace('(50,)', '(-200,)')), 'w.npy')).toThrow(/^w\.npy: shape \(-200,\) is not a tuple of non-negative integers/);
    expect(() => decodeNpy(withHeader(ok, (h) => h.replace('(50,)', '(99999999999, 99999999999)')), 'w.npy')).toThrow(/^w\.npy: truncated: shape/);
    const v2 = Uint8Array.from([0x93, 78, 85, 77, 80, 89, 2, 0, 0xff, 0xff, 0xff, 0x7f, 123]);
    expect(() => decodeNpy(v2, 'w.npy')).toThrow(/^w\.npy: header length 2147483647 exceeds 10000 bytes/);
  });
});
