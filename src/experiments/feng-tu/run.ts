/**
 * The Feng–Tu experiment end to end on the GPU (PNAS 118, e2015617118, 2021; ../shared/science.md §1):
 *
 *  1. train   the reference setting with SGD, recording the analysed layer after EVERY step of the
 *             final window into a GPU trajectory buffer, merging the window's scatter matrix block by
 *             block as it arrives, and checkpointing all weights every N steps (recorder.ts);
 *  2. pca     top-k PCA of the window (covariance route: S on the GPU + block Lanczos; trajectory
 *             route for big layers), total variance, D90/D99 for all components, with PC1 (the
 *             drift) left out, and of the linearly detrended window; |cos| of PC1 with w* and with
 *             the drift velocity (pca-gpu.ts, pca-summary.ts);
 *  3. flatness F_i along each p_i through w* (flatness-gpu.ts, probe-eval.ts);
 *  4. fit     ψ in σ_i² ∝ F_i^(−ψ), PC1 left out (power-law-fit.ts);
 *  5. temperature T_i at w* from per-sample gradient projections over the whole training set
 *             (temperature-gpu.ts), and its relation to F_i;
 *  6. T(t)    T_i(t) against L(t) at the checkpoints for chosen directions;
 *  7. mlf     the mini-loss-function ensemble along chosen directions (mlf.ts).
 * F_i and T_i are measured for PCs 1, 1 + dirStride, … ≤ k (all top k by default); the authors' code
 * uses k = 1000 of 2,500 and every 10th component, which dirStride = 10 with eig 'dense' reproduces.
 *
 * w* is the window's mean of the analysed layer; the other layers keep their final values (only the
 * analysed layer was recorded at every step). Every stage's wall time is in `timings` (seconds).
 */
import type { GpuContext } from '../../gpu/device.ts';
import { GpuBatch } from '../../gpu/batch.ts';
import { createStorage } from '../../gpu/buffers.ts';
import { ScatterKernels } from '../../kernels/scatter.ts';
import type { MlpConfig } from '../../nn/config.ts';
import type { TrainConfig } from '../../train/config.ts';
import { Trainer, type ChunkProgress, type History, type RunResult } from '../../train/trainer.ts';
import type { Dataset } from '../../data/dataset.ts';
import { summarizePca, type PcaSummary } from '../../analysis/numerics/pca-summary.ts';
import { powerLawFit, type PowerLawFit } from '../../analysis/numerics/power-law-fit.ts';
import { temperatureAnisotropy, type TemperatureAnisotropy, type Temperatures } from '../../analysis/numerics/temperature.ts';
import type { FlatnessResult } from '../../analysis/numerics/flatness.ts';
import { norm2 } from '../../analysis/numerics/dense.ts';
import { encodeCenteredWindow, readWindowStats, windowSumOfSquares, type WindowStats } from '../../analysis/noise/gpu-scatter.ts';
import { autoEigMethod, pcaFromScatter, pcaFromTrajectory, type EigMethod, type GpuPca, type PcaRoute } from '../../analysis/noise/pca-gpu.ts';
import { WindowRecorder } from '../../analysis/noise/recorder.ts';
import { ProbeEvaluator } from '../../analysis/noise/probe-eval.ts';
import { gpuFlatness } from '../../analysis/noise/flatness-gpu.ts';
import { FullSetPass, PerSampleProjector } from '../../analysis/noise/full-pass.ts';
import { temperatureAlongTraining, temperatureAt, type TemperatureRow } from '../../analysis/noise/temperature-gpu.ts';
import { miniLossEnsemble, thetaGrid, type MlfEnsemble } from '../../analysis/noise/mlf.ts';

