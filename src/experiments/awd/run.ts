/**
 * `sgdscope reproduce awd`: the activity–weight duality experiment of Feng, Zhang & Tu (Nat.
 * Mach. Intell. 2023) in the authors' setting — MLP 784-30-30-10, ReLU, no biases, PyTorch init,
 * 4,000 training samples, SGD lr 0.1, B 25, trained until the training loss is small — with lr, B
 * and weight decay varied one at a time around that base, and the duality analysis (analyze.ts)
 * of the hidden→hidden layer of every trained network.
 *
 * Protocol (A-W-Duality-Project: train_model.py, eval_model.py): train until the full training
 * loss ≤ targetLoss (authors 1e-3; an epoch cap ends runs that do not get there); the weight
 * penalty is applied during the first `weightDecayEpochs` epochs only (authors: 200 epochs of
 * β‖w‖), then training continues without it to the same target, so all networks are compared at
 * the same training loss. Our penalty is the usual L2 weight decay (w ← w − lr·wd·w), not β‖w‖.
 */
import type { GpuContext } from '../../gpu/device.ts';
import type { Dataset, DatasetSpec } from '../../data/index.ts';
import type { MlpConfig } from '../../nn/config.ts';
import { Trainer, type RunStatus } from '../../train/trainer.ts';
import type { TrainConfig } from '../../train/config.ts';
import { localTraining, type TrainControl } from '../train-control.ts';
import { AwdProbe, DEFAULT_AWD, type AwdAnalysis, type AwdOptions } from './analyze.ts';
import { pairSamples, type Pairing, type Pairs } from './pairing.ts';

export type AwdAxis = 'base' | 'lr' | 'batchSize' | 'weightDecay';

export interface AwdPoint {
  index: number;
  /** Which line of the design this run belongs to (the base run belongs to all). */
  axis: AwdAxis;
  lr: number;
  batchSize: number;
  weightDecay: number;
  seed: number;
}

export interface AwdExperimentSpec {
  model: MlpConfig;
  data: DatasetSpec;
  base: { lr: number; batchSize: number; weightDecay: number };
  lrs: number[];
  batchSizes: number[];
  weightDecays: number[];
  seeds: number[];
  /** Stop when the full training loss reaches this... */
  targetLoss: number;
  /** ...or after this many epochs. */
  maxEpochs: number;
  /** Weight decay only during the first this many epochs (null: the whole run). */
  weightDecayEpochs: number | null;
  /** Optional stop rule (src/train/stop-rule.ts) besides targetLoss, in the run's last phase. */
  stop?: Partial<Pick<TrainConfig, 'stopLoss' | 'stopAccuracy' | 'stopAccuracyEpochs'>>;
  awd: AwdOptions;
}

export const AWD_MODEL: MlpConfig = { widths: [784, 30, 30, 10], activation: 'relu', bias: false, init: { kind: 'pytorch' } };

/** Scaled for a CPU-emulated GPU (7 runs; minutes here). */
export const AWD_SCALED: Omit<AwdExperimentSpec, 'model' | 'data'> = {
  base: { lr: 0.1, batchSize: 25, weightDecay: 0 },
  lrs: [0.05, 0.1, 0.2],
  batchSizes: [25, 50, 100],
  weightDecays: [0, 1e-3, 3e-3],
  seeds: [1],
  targetLoss: 0.01,
  maxEpochs: 150,
  weightDecayEpochs: 20,
  awd: DEFAULT_AWD,
};

/** The authors' grid (model_config.py): for a real GPU. Their β‖w‖ penalties 5e-3…2e-2 ≈ L2 decay 5e-4…2e-3 at ‖w‖ ~ 10. */
export const AWD_FULL: Omit<AwdExperimentSpec, 'model' | 'data'> = {
  base: { lr: 0.1, batchSize: 25, weightDecay: 0 },
  lrs: [0.005, 0.01, 0.02, 0.05, 0.1],
  batchSizes: [25, 100, 200, 400],
  weightDecays: [0, 5e-4, 1e-3, 2e-3],
  seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  targetLoss: 1e-3,
  maxEpochs: 1000,
  weightDecayEpochs: 200,
  awd: DEFAULT_AWD,
};

