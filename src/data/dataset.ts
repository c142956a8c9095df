/**
 * The in-memory form every loader returns, plus helpers to slice it.
 *
 * Samples are rows of one flat Float32Array so a batch can be uploaded to the GPU with
 * a single writeBuffer of a contiguous range, with no per-sample objects.
 */

export interface Dataset {
  /** Human-readable origin, e.g. "mnist10k/train"; used in logs and error messages. */
  name: string;
  /** n×d features, row-major (row i = x[i*d .. i*d+d)). Images are in [0, 1]. */
  x: Float32Array;
  /** n labels in 0..classes-1. */
  y: Uint8Array;
  n: number;
  d: number;
  classes: number;
  /** [rows, cols] when the rows are images (rows*cols === d); lets the UI draw them. */
  shape?: [number, number];
  /** Optional display names, one per class. */
  classNames?: string[];
}

/**
 * Indices into the canonical sample order of a source (see each loader for what that
 * order is). Sorted ascending, so saved index files are stable and diffable; batch
 * order is the trainer's job, not the split's.
 */
export interface Split {
  train: Uint32Array;
  test: Uint32Array;
}

/** Throws with the dataset's name and the broken invariant; returns ds for chaining. */
export function checkDataset(ds: Dataset): Dataset {
  const where = `dataset ${ds.name}`;
  if (!Number.isInteger(ds.n) || ds.n < 0) throw new Error(`${where}: n must be a non-negative integer, got ${ds.n}`);
  if (!Number.isInteger(ds.d) || ds.d < 1) throw new Error(`${where}: d must be a positive integer, got ${ds.d}`);
  if (!Number.isInteger(ds.classes) || ds.classes < 1 || ds.classes > 256) {
    throw new Error(`${where}: classes must be an integer in [1, 256] (labels are Uint8), got ${ds.classes}`);
  }
  if (ds.x.length !== ds.n * ds.d) {
    throw new Error(`${where}: x has ${ds.x.length} values, expected n*d = ${ds.n}*${ds.d} = ${ds.n * ds.d}`);
  }
  if (ds.y.length !== ds.n) throw new Error(`${where}: y has ${ds.y.length} labels, expected n = ${ds.n}`);
  for (let i = 0; i < ds.n; i++) {
    if (ds.y[i] >= ds.classes) {
      throw new Error(`${where}: label ${ds.y[i]} at index ${i} is out of range [0, ${ds.classes})`);
    }
  }
  if (ds.shape && ds.shape[0] * ds.shape[1] !== ds.d) {
    throw new Error(`${where}: shape ${ds.shape[0]}×${ds.shape[1]} does not match d = ${ds.d}`);
  }
  if (ds.classNames && ds.classNames.length !== ds.classes) {
    throw new Error(`${where}: classNames has ${ds.classNames.length} entries, expected classes = ${ds.classes}`);
  }
  return ds;
}

/**
 * A new dataset holding rows `indices` of `ds`, in that order (copies; the source is
 * shared and cached by some loaders, so it must never be aliased and then mutated).
 */
export function subset(ds: Dataset, indices: ArrayLike<number>, name = `${ds.name}[subset]`): Dataset {
  const { d } = ds;
  const n = indices.length;
  const x = new Float32Array(n * d);
  const y = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) {
      throw new Error(`subset of ${ds.name}: index ${i} at position ${k} is out of range [0, ${ds.n})`);
    }
    x.set(ds.x.subarray(i * d, i * d + d), k * d);
    y[k] = ds.y[i];
  }
  const out: Dataset = { name, x, y, n, d, classes: ds.classes };
  if (ds.shape) out.shape = [ds.shape[0], ds.shape[1]];
  if (ds.classNames) out.classNames = ds.classNames.slice();
  return out;
}

/** One row as a view (no copy). */
export function row(ds: Dataset, i: number): Float32Array {
  if (!Number.isInteger(i) || i < 0 || i >= ds.n) throw new Error(`row of ${ds.name}: index ${i} is out of range [0, ${ds.n})`);
  return ds.x.subarray(i * ds.d, (i + 1) * ds.d);
}

/** Number of samples per class. */
export function classCounts(y: Uint8Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < y.length; i++) {
    if (y[i] >= classes) throw new Error(`classCounts: label ${y[i]} at index ${i} is out of range [0, ${classes})`);
    counts[y[i]]++;
  }
  return counts;
}
