/**
 * One entry point from a small JSON-able spec to a train/test pair.
 *
 * trainIndices / testIndices refer to the source's canonical order, so a run can be
 * reproduced from (spec, indices) alone:
 *  - mnist10k, synthetic: indices into the single set of n samples (see mnist10k.ts,
 *    synthetic.ts for the order), from stratifiedSplit (split.ts).
 *  - fashion, idx: trainIndices into the train file, testIndices into the t10k file.
 *    All rows by default; with trainSize/testSize, a seeded stratified subsample of each.
 * The returned spec has every default filled in (store that one with a run).
 */
import { subset, type Dataset } from './dataset.ts';
import { FASHION_DIR, FASHION_SIZES, loadFashion } from './fashion.ts';
import { loadIdxDir, type TrainTest } from './idx-dir.ts';
import { loadMnist10k } from './mnist10k.ts';
import { stratifiedSample, stratifiedSplit, type SplitOptions } from './split.ts';
import { gaussianMixture, teacherNetwork } from './synthetic.ts';
import { Rng } from '../util/rng.ts';
import { checkKeys, isPlainObject, showValue } from '../util/keys.ts';

export interface Mnist10kSpec {
  kind: 'mnist10k';
  /** Split seed; default 0. */
  seed?: number;
  /** Default 0.2 (→ 8,000 / 2,000). Use either testFraction or testSize. */
  testFraction?: number;
  testSize?: number;
  /** Default: all samples not in test. */
  trainSize?: number;
}

export interface FileSplitSpec {
  /** Subsample seed (only used with trainSize/testSize); default 0. */
  seed?: number;
  /** Rows of the train file to use (stratified subsample); default all. */
  trainSize?: number;
  /** Rows of the test file to use (stratified subsample); default all. */
  testSize?: number;
}

export interface FashionSpec extends FileSplitSpec {
  kind: 'fashion';
  /** Default /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist). */
  dir?: string;
}

export interface IdxSpec extends FileSplitSpec {
  kind: 'idx';
  /** Directory with the four standard MNIST-style IDX files (plain or .gz). */
  dir: string;
  /** Default 10. */
  classes?: number;
}

export interface SyntheticSpec {
  kind: 'synthetic';
  generator: 'mixture' | 'teacher';
  classes: number;
  d: number;
  /** Total samples, split into train and test. */
  n: number;
  /** Generator seed; also the split seed unless splitSeed is given. */
  seed: number;
  /** mixture only: std-dev of class means (noise std-dev is 1); default 3. */
  sep?: number;
  /** teacher only: hidden width; default 32. */
  hidden?: number;
  splitSeed?: number;
  testFraction?: number;
  testSize?: number;
  trainSize?: number;
}

export type DatasetSpec = Mnist10kSpec | FashionSpec | IdxSpec | SyntheticSpec;

export interface LoadedData {
  /** The spec with all defaults filled in. */
  spec: DatasetSpec;
  train: Dataset;
  test: Dataset;
  trainIndices: Uint32Array;
  testIndices: Uint32Array;
}

const KINDS = ['mnist10k', 'fashion', 'idx', 'synthetic'] as const;

const ALLOWED_KEYS: Record<DatasetSpec['kind'], string[]> = {
  mnist10k: ['kind', 'seed', 'testFraction', 'testSize', 'trainSize'],
  fashion: ['kind', 'dir', 'seed', 'trainSize', 'testSize'],
  idx: ['kind', 'dir', 'classes', 'seed', 'trainSize', 'testSize'],
  synthetic: ['kind', 'generator', 'classes', 'd', 'n', 'seed', 'sep', 'hidden', 'splitSeed', 'testFraction', 'testSize', 'trainSize'],
};

/**
 * `files`: in the browser, the four IDX files the user picked (File objects, matched by name) for
 * kind 'fashion' or 'idx'; then spec.dir is only a label and is not read.
 */
/** The spec's shape: an object of a known kind holding only that kind's keys (no data is read). */
export function checkDatasetSpec(spec: unknown): asserts spec is DatasetSpec {
  if (!isPlainObject(spec)) throw new Error(`dataset spec must be an object, got ${JSON.stringify(spec) ?? String(spec)}`);
  const kind = (spec as { kind?: unknown }).kind;
  if (!KINDS.includes(kind as DatasetSpec['kind'])) {
    throw new Error(`dataset.kind must be one of ${KINDS.join(', ')}; got ${JSON.stringify(kind)}`);
  }
  // Unknown keys are almost always typos ("testfraction") that would silently be ignored.
  checkKeys(spec, ALLOWED_KEYS[kind as DatasetSpec['kind']], `dataset (kind ${kind})`, 'field');
}

