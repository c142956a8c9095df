/**
 * Runs a sweep (grid.ts): every grid point is a full training run (src/train/trainer.ts) followed
 * by its final train/test evaluation, the solution size ‖w‖ and the sharpness spectrum (top
 * Hessian eigenvalues, sharpness.ts). A diverged run reports "diverged at step N" and no spectrum.
 *
 * Several runs at once: `concurrency` trainers run interleaved on the one device (each keeps two
 * command buffers in flight; their chunks queue behind each other), so one run's JavaScript —
 * encoding, read-backs, the Lanczos loop on the CPU — overlaps another's GPU work. Whether that
 * beats running them one after the other depends on the device; `sgdscope sweep --concurrency`
 * measures it (timings in result.json).
 */
import type { GpuContext } from '../../gpu/device.ts';
import { stratifiedSample, subset, type Dataset } from '../../data/index.ts';
import { Trainer, type EvalRecord, type RunStatus } from '../../train/trainer.ts';
import { uploadDataset, type GpuDataset } from '../../train/gpu-dataset.ts';
import { paramLayout } from '../../nn/params.ts';
import { expandGrid, noiseScale, type SweepPoint, type SweepSpec } from './grid.ts';
import { SharpnessProbe } from './sharpness.ts';

/**
 * 'diverged': the minibatch loss became NaN/Inf or exceeded divergenceLoss ("diverged at step N").
 * 'collapsed': training finished but the network learned nothing — final training loss within 10%
 * of ln C (the loss of a constant uniform output), at chance accuracy or after a loss spike
 * (classifyRun). Beyond the stability edge a ReLU network usually ends this way rather than
 * blowing up: a loss burst kills the hidden units, the gradient vanishes, the loss sits at ln C.
 */
export type SweepOutcome = 'trained' | 'collapsed' | 'diverged';

/** Fraction of ln C above which a finished run at chance accuracy, or after a loss spike, counts as collapsed. */
export const COLLAPSE_FRACTION = 0.9;
/** Train accuracy up to this many times chance (1/C) counts as chance. */
export const CHANCE_FACTOR = 1.5;

/**
 * How a run ended. Collapsed: it finished near the untrained loss (≥ COLLAPSE_FRACTION·ln C)
 * either at chance accuracy (≤ CHANCE_FACTOR/C: its output no longer tells the classes apart) or
 * after a loss spike above 2·ln C (the burst that kills the hidden units past the stability edge).
 * A run merely slow to leave the initial plateau (small lr, few epochs) has no spike — its loss
 * starts at ln C and only falls — and is above chance: it stays 'trained', with its poor accuracy.
 * spikeStep: the first minibatch loss above 2·ln C (1-based), or null.
 */
export function classifyRun(diverged: boolean, finalTrain: { loss: number; accuracy: number } | null, minibatchLoss: number[], classes: number): { outcome: SweepOutcome; spikeStep: number | null } {
  const lnC = Math.log(classes);
  const spike = minibatchLoss.findIndex((l) => !(l <= 2 * lnC));
  const spikeStep = spike >= 0 ? spike + 1 : null;
  if (diverged) return { outcome: 'diverged', spikeStep };
  const collapsed = finalTrain !== null && finalTrain.loss >= COLLAPSE_FRACTION * lnC && (finalTrain.accuracy <= CHANCE_FACTOR / classes || spikeStep !== null);
  return { outcome: collapsed ? 'collapsed' : 'trained', spikeStep };
}

