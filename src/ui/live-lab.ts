/**
 * The noise lab while training runs (the dashboard's live panels). Built from the lab's pieces
 * (src/analysis/noise, src/analysis/numerics); nothing here re-derives an analysis:
 *
 *  - recording: the analysed layer is copied into a GPU ring every `stride` steps inside the
 *    training command buffers (TrainHooks.onStepEncoded), stride = ⌈T / liveRows⌉, so the ring
 *    always holds the last window of T steps sampled every stride-th step;
 *  - refresh (every `refresh` steps, one at a time, never awaited by the training loop): read the
 *    ring and the current weights back (a consistent snapshot: both reads are queued before any
 *    later training chunk), PCA by the Gram route on the CPU (trajectoryPcaGram: the ring is at
 *    most a few hundred rows), D90/D99 (summarizePca);
 *  - then, on a SEPARATE copy of the model on a second GPU device (training is never touched and
 *    never queues behind the analysis, nor the analysis behind training) and a seeded stratified subsample of the training set (liveSamples): T_i(t) and L(t) at the
 *    current weights along chosen PCs (PerSampleProjector + temperatureFromPerSample with the
 *    whole set's finite-population factor); at w*, the window mean: F_i (measureFlatness on a
 *    ProbeEvaluator, as gpuFlatness, warm-started from the previous refresh), the σ²–F fit
 *    (powerLawFit), T_i and its anisotropy (temperatureAnisotropy), and the mini-loss-function
 *    ensemble along the chosen direction (miniLossEnsemble).
 *
 * The live window is subsampled and F_i is bracketed to a looser tolerance than the final
 * analysis; the run's final analysis (every step of the window, the covariance route, all k
 * directions, the whole training set) is the lab's own (analyseFengTu, as `sgdscope reproduce
 * feng-tu`), and frameFromFengTu turns its result into the same frame for the panels.
 */
import type { GpuContext } from '../gpu/device.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { createStorage, readF32 } from '../gpu/buffers.ts';
import { MlpGpu } from '../nn/mlp-gpu.ts';
import type { LayerLayout } from '../nn/params.ts';
import type { Trainer } from '../train/trainer.ts';
import { uploadDataset, type GpuDataset } from '../train/gpu-dataset.ts';
import { stratifiedSample } from '../data/split.ts';
import { subset, type Dataset } from '../data/dataset.ts';
import { trajectoryPcaGram, type TrajectoryPca } from '../analysis/numerics/trajectory-svd.ts';
import { summarizePca } from '../analysis/numerics/pca-summary.ts';
import { powerLawFit, type PowerLawFit } from '../analysis/numerics/power-law-fit.ts';
import { temperatureAnisotropy, temperatureFromPerSample } from '../analysis/numerics/temperature.ts';
import { norm2 } from '../analysis/numerics/dense.ts';
import { ProbeEvaluator } from '../analysis/noise/probe-eval.ts';
import { measureFlatness } from '../analysis/numerics/flatness.ts';
import { FullSetPass, PerSampleProjector } from '../analysis/noise/full-pass.ts';
import { miniLossEnsemble, thetaGrid } from '../analysis/noise/mlf.ts';
import type { FengTuResult } from '../experiments/feng-tu/run.ts';
import type { LabFrame, MlfCurves } from './protocol.ts';

export interface LiveLabOptions {
  layer: number;
  /** Window length T in steps (the final analysis' window). */
  windowSteps: number;
  /** Most rows of the live (subsampled) window. */
  liveRows: number;
  /** Principal components (live: at most rows − 1). */
  k: number;
  flatK: number;
  /** Directions whose F_i, T_i are measured at each refresh: PC1 and the rest spread over 2…k. */
  liveDirs: number;
  /** Flatness bracket tolerance of the live search (the final analysis uses the lab's 1e-3). */
  relTol: number;
  /** Training samples (a seeded stratified subsample) behind the live F_i, T_i, L(t) and MLF;
   * the full training set when it is smaller. */
  liveSamples: number;
  /** 1-based PCs for T_i(t) against L(t). */
  tDirs: number[];
  mlfBatches: number;
  mlfPoints: number;
}

export const DEFAULT_LIVE: Omit<LiveLabOptions, 'layer' | 'windowSteps' | 'k' | 'flatK'> = {
  liveRows: 200,
  liveDirs: 8,
  relTol: 3e-2,
  liveSamples: 1000,
  tDirs: [1, 2, 5, 10, 20, 40],
  mlfBatches: 20,
  mlfPoints: 41,
};

