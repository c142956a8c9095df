/**
 * The analysis stages of the Feng–Tu experiment, one function each. A stage reads the window and
 * the results of the stages it depends on and returns its own result; it never writes into the
 * trainer's parameter buffer: every evaluation runs on `base.mlp`, an analysis copy of the model
 * with its own parameters, into which a stage loads the weights it needs (w*, or a checkpoint)
 * itself, so a stage's result does not depend on which stages ran before it or failed.
 *
 *   pca                  precise scatter of the window → top-k PCA with its noise floor
 *   pca-detrended        the linearly detrended window's spectrum (values only)
 *   flatness             F_i along the measured PCs through w* (or the final weights)
 *   fit                  ψ in σ_i² ∝ F_i^(−ψ) over trusted PCs (PC1 left out), and over PC ranges
 *   temperature          T_i at w* from the per-sample gradients of the whole training set
 *   temperature-vs-loss  T_i(t) and L(t) at the recorder's checkpoints
 *   mlf                  the mini-loss-function ensemble
 */
import type { GpuContext } from '../../gpu/device.ts';
import { GpuBatch } from '../../gpu/batch.ts';
import { createStorage } from '../../gpu/buffers.ts';
import { ScatterKernels } from '../../kernels/scatter.ts';
import type { MlpGpu } from '../../nn/mlp-gpu.ts';
import type { LayerLayout } from '../../nn/params.ts';
import type { GpuDataset } from '../../train/gpu-dataset.ts';
import { detrendedScatter, detrendedTrace, traceOf, type WindowMoments } from '../../analysis/numerics/window-scatter.ts';
import { noiseFloor, type NoiseFloor } from '../../analysis/numerics/noise-floor.ts';
import { powerLawFit, type PowerLawFit } from '../../analysis/numerics/power-law-fit.ts';
import { temperatureAnisotropy, type TemperatureAnisotropy, type Temperatures } from '../../analysis/numerics/temperature.ts';
import type { FlatnessResult } from '../../analysis/numerics/flatness.ts';
import { norm2 } from '../../analysis/numerics/dense.ts';
import { pearson } from '../../analysis/numerics/stats.ts';
import { encodeCenteredWindow, readWindowStats, windowSumOfSquares } from '../../analysis/noise/gpu-scatter.ts';
import { pcaFromScatter64, pcaFromTrajectory, type GpuPca, type PcaRoute } from '../../analysis/noise/pca-gpu.ts';
import { preciseScatter, type ScatterArithmetic } from '../../analysis/noise/precise-scatter.ts';
import type { WindowRecorder } from '../../analysis/noise/recorder.ts';
import { ProbeEvaluator } from '../../analysis/noise/probe-eval.ts';
import { gpuFlatness } from '../../analysis/noise/flatness-gpu.ts';
import { FullSetPass, PerSampleProjector } from '../../analysis/noise/full-pass.ts';
import { temperatureAlongTraining, temperatureAt, type TemperatureRow } from '../../analysis/noise/temperature-gpu.ts';
import { miniLossEnsemble, thetaGrid, type MlfEnsemble } from '../../analysis/noise/mlf.ts';
import type { FengTuOptions } from './options.ts';

export type PrecisePca = GpuPca & { floor: NoiseFloor };

/** Everything fixed once training has ended; shared read-only by the stages. */
export interface AnalysisBase {
  ctx: GpuContext;
  o: FengTuOptions;
  /** The analysis copy of the model (its own parameter buffer). */
  mlp: MlpGpu;
  data: GpuDataset;
  layer: number;
  L: LayerLayout;
  P: number;
  T: number;
  k: number;
  route: PcaRoute;
  stepsPerEpoch: number;
  lr: number;
  batchSize: number;
  withReplacement: boolean;
  seed: number;
  recorder: WindowRecorder;
  /** The window, rows in time order, on the CPU and on the GPU. */
  trajectory: Float32Array;
  trajGpu: GPUBuffer;
  moments: WindowMoments;
  wStar: Float64Array;
  drift: Float64Array;
  /** All layers at w* (the analysed layer's window mean, the others final). */
  wStarParams: Float32Array;
  /** Where the landscape is sliced for F_i and the MLF ensemble: w*, or the final weights
   * (options.flatAt; the authors' code measures flatness at the final weights). */
  sliceParams: Float32Array;
  /** 0-based PCs whose F_i and T_i are measured, the MLF PCs, and the probe list (dirs, then the MLF PCs not in it). */
  dirs: number[];
  mlfDirs: number[];
  probeDirs: number[];
  tDirs: number[];
}

