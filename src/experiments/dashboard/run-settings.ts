/**
 * The dashboard's settings: one flat record whose keys are the flags of `sgdscope train` and of
 * the instruments (so a dashboard URL reads like the command line that reproduces it), their
 * defaults (the CLI's), parsing from the URL / form strings, and validation field by field with
 * the engine's messages (train.lr must be (0, 100], got 0; lab.k must be an integer in [2, 159],
 * got 400). The base fields (data, model, training) are written here; every instrument adds its
 * settings (src/instruments: flag, type, default, range) and an on/off key named by its id — none
 * is named here. DOM-free: used by the page, the engine worker and tests.
 */
import { checkNumber, validateTrainConfig, type TrainConfig } from '../../train/config.ts';
import { validateMlpConfig, type MlpConfig } from '../../nn/config.ts';
import type { DatasetSpec } from '../../data/registry.ts';
import { instruments, withNeeds } from '../../instruments/all.ts';
import { formatSetting, parseSetting, settingFlag, type SettingSpec, type SettingsContext, type SettingValue } from '../../instruments/settings.ts';
import { valueErrors, type InstrumentValues } from '../../instruments/values.ts';
import type { Instrument } from '../../instruments/types.ts';
import { ENSEMBLE_DEFAULTS, ENSEMBLE_SETTINGS, ensembleErrors, type EnsembleSettings } from './ensemble-settings.ts';

export type DatasetKind = 'mnist10k' | 'fashion' | 'idx';

export interface BaseSettings {
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
  /** SGD steps per GPU command buffer (and per message to the page). */
  chunk: number;
}

/** The base settings, the ensemble's (ensemble-settings.ts), each instrument's on/off (key: its id) and its settings (key: the flag). */
export type DashSettings = BaseSettings & EnsembleSettings & Record<string, SettingValue | number[] | null | undefined>;

export const BASE_SETTINGS: BaseSettings = {
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
  chunk: 40,
};

/** A setting of an instrument (or its on/off switch, spec null) by its key in DashSettings. */
export interface InstrumentField {
  def: Instrument;
  /** Setting key inside the instrument; null: the on/off switch. */
  key: string | null;
  spec: SettingSpec | null;
}

/** Every instrument field of the registry, by DashSettings key, in registry order. */
export function instrumentFields(): Map<string, InstrumentField> {
  const out = new Map<string, InstrumentField>();
  for (const def of instruments()) {
    out.set(def.id, { def, key: null, spec: null });
    for (const [k, spec] of Object.entries(def.settings)) out.set(settingFlag(def.id, k, spec), { def, key: k, spec });
  }
  return out;
}

export function defaultSettings(): DashSettings {
  const s: DashSettings = { ...BASE_SETTINGS, widths: [...BASE_SETTINGS.widths], ...ENSEMBLE_DEFAULTS };
  for (const [key, f] of instrumentFields()) s[key] = f.spec ? f.spec.default : f.def.dashboardDefault !== false;
  return s;
}

/** The defaults for the instruments registered when this module was loaded (see defaultSettings). */
export const DEFAULT_SETTINGS: DashSettings = defaultSettings();

export function settingKeys(): string[] {
  return [...Object.keys(BASE_SETTINGS), ...Object.keys(ENSEMBLE_SETTINGS), ...instrumentFields().keys()];
}

/** An instrument's values in `s`. */
export function instrumentValues(s: DashSettings, def: Instrument): InstrumentValues {
  return Object.fromEntries(Object.entries(def.settings).map(([k, spec]) => [k, s[settingFlag(def.id, k, spec)] as SettingValue]));
}

export type SettingKey = string;

/** Training-set sizes known before loading (for the batch and window checks). */
export const KNOWN_TRAIN_SIZE: Record<DatasetKind, number | null> = { mnist10k: 8000, fashion: 60000, idx: null };

export type FieldErrors = Record<string, string>;