/** Indices 0, then `count − 1` more spread evenly over 1 … k − 1 (distinct, increasing). */
export function spreadDirections(k: number, count: number): number[] {
  const n = Math.min(count, k);
  const out = [0];
  for (let j = 1; j < n; j++) {
    const i = n === 1 ? 0 : Math.round(1 + ((k - 2) * (j - 1)) / Math.max(1, n - 2));
    if (i > out[out.length - 1] && i < k) out.push(i);
  }
  for (let i = 1; out.length < n && i < k; i++) if (!out.includes(i)) out.push(i);
  return out.sort((a, b) => a - b);
}

const fitJson = (f: PowerLawFit | null): LabFrame['fit'] => (f ? { psi: f.psi, psiSE: f.psiSE, r: f.r, n: f.n, intercept: f.intercept } : null);

export class LiveLab {
  readonly L: LayerLayout;
  readonly P: number;
  readonly stride: number;
  readonly rows: number;
  private readonly ring: GPUBuffer;
  /** Step recorded in each ring row (0: empty). */
  private readonly rowStep: Float64Array;
  private recorded = 0;
  /** Last step encoded by the trainer (the end of the live window). */
  lastStep = 0;
  private busy = false;
  /** The last refresh's PCA and weights, for choosing another MLF direction without a refresh. */
  private last: { pca: { variances: Float64Array; components: Float64Array; k: number }; wStarParams: Float32Array; wStar: Float64Array; flatReach: Map<number, number> } | null = null;
  refreshes = 0;
  /** Crossings found by the previous refresh, by rank: the next search starts just inside them. */
  private lastReach: number[] = [];

  private constructor(
    /** The training device (the ring lives there) and the analysis device (everything else). */
    readonly ctx: GpuContext,
    readonly actx: GpuContext,
    readonly trainer: Trainer,
    readonly o: LiveLabOptions,
    /** The analysis copy of the model: its own parameter buffer, the training data shared. */
    readonly amlp: MlpGpu,
    readonly pass: FullSetPass,
    /** The live subsample on the GPU and the training-set size it stands for. */
    readonly liveData: GpuDataset,
    readonly populationSize: number,
    /** Compiled once, for liveDirs + 1 probe directions (F_i and the MLF direction), liveDirs
     * temperature directions and the T(t) directions; fewer directions are padded. */
    private readonly ev: ProbeEvaluator,
    private readonly dProj: PerSampleProjector,
    private readonly tProj: PerSampleProjector | null,
  ) {
    this.L = trainer.mlp.layout.layers[o.layer];
    this.P = this.L.size;
    this.stride = Math.max(1, Math.ceil(o.windowSteps / o.liveRows));
    this.rows = Math.ceil(o.windowSteps / this.stride);
    this.ring = createStorage(ctx, 'live.ring', this.rows * this.P * 4);
    this.rowStep = new Float64Array(this.rows);
  }

  /**
   * `ctx`: the trainer's device; `actx`: the device the analysis runs on — a second device, so
   * that the analysis' many small GPU round trips never queue behind training chunks (and
   * training never behind them); the same device works too, with longer refreshes.
   * `train`: the trainer's training set on the CPU (the live subsample is drawn from it).
   */
  static async create(ctx: GpuContext, actx: GpuContext, trainer: Trainer, train: Dataset, o: LiveLabOptions): Promise<LiveLab> {
    const layers = trainer.mlp.layout.layers;
    if (!(Number.isInteger(o.layer) && o.layer >= 0 && o.layer < layers.length)) throw new Error(`lab.layer must be an integer in [0, ${layers.length - 1}], got ${o.layer}`);
    if (train.n !== trainer.trainData.n) throw new Error(`LiveLab: the training set has ${train.n} samples but the trainer's has ${trainer.trainData.n}`);
    const part = train.n <= o.liveSamples ? train : subset(train, stratifiedSample(train.y, train.classes, o.liveSamples, trainer.config.seed, 'lab.liveSamples'), `${train.name}[live]`);
    const classes = trainer.model.widths[trainer.model.widths.length - 1];
    const liveData = part === train && actx === ctx ? trainer.trainData : uploadDataset(actx, 'live.data', part.x, part.y, part.d, classes);
    const amlp = await MlpGpu.create(actx, trainer.model, { momentum: false });
    const pass = await FullSetPass.create(amlp, liveData, o.layer, 'live.full');
    const [ev, dProj, tProj] = await Promise.all([
      ProbeEvaluator.create(amlp, liveData, o.layer, o.liveDirs + 1),
      PerSampleProjector.create(pass, o.liveDirs),
      o.tDirs.length ? PerSampleProjector.create(pass, o.tDirs.length) : Promise.resolve(null),
    ]);
    return new LiveLab(ctx, actx, trainer, o, amlp, pass, liveData, train.n, ev, dProj, tProj);
  }

