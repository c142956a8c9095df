// IDX reader, IDX → Dataset, IDX directories, Fashion-MNIST (src/data/idx*.ts, fashion.ts).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { classCounts, row } from '../src/data/dataset.ts';
import { FASHION_DIR, fashionAvailable, loadFashion } from '../src/data/fashion.ts';
import { gunzipNode, gunzipWeb } from '../src/data/gzip.ts';
import { loadIdxDataset } from '../src/data/idx-dataset.ts';
import { loadIdxDir, loadMnistIdx } from '../src/data/idx-dir.ts';
import { readIdx } from '../src/data/idx.ts';
import { loadDataset } from '../src/data/registry.ts';

/** Minimal IDX writer, independent of the reader: big-endian via DataView. */
function writeIdx(typeCode: number, dims: number[], values: ArrayLike<number>): Uint8Array {
  const size = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }[typeCode]!;
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + values.length * size);
  const v = new DataView(out.buffer);
  out[2] = typeCode;
  out[3] = dims.length;
  dims.forEach((n, k) => v.setUint32(4 + 4 * k, n, false));
  for (let i = 0; i < values.length; i++) {
    const at = header + i * size;
    const x = values[i];
    if (typeCode === 0x08) v.setUint8(at, x);
    else if (typeCode === 0x09) v.setInt8(at, x);
    else if (typeCode === 0x0b) v.setInt16(at, x, false);
    else if (typeCode === 0x0c) v.setInt32(at, x, false);
    else if (typeCode === 0x0d) v.setFloat32(at, x, false);
    else v.setFloat64(at, x, false);
  }
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'sgdscope-idx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readIdx', () => {
  const cases: [string, number, number[], number[], string][] = [
    ['ubyte', 0x08, [2, 3], [0, 1, 127, 128, 254, 255], 'Uint8Array'],
    ['byte', 0x09, [4], [-128, -1, 0, 127], 'Int8Array'],
    ['short', 0x0b, [2, 2], [-32768, -1, 258, 32767], 'Int16Array'],
    ['int', 0x0c, [1, 2, 2], [-(2 ** 31), -1, 65537, 2 ** 31 - 1], 'Int32Array'],
    ['float', 0x0d, [3], [1.5, -0.25, Math.fround(3.4e38)], 'Float32Array'],
    ['double', 0x0e, [2], [Math.PI, -1e300], 'Float64Array'],
  ];
  for (const [type, code, dims, values, ctor] of cases) {
    it(`round-trips ${type} (0x${code.toString(16)}), plain and gzip`, async () => {
      const bytes = writeIdx(code, dims, values);
      // Node Buffers too: their .slice() is a view, a classic source of wrong bytes.
      for (const input of [bytes, gzipSync(bytes), bytes.slice().buffer, Buffer.from(bytes)]) {
        const f = await readIdx(input, type);
        expect(f.type).toBe(type);
        expect(f.typeCode).toBe(code);
        expect(f.dims).toEqual(dims);
        expect(f.data.constructor.name).toBe(ctor);
        expect(Array.from(f.data)).toEqual(values);
      }
    });
  }

  it('reads big-endian (hand-written bytes, not the test writer)', async () => {
    const f = await readIdx(Uint8Array.of(0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe));
    expect(f.dims).toEqual([2]);
    expect(Array.from(f.data)).toEqual([258, -2]);
  });

  it('browser gunzip (DecompressionStream) agrees with zlib', async () => {
    const bytes = writeIdx(0x0c, [1000], Array.from({ length: 1000 }, (_, i) => i * 7919 - 3_000_000));
    const gz = gzipSync(bytes);
    expect(await gunzipWeb(gz, 't')).toEqual(bytes);
    expect(gunzipNode(gz, 't')).toEqual(bytes);
    await expect(gunzipWeb(gz.subarray(0, gz.length - 20), 'cut.gz')).rejects.toThrow(/cut\.gz: gzip decompression failed/);
  });

  it('gives a precise error for each malformed file', async () => {
    const ok = writeIdx(0x08, [3, 2], [1, 2, 3, 4, 5, 6]); // 8 + 4*2 + 6 = 18 bytes
    const bad: [Uint8Array, string][] = [
      [Uint8Array.of(0, 0, 8), 'IDX file f: truncated: 3 bytes, too short for the 4-byte magic number'],
      [Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0), 'IDX file f: bad magic 0x01000801: the first two bytes must be 0'],
      [Uint8Array.of(0, 0, 7, 1, 0, 0, 0, 0), 'IDX file f: bad magic 0x00000701: unknown type code 0x07'],
      [Uint8Array.of(0, 0, 8, 0), 'IDX file f: bad magic 0x00000800: declares 0 dimensions'],
      [ok.subarray(0, 10), 'IDX file f: truncated header: magic 0x00000802 declares 2 dims, expected 12 header bytes, got 10'],
      [ok.subarray(0, 16), 'IDX file f: truncated data: dims [3, 2] of ubyte need 18 bytes, got 16'],
      [Uint8Array.of(...ok, 0, 0), 'IDX file f: 2 trailing bytes: dims [3, 2] of ubyte need 18 bytes, got 20'],
      [writeIdx(0x0e, [2], [1, 2]).subarray(0, 20), 'IDX file f: truncated data: dims [2] of double need 24 bytes, got 20'],
    ];
    for (const [bytes, msg] of bad) await expect(readIdx(bytes, 'f')).rejects.toThrow(msg);
    await expect(readIdx(gzipSync(ok).subarray(0, 12), 'f.gz')).rejects.toThrow(/IDX file f\.gz: gzip decompression failed/);
    await expect(readIdx(gzipSync(ok.subarray(0, 16)), 'f.gz')).rejects.toThrow('IDX file f.gz: truncated data: dims [3, 2] of ubyte need 18 bytes, got 16');
  });
});

