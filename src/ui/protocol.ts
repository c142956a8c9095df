/**
 * Messages between the page (draws) and the engine worker (owns the GPU device). Small, typed,
 * columnar: a chunk of steps travels as typed arrays, a lab frame as one typed array per spectrum,
 * never as one object per step or per direction.
 */
import type { RunSpec } from './settings.ts';
import type { ChartData } from '../analysis/report/chart-data.ts';
import type { HeatmapData } from '../experiments/propagation/charts.ts';
import type { ExperimentKind, ExperimentRequest } from '../experiments/dashboard-settings.ts';
import type { ExperimentOutcome } from '../experiments/dashboard-runner.ts';

/** Signal propagation at initialisation (issue 7): one point of the phase diagram, measured on the GPU. */
export interface PropagationRequest {
  type: 'propagate';
  /** Echoed back; the page shows only the latest request's result. */
  id: number;
  activation: 'tanh';
  sw2: number;
  sb2: number;
  width: number;
  depth: number;
  nets: number;
}

/**
 * Jacobian spectra and curve length at one point of the phase diagram (issue 12): tanh networks
 * at (σ_w², σ_b²), measured on the side device (experiments/propagation/init-live.ts).
 */
export interface InitSpectraRequest {
  type: 'init-spectra';
  /** Echoed back; the page shows only the latest request's result. */
  id: number;
  sw2: number;
  sb2: number;
}

export type ToWorker =
  | { type: 'start'; spec: RunSpec; files?: File[] }
  | { type: 'pause' }
  | { type: 'resume' }
  /** While paused: one chunk of SGD steps, then pause again. */
  | { type: 'step' }
  | { type: 'stop' }
  /** Direction (1-based PC) for the mini-loss-function ensemble. */
  | { type: 'select'; pc: number }
  | { type: 'export' }
  /** After a lost device: a new device, the last snapshot, and on. */
  | { type: 'resume-snapshot' }
  /** Tests: destroy the device as a driver reset would. */
  | { type: 'debug-lose-device' }
  /** The mean-field phase diagram (χ1 and ξ_c maps with the critical line) of an activation. */
  | { type: 'phase-diagram'; activation: 'tanh' }
  | PropagationRequest
  | InitSpectraRequest
  /**
   * Curvature and generalisation (issue 6): an experiment on the worker's side device. `spec`: the
   * dashboard's settings (model, base training, dataset; `files` for IDX data), which the sweep and
   * AWD train on; the Hessian is of the run being trained.
   */
  | { type: 'experiment'; id: number; request: ExperimentRequest; spec: RunSpec; files?: File[] }
  /** The CLI's run folder of the last result of this experiment, as a .zip ('export' reply). */
  | { type: 'experiment-export'; kind: ExperimentKind };

export interface EvalPoint {
  step: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
}

export interface MlfCurves {
  /** 1-based PC. */
  pc: number;
  theta: Float64Array;
  /** Full training loss L(w* + θ p). */
  full: Float64Array;
  /** One curve per minibatch μ: L_μ(w* + θ p). */
  mini: Float64Array[];
}

/** One analysis of the window: a live refresh or the run's final analysis. */
export interface LabFrame {
  kind: 'live' | 'final';
  windowFirst: number;
  windowLast: number;
  /** Rows analysed (the live window is sampled every `stride`-th step). */
  rows: number;
  stride: number;
  /** Training samples behind F_i, T_i, L and the MLF ensemble (live: a stratified subsample). */
  samples: number;
  P: number;
  k: number;
  /** σ_i², i = 1..k (descending), and the cumulative fraction of the total variance. */
  variances: Float64Array;
  cumulative: Float64Array;
  total: number;
  d90: number | null;
  d99: number | null;
  d90NoPc1: number | null;
  d99NoPc1: number | null;
  pc1VsMeanWeight: number | null;
  /** 1-based PCs whose F_i and T_i were measured; F NaN where a side was not reached. */
  dirs: Int32Array;
  F: Float64Array;
  T: Float64Array;
  L0: number | null;
  fit: { psi: number; psiSE: number; r: number; n: number; intercept: number } | null;
  fitError: string | null;
  /** ln T_i against ln F_i: T ∝ F^(−exponent). */
  tFit: { exponent: number; r: number; intercept: number } | null;
  anisotropy: { maxOverMin: number; spearman: number | null } | null;
  /** Live: T_i and the full loss at the window's last step along the current PCs. */
  tPoint: { step: number; loss: number; pcs: Int32Array; T: Float64Array } | null;
  /** Final: T_i(t), L(t) at every checkpoint along the final PCs. */
  tCurve: { pcs: Int32Array; steps: Float64Array; loss: Float64Array; T: Float64Array[] } | null;
  mlf: MlfCurves | null;
  /** Wall time per stage, ms. */
  ms: Record<string, number>;
}

export type RunState = 'idle' | 'loading' | 'running' | 'paused' | 'analysing' | 'done' | 'lost' | 'error';

export type FromWorker =
  | { type: 'status'; text: string }
  | { type: 'state'; state: RunState; text: string }
  | {
      type: 'ready';
      adapter: string;
      hasTimestamps: boolean;
      isSoftware: boolean;
      data: string;
      trainN: number;
      testN: number;
      totalSteps: number;
      stepsPerEpoch: number;
      window: { first: number; last: number; T: number };
      P: number;
      liveStride: number;
    }
  | {
      type: 'chunk';
      firstStep: number;
      losses: Float32Array;
      accuracies: Float32Array;
      eval: EvalPoint | null;
      stepsPerSecond: number;
      step: number;
      epoch: number;
    }
  | { type: 'lab'; frame: LabFrame }
  | { type: 'mlf'; mlf: MlfCurves }
  /** Per-kernel GPU time per SGD step of one profiled chunk (timestamp queries). */
  | { type: 'timings'; step: number; labels: string[]; msPerStep: Float64Array; callsPerStep: Float64Array }
  | { type: 'done'; status: string; message: string; stepsPerSecond: number; final: boolean }
  | { type: 'lost'; message: string; resumeStep: number | null }
  | { type: 'resumed'; step: number }
  | { type: 'export'; name: string; zip: Uint8Array<ArrayBuffer>; files: string[] }
  | { type: 'error'; message: string }
  | { type: 'phase-diagram'; activation: string; chi1: HeatmapData; xiC: HeatmapData; ms: number }
  | {
      type: 'propagation';
      id: number;
      sw2: number;
      sb2: number;
      /** Measured vs theory q^l, c^l (and gradient) charts of propagationCharts(). */
      charts: ChartData[];
      /** GPU wall time, s. */
      seconds: number;
      agrees: { q: boolean; c: boolean };
      inputs: string[];
    }
  | { type: 'propagation-error'; id: number; message: string }
  /** Density, mean squared singular value and curve-length charts (init-charts.ts), one verdict line each. */
  | { type: 'init-spectra'; id: number; charts: ChartData[]; verdicts: string[]; seconds: number }
  | { type: 'init-spectra-error'; id: number; message: string }
  | { type: 'experiment-progress'; id: number; kind: ExperimentKind; text: string }
  | { type: 'experiment'; id: number; outcome: ExperimentOutcome }
  | { type: 'experiment-error'; id: number; kind: ExperimentKind; message: string };