  /** TrainHooks.onStepEncoded. */
  onStepEncoded(batch: GpuBatch, step: number): void {
    this.lastStep = step;
    if (step % this.stride !== 0) return;
    const row = this.recorded % this.rows;
    batch.copy(this.trainer.mlp.params, this.L.offset * 4, this.ring, row * this.P * 4, this.P * 4);
    this.rowStep[row] = step;
    this.recorded++;
  }

  /** Rows of the current live window. */
  get windowRows(): number {
    let n = 0;
    for (let r = 0; r < Math.min(this.recorded, this.rows); r++) if (this.rowStep[r] > this.lastStep - this.o.windowSteps) n++;
    return n;
  }

  get isBusy(): boolean {
    return this.busy;
  }

  /** T_i along the first `n` of the projector's directions at amlp's weights, and the (subsample) loss. */
  private async temperatures(proj: PerSampleProjector, n: number): Promise<{ T: Float64Array; loss: number }> {
    const { s, loss } = await proj.run();
    const B = this.trainer.config.batchSize;
    const t = temperatureFromPerSample(s, proj.J, { lr: this.trainer.config.lr, batchSize: B, populationSize: this.populationSize });
    return { T: t.T.slice(0, n), loss };
  }

  /** Rows (n, P) of these components, padded to `rows` by repeating the last one. */
  private static rows(components: Float64Array, P: number, list: number[], rows: number): Float64Array {
    const out = new Float64Array(rows * P);
    for (let j = 0; j < rows; j++) {
      const i = list[Math.min(j, list.length - 1)];
      out.set(components.subarray(i * P, (i + 1) * P), j * P);
    }
    return out;
  }

  /**
   * One live refresh; null if the window has fewer than 3 rows or a refresh is running. The
   * snapshot (ring + weights) is taken synchronously, at the call.
   */
  async refresh(mlfPc: number | null): Promise<LabFrame | null> {
    if (this.busy) return null;
    const filled = Math.min(this.recorded, this.rows);
    const end = this.lastStep;
    const order: number[] = [];
    for (let r = 0; r < filled; r++) if (this.rowStep[r] > end - this.o.windowSteps) order.push(r);
    if (order.length < 3) return null;
    this.busy = true;
    try {
      // Both reads are submitted now, before any later chunk can overwrite the ring or the weights.
      const ringRead = readF32(this.ctx, this.ring, 0, filled * this.P);
      const paramsRead = readF32(this.ctx, this.trainer.mlp.params, 0, this.trainer.mlp.layout.total);
      order.sort((a, b) => this.rowStep[a] - this.rowStep[b]);
      const steps = order.map((r) => this.rowStep[r]);
      return await this.analyse(await ringRead, await paramsRead, order, steps, end, mlfPc);
    } finally {
      this.busy = false;
    }
  }