describe('loadIdxDataset', () => {
  const pixels = [0, 51, 102, 255, 255, 0, 17, 34, 1, 2, 3, 4]; // 3 images of 2×2
  const images = writeIdx(0x08, [3, 2, 2], pixels);
  const labels = writeIdx(0x08, [3], [2, 0, 1]);

  it('scales ubyte pixels to [0, 1], from bytes, ArrayBuffer, File and paths (plain and .gz)', async () => {
    writeFileSync(join(tmp, 'img.gz'), gzipSync(images));
    writeFileSync(join(tmp, 'lab'), labels);
    const sources = [
      { images, labels },
      { images: images.slice().buffer, labels: gzipSync(labels).buffer as ArrayBuffer },
      { images: new File([images.slice()], 'img'), labels: new File([labels.slice()], 'lab') },
      { images: join(tmp, 'img.gz'), labels: join(tmp, 'lab') },
    ];
    for (const src of sources) {
      const ds = await loadIdxDataset({ ...src, classes: 3, name: 'tiny' });
      expect([ds.name, ds.n, ds.d, ds.classes]).toEqual(['tiny', 3, 4, 3]);
      expect(ds.shape).toEqual([2, 2]);
      expect(Array.from(ds.x)).toEqual(pixels.map((p) => Math.fround(p / 255)));
      expect(Array.from(ds.y)).toEqual([2, 0, 1]);
    }
    // Default classes = largest label + 1; default name from the file.
    const ds = await loadIdxDataset({ images: join(tmp, 'img.gz'), labels: join(tmp, 'lab') });
    expect([ds.classes, ds.name]).toEqual([3, 'img']);
  });

  it('accepts float images already in [0, 1] and int labels', async () => {
    const ds = await loadIdxDataset({ images: writeIdx(0x0d, [2, 1, 2], [0, 0.5, 1, 0.25]), labels: writeIdx(0x0c, [2], [1, 0]) });
    expect(Array.from(ds.x)).toEqual([0, 0.5, 1, 0.25]);
    expect(Array.from(ds.y)).toEqual([1, 0]);
  });

  it('rejects mismatched or out-of-range files with the file name and the problem', async () => {
    const bad: [Parameters<typeof loadIdxDataset>[0], string | RegExp][] = [
      [{ images, labels: writeIdx(0x08, [2], [0, 1]) }, 'IDX count mismatch: images file images has 3 images, labels file labels has 2 labels'],
      [{ images, labels: writeIdx(0x08, [3], [0, 10, 1]), classes: 10 }, 'IDX labels file labels: label 10 at index 1 is out of range [0, 10)'],
      [{ images, labels: writeIdx(0x09, [3], [0, -1, 1]) }, 'IDX labels file labels: label -1 at index 1 is out of range [0, 2)'],
      [{ images, labels: writeIdx(0x0b, [3], [0, 300, 1]) }, 'IDX labels file labels: label 300 at index 1 is out of range [0, 256)'],
      [{ images: writeIdx(0x08, [3, 4], pixels), labels }, 'IDX images file images: expected 3 dims (count, rows, cols; magic 0x00000803), header says 2 (magic 0x00000802, dims [3, 4])'],
      [{ images, labels: writeIdx(0x08, [3, 1], [0, 1, 2]) }, 'IDX labels file labels: expected 1 dim (count; magic 0x00000801), header says 2'],
      [{ images: writeIdx(0x08, [0, 2, 2], []), labels: writeIdx(0x08, [0], []) }, 'IDX images file images: dims [0, 2, 2] must all be at least 1'],
      [{ images: writeIdx(0x0b, [3, 2, 2], pixels), labels }, 'IDX images file images: images must be ubyte (0x08), float (0x0D) or double (0x0E), file holds short'],
      [{ images: writeIdx(0x0d, [1, 1, 2], [0.5, 1.5]), labels: writeIdx(0x08, [1], [0]) }, 'IDX images file images: float pixel 1.5 at flat index 1 is outside [0, 1]'],
      [{ images, labels: writeIdx(0x0d, [3], [0, 1, 2]) }, 'IDX labels file labels: labels must be integers (ubyte, byte, short or int), file holds float'],
      [{ images: join(tmp, 'no-such-file'), labels }, /images: cannot read .*no-such-file: ENOENT/],
    ];
    for (const [opts, msg] of bad) await expect(loadIdxDataset(opts)).rejects.toThrow(msg);
  });
});

