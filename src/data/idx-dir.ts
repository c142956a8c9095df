/**
 * The four standard MNIST-style IDX files as a train/test pair:
 *   train-images-idx3-ubyte  train-labels-idx1-ubyte  t10k-images-idx3-ubyte  t10k-labels-idx1-ubyte
 * each plain or gzipped (same name + ".gz"). Original MNIST and Fashion-MNIST both use these
 * names. The split is the one the files define (train file / t10k file); canonical order is
 * file order within each.
 *
 * Node: pass a directory. Browser: pass the File objects (e.g. from an <input multiple>),
 * matched by name.
 */
import type { Dataset } from './dataset.ts';
import { loadIdxDataset, type IdxSource } from './idx-dataset.ts';
import { nodeFs, nodePath } from './platform.ts';
import { allInOrder } from '../util/settle.ts';

export const IDX_FILE_NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

type Role = keyof typeof IDX_FILE_NAMES;

export interface IdxPairOptions {
  /** Name prefix: datasets are called `${name}/train` and `${name}/test`. */
  name: string;
  classes?: number;
  classNames?: string[];
}

export interface TrainTest {
  train: Dataset;
  test: Dataset;
}

/** Which of the standard files exist in dir (plain preferred over .gz), and which are missing. */
export function findIdxFiles(dir: string): { found: Partial<Record<Role, string>>; missing: string[] } {
  const fs = nodeFs(`IDX directory ${dir}`);
  const path = nodePath(`IDX directory ${dir}`);
  const found: Partial<Record<Role, string>> = {};
  const missing: string[] = [];
  for (const role of Object.keys(IDX_FILE_NAMES) as Role[]) {
    const base = path.join(dir, IDX_FILE_NAMES[role]);
    const hit = [base, `${base}.gz`].find((f) => fs.existsSync(f));
    if (hit) found[role] = hit;
    else missing.push(`${IDX_FILE_NAMES[role]}[.gz]`);
  }
  return { found, missing };
}

/** Load the four files from a directory (Node) or a list of named Files (browser). */
export async function loadIdxDir(dirOrFiles: string | File[], options: IdxPairOptions): Promise<TrainTest> {
  const src = typeof dirOrFiles === 'string' ? fromDir(dirOrFiles) : fromFiles(dirOrFiles);
  const common = { classes: options.classes, classNames: options.classNames };
  const [train, test] = await allInOrder([
    loadIdxDataset({ images: src.trainImages, labels: src.trainLabels, name: `${options.name}/train`, ...common }),
    loadIdxDataset({ images: src.testImages, labels: src.testLabels, name: `${options.name}/test`, ...common }),
  ]);
  if (train.d !== test.d) {
    throw new Error(`${options.name}: train images are ${train.shape!.join('×')} but test images are ${test.shape!.join('×')}`);
  }
  return { train, test };
}

/** Original MNIST (60k/10k) from a directory holding the four standard files. */
export function loadMnistIdx(dirOrFiles: string | File[]): Promise<TrainTest> {
  return loadIdxDir(dirOrFiles, { name: 'mnist', classes: 10 });
}

function fromDir(dir: string): Record<Role, IdxSource> {
  const fs = nodeFs(`IDX directory ${dir}`);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`IDX directory ${dir}: does not exist or is not a directory`);
  const { found, missing } = findIdxFiles(dir);
  if (missing.length) throw new Error(`IDX directory ${dir}: missing ${missing.join(', ')}`);
  return found as Record<Role, string>;
}

function fromFiles(files: File[]): Record<Role, IdxSource> {
  const out: Partial<Record<Role, IdxSource>> = {};
  const missing: string[] = [];
  for (const role of Object.keys(IDX_FILE_NAMES) as Role[]) {
    const base = IDX_FILE_NAMES[role];
    const hit = files.find((f) => f.name === base) ?? files.find((f) => f.name === `${base}.gz`);
    if (hit) out[role] = hit;
    else missing.push(`${base}[.gz]`);
  }
  if (missing.length) {
    throw new Error(`IDX files: missing ${missing.join(', ')} among the ${files.length} given (${files.map((f) => f.name).join(', ')})`);
  }
  return out as Record<Role, IdxSource>;
}