export interface FengTuOptions {
  /** Analysed layer (default 1: hidden→hidden). */
  layer: number;
  /** Window length in epochs (default 10) or in steps (overrides). */
  windowEpochs: number;
  windowSteps?: number;
  /** Principal components computed. Default (null): min(1000, P, T − 1) on the covariance route
   * (the authors' cut-off), 40 on the trajectory route. */
  k: number | null;
  /** Flatness threshold factor (default 2). */
  flatK: number;
  /** Directions analysed for F_i and T_i: PCs 1, 1 + stride, 1 + 2·stride, … ≤ k. Default (null):
   * 10 when k > 100 (the authors' every-10th), else 1 (all). */
  dirStride: number | null;
  /** Checkpoint every N steps (default: one epoch). */
  checkpointEvery?: number;
  /** Scatter block (rows merged per dispatch group while training, default 200). */
  scatterBlock: number;
  route: 'auto' | PcaRoute;
  /** Largest P for the covariance route under 'auto' (default 4096). */
  maxCovarianceP: number;
  eig: EigMethod;
  /** 1-based PC indices for T(t) (clipped to k). */
  tDirs: number[];
  /** 1-based PC indices for the MLF ensemble. Default (null): the second analysed direction (a
   * sharp one) and the middle analysed one (a flat one), so that their F_i are known. */
  mlfDirs: number[] | null;
  mlfBatches: number;
  mlfPoints: number;
  /** Skip stages (for quick runs and tests). */
  skip?: { flatness?: boolean; temperature?: boolean; temperatureVsLoss?: boolean; mlf?: boolean; detrended?: boolean };
}

export const DEFAULT_FENG_TU: FengTuOptions = {
  layer: 1,
  windowEpochs: 10,
  k: null,
  flatK: 2,
  dirStride: null,
  scatterBlock: 200,
  route: 'auto',
  maxCovarianceP: 4096,
  eig: 'auto',
  tDirs: [1, 2, 5, 10, 20, 40],
  mlfDirs: null,
  mlfBatches: 20,
  mlfPoints: 41,
};

export type Stage = 'train' | 'pca' | 'pca-detrended' | 'flatness' | 'fit' | 'temperature' | 'temperature-vs-loss' | 'mlf';

export interface FengTuProgress {
  onTrainChunk?(p: ChunkProgress, trainer: Trainer): void;
  onStageStart?(stage: Stage, detail: string): void;
  onStageProgress?(stage: Stage, done: number, total: number | null, detail: string): void;
  onStageEnd?(stage: Stage, seconds: number, detail: string): void;
}

export interface FengTuResult {
  options: FengTuOptions;
  model: MlpConfig;
  train: TrainConfig;
  run: RunResult;
  /** The analysed network's training history (of its replica, in an ensemble). */
  history: History;
  stepsPerEpoch: number;
  totalSteps: number;
  window: { firstStep: number; lastStep: number; T: number; epochs: number };
  layer: number;
  fanIn: number;
  fanOut: number;
  P: number;
  trainSize: number;
  trainer: Trainer;
  /** Final weights (all layers) and w* (final with the analysed layer's window mean). */
  finalParams: Float32Array;
  wStarParams: Float32Array;
  /** Analysed layer's w* (P) and drift velocity (per step). */
  wStar: Float64Array;
  drift: Float64Array;
  trajectory: Float32Array;
  pca: GpuPca;
  pcaDetrended: GpuPca | null;
  summary: PcaSummary;
  pc1VsMeanWeight: number | null;
  pc1VsDrift: number | null;
  flatness: (FlatnessResult & { probes: number; ms: number }) | null;
  fit: PowerLawFit | null;
  fitError: string | null;
  /** 0-based PC indices whose F_i and T_i were measured; flatness.directions[j] and temperatures
   * entries j belong to PC dirs[j] + 1. */
  dirs: number[];
  L0: number | null;
  temperatures: Temperatures | null;
  anisotropy: TemperatureAnisotropy | null;
  /** ln T_i against ln F_i (PC1 left out): slope and r. */
  tempVsFlatness: PowerLawFit | null;
  tDirs: number[];
  temperatureVsLoss: TemperatureRow[];
  /** Pearson r of ln T_i(t) with ln L(t) over the checkpoints from the first epoch on, per direction in tDirs. */
  temperatureLossCorrelation: number[];
  mlf: MlfEnsemble[];
  timings: Record<string, number>;
}

/**
 * A Feng–Tu run whose training is under way or done: the options with every default resolved
 * (k, dirStride, eig), the trainer and the recorder its training hook must call. Built by
 * prepareFengTu; runFengTu trains it itself, a dashboard drives the trainer (pause, resume, its
 * own live hooks) and calls analyseFengTu when the run has completed.
 */
