/**
 * The dashboard's settings: one flat record whose keys are the flags of `sgdscope reproduce
 * feng-tu` (so a dashboard URL reads like the command line that reproduces it), their defaults
 * (the CLI's), parsing from the URL / form strings, and validation field by field with the
 * messages of validateTrainConfig / validateMlpConfig (train.lr must be (0, 100], got 0) and, for
 * the noise-lab settings, the same wording with the allowed range computed from the other fields.
 * DOM-free: used by the page (src/ui/main.ts) and by tests.
 */
import { checkNumber, validateTrainConfig, type TrainConfig } from '../train/config.ts';
import { validateMlpConfig, type MlpConfig } from '../nn/config.ts';
import type { DatasetSpec } from '../data/registry.ts';

export type DatasetKind = 'mnist10k' | 'fashion' | 'idx';

export interface DashSettings {
  dataset: DatasetKind;
  /** Training samples of a file dataset (stratified subsample); null: all. */
  'train-size': number | null;
  widths: number[];
  activation: 'relu' | 'tanh';
  bias: boolean;
  init: 'pytorch' | 'normal';
  'sigma-w': number;
  'sigma-b': number;
  lr: number;
  batch: number;
  'weight-decay': number;
  seed: number;
  epochs: number;
  /** Analysed layer (0-based). */
  layer: number;
  'window-epochs': number;
  /** Principal components computed. */
  k: number;
  'flat-k': number;
  /** Live analysis: refresh every this many SGD steps (the cadence). */
  refresh: number;
  /** Live analysis: rows of the subsampled window (the last window-epochs, every ⌈T/rows⌉-th step). */
  'live-rows': number;
  /** Live analysis: directions whose F_i and T_i are measured at each refresh. */
  'live-dirs': number;
  /** SGD steps per GPU command buffer (and per message to the page). */
  chunk: number;
}

export const DEFAULT_SETTINGS: DashSettings = {
  dataset: 'mnist10k',
  'train-size': null,
  widths: [784, 50, 50, 10],
  activation: 'relu',
  bias: false,
  init: 'pytorch',
  'sigma-w': Math.SQRT2,
  'sigma-b': 0,
  lr: 0.1,
  batch: 50,
  'weight-decay': 0,
  seed: 1,
  epochs: 30,
  layer: 1,
  'window-epochs': 10,
  k: 40,
  'flat-k': 2,
  refresh: 480,
  'live-rows': 200,
  'live-dirs': 8,
  chunk: 40,
};

export type SettingKey = keyof DashSettings;
export const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as SettingKey[];

/** Training-set sizes known before loading (for the batch and window checks). */
export const KNOWN_TRAIN_SIZE: Record<DatasetKind, number | null> = { mnist10k: 8000, fashion: 60000, idx: null };

export type FieldErrors = Partial<Record<SettingKey, string>>;

/** Parses one field from its string form (URL or form input); throws a message on bad syntax. */
export function parseField(key: SettingKey, raw: string): DashSettings[SettingKey] {
  const s = raw.trim();
  const num = (): number => {
    if (s === '') throw new Error(`${key}: a number is required`);
    const v = key === 'flat-k' && s === 'e' ? Math.E : Number(s);
    if (!Number.isFinite(v)) throw new Error(`${key}: '${raw}' is not a number`);
    return v;
  };
  switch (key) {
    case 'dataset':
      if (s !== 'mnist10k' && s !== 'fashion' && s !== 'idx') throw new Error(`dataset must be mnist10k, fashion or idx, got '${raw}'`);
      return s;
    case 'activation':
      if (s !== 'relu' && s !== 'tanh') throw new Error(`model.activation must be one of relu, tanh, got '${raw}'`);
      return s;
    case 'init':
      if (s !== 'pytorch' && s !== 'normal') throw new Error(`model.init.kind must be 'normal' or 'pytorch', got '${raw}'`);
      return s;
    case 'bias':
      if (!['true', 'false', '1', '0', 'on', 'off', ''].includes(s)) throw new Error(`model.bias must be true or false, got '${raw}'`);
      return s === 'true' || s === '1' || s === 'on';
    case 'widths': {
      const parts = s.split(/[\s,x×-]+/).filter((p) => p !== '');
      const w = parts.map(Number);
      if (parts.length === 0 || w.some((v) => !Number.isFinite(v))) throw new Error(`model.widths must be a list of layer widths such as 784,50,50,10, got '${raw}'`);
      return w;
    }
    case 'train-size':
      return s === '' || s === 'all' ? null : num();
    default:
      return num();
  }
}

