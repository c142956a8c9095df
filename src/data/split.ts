/**
 * Deterministic stratified train/test splits (and stratified subsamples).
 *
 * Algorithm (keep it fixed: saved runs identify their split by seed + sizes):
 *  1. testSize T = options.testSize, else round(N * testFraction) (testFraction default 0.2);
 *     trainSize R = options.trainSize, else N - T (R < N - T means "train on a subsample").
 *  2. Per-class quotas by largest remainder: class c with n_c samples gets floor(T*n_c/N)
 *     test samples, and the T - Σfloor leftover samples go one each to the classes with the
 *     largest remainders (ties: lower class first). So totals are exact and every class
 *     keeps its share to within one sample. Train quotas: same for R, capped at what test
 *     left over in each class.
 *  3. One Rng(seed); for c = 0, 1, ..., C-1 in order, shuffle class c's indices (in
 *     canonical order) with it; the first t_c go to test, the next r_c to train.
 *  4. Both index lists are returned sorted ascending.
 * Rng is pure 32-bit integer arithmetic and the quotas are integer maths, so the same
 * seed gives the same split in Node and every browser.
 *
 * For MNIST-10k the defaults give 8,000 train / 2,000 test.
 */
import { showValue } from '../util/keys.ts';
import { Rng } from '../util/rng.ts';
import type { Split } from './dataset.ts';

export interface SplitOptions {
  seed: number;
  /** Share of samples that go to test, in (0, 1); default 0.2. Ignored if testSize is set. */
  testFraction?: number;
  /** Exact number of test samples, in [1, N-1]. */
  testSize?: number;
  /** Exact number of train samples, in [1, N - testSize]; default all the rest. */
  trainSize?: number;
}

export function stratifiedSplit(y: Uint8Array, classes: number, options: SplitOptions, what = 'split'): Split {
  const N = y.length;
  const { seed } = options;
  checkSeed(seed, `${what}.seed`);
  if (options.testSize !== undefined && options.testFraction !== undefined) {
    throw new Error(`${what}: give testSize or testFraction, not both (got ${showValue(options.testSize)} and ${showValue(options.testFraction)})`);
  }
  let T: number;
  if (options.testSize !== undefined) {
    T = options.testSize;
    checkInt(T, 1, N - 1, `${what}.testSize`);
  } else {
    const f = options.testFraction ?? 0.2;
    if (!(typeof f === 'number' && f > 0 && f < 1)) throw new Error(`${what}.testFraction must be in (0, 1), got ${showValue(f)}`);
    T = Math.round(N * f);
    if (T < 1 || T > N - 1) {
      throw new Error(`${what}.testFraction ${f} of ${N} samples gives ${T} test samples; need between 1 and ${N - 1}`);
    }
  }
  const R = options.trainSize ?? N - T;
  checkInt(R, 1, N - T, `${what}.trainSize`);
  const [test, train] = drawStratified(y, classes, [T, R], seed, what);
  return { train, test };
}

/** `size` indices drawn stratified from y (e.g. a 10k subsample of a 60k train file), sorted ascending. */
export function stratifiedSample(y: Uint8Array, classes: number, size: number, seed: number, what = 'sample'): Uint32Array {
  checkSeed(seed, `${what}.seed`);
  checkInt(size, 1, y.length, `${what}.size`);
  return drawStratified(y, classes, [size], seed, what)[0];
}

/**
 * Throws unless the split's indices are in [0, n), unique, and train ∩ test = ∅
 * (use on index files read back from disk).
 */
export function checkSplit(split: Split, n: number, what = 'split'): Split {
  const seen = new Uint8Array(n);
  for (const [part, idx] of [['train', split.train], ['test', split.test]] as const) {
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k];
      if (i >= n) throw new Error(`${what}.${part}[${k}] = ${i} is out of range [0, ${n})`);
      if (seen[i]) throw new Error(`${what}.${part}[${k}] = ${i} appears twice (within ${part} or in both train and test)`);
      seen[i] = 1;
    }
  }
  return split;
}

/** Group g gets sizes[g] samples, stratified; groups are disjoint. See the header comment. */
function drawStratified(y: Uint8Array, classes: number, sizes: number[], seed: number, what: string): Uint32Array[] {
  const N = y.length;
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < N; i++) {
    if (y[i] >= classes) throw new Error(`${what}: label ${y[i]} at index ${i} is out of range [0, ${classes})`);
    byClass[y[i]].push(i);
  }
  const counts = byClass.map((b) => b.length);
  const left = counts.slice();
  const quotas = sizes.map((size) => {
    const q = allocate(size, counts, left);
    for (let c = 0; c < classes; c++) left[c] -= q[c];
    return q;
  });

  const rng = new Rng(seed);
  const groups = sizes.map((size) => new Uint32Array(size));
  const filled = sizes.map(() => 0);
  for (let c = 0; c < classes; c++) {
    const idx = rng.shuffle(byClass[c]);
    let at = 0;
    for (let g = 0; g < sizes.length; g++) {
      for (let k = 0; k < quotas[g][c]; k++) groups[g][filled[g]++] = idx[at++];
    }
  }
  return groups.map((a) => a.sort());
}

/** Largest-remainder apportionment of `total` in proportion to `weights`, never exceeding `caps`. */
function allocate(total: number, weights: number[], caps: number[]): number[] {
  const W = weights.reduce((s, w) => s + w, 0);
  // Integer arithmetic: total*w < 2^53 for any dataset that fits in memory.
  const q = weights.map((w, c) => Math.min(Math.floor((total * w) / W), caps[c]));
  let remaining = total - q.reduce((s, v) => s + v, 0);
  const order = weights
    .map((w, c) => ({ c, rem: (total * w) % W }))
    .sort((a, b) => b.rem - a.rem || a.c - b.c)
    .map((o) => o.c);
  // Usually one pass; more only when caps bind. Terminates because Σcaps >= total (checked by callers' ranges).
  while (remaining > 0) {
    let gave = false;
    for (const c of order) {
      if (remaining === 0) break;
      if (q[c] < caps[c]) {
        q[c]++;
        remaining--;
        gave = true;
      }
    }
    if (!gave) throw new Error(`allocate: cannot place ${remaining} more samples (internal error: caps too small)`);
  }
  return q;
}

function checkInt(v: number, lo: number, hi: number, field: string): void {
  if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new Error(`${field} must be an integer in [${lo}, ${hi}], got ${showValue(v)}`);
}

function checkSeed(seed: number, field: string): void {
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    throw new Error(`${field} must be an integer in [0, 2^32-1], got ${showValue(seed)}`);
  }
}