export interface FengTuSession {
  ctx: GpuContext;
  o: FengTuOptions;
  /** The network analysed (a single network: in an ensemble, one the replica's weights are put into). */
  trainer: Trainer;
  /** The analysed network's settings and history when they are not the trainer's own (an ensemble's replica). */
  config?: TrainConfig;
  history?: History;
  recorder: WindowRecorder;
  route: PcaRoute;
  /** Window length and the steps before it; total = the run's steps. */
  T: number;
  windowStart: number;
  total: number;
}

/** Validates the options against the trainer's model and run and creates the window recorder (of `replica`, in an ensemble). */
export async function prepareFengTu(ctx: GpuContext, trainer: Trainer, options: Partial<FengTuOptions> = {}, replica = 0): Promise<FengTuSession> {
  const o: FengTuOptions = { ...DEFAULT_FENG_TU, ...options };
  const mlp = trainer.mlp;
  const layers = mlp.layout.layers;
  if (!(Number.isInteger(o.layer) && o.layer >= 0 && o.layer < layers.length)) {
    throw new Error(`layer must be an integer in [0, ${layers.length - 1}] for a ${layers.length}-layer model, got ${o.layer}`);
  }
  const L = layers[o.layer];
  const P = L.size;
  const total = trainer.totalSteps;
  if (total === null) throw new Error('the Feng–Tu run needs a fixed number of steps (epochs or steps)');
  if (trainer.config.targetTrainLoss !== null || trainer.config.targetTrainAccuracy !== null) {
    throw new Error('the Feng–Tu run records a window at the end of a fixed-length run: target-loss/target-accuracy stops are not supported');
  }
  const spe = trainer.stepsPerEpoch;
  const T = o.windowSteps ?? o.windowEpochs * spe;
  if (!(Number.isInteger(T) && T >= 3 && T <= total)) throw new Error(`the window must be between 3 and the ${total} training steps, got ${T} steps`);
  const route: PcaRoute = o.route === 'auto' ? (P <= o.maxCovarianceP ? 'covariance' : 'trajectory') : o.route;
  const k = o.k ?? (route === 'covariance' ? Math.min(1000, P, T - 1) : Math.min(40, P, T - 1));
  if (!(Number.isInteger(k) && k >= 2 && k <= Math.min(P, T - 1))) throw new Error(`k must be an integer in [2, min(P = ${P}, T − 1 = ${T - 1})], got ${k}`);
  const dirStride = o.dirStride ?? (k > 100 ? 10 : 1);
  const eig = o.eig === 'auto' ? autoEigMethod(P, k) : o.eig;
  o.k = k;
  o.dirStride = dirStride;
  o.eig = eig;
  const windowStart = total - T;
  const checkpointEvery = o.checkpointEvery ?? spe;
  const recorder = await WindowRecorder.create(ctx, mlp, {
    layer: o.layer,
    windowStart,
    T,
    scatterBlock: route === 'covariance' ? Math.min(o.scatterBlock, T) : 0,
    checkpointEvery,
    totalSteps: total,
    replica,
  });
  return { ctx, o, trainer, recorder, route, T, windowStart, total };
}

export async function runFengTu(
  ctx: GpuContext,
  model: MlpConfig,
  train: Partial<TrainConfig>,
  data: { train: Dataset; test: Dataset | null },
  options: Partial<FengTuOptions> = {},
  progress: FengTuProgress = {},
): Promise<FengTuResult> {
  const trainer = await Trainer.create(ctx, model, train, data);
  const session = await prepareFengTu(ctx, trainer, options);
  const { o, recorder, route, T, windowStart, total } = session;
  const L = trainer.mlp.layout.layers[o.layer];

  // 1. Training with the recording hook.
  recorder.recordInitial();
  progress.onStageStart?.('train', `${total} steps, window ${windowStart + 1}–${total} (${T} steps), layer ${o.layer} (${L.fanIn}×${L.fanOut}, P = ${L.size}), ${route} route`);
  const t0 = performance.now();
  const run = await trainer.run({
    onStepEncoded: (batch, step) => recorder.onStepEncoded(batch, step),
    onChunk: (p) => progress.onTrainChunk?.(p, trainer),
  });
  const seconds = (performance.now() - t0) / 1000;
  progress.onStageEnd?.('train', seconds, run.message);
  return analyseFengTu(session, run, progress, { train: seconds });
}

