/**
 * Reading back a training run folder written by `sgdscope train` (src/train/run-files.ts): the
 * model and training settings, the data spec, and the saved weights in the flat parameter layout.
 * The dataset itself is reloaded from the spec (loadDataset) and checked against the saved
 * train/test indices, so an analysis sees exactly the samples the run trained on.
 */
import type { MlpConfig } from '../nn/config.ts';
import { validateMlpConfig } from '../nn/config.ts';
import { paramLayout } from '../nn/params.ts';
import { decodeNpy } from '../util/npy.ts';
import type { DatasetSpec, LoadedData } from '../data/index.ts';
import type { TrainConfig } from './config.ts';

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
  if (!fs.existsSync(file('config.json'))) throw new Error(`${dir}: not a run folder (no config.json)`);
  let config: { model?: MlpConfig; train?: TrainConfig; data?: DatasetSpec };
  try {
    config = JSON.parse(fs.readFileSync(file('config.json'), 'utf8'));
  } catch (e) {
    throw new Error(`${file('config.json')}: not valid JSON (${(e as Error).message})`);
  }
  if (!config.model || !config.train || !config.data) throw new Error(`${file('config.json')}: needs the sections model, train and data`);
  const model = validateMlpConfig(config.model, `${file('config.json')}: model`);
  const layout = paramLayout(model);
  const params = new Float32Array(layout.total);
  for (const L of layout.layers) {
    const name = `weights_layer${L.index}.npy`;
    if (!fs.existsSync(file(name))) throw new Error(`${dir}: ${name} is missing`);
    const { data, shape } = decodeNpy(new Uint8Array(fs.readFileSync(file(name))));
    if (shape.length !== 2 || shape[0] !== L.fanIn || shape[1] !== L.fanOut) {
      throw new Error(`${dir}/${name}: shape [${shape.join(', ')}], the model needs [${L.fanIn}, ${L.fanOut}]`);
    }
    params.set(Float32Array.from(data), L.offset);
    if (L.biasOffset !== null) {
      const bname = `bias_layer${L.index}.npy`;
      if (!fs.existsSync(file(bname))) throw new Error(`${dir}: ${bname} is missing (the model has biases)`);
      const b = decodeNpy(new Uint8Array(fs.readFileSync(file(bname))));
      if (b.data.length !== L.fanOut) throw new Error(`${dir}/${bname}: ${b.data.length} values, expected ${L.fanOut}`);
      params.set(Float32Array.from(b.data), L.biasOffset);
    }
  }
  const indices = (name: string): Uint32Array | null => {
    if (!fs.existsSync(file(name))) return null;
    return Uint32Array.from(decodeNpy(new Uint8Array(fs.readFileSync(file(name)))).data);
  };
  const result = fs.existsSync(file('result.json')) ? (JSON.parse(fs.readFileSync(file('result.json'), 'utf8')) as Record<string, unknown>) : null;
  return { dir, model, train: config.train, data: config.data, params, trainIndices: indices('train_indices.npy'), testIndices: indices('test_indices.npy'), result };
}

/** Throws if the reloaded data's split differs from the one saved with the run. */
export function checkRunIndices(run: LoadedRun, loaded: LoadedData): void {
  const same = (a: Uint32Array | null, b: Uint32Array): boolean => a === null || (a.length === b.length && a.every((v, i) => v === b[i]));
  if (!same(run.trainIndices, loaded.trainIndices) || !same(run.testIndices, loaded.testIndices)) {
    throw new Error(`${run.dir}: the dataset reloaded from config.json does not have the run's saved train/test indices (dataset files changed?)`);
  }
}