describe('IDX directories (loadMnistIdx, kind "idx")', () => {
  const dir = join(tmp, 'mnist');
  // 20 train / 10 test images of 3×3; labels cycle 0..9 so every class is present.
  const make = (n: number, offset: number) => ({
    images: writeIdx(0x08, [n, 3, 3], Array.from({ length: n * 9 }, (_, i) => (i * 37 + offset) % 256)),
    labels: writeIdx(0x08, [n], Array.from({ length: n }, (_, i) => i % 10)),
  });
  const train = make(20, 0);
  const test = make(10, 5);

  it('loads the four standard names, plain or .gz, with the files’ own split', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(train.images));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), train.labels);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), test.images);
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(test.labels));
    const m = await loadMnistIdx(dir);
    expect([m.train.name, m.train.n, m.test.name, m.test.n, m.train.d, m.train.classes]).toEqual(['mnist/train', 20, 'mnist/test', 10, 9, 10]);
    expect(m.test.x[0]).toBe(Math.fround(5 / 255));

    const r = await loadDataset({ kind: 'idx', dir, trainSize: 10, seed: 1 });
    expect([r.train.n, r.test.n]).toEqual([10, 10]);
    expect(classCounts(r.train.y, 10)).toEqual(Array(10).fill(1));
    expect(Array.from(r.testIndices)).toEqual([...Array(10).keys()]);
    for (let k = 0; k < 10; k++) expect(row(r.train, k)).toEqual(row(m.train, r.trainIndices[k]));

    // Browser form: File objects matched by name.
    const files = [
      new File([gzipSync(train.images)], 'train-images-idx3-ubyte.gz'),
      new File([train.labels.slice()], 'train-labels-idx1-ubyte'),
      new File([test.images.slice()], 't10k-images-idx3-ubyte'),
      new File([test.labels.slice()], 't10k-labels-idx1-ubyte'),
    ];
    const fromFiles = await loadIdxDir(files, { name: 'f' });
    expect(fromFiles.train.x).toEqual(m.train.x);
    await expect(loadIdxDir(files.slice(1), { name: 'f' })).rejects.toThrow('IDX files: missing train-images-idx3-ubyte[.gz] among the 3 given');
  });

  it('names the missing files', async () => {
    const half = join(tmp, 'half');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(half, { recursive: true });
    writeFileSync(join(half, 'train-images-idx3-ubyte'), train.images);
    await expect(loadMnistIdx(half)).rejects.toThrow(
      `IDX directory ${half}: missing train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]`,
    );
  });
});

describe('Fashion-MNIST', () => {
  const available = fashionAvailable();
  if (!available) console.log(`Fashion-MNIST tests skipped: files not in ${FASHION_DIR} (apt-get install dataset-fashion-mnist)`);

  it.skipIf(!available)('loads 60k / 10k balanced 28×28 images matching the raw bytes', async () => {
    const { train, test } = await loadFashion();
    expect([train.n, test.n, train.d, train.classes]).toEqual([60_000, 10_000, 784, 10]);
    expect(train.shape).toEqual([28, 28]);
    expect(train.classNames?.[9]).toBe('Ankle boot');
    expect(classCounts(train.y, 10)).toEqual(Array(10).fill(6000));
    expect(classCounts(test.y, 10)).toEqual(Array(10).fill(1000));
    expect(Array.from(train.y.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]); // published first labels
    expect(Array.from(test.y.subarray(0, 5))).toEqual([9, 2, 1, 1, 6]);
    // Last test image against the raw file decoded here with zlib (header is 16 bytes).
    const raw = gunzipSync(readFileSync(join(FASHION_DIR, 't10k-images-idx3-ubyte.gz')));
    const last = Array.from(raw.subarray(16 + 9999 * 784), (b) => Math.fround(b / 255));
    expect(Array.from(row(test, 9999))).toEqual(last);
    let min = Infinity;
    let max = -Infinity;
    for (const v of train.x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([0, 1]);
  });

  it.skipIf(!available)('kind "fashion" keeps the file split; trainSize/testSize subsample stratified', async () => {
    const r = await loadDataset({ kind: 'fashion', trainSize: 6000, testSize: 1000, seed: 1 });
    expect([r.train.n, r.test.n]).toEqual([6000, 1000]);
    expect(classCounts(r.train.y, 10)).toEqual(Array(10).fill(600));
    expect(classCounts(r.test.y, 10)).toEqual(Array(10).fill(100));
    expect(r.trainIndices[r.trainIndices.length - 1]).toBeLessThan(60_000);
    expect(r.spec).toEqual({ kind: 'fashion', dir: FASHION_DIR, seed: 1, trainSize: 6000, testSize: 1000 });
  });

  it('missing files → error that says how to install them', async () => {
    await expect(loadFashion(join(tmp, 'nothing-here'))).rejects.toThrow(
      /Fashion-MNIST not found in .*nothing-here \(missing train-images-idx3-ubyte\[\.gz\], .*\); install it with `apt-get install dataset-fashion-mnist`/,
    );
  });
});