  private async analyse(ring: Float32Array, current: Float32Array, order: number[], steps: number[], end: number, mlfPc: number | null): Promise<LabFrame> {
    const ms: Record<string, number> = {};
    let t0 = performance.now();
    const lap = (name: string): void => {
      const t = performance.now();
      ms[name] = t - t0;
      t0 = t;
    };
    const { P, L, o } = this;
    const n = order.length;
    const traj = new Float32Array(n * P);
    order.forEach((r, t) => traj.set(ring.subarray(r * P, (r + 1) * P), t * P));
    let k = Math.min(o.k, n - 1, P);
    let pca: TrajectoryPca | null = null;
    while (!pca) {
      try {
        pca = trajectoryPcaGram(traj, n, P, k);
      } catch (e) {
        // A window with fewer independent rows than k (e.g. a stalled run): fewer components.
        if (k <= 1 || !/numerical rank/.test((e as Error).message)) throw e;
        k = Math.max(1, Math.floor(k / 2));
      }
    }
    const total = pca.totalVariance ?? NaN;
    const wStar = pca.mean!;
    const summary = summarizePca({ eigenvalues: pca.variances, total, pc1: pca.components.subarray(0, P), meanWeight: wStar });
    lap('pca');

    const rowsOf = (list: number[], rows: number): Float64Array => LiveLab.rows(pca!.components, P, list, rows);
    // T_i(t) and L(t) at the current weights, along the window's PCs.
    this.amlp.uploadParams(current);
    const tDirs = [...new Set(o.tDirs.filter((i) => i >= 1 && i <= k))].sort((a, b) => a - b);
    let tPoint: LabFrame['tPoint'] = null;
    if (tDirs.length && this.tProj) {
      const proj = this.tProj;
      proj.setDirections(rowsOf(tDirs.map((i) => i - 1), proj.J));
      const r = await this.temperatures(proj, tDirs.length);
      tPoint = { step: end, loss: r.loss, pcs: Int32Array.from(tDirs), T: Float64Array.from(r.T) };
    }
    lap('temperature-vs-loss');

    // w*: the current weights with the analysed layer at the window mean.
    const wStarParams = Float32Array.from(current);
    for (let p = 0; p < P; p++) wStarParams[L.offset + p] = wStar[p];
    this.amlp.uploadParams(wStarParams);

    const dirs = spreadDirections(k, o.liveDirs);
    const sel = mlfPc !== null && mlfPc >= 1 && mlfPc <= k ? mlfPc - 1 : Math.min(1, k - 1);
    const probeDirs = dirs.includes(sel) ? dirs : [...dirs, sel];
    const ev = this.ev;
    await ev.prepare(rowsOf(probeDirs, ev.D));
    // The lab's search (measureFlatness on the ProbeEvaluator, as gpuFlatness does), warm-started:
    // each direction's first step is 60% of the nearer crossing the previous refresh found at
    // the same rank, so the outward bracketing takes one or two rounds instead of five or six.
    const norm = norm2(wStar);
    const theta0 = dirs.map((_, j) => {
      const r = this.lastReach[j];
      return r > 0 && Number.isFinite(r) ? Math.max(0.6 * r, 1e-4 * norm) : 0.01 * norm;
    });
    const flat = await measureFlatness(async (p) => (await ev.evaluate(p)).means, { nDirs: dirs.length, k: o.flatK, theta0, thetaMax: 100 * norm, relTol: o.relTol });
    this.lastReach = flat.directions.map((d) => Math.min(Math.abs(d.thetaL ?? Infinity), Math.abs(d.thetaR ?? Infinity)));
    lap('flatness');
    ms.flatnessRounds = flat.rounds;
    ms.flatnessProbes = flat.evaluations;
    const F = flat.directions.map((d) => d.F);
    const varAt = Float64Array.from(dirs, (i) => pca!.variances[i]);
    let fit: PowerLawFit | null = null;
    let fitError: string | null = null;
    try {
      fit = powerLawFit(varAt, F, { from: 1 });
    } catch (e) {
      fitError = (e as Error).message;
    }

    const proj = this.dProj;
    proj.setDirections(rowsOf(dirs, proj.J));
    const { T } = await this.temperatures(proj, dirs.length);
    const anisotropy = temperatureAnisotropy(T, F);
    let tFit: PowerLawFit | null = null;
    try {
      tFit = powerLawFit(T, F, { from: 1 });
    } catch {
      tFit = null;
    }
    lap('temperature');

    const flatReach = new Map<number, number>();
    flat.directions.forEach((d, j) => flatReach.set(dirs[j], Math.max(Math.abs(d.thetaL ?? 0), Math.abs(d.thetaR ?? 0))));
    this.last = { pca: { variances: pca.variances, components: pca.components, k }, wStarParams, wStar, flatReach };
    const mlf = await this.mlfWith(ev, probeDirs.indexOf(sel), sel);
    lap('mlf');

    this.refreshes++;
    return {
      kind: 'live',
      windowFirst: steps[0],
      windowLast: steps[n - 1],
      rows: n,
      stride: this.stride,
      samples: this.liveData.n,
      P,
      k,
      variances: Float64Array.from(pca.variances),
      cumulative: Float64Array.from(summary.all.cumulative),
      total,
      d90: summary.all.d90,
      d99: summary.all.d99,
      d90NoPc1: summary.pc1Removed?.d90 ?? null,
      d99NoPc1: summary.pc1Removed?.d99 ?? null,
      pc1VsMeanWeight: summary.pc1VsMeanWeight,
      dirs: Int32Array.from(dirs, (i) => i + 1),
      F: Float64Array.from(F, (v) => v ?? NaN),
      T: Float64Array.from(T),
      L0: flat.L0,
      fit: fitJson(fit),
      fitError,
      tFit: tFit ? { exponent: tFit.psi, r: tFit.r, intercept: tFit.intercept } : null,
      anisotropy: { maxOverMin: anisotropy.maxOverMin, spearman: anisotropy.spearmanWithFlatness },
      tPoint,
      tCurve: null,
      mlf,
      ms,
    };
  }