export interface SweepRun {
  point: SweepPoint;
  status: RunStatus;
  outcome: SweepOutcome;
  message: string;
  /** The step whose minibatch loss blew up (null unless diverged). */
  divergedStep: number | null;
  /** First step whose minibatch loss exceeded 2·ln C (a spike far above the untrained loss), or null. */
  spikeStep: number | null;
  steps: number;
  epochs: number;
  seconds: number;
  stepsPerSecond: number;
  trainLoss: number | null;
  trainAccuracy: number | null;
  testLoss: number | null;
  testAccuracy: number | null;
  /** Generalisation gap: test loss − train loss, and train accuracy − test accuracy. */
  gapLoss: number | null;
  gapAccuracy: number | null;
  /** ‖w‖ over every parameter, and per layer (of the final, or last good, weights). */
  weightNorm: number;
  layerNorms: number[];
  /** Smith–Le noise scale g = lr(N/B − 1)/(1 − momentum). */
  noiseScale: number;
  /** Top Hessian eigenvalues (descending), or null (diverged, or k = 0). */
  sharpness: number[] | null;
  sharpnessRelResiduals: number[] | null;
  sharpnessConverged: boolean | null;
  sharpnessSeconds: number;
  /** Evaluations along training (step, train/test loss and accuracy). */
  evals: EvalRecord[];
  /** The weights measured (final, or last good after a divergence), flat layout: the run folder saves them. */
  params: Float32Array;
}

export interface SweepHooks {
  onRunStart?(p: SweepPoint, running: number): void;
  onRunEnd?(r: SweepRun, done: number, total: number): void;
  /** Runs finished earlier (a resumed sweep): their points are skipped and their results kept. */
  done?: SweepRun[];
  /** Polled between chunks: true stops the sweep; runs in progress are dropped (they restart on resume). */
  shouldStop?(): boolean;
}

export interface SweepResult {
  spec: SweepSpec;
  runs: SweepRun[];
  trainSize: number;
  testSize: number;
  seconds: number;
  /** Samples the Hessian was averaged over. */
  hessianSamples: number;
  /** True when shouldStop ended the sweep early: `runs` then has holes. */
  stopped?: boolean;
}

function norms(params: Float32Array, spec: SweepSpec): { total: number; layers: number[] } {
  const layout = paramLayout(spec.model);
  let total = 0;
  const layers = layout.layers.map((L) => {
    let s = 0;
    for (let i = L.offset; i < L.offset + L.size; i++) s += params[i] * params[i];
    total += s;
    return Math.sqrt(s);
  });
  return { total: Math.sqrt(total), layers };
}

/** The Hessian's data: a stratified subsample of the training set (or all of it), uploaded once. */
export function hessianData(ctx: GpuContext, spec: SweepSpec, train: Dataset): GpuDataset | null {
  if (spec.sharpness.k === 0) return null;
  const classes = spec.model.widths[spec.model.widths.length - 1];
  const n = spec.sharpness.samples === null ? train.n : Math.min(spec.sharpness.samples, train.n);
  const ds = n === train.n ? train : subset(train, stratifiedSample(train.y, train.classes, n, 7, 'sweep.sharpness.samples'), `${train.name}[hessian ${n}]`);
  return uploadDataset(ctx, 'sweep.hessian', ds.x, ds.y, ds.d, classes);
}