export interface StageProgress {
  (done: number, total: number | null, detail: string): void;
}

export interface PcaStage {
  pca: PrecisePca;
  /** The float64 scatter (covariance route), kept for the detrended spectrum. */
  S: Float64Array | null;
  scatter: { arithmetic: ScatterArithmetic | 'float32'; reason: string; ms: number };
}

/** The centred (or detrended) window in float32 on the GPU and its sum of squares (trajectory route). */
async function centredWindow(b: AnalysisBase, detrend: boolean): Promise<{ X: GPUBuffer; ss: number }> {
  const { ctx, T, P } = b;
  const kernels = await ScatterKernels.create(ctx);
  const stats = createStorage(ctx, 'lab.window.stats', 3 * P * 4);
  const X = createStorage(ctx, 'lab.window.centred', T * P * 4);
  const batch = new GpuBatch(ctx, 'lab.window');
  encodeCenteredWindow(batch, kernels, { x: b.trajGpu, ref: { buffer: b.trajGpu, offset: 0, size: P * 4 }, stats, out: X }, T, P, detrend);
  batch.submit();
  const w = await readWindowStats(ctx, stats, T, P);
  stats.destroy();
  return { X, ss: windowSumOfSquares(w, detrend) };
}

/** The window's float64 scatter matrix (precise-scatter.ts: double-single on the GPU or float64 on the CPU). */
export async function windowScatter(b: AnalysisBase, progress: StageProgress): Promise<Awaited<ReturnType<typeof preciseScatter>>> {
  return preciseScatter(b.ctx, { gpu: b.trajGpu, cpu: b.trajectory, T: b.T, P: b.P, mean: b.moments.mean }, {
    arithmetic: b.o.scatter,
    onProgress: (done, all) => progress(done, all, `scatter: ${done}/${all} rows`),
  });
}

export async function stagePca(b: AnalysisBase, progress: StageProgress): Promise<PcaStage> {
  const { ctx, o, T, P, k } = b;
  if (b.route === 'covariance') {
    const s = await windowScatter(b, progress);
    progress(T, T, 'eigendecomposition');
    const pca = await pcaFromScatter64(s.S, P, T, k, traceOf(b.moments), { method: o.eig, accumulation: s.arithmetic === 'cpu-f64' ? 'float64' : 'double-single' });
    return { pca, S: s.S, scatter: { arithmetic: s.arithmetic, reason: s.reason, ms: s.ms } };
  }
  const { X, ss } = await centredWindow(b, false);
  const pca = await pcaFromTrajectory(ctx, X, T, P, k, ss, {});
  X.destroy();
  const floor = noiseFloor({ variances: pca.variances, total: pca.total, T, P, accumulation: 'float32', eigensolver: 'float32', eigensolverResidual: pca.maxRelativeResidual });
  return { pca: { ...pca, floor }, S: null, scatter: { arithmetic: 'float32', reason: 'trajectory route: float32 products with the window centred on the GPU', ms: 0 } };
}

export async function stageDetrended(b: AnalysisBase, p: PcaStage): Promise<PrecisePca> {
  const { ctx, o, T, P, k } = b;
  if (p.S) {
    const accumulation = p.pca.floor.accumulation;
    return pcaFromScatter64(detrendedScatter(p.S, b.moments), P, T, k, detrendedTrace(b.moments), { method: o.eig, valuesOnly: true, accumulation });
  }
  const { X, ss } = await centredWindow(b, true);
  const pca = await pcaFromTrajectory(ctx, X, T, P, k, ss, {});
  X.destroy();
  return { ...pca, floor: noiseFloor({ variances: pca.variances, total: pca.total, T, P, accumulation: 'float32', eigensolver: 'float32', eigensolverResidual: pca.maxRelativeResidual }) };
}

/** Rows of the listed 0-based PCs, row-major (n, P). */
export function componentRows(pca: GpuPca, list: number[]): Float64Array {
  const P = pca.P;
  const out = new Float64Array(list.length * P);
  list.forEach((i, j) => out.set(pca.components.subarray(i * P, (i + 1) * P), j * P));
  return out;
}