  private async mlfWith(ev: ProbeEvaluator, j: number, dir: number): Promise<MlfCurves> {
    const reach = this.last?.flatReach.get(dir) ?? 0;
    const half = reach > 0 ? 1.5 * reach : 0.1 * norm2(this.last!.wStar);
    const e = await miniLossEnsemble(ev, j, thetaGrid(half, this.o.mlfPoints), {
      batchSize: this.trainer.config.batchSize,
      batches: this.o.mlfBatches,
      seed: this.trainer.config.seed + dir,
    });
    return { pc: dir + 1, theta: Float64Array.from(e.theta), full: Float64Array.from(e.full), mini: e.mini.map((m) => Float64Array.from(m)) };
  }

  /**
   * The MLF ensemble along PC `pc` (1-based) at the last analysed w* (a live refresh's, or the
   * final analysis' after useFinal), without a new refresh. Null when nothing was analysed yet.
   */
  async mlfAt(pc: number): Promise<MlfCurves | null> {
    const last = this.last;
    if (!last || !(Number.isInteger(pc) && pc >= 1 && pc <= last.pca.k)) return null;
    if (this.busy) return null;
    this.busy = true;
    try {
      this.amlp.uploadParams(last.wStarParams);
      const ev = this.ev;
      await ev.prepare(LiveLab.rows(last.pca.components, this.P, [pc - 1], ev.D));
      return await this.mlfWith(ev, 0, pc - 1);
    } finally {
      this.busy = false;
    }
  }

  /** After the final analysis: later MLF choices are along its PCs at its w*. */
  useFinal(r: FengTuResult): void {
    const flatReach = new Map<number, number>();
    r.flatness?.directions.forEach((d, j) => flatReach.set(r.dirs[j], Math.max(Math.abs(d.thetaL ?? 0), Math.abs(d.thetaR ?? 0))));
    this.last = { pca: { variances: r.pca.variances, components: r.pca.components, k: r.options.k as number }, wStarParams: r.wStarParams, wStar: r.wStar, flatReach };
  }
}

/** The final analysis (the lab's FengTuResult) as a panel frame. */
export function frameFromFengTu(r: FengTuResult, mlfPc: number | null): LabFrame {
  const s = r.summary;
  const F = r.flatness ? r.flatness.directions.map((d) => d.F ?? NaN) : r.dirs.map(() => NaN);
  const T = r.temperatures ? Array.from(r.temperatures.T) : r.dirs.map(() => NaN);
  const mlf = r.mlf.find((e) => e.dir + 1 === mlfPc) ?? r.mlf[0] ?? null;
  return {
    kind: 'final',
    windowFirst: r.window.firstStep,
    windowLast: r.window.lastStep,
    rows: r.window.T,
    stride: 1,
    samples: r.trainSize,
    P: r.P,
    k: r.pca.k,
    variances: Float64Array.from(r.pca.variances),
    cumulative: Float64Array.from(s.all.cumulative),
    total: r.pca.total,
    d90: s.all.d90,
    d99: s.all.d99,
    d90NoPc1: s.pc1Removed?.d90 ?? null,
    d99NoPc1: s.pc1Removed?.d99 ?? null,
    pc1VsMeanWeight: r.pc1VsMeanWeight,
    dirs: Int32Array.from(r.dirs, (i) => i + 1),
    F: Float64Array.from(F),
    T: Float64Array.from(T),
    L0: r.L0,
    fit: fitJson(r.fit),
    fitError: r.fitError,
    tFit: r.tempVsFlatness ? { exponent: r.tempVsFlatness.psi, r: r.tempVsFlatness.r, intercept: r.tempVsFlatness.intercept } : null,
    anisotropy: r.anisotropy ? { maxOverMin: r.anisotropy.maxOverMin, spearman: r.anisotropy.spearmanWithFlatness } : null,
    tPoint: null,
    tCurve: r.temperatureVsLoss.length
      ? {
          pcs: Int32Array.from(r.tDirs),
          steps: Float64Array.from(r.temperatureVsLoss, (row) => row.step),
          loss: Float64Array.from(r.temperatureVsLoss, (row) => row.loss),
          T: r.tDirs.map((_, j) => Float64Array.from(r.temperatureVsLoss, (row) => row.T[j])),
        }
      : null,
    mlf: mlf ? { pc: mlf.dir + 1, theta: Float64Array.from(mlf.theta), full: Float64Array.from(mlf.full), mini: mlf.mini.map((m) => Float64Array.from(m)) } : null,
    ms: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, v * 1000])),
  };
}
