/**
 * An images file + a labels file in IDX format → one Dataset, in file order (that order is
 * the canonical order index files refer to).
 *
 * Images must be 3-D [count, rows, cols]: ubyte is scaled by 1/255 into [0, 1]; float and
 * double files are taken as they are but must already lie in [0, 1]. Labels must be 1-D
 * integers in [0, classes).
 */
import { checkDataset, type Dataset } from './dataset.ts';
import { readIdx, type IdxFile } from './idx.ts';
import { isNode, nodeFs } from './platform.ts';
import { allInOrder } from '../util/settle.ts';

/** A file path (Node only), a browser File/Blob, or the raw bytes (plain or gzip). */
export type IdxSource = string | Blob | ArrayBuffer | Uint8Array;

export interface IdxDatasetOptions {
  images: IdxSource;
  labels: IdxSource;
  /** Dataset name; default derived from the images file name. */
  name?: string;
  /** Number of classes; labels must be below it. Default: largest label + 1. */
  classes?: number;
  classNames?: string[];
}

/** Read a source to bytes, with a name for error messages. */
export async function readSource(src: IdxSource, fallbackName: string): Promise<{ bytes: Uint8Array; name: string }> {
  if (typeof src === 'string') {
    if (!isNode()) throw new Error(`${fallbackName} "${src}": file paths only work in Node; in the browser pass a File or ArrayBuffer`);
    try {
      const buf = await nodeFs(`reading ${src}`).promises.readFile(src);
      return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), name: src };
    } catch (e) {
      throw new Error(`${fallbackName}: cannot read ${src}: ${(e as Error).message}`);
    }
  }
  if (src instanceof Uint8Array) return { bytes: src, name: fallbackName };
  if (src instanceof ArrayBuffer) return { bytes: new Uint8Array(src), name: fallbackName };
  if (typeof Blob !== 'undefined' && src instanceof Blob) {
    const name = typeof (src as File).name === 'string' && (src as File).name ? (src as File).name : fallbackName;
    return { bytes: new Uint8Array(await src.arrayBuffer()), name };
  }
  throw new Error(`${fallbackName}: expected a path, File/Blob, ArrayBuffer or Uint8Array, got ${Object.prototype.toString.call(src)}`);
}

export async function loadIdxDataset(options: IdxDatasetOptions): Promise<Dataset> {
  const [img, lab] = await allInOrder([readSource(options.images, 'images'), readSource(options.labels, 'labels')]);
  const [images, labels] = await allInOrder([readIdx(img.bytes, img.name), readIdx(lab.bytes, lab.name)]);
  return idxToDataset(images, img.name, labels, lab.name, options);
}

/** Check the two parsed files against each other and convert them. */
export function idxToDataset(
  images: IdxFile,
  imagesName: string,
  labels: IdxFile,
  labelsName: string,
  options: Pick<IdxDatasetOptions, 'name' | 'classes' | 'classNames'> = {},
): Dataset {
  const imgWhere = `IDX images file ${imagesName}`;
  const labWhere = `IDX labels file ${labelsName}`;
  if (images.dims.length !== 3) {
    throw new Error(
      `${imgWhere}: expected 3 dims (count, rows, cols; magic ${magic(images.typeCode, 3)}), header says ${images.dims.length} (magic ${magic(images.typeCode, images.dims.length)}, dims [${images.dims.join(', ')}])`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new Error(
      `${labWhere}: expected 1 dim (count; magic ${magic(labels.typeCode, 1)}), header says ${labels.dims.length} (magic ${magic(labels.typeCode, labels.dims.length)}, dims [${labels.dims.join(', ')}])`,
    );
  }
  const [n, rows, cols] = images.dims;
  if (n < 1 || rows < 1 || cols < 1) throw new Error(`${imgWhere}: dims [${images.dims.join(', ')}] must all be at least 1`);
  if (labels.dims[0] !== n) {
    throw new Error(`IDX count mismatch: images file ${imagesName} has ${n} images, labels file ${labelsName} has ${labels.dims[0]} labels`);
  }

  const d = rows * cols;
  const x = toUnitFloats(images, imgWhere);

  if (labels.type === 'float' || labels.type === 'double') {
    throw new Error(`${labWhere}: labels must be integers (ubyte, byte, short or int), file holds ${labels.type}`);
  }
  // Default: just enough classes for the labels present; out-of-range ones (negative, > 255) fail below.
  const classes = options.classes ?? Math.min(256, Math.max(1, maxOf(labels.data) + 1));
  if (!(Number.isInteger(classes) && classes >= 1 && classes <= 256)) {
    throw new Error(`${labWhere}: classes must be an integer in [1, 256], got ${classes}`);
  }
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels.data[i];
    if (v < 0 || v >= classes) throw new Error(`${labWhere}: label ${v} at index ${i} is out of range [0, ${classes})`);
    y[i] = v;
  }

  const ds: Dataset = { name: options.name ?? baseName(imagesName), x, y, n, d, classes, shape: [rows, cols] };
  if (options.classNames) ds.classNames = options.classNames;
  return checkDataset(ds);
}

const UBYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

function toUnitFloats(images: IdxFile, where: string): Float32Array {
  const src = images.data;
  switch (images.type) {
    case 'ubyte': {
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = UBYTE_TO_UNIT[src[i]];
      return out;
    }
    case 'float':
    case 'double': {
      const out = Float32Array.from(src);
      for (let i = 0; i < out.length; i++) {
        if (!(out[i] >= 0 && out[i] <= 1)) throw new Error(`${where}: ${images.type} pixel ${out[i]} at flat index ${i} is outside [0, 1]`);
      }
      return out;
    }
    default:
      throw new Error(`${where}: images must be ubyte (0x08), float (0x0D) or double (0x0E), file holds ${images.type}`);
  }
}

const magic = (typeCode: number, ndims: number): string =>
  '0x0000' + typeCode.toString(16).padStart(2, '0') + ndims.toString(16).padStart(2, '0');

function maxOf(a: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}

function baseName(p: string): string {
  return p.split(/[\\/]/).pop()!.replace(/\.gz$/, '');
}