/** The probe evaluator over every probe direction, prepared at the slice point (w* or the final
 * weights; flatness and MLF share it). */
export async function probesAtSlice(b: AnalysisBase, pca: GpuPca): Promise<ProbeEvaluator> {
  b.mlp.uploadParams(b.sliceParams);
  const ev = await ProbeEvaluator.create(b.mlp, b.data, b.layer, b.probeDirs.length);
  await ev.prepare(componentRows(pca, b.probeDirs));
  return ev;
}

export type FlatnessStage = FlatnessResult & { probes: number; ms: number };

export async function stageFlatness(b: AnalysisBase, ev: ProbeEvaluator, progress: StageProgress): Promise<FlatnessStage> {
  const { o } = b;
  b.mlp.uploadParams(b.sliceParams);
  const weightNorm = norm2(b.wStar);
  return gpuFlatness(ev, {
    nDirs: b.dirs.length,
    k: o.flatK,
    weightNorm,
    thetaMax: o.flatThetaMax ?? undefined,
    absTol: o.flatAbsTol,
    relTol: o.flatRelTol,
    onRound: (round, probes) => progress(round, null, `round ${round}: ${probes} probes`),
  });
}

export interface FitRange {
  /** 1-based PCs, inclusive. */
  from: number;
  to: number;
  n: number;
  psi: number;
  psiSE: number;
  r: number;
}

export interface FitStage {
  fit: PowerLawFit | null;
  error: string | null;
  /** 1-based PCs used by the main fit. */
  pcs: number[];
  /** Measured PCs left out: PC1 (the drift), under the noise floor, or no F. */
  excluded: { pc: number; why: string }[];
  /** ψ over nested PC ranges from the first fitted PC (the log–log relation is curved). */
  ranges: FitRange[];
  /** Local ψ over consecutive blocks of measured PCs. */
  local: FitRange[];
}

/** ψ over the 1-based PCs `pcs` (each with its σ² and F). */
function fitOver(pcs: number[], variance: (pc: number) => number, F: (pc: number) => number | null): FitRange | null {
  if (pcs.length < 3) return null;
  try {
    const f = powerLawFit(pcs.map(variance), pcs.map(F), { from: 0 });
    return { from: pcs[0], to: pcs[pcs.length - 1], n: f.n, psi: f.psi, psiSE: f.psiSE, r: f.r };
  } catch {
    return null;
  }
}

export function stageFit(b: AnalysisBase, pca: PrecisePca, flat: FlatnessStage): FitStage {
  const trusted = pca.floor.trustedUpTo;
  const Fof = new Map<number, number | null>(b.dirs.map((i, j) => [i + 1, flat.directions[j].F]));
  const excluded: FitStage['excluded'] = [];
  const pcs: number[] = [];
  for (const i of b.dirs) {
    const pc = i + 1;
    const F = Fof.get(pc) ?? null;
    if (pc === 1) excluded.push({ pc, why: 'PC1 (the drift)' });
    else if (pc > trusted) excluded.push({ pc, why: `σ² under the noise floor (trusted PCs 1–${trusted})` });
    else if (F === null) excluded.push({ pc, why: 'flatness not reached on one side' });
    else pcs.push(pc);
  }
  const variance = (pc: number): number => pca.variances[pc - 1];
  const Fn = (pc: number): number | null => Fof.get(pc) ?? null;
  let fit: PowerLawFit | null = null;
  let error: string | null = null;
  try {
    fit = powerLawFit(pcs.map(variance), pcs.map(Fn), { from: 0 });
  } catch (e) {
    error = (e as Error).message;
  }
  // Nested ranges: from the first fitted PC (and from PC 11, the authors' choice) to cut-offs at a
  // quarter, half, three quarters and all of the fitted PCs, plus the authors' 291 and 991.
  const ranges: FitRange[] = [];
  const seen = new Set<string>();
  const add = (from: number, to: number): void => {
    const sel = pcs.filter((pc) => pc >= from && pc <= to);
    const r = fitOver(sel, variance, Fn);
    if (r && !seen.has(`${r.from}-${r.to}`)) {
      seen.add(`${r.from}-${r.to}`);
      ranges.push(r);
    }
  };
  for (const from of [pcs[0] ?? 2, 11]) {
    for (const q of [0.25, 0.5, 0.75, 1]) add(from, pcs[Math.max(0, Math.ceil(q * pcs.length) - 1)] ?? 0);
    add(from, 291);
    add(from, 991);
  }
  const local: FitRange[] = [];
  const block = Math.max(5, Math.round(pcs.length / 8));
  for (let s = 0; s + block <= pcs.length; s += block) {
    const r = fitOver(pcs.slice(s, s + block), variance, Fn);
    if (r) local.push(r);
  }
  return { fit, error, pcs, excluded, ranges, local };
}

