/**
 * Settings of the Feng–Tu experiment: the analysis options with their defaults (sgdscope's
 * reference protocol), and the authors' protocol (github.com/YuFengDuke/PCA-SGD, demo.py and
 * utils_flatness.py; ../shared/science.md §12) as a preset of training and analysis settings.
 */
import type { TrainConfig } from '../../train/config.ts';
import type { EigMethod, PcaRoute } from '../../analysis/noise/pca-gpu.ts';
import type { ScatterArithmetic } from '../../analysis/noise/precise-scatter.ts';

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
  /** Where the loss is sliced for F_i and the MLF ensemble: 'mean' (default: w*, the window's
   * mean of the analysed layer, science.md §1) or 'final' (the final weights, as the authors' code). */
  flatAt: 'mean' | 'final';
  /** Flatness search: cap of |θ| (default null: 100·‖w*‖; the authors: 1000), relative and
   * absolute tolerances on θ (default 1e-3 and 0; the authors bisect to an absolute 0.01). */
  flatThetaMax: number | null;
  flatRelTol: number;
  flatAbsTol: number;
  /** Directions analysed for F_i and T_i: PCs 1, 1 + stride, 1 + 2·stride, … ≤ k. Default (null):
   * 10 when k > 100 (the authors' every-10th), else 1 (all). */
  dirStride: number | null;
  /** Checkpoint every N steps (default: one epoch, or more epochs so that a long cap keeps ≤ 200 checkpoints). */
  checkpointEvery?: number;
  /** Arithmetic of the scatter matrix (precise-scatter.ts; default 'auto'). */
  scatter: 'auto' | ScatterArithmetic;
  route: 'auto' | PcaRoute;
  /** Largest P for the covariance route under 'auto' (default 4096). */
  maxCovarianceP: number;
  eig: EigMethod;
  /** Relative precision a σ_i² must have to be trusted (noise floor; default 1e-3). */
  trustRelTol: number;
  /** 1-based PC indices for T(t) (clipped to k). */
  tDirs: number[];
  /** 1-based PC indices for the MLF ensemble. Default (null): the second analysed direction (a
   * sharp one) and the middle analysed one (a flat one), so that their F_i are known. */
  mlfDirs: number[] | null;
  mlfBatches: number;
  mlfPoints: number;
  /** Testing aid: these stages throw at their start, to exercise the failure path (the CLI reads
   * SGDSCOPE_FAIL_STAGES, a comma list). Never set by sgdscope itself. */
  failStages?: Stage[];
  /** Skip stages (for quick runs and tests). */
  skip?: { flatness?: boolean; temperature?: boolean; temperatureVsLoss?: boolean; mlf?: boolean; detrended?: boolean };
}

export const DEFAULT_FENG_TU: FengTuOptions = {
  layer: 1,
  windowEpochs: 10,
  k: null,
  flatK: 2,
  flatAt: 'mean',
  flatThetaMax: null,
  flatRelTol: 1e-3,
  flatAbsTol: 0,
  dirStride: null,
  scatter: 'auto',
  route: 'auto',
  maxCovarianceP: 4096,
  eig: 'auto',
  trustRelTol: 1e-3,
  tDirs: [1, 2, 5, 10, 20, 40],
  mlfDirs: null,
  mlfBatches: 20,
  mlfPoints: 41,
};

export type Protocol = 'sgdscope' | 'authors';

/**
 * The authors' protocol: their stop rule (full train loss < 5e-5 and mean train accuracy of the
 * last 9 epochs > 0.99, at most 1000 epochs), a window of the last 12,000 steps, k = 1000, flatness
 * at the final weights where log L rises by 1 (k = e) along every 10th PC with their cap |θ| ≤ 1000
 * (T_i stays at w*: their code has no temperature). sgdscope's search
 * keeps its own first step and relative tolerance (see the README: more precise for sharp
 * directions than a bisection of [0, 100] to an absolute 0.01).
 */
export const AUTHORS_PROTOCOL: { train: Partial<TrainConfig>; analysis: Partial<FengTuOptions> } = {
  train: { epochs: 1000, stopLoss: 5e-5, stopAccuracy: 0.99, stopAccuracyEpochs: 9 },
  analysis: { windowSteps: 12000, k: 1000, flatK: Math.E, dirStride: 10, flatThetaMax: 1000, flatAt: 'final' },
};

export type Stage = 'train' | 'pca' | 'pca-detrended' | 'flatness' | 'fit' | 'temperature' | 'temperature-vs-loss' | 'mlf';

export const ANALYSIS_STAGES: Exclude<Stage, 'train'>[] = ['pca', 'pca-detrended', 'flatness', 'fit', 'temperature', 'temperature-vs-loss', 'mlf'];

/** The stages each analysis stage reads (fit needs flatness; temperature and mlf use F_i when
 * flatness succeeded): a resumed run recomputes a finished stage when one of these is recomputed. */
export const STAGE_INPUTS: Record<Exclude<Stage, 'train'>, Exclude<Stage, 'train'>[]> = {
  pca: [],
  'pca-detrended': ['pca'],
  flatness: ['pca'],
  fit: ['pca', 'flatness'],
  temperature: ['pca', 'flatness'],
  'temperature-vs-loss': ['pca'],
  mlf: ['pca', 'flatness'],
};