export async function runOne(ctx: GpuContext, spec: SweepSpec, p: SweepPoint, data: { train: Dataset; test: Dataset | null }, probe: SharpnessProbe | null, shouldStop?: () => boolean): Promise<SweepRun | null> {
  const train = { ...spec.train, lr: p.lr, batchSize: p.batchSize, weightDecay: p.weightDecay, dropout: p.dropout, seed: p.seed };
  const trainer = await Trainer.create(ctx, spec.model, train, data);
  try {
    const result = await trainer.run({ shouldStop });
    if (result.status === 'stopped') return null;
    const diverged = result.status === 'diverged';
    let params: Float32Array;
    if (diverged) params = (await trainer.lastGoodParams())?.params ?? (await trainer.mlp.readParams());
    else params = await trainer.mlp.readParams();
    const last = trainer.history.evals.at(-1);
    const finalEval = diverged ? null : last && last.step === result.steps ? last : await trainer.evaluate();
    const nrm = norms(params, spec);
    let sharpness: number[] | null = null;
    let rel: number[] | null = null;
    let conv: boolean | null = null;
    let shSeconds = 0;
    const lnC = Math.log(spec.model.widths[spec.model.widths.length - 1]);
    const { outcome, spikeStep } = classifyRun(diverged, finalEval?.train ?? null, trainer.history.loss, spec.model.widths[spec.model.widths.length - 1]);
    const dead = outcome === 'collapsed';
    if (!diverged && !dead && probe && spec.sharpness.k > 0) {
      const s = await probe.measure(params, {
        k: spec.sharpness.k,
        residualTol: spec.sharpness.residualTol,
        maxIter: spec.sharpness.maxIter,
        seed: p.seed,
      });
      sharpness = s.values;
      rel = s.relResiduals;
      conv = s.converged;
      shSeconds = s.seconds;
    }
    const tr = finalEval?.train ?? null;
    const te = finalEval?.test ?? null;
    const message = dead
      ? `${result.message}; collapsed: train loss ${tr!.loss.toFixed(4)} ≈ ln C = ${lnC.toFixed(4)} (train accuracy ${(100 * tr!.accuracy).toFixed(1)}%)${spikeStep !== null ? ` after a loss spike at step ${spikeStep}` : ''}`
      : result.message;
    return {
      point: p,
      status: result.status,
      outcome,
      message,
      divergedStep: diverged ? result.steps : null,
      spikeStep: spikeStep ?? (diverged ? result.steps : null),
      steps: result.steps,
      epochs: result.steps / trainer.stepsPerEpoch,
      seconds: result.seconds,
      stepsPerSecond: result.stepsPerSecond,
      trainLoss: tr?.loss ?? null,
      trainAccuracy: tr?.accuracy ?? null,
      testLoss: te?.loss ?? null,
      testAccuracy: te?.accuracy ?? null,
      gapLoss: tr && te ? te.loss - tr.loss : null,
      gapAccuracy: tr && te ? tr.accuracy - te.accuracy : null,
      weightNorm: nrm.total,
      layerNorms: nrm.layers,
      noiseScale: noiseScale(p.lr, data.train.n, p.batchSize, trainer.config.momentum),
      sharpness,
      sharpnessRelResiduals: rel,
      sharpnessConverged: conv,
      sharpnessSeconds: shSeconds,
      evals: trainer.history.evals,
      params,
    };
  } finally {
    // The per-run dataset copies are the big buffers; the rest goes with the trainer object.
    for (const d of [trainer.trainData, trainer.testData]) {
      d?.x.destroy();
      d?.y.destroy();
    }
  }
}

export async function runSweep(ctx: GpuContext, spec: SweepSpec, data: { train: Dataset; test: Dataset | null }, hooks: SweepHooks = {}): Promise<SweepResult> {
  const t0 = performance.now();
  const points = expandGrid(spec.grid);
  const hess = hessianData(ctx, spec, data.train);
  const probe = hess ? await SharpnessProbe.create(ctx, spec.model, hess, spec.sharpness.layers) : null;
  const runs: SweepRun[] = new Array(points.length);
  for (const r of hooks.done ?? []) runs[r.point.index] = r;
  const todo = points.filter((p) => runs[p.index] === undefined);
  let next = 0;
  let done = points.length - todo.length;
  let running = 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (next < todo.length && !stopped) {
      const p = todo[next++];
      running++;
      hooks.onRunStart?.(p, running);
      let r: SweepRun | null;
      try {
        r = await runOne(ctx, spec, p, data, probe, hooks.shouldStop);
      } finally {
        running--;
      }
      if (!r) {
        stopped = true;
        break;
      }
      runs[p.index] = r;
      done++;
      hooks.onRunEnd?.(r, done, points.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(spec.concurrency, points.length) }, worker));
  } finally {
    probe?.destroy();
    hess?.x.destroy();
    hess?.y.destroy();
  }
  return {
    spec,
    runs,
    trainSize: data.train.n,
    testSize: data.test?.n ?? 0,
    seconds: (performance.now() - t0) / 1000,
    hessianSamples: hess?.n ?? 0,
    stopped,
  };
}