export interface TemperatureStage {
  temperatures: Temperatures;
  anisotropy: TemperatureAnisotropy;
  /** ln T_i against ln F_i (PC1 left out): slope and r. */
  vsFlatness: PowerLawFit | null;
  loss: number;
}

export async function stageTemperature(b: AnalysisBase, pca: GpuPca, F: (number | null)[] | null): Promise<TemperatureStage> {
  b.mlp.uploadParams(b.wStarParams);
  const pass = await FullSetPass.create(b.mlp, b.data, b.layer);
  const projector = await PerSampleProjector.create(pass, b.dirs.length);
  projector.setDirections(componentRows(pca, b.dirs));
  const r = await temperatureAt(projector, { lr: b.lr, batchSize: b.batchSize, withReplacement: b.withReplacement });
  let vsFlatness: PowerLawFit | null = null;
  if (F) {
    try {
      vsFlatness = powerLawFit(r.temperatures.T, F, { from: b.dirs[0] === 0 ? 1 : 0 });
    } catch {
      vsFlatness = null;
    }
  }
  return { temperatures: r.temperatures, anisotropy: temperatureAnisotropy(r.temperatures.T, F ?? undefined), vsFlatness, loss: r.loss };
}

export interface TemperatureVsLossStage {
  rows: TemperatureRow[];
  /** Pearson r of ln T_i(t) with ln L(t) over the checkpoints from the first epoch on, per tDirs entry. */
  correlation: number[];
}

export async function stageTemperatureVsLoss(b: AnalysisBase, pca: GpuPca, progress: StageProgress): Promise<TemperatureVsLossStage> {
  const pass = await FullSetPass.create(b.mlp, b.data, b.layer);
  const projector = await PerSampleProjector.create(pass, b.tDirs.length);
  projector.setDirections(componentRows(pca, b.tDirs.map((i) => i - 1)));
  const rows = await temperatureAlongTraining(b.recorder, projector, {
    lr: b.lr,
    batchSize: b.batchSize,
    withReplacement: b.withReplacement,
    onCheckpoint: (done, n) => progress(done, n, `checkpoint ${done}/${n}`),
  });
  const correlation = b.tDirs.map((_, j) => {
    const x: number[] = [];
    const y: number[] = [];
    for (const r of rows) {
      // From the first epoch on: at initialisation the late window's directions mean nothing yet.
      if (r.step >= b.stepsPerEpoch && r.loss > 0 && r.T[j] > 0) {
        x.push(Math.log(r.loss));
        y.push(Math.log(r.T[j]));
      }
    }
    return x.length >= 3 ? pearson(x, y) : NaN;
  });
  return { rows, correlation };
}

export async function stageMlf(b: AnalysisBase, ev: ProbeEvaluator, flat: FlatnessStage | null): Promise<MlfEnsemble[]> {
  b.mlp.uploadParams(b.sliceParams);
  const out: MlfEnsemble[] = [];
  const D = b.dirs.length;
  for (const i of b.mlfDirs) {
    const j = b.probeDirs.indexOf(i);
    const d = j < D ? flat?.directions[j] : undefined;
    const reach = d ? Math.max(Math.abs(d.thetaL ?? 0), Math.abs(d.thetaR ?? 0)) : 0;
    const half = reach > 0 ? 1.5 * reach : 0.1 * norm2(b.wStar);
    const e = await miniLossEnsemble(ev, j, thetaGrid(half, b.o.mlfPoints), { batchSize: b.batchSize, batches: b.o.mlfBatches, seed: b.seed + i });
    out.push({ ...e, dir: i });
  }
  return out;
}