export async function loadDataset(spec: DatasetSpec, source: { files?: File[] } = {}): Promise<LoadedData> {
  checkDatasetSpec(spec);
  switch (spec.kind) {
    case 'mnist10k':
      return loadMnist10kSpec(spec);
    case 'fashion': {
      const full: FashionSpec = { ...spec, dir: spec.dir ?? FASHION_DIR, seed: spec.seed ?? 0 };
      checkString(full.dir, 'dataset.dir');
      checkSeed(full.seed!, 'dataset.seed');
      // Sizes are fixed by the dataset: a bad one is reported before (and whether or not) the files are read.
      if (full.trainSize !== undefined) checkInt(full.trainSize, 1, FASHION_SIZES.train, 'dataset.trainSize');
      if (full.testSize !== undefined) checkInt(full.testSize, 1, FASHION_SIZES.test, 'dataset.testSize');
      return subsampleFiles(full, await loadFashion(source.files ?? full.dir));
    }
    case 'idx': {
      const full: IdxSpec = { ...spec, classes: spec.classes ?? 10, seed: spec.seed ?? 0 };
      checkString(full.dir, 'dataset.dir');
      checkInt(full.classes!, 2, 256, 'dataset.classes');
      checkSeed(full.seed!, 'dataset.seed');
      return subsampleFiles(full, await loadIdxDir(source.files ?? full.dir, { name: `idx:${full.dir}`, classes: full.classes }));
    }
    case 'synthetic':
      return loadSyntheticSpec(spec);
  }
}

async function loadMnist10kSpec(spec: Mnist10kSpec): Promise<LoadedData> {
  const full: Mnist10kSpec = { ...spec, seed: spec.seed ?? 0 };
  if (full.testSize === undefined) full.testFraction = spec.testFraction ?? 0.2;
  checkSeed(full.seed!, 'dataset.seed');
  const all = await loadMnist10k();
  const split = stratifiedSplit(all.y, all.classes, splitOptions(spec, full.seed!), 'dataset');
  return {
    spec: full,
    train: subset(all, split.train, 'mnist10k/train'),
    test: subset(all, split.test, 'mnist10k/test'),
    trainIndices: split.train,
    testIndices: split.test,
  };
}

function loadSyntheticSpec(spec: SyntheticSpec): LoadedData {
  if (spec.generator !== 'mixture' && spec.generator !== 'teacher') {
    throw new Error(`dataset.generator must be "mixture" or "teacher", got ${JSON.stringify(spec.generator)}`);
  }
  const full: SyntheticSpec = { ...spec, splitSeed: spec.splitSeed ?? spec.seed };
  if (full.testSize === undefined) full.testFraction = spec.testFraction ?? 0.2;
  if (spec.generator === 'mixture') {
    if (spec.hidden !== undefined) throw new Error('dataset.hidden only applies to generator "teacher"');
    full.sep = spec.sep ?? 3;
  } else {
    if (spec.sep !== undefined) throw new Error('dataset.sep only applies to generator "mixture"');
    full.hidden = spec.hidden ?? 32;
  }
  // The generators validate classes/d/n/seed/sep/hidden with "mixture.x"/"teacher.x" names.
  const all =
    spec.generator === 'mixture'
      ? gaussianMixture({ classes: full.classes, d: full.d, n: full.n, sep: full.sep!, seed: full.seed })
      : teacherNetwork({ classes: full.classes, d: full.d, n: full.n, hidden: full.hidden, seed: full.seed });
  checkSeed(full.splitSeed!, 'dataset.splitSeed');
  const split = stratifiedSplit(all.y, all.classes, splitOptions(spec, full.splitSeed!), 'dataset');
  return {
    spec: full,
    train: subset(all, split.train, `${all.name}/train`),
    test: subset(all, split.test, `${all.name}/test`),
    trainIndices: split.train,
    testIndices: split.test,
  };
}

/** From the spec as given (not the filled one), so stratifiedSplit sees a testSize/testFraction conflict. */
function splitOptions(s: { testFraction?: number; testSize?: number; trainSize?: number }, seed: number): SplitOptions {
  return { seed, testFraction: s.testFraction, testSize: s.testSize, trainSize: s.trainSize };
}

/**
 * Keep the files' own split; optionally subsample each part, stratified. Train and test
 * subsamples use two seeds drawn from Rng(seed), so they are independent of each other.
 */
function subsampleFiles(spec: FashionSpec | IdxSpec, files: TrainTest): LoadedData {
  const rng = new Rng(spec.seed!);
  const seeds = { train: rng.nextU32(), test: rng.nextU32() };
  const pick = (part: 'train' | 'test', size: number | undefined): { ds: Dataset; idx: Uint32Array } => {
    const ds = files[part];
    if (size === undefined || size === ds.n) return { ds, idx: Uint32Array.from({ length: ds.n }, (_, i) => i) };
    checkInt(size, 1, ds.n, `dataset.${part}Size`);
    const idx = stratifiedSample(ds.y, ds.classes, size, seeds[part], `dataset.${part}Size`);
    return { ds: subset(ds, idx, `${ds.name}[${size}]`), idx };
  };
  const train = pick('train', spec.trainSize);
  const test = pick('test', spec.testSize);
  return { spec, train: train.ds, test: test.ds, trainIndices: train.idx, testIndices: test.idx };
}

function checkInt(v: number, lo: number, hi: number, field: string): void {
  if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new Error(`${field} must be an integer in [${lo}, ${hi}], got ${showValue(v)}`);
}

function checkSeed(v: number, field: string): void {
  checkInt(v, 0, 0xffffffff, field);
}

function checkString(v: unknown, field: string): void {
  if (typeof v !== 'string' || v === '') throw new Error(`${field} must be a non-empty string (a directory path), got ${JSON.stringify(v)}`);
}
