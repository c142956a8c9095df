/**
 * The settings of a training run as `sgdscope train` (and the commands built on it: sweep,
 * reproduce feng-tu, …) resolve them: defaults (the Feng–Tu reference run), then --config run.json
 * (sections model / train / data, each optional, every key checked), then flags.
 */
import { readFileSync } from 'node:fs';
import { checkDatasetSpec, type DatasetSpec } from '../data/index.ts';
import { MODEL_KEYS, SEED_MLP, validateMlpConfig, type MlpConfig } from '../nn/config.ts';
import { TRAIN_KEYS, validateTrainConfig, type TrainConfig } from '../train/config.ts';
import { SAVE_EVERY_HELP } from '../train/save-policy.ts';
import { checkKeys, isPlainObject } from '../util/keys.ts';
import { UsageError, type FlagSpec, type FlagValues } from './args.ts';

/**
 * The authors' stop rule (src/train/stop-rule.ts) on every training command; --epochs (or
 * --steps) stays the cap. With both parts: stop once the full training loss < --stop-loss and the
 * mean training accuracy of the last --stop-accuracy-epochs evaluations > --stop-accuracy.
 */
export const STOP_FLAGS: Record<string, FlagSpec> = {
  'stop-loss': { kind: 'number', help: 'stop rule: full training loss below this (with --stop-accuracy: both must hold; the authors: 5e-5)', range: [0, 1e6, true] },
  'stop-accuracy': { kind: 'number', help: 'stop rule: mean training accuracy of the last --stop-accuracy-epochs evaluations above this (the authors: 0.99)', range: [0, 1] },
  'stop-accuracy-epochs': { kind: 'int', help: 'evaluations (epochs) averaged by --stop-accuracy (default 1; the authors: 9)', range: [1, 100000] },
};

/** TrainConfig fields of the stop-rule flags that were given. */
export function stopSettings(flags: FlagValues): Partial<TrainConfig> {
  const t: Partial<TrainConfig> = {};
  if (flags['stop-loss'] !== undefined) t.stopLoss = flags['stop-loss'] as number;
  if (flags['stop-accuracy'] !== undefined) t.stopAccuracy = flags['stop-accuracy'] as number;
  if (flags['stop-accuracy-epochs'] !== undefined) {
    if (flags['stop-accuracy'] === undefined) throw new UsageError('--stop-accuracy-epochs needs --stop-accuracy (the accuracy it averages)');
    t.stopAccuracyEpochs = flags['stop-accuracy-epochs'] as number;
  }
  return t;
}

export const TRAIN_FLAGS: Record<string, FlagSpec> = {
  config: { kind: 'string', help: 'JSON file with optional sections {model, train, data}; flags override it' },
  dataset: { kind: 'string', help: 'mnist10k (embedded, default), fashion (Debian dataset-fashion-mnist), idx:<dir> (your MNIST-format IDX files)', choices: ['mnist10k', 'fashion', 'idx:'] },
  'train-size': { kind: 'int', help: 'training samples (stratified subsample)', range: [1, 1e7] },
  'test-size': { kind: 'int', help: 'test samples (stratified subsample)', range: [1, 1e7] },
  'split-seed': { kind: 'int', help: 'seed of the train/test split and subsamples (default 0)', range: [0, 4294967295] },
  widths: { kind: 'list', help: 'layer widths, inputs first, e.g. 784,50,50,10' },
  activation: { kind: 'string', help: 'hidden activation', choices: ['relu', 'tanh'] },
  bias: { kind: 'bool', help: 'give every layer a bias (default: none, as the reference run)' },
  init: { kind: 'string', help: "weight init: 'pytorch' (nn.Linear default) or 'normal' (N(0, σ_w²/fan_in), N(0, σ_b²))", choices: ['pytorch', 'normal'] },
  'sigma-w': { kind: 'number', help: 'σ_w for --init normal (default 1.41421356, He for ReLU)', range: [0, 100] },
  'sigma-b': { kind: 'number', help: 'σ_b for --init normal (default 0)', range: [0, 100] },
  lr: { kind: 'number', help: 'learning rate (default 0.1)', range: [0, 100, true] },
  batch: { kind: 'int', help: 'minibatch size B (default 50)', range: [1, 65536] },
  'weight-decay': { kind: 'number', help: 'L2 weight decay (default 0)', range: [0, 10] },
  momentum: { kind: 'number', help: 'momentum (default 0)', range: [0, 0.999] },
  seed: { kind: 'int', help: 'seed of init and minibatch order (default 1)', range: [0, 4294967295] },
  replicas: { kind: 'int', help: 'train R networks in lockstep, seeds seed, seed+1, … (an ensemble: stacked (R, fan_in, fan_out) weights, per-replica metrics)', range: [1, 1024] },
  seeds: { kind: 'list', help: 'an ensemble of these seeds, e.g. 1,2,3,7 (sets --replicas)' },
  sampling: { kind: 'string', help: 'shuffle each epoch (default) or draw with replacement', choices: ['shuffle', 'replacement'] },
  epochs: { kind: 'int', help: 'stop after this many epochs (default 20)', range: [1, 100000] },
  steps: { kind: 'int', help: 'stop after this many steps', range: [1, 1e9] },
  'target-loss': { kind: 'number', help: 'stop when the full training loss is at or below this', range: [0, 1e6, true] },
  'target-accuracy': { kind: 'number', help: 'stop when the full training accuracy reaches this', range: [0, 1, true] },
  ...STOP_FLAGS,
  'eval-every': { kind: 'int', help: 'evaluate on the full train/test sets every N steps (0: every epoch)', range: [0, 1e9] },
  chunk: { kind: 'int', help: 'SGD steps per GPU command buffer (default 200)', range: [1, 10000] },
  'divergence-loss': { kind: 'number', help: 'a minibatch loss above this stops the run as diverged (default 1000)', range: [0, 1e30, true] },
  dropout: { kind: 'number', help: 'inverted dropout on every hidden activation during training: drop probability (default 0: off)', range: [0, 0.95] },
  out: { kind: 'string', help: 'run folder (default runs/<time>-train)' },
  force: { kind: 'bool', help: 'replace an existing run folder (and discard an unfinished run of it)' },
  resume: { kind: 'string', help: 'continue the interrupted run in this folder from its last checkpoint (settings come from the checkpoint)' },
  'save-every': { kind: 'string', help: SAVE_EVERY_HELP },
  quiet: { kind: 'bool', help: 'no progress bar' },
  help: { kind: 'bool', help: 'show this help' },
};