/** Parses one field from its string form (URL or form input); throws a message on bad syntax. */
export function parseField(key: SettingKey, raw: string): DashSettings[SettingKey] {
  if (Object.hasOwn(ENSEMBLE_SETTINGS, key)) return parseSetting(key, ENSEMBLE_SETTINGS[key as keyof EnsembleSettings], raw);
  const f = instrumentFields().get(key);
  if (f) return f.spec ? parseSetting(key, f.spec, raw) : parseSetting(key, { type: 'bool', default: true, help: '' }, raw);
  const s = raw.trim();
  const num = (): number => {
    if (s === '') throw new Error(`${key}: a number is required`);
    const v = Number(s);
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
  const f = instrumentFields().get(key);
  if (f?.spec && v !== null && v !== undefined && !Array.isArray(v)) return formatSetting(f.spec, v);
  if (key === 'widths') return (v as number[]).join(',');
  if (v === null) return '';
  return String(v);
}

/** Settings from a URL query (unknown keys are reported, bad values keep their default). */
export function settingsFromQuery(query: string): { settings: DashSettings; problems: string[] } {
  const params = new URLSearchParams(query);
  const settings = defaultSettings();
  const keys = settingKeys();
  const problems: string[] = [];
  for (const [k, raw] of params) {
    if (k === 'autostart') continue;
    if (!keys.includes(k)) {
      problems.push(`unknown URL setting '${k}' (settings: ${keys.join(', ')})`);
      continue;
    }
    try {
      settings[k] = parseField(k, raw);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return { settings, problems };
}

/** The query string holding every setting that differs from its default. */
export function settingsToQuery(s: DashSettings): string {
  const params = new URLSearchParams();
  const defaults = defaultSettings();
  for (const k of settingKeys()) {
    const v = formatField(k, s[k]);
    if (v !== formatField(k, defaults[k])) params.set(k, v);
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

/**
 * Every field's problem, worded as the engine words it, with the allowed range. `fullSize`: the
 * dataset's training-set size when known (the batch and window checks need the size trained on:
 * train-size when given, else this).
 */
export function validateSettings(s: DashSettings, fullSize: number | null = KNOWN_TRAIN_SIZE[s.dataset]): FieldErrors {
  const trainSize = s.dataset !== 'mnist10k' && s['train-size'] !== null && Number.isInteger(s['train-size']) && s['train-size'] >= 1 ? Math.min(s['train-size'], fullSize ?? Infinity) : fullSize;
  const e: FieldErrors = {};
  const put = (k: SettingKey, m: string | null | undefined): void => {
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

  // Instruments: each declares its ranges; they may depend on the run (model, batch, dataset size).
  const stepsPerEpoch = trainSize !== null && Number.isInteger(s.batch) && s.batch >= 1 ? Math.floor(trainSize / s.batch) : null;
  const c: SettingsContext = { widths: s.widths, bias: s.bias, batchSize: s.batch, epochs: s.epochs, trainSize, stepsPerEpoch };
  for (const def of instruments()) {
    // An ensemble runs no instrument (ensemble-settings.ts): the settings of those switched off do not apply.
    if (s.replicas > 1 && s[def.id] !== true) continue;
    for (const [flag, m] of Object.entries(valueErrors(def, instrumentValues(s, def), c))) put(flag, m);
  }
  // The ensemble: its range, and what cannot take more than one network yet.
  for (const [k, m] of Object.entries(ensembleErrors(s, c))) put(k, m);
  return e;
}

/** What the worker needs to start a run. */
export interface RunSpec {
  model: MlpConfig;
  train: Partial<TrainConfig>;
  data: DatasetSpec;
  /** Networks trained in lockstep, seeds train.seed, train.seed + 1, … (1: a single run). */
  replicas: number;
  /** The instruments switched on (with what they need, registry order) and every instrument's values. */
  instruments: { active: string[]; values: Record<string, InstrumentValues> };
}

export function runSpecOf(s: DashSettings, fileNames: string[] = []): RunSpec {
  const on = instruments().filter((d) => s[d.id] === true).map((d) => d.id);
  return {
    model: modelOf(s),
    train: trainOf(s),
    data: datasetOf(s, fileNames),
    replicas: s.replicas,
    instruments: { active: withNeeds(on).map((d) => d.id), values: Object.fromEntries(instruments().map((d) => [d.id, instrumentValues(s, d)])) },
  };
}
