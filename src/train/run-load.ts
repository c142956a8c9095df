/**
 * Reading back a training run folder written by `sgdscope train` (src/train/run-files.ts): the
 * model and training settings, the data spec, and the saved weights in the flat parameter layout.
 * The dataset itself is reloaded from the spec (loadDataset) and checked against the saved
 * train/test indices, so an analysis sees exactly the samples the run trained on.
 *
 * Everything read is checked and every error names the file: a folder that is missing files,
 * holds truncated or swapped ones, or weights that are not finite is refused, never analysed.
 */
import type { MlpConfig } from '../nn/config.ts';
import { validateMlpConfig } from '../nn/config.ts';
import { checkFiniteParams, paramLayout } from '../nn/params.ts';
import { decodeNpy, type NpyArray } from '../util/npy.ts';
import { isPlainObject } from '../util/keys.ts';
import type { DatasetSpec, LoadedData } from '../data/index.ts';
import { validateTrainConfig, type TrainConfig } from './config.ts';

export interface LoadedRun {
  dir: string;
  model: MlpConfig;
  train: TrainConfig;
  data: DatasetSpec;
  /** Final (or last known-good) weights in the flat layout. */
  params: Float32Array;
  trainIndices: Uint32Array | null;
  testIndices: Uint32Array | null;
  /** result.json, as saved (status, steps, final evaluation…), or null if absent. */
  result: Record<string, unknown> | null;
}

export function loadRunFolder(dir: string): LoadedRun {
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  const path = process.getBuiltinModule('node:path') as typeof import('node:path');
  const file = (name: string): string => path.join(dir, name);
  if (!fs.existsSync(dir)) throw new Error(`${dir}: no such run folder`);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`${dir}: not a folder (give a run folder written by sgdscope train)`);
  const readJson = (name: string): unknown => {
    let text: string;
    try {
      text = fs.readFileSync(file(name), 'utf8');
    } catch (e) {
      throw new Error(`${file(name)}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new Error(`${file(name)}: not valid JSON (${(e as Error).message})`);
    }
  };
  const npy = (name: string): { data: NpyArray; shape: number[] } => {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(fs.readFileSync(file(name)));
    } catch (e) {
      throw new Error(`${file(name)}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return decodeNpy(bytes, file(name));
  };
  if (!fs.existsSync(file('config.json'))) throw new Error(`${dir}: not a run folder (no config.json)`);
  const config = readJson('config.json');
  if (!isPlainObject(config) || !isPlainObject(config.model) || !isPlainObject(config.train) || !isPlainObject(config.data)) {
    throw new Error(`${file('config.json')}: needs the sections model, train and data (objects)`);
  }
  const model = validateMlpConfig(config.model as unknown as MlpConfig, `${file('config.json')}: model`);
  const train = validateTrainConfig(config.train as Partial<TrainConfig>, null, `${file('config.json')}: train`);
  const layout = paramLayout(model);
  const params = new Float32Array(layout.total);
  for (const L of layout.layers) {
    const name = `weights_layer${L.index}.npy`;
    if (!fs.existsSync(file(name))) throw new Error(`${dir}: ${name} is missing`);
    const { data, shape } = npy(name);
    if (!(data instanceof Float32Array)) throw new Error(`${file(name)}: weights must be float32 ('<f4')`);
    if (shape.length !== 2 || shape[0] !== L.fanIn || shape[1] !== L.fanOut) {
      throw new Error(`${file(name)}: shape [${shape.join(', ')}], the model in config.json needs [${L.fanIn}, ${L.fanOut}]`);
    }
    params.set(data, L.offset);
    if (L.biasOffset !== null) {
      const bname = `bias_layer${L.index}.npy`;
      if (!fs.existsSync(file(bname))) throw new Error(`${dir}: ${bname} is missing (the model has biases)`);
      const b = npy(bname);
      if (!(b.data instanceof Float32Array) || b.shape.length !== 1 || b.data.length !== L.fanOut) {
        throw new Error(`${file(bname)}: expected float32 of shape [${L.fanOut}], got ${b.data.constructor.name} [${b.shape.join(', ')}]`);
      }
      params.set(b.data, L.biasOffset);
    }
  }
  checkFiniteParams(params, layout, dir);
  const indices = (name: string): Uint32Array | null => {
    if (!fs.existsSync(file(name))) return null;
    const { data, shape } = npy(name);
    if (!(data instanceof Uint32Array) || shape.length !== 1) throw new Error(`${file(name)}: expected a uint32 vector of sample indices, got ${data.constructor.name} [${shape.join(', ')}]`);
    return data;
  };
  let result: Record<string, unknown> | null = null;
  if (fs.existsSync(file('result.json'))) {
    const r = readJson('result.json');
    if (!isPlainObject(r)) throw new Error(`${file('result.json')}: expected an object`);
    result = r;
  }
  return { dir, model, train, data: config.data as unknown as DatasetSpec, params, trainIndices: indices('train_indices.npy'), testIndices: indices('test_indices.npy'), result };
}

/** Throws if the reloaded data's split differs from the one saved with the run. */
export function checkRunIndices(run: LoadedRun, loaded: LoadedData): void {
  const same = (a: Uint32Array | null, b: Uint32Array): boolean => a === null || (a.length === b.length && a.every((v, i) => v === b[i]));
  if (!same(run.trainIndices, loaded.trainIndices) || !same(run.testIndices, loaded.testIndices)) {
    throw new Error(`${run.dir}: the dataset reloaded from config.json does not have the run's saved train/test indices (dataset files changed?)`);
  }
}