export function formatField(key: SettingKey, v: DashSettings[SettingKey]): string {
  if (key === 'widths') return (v as number[]).join(',');
  if (v === null) return '';
  if (key === 'flat-k' && v === Math.E) return 'e';
  return String(v);
}

/** Settings from a URL query (unknown keys are reported, bad values keep their default). */
export function settingsFromQuery(query: string): { settings: DashSettings; problems: string[] } {
  const params = new URLSearchParams(query);
  const settings: DashSettings = { ...DEFAULT_SETTINGS, widths: [...DEFAULT_SETTINGS.widths] };
  const problems: string[] = [];
  for (const [k, raw] of params) {
    if (k === 'autostart') continue;
    if (!(SETTING_KEYS as string[]).includes(k)) {
      problems.push(`unknown URL setting '${k}' (settings: ${SETTING_KEYS.join(', ')})`);
      continue;
    }
    try {
      (settings as unknown as Record<string, unknown>)[k] = parseField(k as SettingKey, raw);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return { settings, problems };
}

/** The query string holding every setting that differs from its default. */
export function settingsToQuery(s: DashSettings): string {
  const params = new URLSearchParams();
  for (const k of SETTING_KEYS) {
    const v = formatField(k, s[k]);
    if (v !== formatField(k, DEFAULT_SETTINGS[k])) params.set(k, v);
  }
  return params.toString();
}

function message(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export function modelOf(s: DashSettings): MlpConfig {
  return {
    widths: s.widths,
    activation: s.activation,
    bias: s.bias,
    init: s.init === 'normal' ? { kind: 'normal', sigmaW: s['sigma-w'], sigmaB: s['sigma-b'] } : { kind: 'pytorch' },
  };
}

export function trainOf(s: DashSettings): Partial<TrainConfig> {
  return { lr: s.lr, batchSize: s.batch, weightDecay: s['weight-decay'], seed: s.seed, epochs: s.epochs, chunkSteps: s.chunk };
}

export function datasetOf(s: DashSettings, fileNames: string[] = []): DatasetSpec {
  const size = s['train-size'] === null ? {} : { trainSize: s['train-size'] };
  if (s.dataset === 'mnist10k') return { kind: 'mnist10k' };
  if (s.dataset === 'fashion') return { kind: 'fashion', ...size };
  return { kind: 'idx', dir: fileNames.length ? `files:${fileNames.join(',')}` : 'files', ...size };
}

/** Floats in a layer's block (P): (fan_in + bias)·fan_out. */
export function layerSize(s: DashSettings, layer: number): number {
  return (s.widths[layer] + (s.bias ? 1 : 0)) * s.widths[layer + 1];
}

/**
 * Every field's problem, worded as the engine words it, with the allowed range. `fullSize`: the
 * dataset's training-set size when known (the batch and window checks need the size trained on:
 * train-size when given, else this).
 */
export function validateSettings(s: DashSettings, fullSize: number | null = KNOWN_TRAIN_SIZE[s.dataset]): FieldErrors {
  const trainSize = s.dataset !== 'mnist10k' && s['train-size'] !== null && Number.isInteger(s['train-size']) && s['train-size'] >= 1 ? Math.min(s['train-size'], fullSize ?? Infinity) : fullSize;
  const e: FieldErrors = {};
  const put = (k: SettingKey, m: string | null): void => {
    if (m && !e[k]) e[k] = m;
  };
  // Model: validateMlpConfig's messages (the first problem of the model goes to its field).
  const modelMsg = message(() => validateMlpConfig(modelOf(s)));
  if (modelMsg) {
    if (/sigmaW/.test(modelMsg)) put('sigma-w', modelMsg);
    else if (/sigmaB/.test(modelMsg)) put('sigma-b', modelMsg);
    else if (/activation/.test(modelMsg)) put('activation', modelMsg);
    else put('widths', modelMsg);
  }
  if (!e.widths && s.widths.length < 3) put('widths', `model.widths: the noise lab needs a hidden layer (at least 3 widths), got ${s.widths.join(',')}`);
  if (!e.widths && s.dataset !== 'idx' && s.widths[0] !== 784) put('widths', `model.widths[0] must be 784 (28×28 pixels of ${s.dataset}), got ${s.widths[0]}`);
  if (!e.widths && s.dataset !== 'idx' && s.widths[s.widths.length - 1] < 10) put('widths', `model.widths: the output layer needs at least the 10 classes of ${s.dataset}, got ${s.widths[s.widths.length - 1]}`);
  if (s.init === 'normal') {
    put('sigma-w', message(() => checkNumber('model.init', 'sigmaW', s['sigma-w'], { min: 0, max: 100 })));
    put('sigma-b', message(() => checkNumber('model.init', 'sigmaB', s['sigma-b'], { min: 0, max: 100 })));
  }

  // Training: validateTrainConfig's messages, one field at a time.
  const trainFields: [SettingKey, keyof TrainConfig][] = [
    ['lr', 'lr'],
    ['batch', 'batchSize'],
    ['weight-decay', 'weightDecay'],
    ['seed', 'seed'],
    ['epochs', 'epochs'],
    ['chunk', 'chunkSteps'],
  ];
  for (const [key, field] of trainFields) put(key, message(() => validateTrainConfig({ [field]: s[key] } as Partial<TrainConfig>, null)));
  if (!e.batch && trainSize !== null) put('batch', message(() => validateTrainConfig({ batchSize: s.batch }, trainSize)));
  if (s['train-size'] !== null) {
    if (s.dataset === 'mnist10k') put('train-size', 'train-size applies to the file datasets (fashion, idx); MNIST-10k always trains on its 8,000 training samples');
    else put('train-size', message(() => checkNumber('dataset', 'trainSize', s['train-size'], { min: 1, max: fullSize ?? 1e7, integer: true })));
  }

  // Noise lab.
  const layers = s.widths.length - 1;
  put('layer', message(() => checkNumber('lab', 'layer', s.layer, { min: 0, max: Math.max(0, layers - 1), integer: true })));
  put('window-epochs', message(() => checkNumber('lab', 'windowEpochs', s['window-epochs'], { min: 1, max: Number.isFinite(s.epochs) ? Math.max(1, s.epochs) : 1, integer: true })));
  put('flat-k', message(() => checkNumber('lab', 'flatK', s['flat-k'], { min: 1, max: 1e6, minExclusive: true })));
  put('refresh', message(() => checkNumber('lab', 'refresh', s.refresh, { min: 1, max: 1e9, integer: true })));
  put('live-rows', message(() => checkNumber('lab', 'liveRows', s['live-rows'], { min: 3, max: 2000, integer: true })));
  const n = trainSize;
  const stepsPerEpoch = n !== null && Number.isInteger(s.batch) && s.batch >= 1 ? Math.floor(n / s.batch) : null;
  const T = stepsPerEpoch !== null ? s['window-epochs'] * stepsPerEpoch : null;
  const P = !e.layer && !e.widths ? layerSize(s, s.layer) : null;
  const kMax = Math.min(P ?? Infinity, T !== null ? T - 1 : Infinity);
  put('k', message(() => checkNumber('lab', 'k', s.k, { min: 2, max: Number.isFinite(kMax) ? Math.max(2, kMax) : 100000, integer: true })));
  if (!e.k && T !== null && T < 3) put('window-epochs', `lab.windowEpochs: the window must hold at least 3 steps, got ${T} (${s['window-epochs']} epochs of ${stepsPerEpoch} steps)`);
  put('live-dirs', message(() => checkNumber('lab', 'liveDirs', s['live-dirs'], { min: 2, max: Math.max(2, Number.isInteger(s.k) ? s.k : 2), integer: true })));
  if (P !== null && T !== null && !e['window-epochs']) {
    const bytes = T * P * 4;
    if (bytes > 1 << 30) put('window-epochs', `lab.windowEpochs: a ${T}×${P} window (${(bytes / 2 ** 20).toFixed(0)} MiB) is above the 1 GiB a storage buffer may hold; at most ${Math.floor((1 << 30) / (P * 4 * (stepsPerEpoch ?? 1)))} epochs for this layer`);
  }
  return e;
}

/** What the worker needs to start a run. */
export interface RunSpec {
  model: MlpConfig;
  train: Partial<TrainConfig>;
  data: DatasetSpec;
  lab: {
    layer: number;
    windowEpochs: number;
    k: number;
    flatK: number;
    refresh: number;
    liveRows: number;
    liveDirs: number;
  };
}

export function runSpecOf(s: DashSettings, fileNames: string[] = []): RunSpec {
  return {
    model: modelOf(s),
    train: trainOf(s),
    data: datasetOf(s, fileNames),
    lab: {
      layer: s.layer,
      windowEpochs: s['window-epochs'],
      k: s.k,
      flatK: s['flat-k'],
      refresh: s.refresh,
      liveRows: s['live-rows'],
      liveDirs: s['live-dirs'],
    },
  };
}