interface ConfigFile {
  model?: Partial<MlpConfig>;
  train?: Partial<TrainConfig>;
  data?: DatasetSpec;
}

export interface ResolvedRun {
  model: MlpConfig;
  train: TrainConfig;
  data: DatasetSpec;
}

/**
 * The shape of a --config file: an object with the optional sections model, train and data, each an
 * object (their keys and values are checked by validateMlpConfig, validateTrainConfig, loadDataset).
 */
export function parseConfigFile(v: unknown, where: string): ConfigFile {
  const file = checkKeys(v, ['model', 'train', 'data'], where, 'section');
  for (const k of ['model', 'train', 'data']) {
    if (Object.hasOwn(file, k) && !isPlainObject(file[k])) throw new UsageError(`${where}: section '${k}' must be an object {…}, got ${JSON.stringify(file[k])}`);
  }
  if (file.model) checkKeys(file.model, MODEL_KEYS, `${where}: model`);
  if (file.train) checkKeys(file.train, TRAIN_KEYS, `${where}: train`, 'setting');
  if (file.data) {
    try {
      checkDatasetSpec(file.data);
    } catch (e) {
      throw new UsageError(`${where}: ${(e as Error).message}`);
    }
  }
  return file as ConfigFile;
}

export function resolveTrainSettings(flags: FlagValues): ResolvedRun {
  let file: ConfigFile = {};
  if (typeof flags.config === 'string') {
    let text: string;
    try {
      text = readFileSync(flags.config, 'utf8');
    } catch (e) {
      throw new UsageError(`--config ${flags.config}: cannot read the file (${(e as Error).message})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`--config ${flags.config}: not valid JSON (${(e as Error).message})`);
    }
    file = parseConfigFile(parsed, `--config ${flags.config}`);
  }

  const model: MlpConfig = { ...SEED_MLP, ...(file.model ?? {}) } as MlpConfig;
  if (flags.widths) model.widths = flags.widths as number[];
  if (flags.activation) model.activation = flags.activation as MlpConfig['activation'];
  if (flags.bias !== undefined) model.bias = flags.bias as boolean;
  if (flags.init === 'normal' || (flags.init === undefined && (flags['sigma-w'] !== undefined || flags['sigma-b'] !== undefined))) {
    const prev = model.init.kind === 'normal' ? model.init : { sigmaW: Math.SQRT2, sigmaB: 0 };
    model.init = {
      kind: 'normal',
      sigmaW: (flags['sigma-w'] as number | undefined) ?? prev.sigmaW,
      sigmaB: (flags['sigma-b'] as number | undefined) ?? prev.sigmaB,
    };
  } else if (flags.init === 'pytorch') model.init = { kind: 'pytorch' };
  validateMlpConfig(model);

  const t: Partial<TrainConfig> = { ...(file.train ?? {}) };
  const set = <K extends keyof TrainConfig>(key: K, flag: string): void => {
    if (flags[flag] !== undefined) t[key] = flags[flag] as TrainConfig[K];
  };
  set('lr', 'lr');
  set('batchSize', 'batch');
  set('weightDecay', 'weight-decay');
  set('momentum', 'momentum');
  set('seed', 'seed');
  set('sampling', 'sampling');
  set('epochs', 'epochs');
  set('steps', 'steps');
  set('targetTrainLoss', 'target-loss');
  set('targetTrainAccuracy', 'target-accuracy');
  Object.assign(t, stopSettings(flags));
  set('evalEvery', 'eval-every');
  set('chunkSteps', 'chunk');
  set('divergenceLoss', 'divergence-loss');
  set('dropout', 'dropout');
  // --steps alone means "exactly that many steps", not "whichever of 20 epochs and N steps comes first".
  if (flags.steps !== undefined && flags.epochs === undefined && file.train?.epochs === undefined) t.epochs = null;
  const train = validateTrainConfig(t);

  let data: DatasetSpec = file.data ?? { kind: 'mnist10k' };
  const ds = flags.dataset as string | undefined;
  if (ds === 'mnist10k') data = { kind: 'mnist10k' };
  else if (ds === 'fashion') data = { kind: 'fashion' };
  else if (ds?.startsWith('idx:')) data = { kind: 'idx', dir: ds.slice(4) };
  const d = data as unknown as Record<string, unknown>;
  if (flags['train-size'] !== undefined) d.trainSize = flags['train-size'];
  if (flags['test-size'] !== undefined) d.testSize = flags['test-size'];
  if (flags['split-seed'] !== undefined) d.seed = flags['split-seed'];
  if (data.kind === 'mnist10k' && d.testSize !== undefined) delete d.testFraction;
  return { model, train, data };
}