/** The base-centred design: each axis varied with the others at the base value; duplicates merged. */
export function awdPoints(s: AwdExperimentSpec): AwdPoint[] {
  const out: AwdPoint[] = [];
  const seen = new Set<string>();
  const add = (axis: AwdAxis, lr: number, batchSize: number, weightDecay: number): void => {
    for (const seed of s.seeds) {
      const key = `${lr}|${batchSize}|${weightDecay}|${seed}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ index: out.length, axis, lr, batchSize, weightDecay, seed });
    }
  };
  const b = s.base;
  add('base', b.lr, b.batchSize, b.weightDecay);
  for (const lr of s.lrs) add('lr', lr, b.batchSize, b.weightDecay);
  for (const B of s.batchSizes) add('batchSize', b.lr, B, b.weightDecay);
  for (const wd of s.weightDecays) add('weightDecay', b.lr, b.batchSize, wd);
  return out;
}

/** Whether a run lies on the line of `axis` (the base run lies on every line). */
export function onAxis(p: AwdPoint, axis: Exclude<AwdAxis, 'base'>, base: AwdExperimentSpec['base']): boolean {
  const same = (k: 'lr' | 'batchSize' | 'weightDecay'): boolean => k === axis || p[k] === base[k];
  return same('lr') && same('batchSize') && same('weightDecay');
}

export function validateAwdSpec(s: AwdExperimentSpec): AwdExperimentSpec {
  const lists: [string, number[]][] = [['lrs', s.lrs], ['batchSizes', s.batchSizes], ['weightDecays', s.weightDecays], ['seeds', s.seeds]];
  for (const [name, v] of lists) if (!Array.isArray(v) || v.length === 0) throw new Error(`awd.${name} must be a non-empty list`);
  if (!(s.targetLoss > 0)) throw new Error(`awd.targetLoss must be > 0, got ${s.targetLoss}`);
  if (!(Number.isInteger(s.maxEpochs) && s.maxEpochs >= 1)) throw new Error(`awd.maxEpochs must be a positive integer, got ${s.maxEpochs}`);
  if (s.weightDecayEpochs !== null && !(Number.isInteger(s.weightDecayEpochs) && s.weightDecayEpochs >= 1)) throw new Error(`awd.weightDecayEpochs must be a positive integer or null, got ${s.weightDecayEpochs}`);
  return s;
}

export interface AwdRun {
  point: AwdPoint;
  status: RunStatus;
  message: string;
  steps: number;
  epochs: number;
  trainSeconds: number;
  /** Final full training loss (the stop rule's), null if diverged. */
  finalTrainLoss: number | null;
  weightNorm: number;
  analysis: AwdAnalysis | null;
  analysisSeconds: number;
  /** The trained weights analysed (flat layout): the run folder saves them. */
  params: Float32Array;
}

export interface AwdExperimentResult {
  spec: AwdExperimentSpec;
  runs: AwdRun[];
  trainSize: number;
  testSize: number;
  pairsSeconds: number;
  seconds: number;
}

export interface AwdHooks {
  onRunEnd?(r: AwdRun, done: number, total: number): void;
  /** Runs finished earlier, in order (a resumed experiment): kept, not trained again. */
  done?: AwdRun[];
  onPhase?(p: AwdPoint, what: string): void;
}

async function trainOne(ctx: GpuContext, s: AwdExperimentSpec, p: AwdPoint, data: { train: Dataset; test: Dataset }, hooks: AwdHooks, control: TrainControl): Promise<{ params: Float32Array; status: RunStatus; message: string; steps: number; epochs: number; seconds: number; trainLoss: number | null }> {
  const common: Partial<TrainConfig> = { lr: p.lr, batchSize: p.batchSize, seed: p.seed, targetTrainLoss: s.targetLoss, evalEvery: 0, ...s.stop };
  const phases: Partial<TrainConfig>[] = [];
  if (p.weightDecay > 0 && s.weightDecayEpochs !== null && s.weightDecayEpochs < s.maxEpochs) {
    phases.push({ ...common, weightDecay: p.weightDecay, epochs: s.weightDecayEpochs, targetTrainLoss: null, stopLoss: null, stopAccuracy: null });
    phases.push({ ...common, weightDecay: 0, epochs: s.maxEpochs - s.weightDecayEpochs });
  } else {
    phases.push({ ...common, weightDecay: p.weightDecay, epochs: s.maxEpochs });
  }
  let params: Float32Array | null = null;
  let steps = 0;
  let epochs = 0;
  let seconds = 0;
  let status: RunStatus = 'completed';
  let message = '';
  let trainLoss: number | null = null;
  for (const [i, phase] of phases.entries()) {
    hooks.onPhase?.(p, phases.length > 1 ? `phase ${i + 1}/${phases.length} (weight decay ${phase.weightDecay})` : 'training');
    const t = await Trainer.create(ctx, s.model, phase, { train: data.train, test: null });
    try {
      if (params) t.mlp.uploadParams(params);
      const r = await control.train(t, { key: `phase ${i + 1}` });
      steps += r.steps;
      epochs += r.steps / t.stepsPerEpoch;
      seconds += r.seconds;
      status = r.status;
      message = phases.length > 1 ? `phase ${i + 1}: ${r.message}` : r.message;
      if (r.status === 'diverged') {
        params = (await t.lastGoodParams())?.params ?? (await t.mlp.readParams());
        break;
      }
      params = await t.mlp.readParams();
      const last = t.history.evals.at(-1);
      trainLoss = last && last.step === r.steps ? last.train.loss : (await t.evaluate()).train.loss;
    } finally {
      t.trainData.x.destroy();
      t.trainData.y.destroy();
    }
  }
  return { params: params!, status, message, steps, epochs, seconds, trainLoss };
}

/** The pairings a spec analyses, computed once per experiment (nearest neighbours: CPU time). */
export function awdPairs(spec: AwdExperimentSpec, data: { train: Dataset; test: Dataset }): Partial<Record<Pairing, Pairs>> {
  const pairs: Partial<Record<Pairing, Pairs>> = {};
  for (const p of spec.awd.both ? (['train-to-test', 'test-to-train'] as const) : [spec.awd.pairing]) pairs[p] = pairSamples(data.train, data.test, p);
  return pairs;
}

/** One run, trained and analysed: the unit of work of the in-process experiment and of a queue worker (src/queue/). */
export async function runAwdPoint(
  ctx: GpuContext, spec: AwdExperimentSpec, p: AwdPoint, data: { train: Dataset; test: Dataset }, probe: AwdProbe, pairs: Partial<Record<Pairing, Pairs>>,
  hooks: AwdHooks = {}, control: TrainControl = localTraining(),
): Promise<AwdRun> {
  const tr = await trainOne(ctx, spec, p, data, hooks, control);
  let w = 0;
  for (const v of tr.params) w += v * v;
  let analysis: AwdAnalysis | null = null;
  const ta = performance.now();
  if (tr.status !== 'diverged') {
    hooks.onPhase?.(p, 'duality analysis');
    analysis = await probe.analyze(tr.params, data, spec.awd, pairs);
  }
  return {
    point: p,
    status: tr.status,
    message: tr.message,
    steps: tr.steps,
    epochs: tr.epochs,
    trainSeconds: tr.seconds,
    finalTrainLoss: tr.trainLoss,
    weightNorm: Math.sqrt(w),
    analysis,
    analysisSeconds: (performance.now() - ta) / 1000,
    params: tr.params,
  };
}

export async function runAwdExperiment(ctx: GpuContext, spec: AwdExperimentSpec, data: { train: Dataset; test: Dataset }, hooks: AwdHooks = {}): Promise<AwdExperimentResult> {
  validateAwdSpec(spec);
  const t0 = performance.now();
  const points = awdPoints(spec);
  const tp = performance.now();
  const pairs = awdPairs(spec, data);
  const pairsSeconds = (performance.now() - tp) / 1000;
  const probe = await AwdProbe.create(ctx, spec.model, data.train, spec.awd.layer);
  const runs: AwdRun[] = [];
  try {
    for (const p of points) {
      const earlier = hooks.done?.[runs.length];
      if (earlier) {
        if (earlier.point.index !== p.index) throw new Error(`awd: a finished run (point ${earlier.point.index}) does not belong at position ${p.index}`);
        runs.push(earlier);
        continue;
      }
      runs.push(await runAwdPoint(ctx, spec, p, data, probe, pairs, hooks));
      hooks.onRunEnd?.(runs[runs.length - 1], runs.length, points.length);
    }
  } finally {
    probe.destroy();
  }
  return { spec, runs, trainSize: data.train.n, testSize: data.test.n, pairsSeconds, seconds: (performance.now() - t0) / 1000 };
}