/**
 * Stages 2–7 once training has completed the window (`run`: the training's result; `timings`:
 * stage times already measured, e.g. { train }).
 */
export async function analyseFengTu(session: FengTuSession, run: RunResult, progress: FengTuProgress = {}, timings: Record<string, number> = {}): Promise<FengTuResult> {
  const { ctx, o, trainer, recorder, route, T, windowStart, total } = session;
  const stage = async <T>(name: Stage, detail: string, f: () => Promise<T>, endDetail?: (r: T) => string): Promise<T> => {
    progress.onStageStart?.(name, detail);
    const t0 = performance.now();
    const r = await f();
    const s = (performance.now() - t0) / 1000;
    timings[name] = s;
    progress.onStageEnd?.(name, s, endDetail ? endDetail(r) : '');
    return r;
  };
  const mlp = trainer.mlp;
  const L = mlp.layout.layers[o.layer];
  const P = L.size;
  const spe = trainer.stepsPerEpoch;
  const k = o.k as number;
  const dirStride = o.dirStride as number;
  const eig = o.eig;
  const config = session.config ?? trainer.config;
  const M = trainer.trainData.n;
  const B = config.batchSize;
  const lr = config.lr;
  const withReplacement = config.sampling === 'replacement';
  if (run.status !== 'completed' || !recorder.complete) {
    throw new Error(`training did not complete the window (${run.message}); the analysis needs all ${T} steps of the window`);
  }
  const finalParams = await mlp.readParams();
  const trajectory = await recorder.readTrajectory();

  // 2. PCA of the window (and of the detrended window).
  const kernels = await ScatterKernels.create(ctx);
  const stats = createStorage(ctx, 'lab.window.stats', 3 * P * 4);
  const centred = createStorage(ctx, 'lab.window.centred', T * P * 4);
  const ref = { buffer: recorder.traj, offset: 0, size: P * 4 };
  let window: WindowStats;
  const pca = await stage('pca', `top ${k} of ${P} (${route}, ${route === 'covariance' ? eig : 'randomised subspace'})`, async () => {
    const batch = new GpuBatch(ctx, 'lab.window');
    encodeCenteredWindow(batch, kernels, { x: recorder.traj, ref, stats, out: centred }, T, P, false);
    if (recorder.scatter) recorder.scatter.encodeDiagonal(batch);
    batch.submit();
    window = await readWindowStats(ctx, stats, T, P);
    if (route === 'covariance') {
      const sc = recorder.scatter!;
      const trace = await sc.readTrace();
      return pcaFromScatter(ctx, sc.s, P, T, k, trace, { method: eig });
    }
    return pcaFromTrajectory(ctx, centred, T, P, k, windowSumOfSquares(window, false), {});
  }, (r) => `σ1² = ${r.variances[0].toExponential(3)}, total ${r.total.toExponential(3)}, ${r.operatorCalls} products, converged ${r.converged}`);
  window = window!;
  const wStar = new Float64Array(P);
  const drift = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    wStar[p] = trajectory[p] + window.mean[p];
    drift[p] = window.slope[p];
  }

  let pcaDetrended: GpuPca | null = null;
  if (!o.skip?.detrended) {
    pcaDetrended = await stage('pca-detrended', 'PCA of the linearly detrended window', async () => {
      const batch = new GpuBatch(ctx, 'lab.window.detrend');
      encodeCenteredWindow(batch, kernels, { x: recorder.traj, ref, stats, out: centred }, T, P, true);
      if (route === 'covariance') {
        const sc = recorder.scatter!;
        // The plain scatter is no longer needed: overwrite it with the detrended window's.
        kernels.encodeAccumulate(batch, kernels.bindAccumulate({ d_in: centred, stats_in: stats, mean_run: sc.meanRun, s: sc.s }), { rows: T, cols: P, beta: 0, coef: 0 });
        sc.encodeDiagonal(batch);
        batch.submit();
        // Only the eigenvalues are used (D90/D99 of the detrended window).
        return pcaFromScatter(ctx, sc.s, P, T, k, await sc.readTrace(), { method: eig, valuesOnly: true });
      }
      batch.submit();
      return pcaFromTrajectory(ctx, centred, T, P, k, windowSumOfSquares(window, true), {});
    }, (r) => `σ1² = ${r.variances[0].toExponential(3)}, total ${r.total.toExponential(3)}`);
  }
  const pc1 = pca.components.subarray(0, P);
  const summary = summarizePca({
    eigenvalues: pca.variances,
    total: pca.total,
    pc1,
    meanWeight: wStar,
    drift: norm2(drift) > 0 ? drift : undefined,
    detrended: pcaDetrended ? { eigenvalues: pcaDetrended.variances, total: pcaDetrended.total } : undefined,
  });

  // w* in the model: final weights with the analysed layer replaced by its window mean.
  const wStarParams = Float32Array.from(finalParams);
  for (let p = 0; p < P; p++) wStarParams[L.offset + p] = wStar[p];
  mlp.uploadParams(wStarParams);

  // Directions analysed for F_i and T_i (0-based PC indices), and the probe directions: those plus
  // the MLF directions.
  if (!(Number.isInteger(dirStride) && dirStride >= 1)) throw new Error(`dirStride must be an integer >= 1, got ${dirStride}`);
  const dirs: number[] = [];
  for (let i = 0; i < k; i += dirStride) dirs.push(i);
  const mlfWanted = o.mlfDirs ?? [dirs[Math.min(1, dirs.length - 1)] + 1, dirs[Math.floor(dirs.length / 2)] + 1];
  const mlfDirs = [...new Set(mlfWanted.filter((i) => i >= 1 && i <= k).map((i) => i - 1))];
  const probeDirs = [...dirs, ...mlfDirs.filter((i) => !dirs.includes(i))];
  const rowsOf = (list: number[]): Float64Array => {
    const out = new Float64Array(list.length * P);
    list.forEach((i, j) => out.set(pca.components.subarray(i * P, (i + 1) * P), j * P));
    return out;
  };
  const D = dirs.length;

  // 3. Flatness.
  let flatness: FengTuResult['flatness'] = null;
  let evaluator: ProbeEvaluator | null = null;
  if (!o.skip?.flatness || !o.skip?.mlf) {
    evaluator = await ProbeEvaluator.create(mlp, trainer.trainData, o.layer, probeDirs.length);
    await evaluator.prepare(rowsOf(probeDirs));
  }
  if (!o.skip?.flatness) {
    flatness = await stage('flatness', `F_i for ${D} directions (PCs ${dirs[0] + 1}…${dirs[D - 1] + 1}${dirStride > 1 ? ` every ${dirStride}` : ''}), k = ${o.flatK.toPrecision(4)}`, () =>
      gpuFlatness(evaluator!, {
        nDirs: D,
        k: o.flatK,
        weightNorm: norm2(wStar),
        onRound: (round, probes) => progress.onStageProgress?.('flatness', round, null, `round ${round}: ${probes} probes`),
      }),
    (r) => `${r.rounds} rounds, ${r.probes} probes, L0 = ${r.L0.toPrecision(4)}`);
  }
  const F = flatness ? flatness.directions.map((d) => d.F) : null;
  const varAt = Float64Array.from(dirs, (i) => pca.variances[i]);

  // 4. Fit (PC1, the drift, left out).
  let fit: PowerLawFit | null = null;
  let fitError: string | null = null;
  if (F) {
    const t0 = performance.now();
    try {
      fit = powerLawFit(varAt, F, { from: dirs[0] === 0 ? 1 : 0 });
    } catch (e) {
      fitError = (e as Error).message;
    }
    timings.fit = (performance.now() - t0) / 1000;
  }

  // 5. Temperature at w*.
  let temperatures: Temperatures | null = null;
  let anisotropy: TemperatureAnisotropy | null = null;
  let tempVsFlatness: PowerLawFit | null = null;
  let pass: FullSetPass | null = null;
  if (!o.skip?.temperature || !o.skip?.temperatureVsLoss) pass = await FullSetPass.create(mlp, trainer.trainData, o.layer);
  if (!o.skip?.temperature) {
    const r = await stage('temperature', `T_i at w* from ${M} per-sample gradients × ${D} directions`, async () => {
      const projector = await PerSampleProjector.create(pass!, D);
      projector.setDirections(rowsOf(dirs));
      return temperatureAt(projector, { lr, batchSize: B, withReplacement });
    }, (r) => `L(w*) = ${r.loss.toPrecision(4)}`);
    temperatures = r.temperatures;
    anisotropy = temperatureAnisotropy(temperatures.T, F ?? undefined);
    if (F) {
      try {
        tempVsFlatness = powerLawFit(temperatures.T, F, { from: dirs[0] === 0 ? 1 : 0 });
      } catch {
        tempVsFlatness = null;
      }
    }
  }

  // 6. T_i(t) against L(t).
  const tDirs = [...new Set(o.tDirs.filter((i) => i >= 1 && i <= k))].sort((a, b) => a - b);
  let temperatureVsLoss: TemperatureRow[] = [];
  const temperatureLossCorrelation: number[] = [];
  if (!o.skip?.temperatureVsLoss && tDirs.length > 0) {
    temperatureVsLoss = await stage('temperature-vs-loss', `T_i(t), L(t) at ${recorder.checkpointSteps.length} checkpoints for PCs ${tDirs.join(', ')}`, async () => {
      const projector = await PerSampleProjector.create(pass!, tDirs.length);
      const dirs = new Float64Array(tDirs.length * P);
      tDirs.forEach((i, j) => dirs.set(pca.components.subarray((i - 1) * P, i * P), j * P));
      projector.setDirections(dirs);
      const rows = await temperatureAlongTraining(recorder, projector, {
        lr,
        batchSize: B,
        withReplacement,
        onCheckpoint: (done, n) => progress.onStageProgress?.('temperature-vs-loss', done, n, `checkpoint ${done}/${n}`),
      });
      mlp.uploadParams(wStarParams);
      return rows;
    });
    for (let j = 0; j < tDirs.length; j++) {
      const x: number[] = [];
      const y: number[] = [];
      for (const r of temperatureVsLoss) {
        // From the first epoch on: at initialisation the late window's directions mean nothing yet.
        if (r.step >= spe && r.loss > 0 && r.T[j] > 0) {
          x.push(Math.log(r.loss));
          y.push(Math.log(r.T[j]));
        }
      }
      temperatureLossCorrelation.push(x.length >= 3 ? pearsonSafe(x, y) : NaN);
    }
  }

  // 7. Mini-loss-function ensemble.
  const mlf: MlfEnsemble[] = [];
  if (!o.skip?.mlf && evaluator && mlfDirs.length > 0) {
    await stage('mlf', `L_μ(w* + θ p_i) for ${o.mlfBatches} minibatches, PCs ${mlfDirs.map((i) => i + 1).join(', ')}`, async () => {
      for (const i of mlfDirs) {
        const j = probeDirs.indexOf(i);
        const d = j < D ? flatness?.directions[j] : undefined;
        const reach = d ? Math.max(Math.abs(d.thetaL ?? 0), Math.abs(d.thetaR ?? 0)) : 0;
        const half = reach > 0 ? 1.5 * reach : 0.1 * norm2(wStar);
        const e = await miniLossEnsemble(evaluator!, j, thetaGrid(half, o.mlfPoints), { batchSize: B, batches: o.mlfBatches, seed: config.seed + i });
        mlf.push({ ...e, dir: i });
      }
    });
  }

  return {
    options: o,
    model: trainer.model,
    train: config,
    run,
    history: session.history ?? trainer.history,
    stepsPerEpoch: spe,
    totalSteps: total,
    window: { firstStep: windowStart + 1, lastStep: total, T, epochs: T / spe },
    layer: o.layer,
    fanIn: L.fanIn,
    fanOut: L.fanOut,
    P,
    trainSize: M,
    trainer,
    finalParams,
    wStarParams,
    wStar,
    drift,
    trajectory,
    pca,
    pcaDetrended,
    summary,
    pc1VsMeanWeight: summary.pc1VsMeanWeight,
    pc1VsDrift: summary.pc1VsDrift,
    flatness,
    fit,
    fitError,
    dirs,
    L0: flatness?.L0 ?? null,
    temperatures,
    anisotropy,
    tempVsFlatness,
    tDirs,
    temperatureVsLoss,
    temperatureLossCorrelation,
    mlf,
    timings,
  };
}

function pearsonSafe(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}
