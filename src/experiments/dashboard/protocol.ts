/**
 * Messages between the page (draws) and the engine worker (owns the GPU devices). Small, typed,
 * columnar: a chunk of steps travels as typed arrays, an instrument's update as one typed array per
 * column, never as one object per step or per direction. Instruments all travel in the same two
 * messages ('instrument' out, 'instrument-request' in): adding one adds no message.
 */
import type { RunSpec } from './run-settings.ts';
import type { ChartData } from '../../analysis/report/chart-data.ts';
import type { HeatmapData } from '../propagation/charts.ts';
import type { ExperimentKind, ExperimentRequest } from '../dashboard-settings.ts';
import type { ExperimentOutcome } from '../dashboard-runner.ts';
import type { InstrumentUpdate, RunInfo } from '../../instruments/types.ts';
import type { EnsembleWindowResult } from './ensemble-figures.ts';

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
  /** An on-demand request to the running instruments (a click on a panel point: its x). */
  | { type: 'instrument-request'; name: string; value: number }
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

/** An evaluation's mean, min and max across the replicas of an ensemble, and each replica's (null: stopped before it). */
export interface EvalBand {
  mean: EvalPoint;
  min: EvalPoint;
  max: EvalPoint;
  replicas: (EvalPoint | null)[];
}

/** An ensemble's chunk: the min–max band across the replicas of each step's minibatch numbers (the chunk's losses and accuracies are then the means). */
export interface ChunkBand {
  replicas: number;
  lossMin: Float32Array;
  lossMax: Float32Array;
  accuracyMin: Float32Array;
  accuracyMax: Float32Array;
  eval: EvalBand | null;
}

/** An instrument's update with its columns as Float64Arrays (their buffers are transferred). */
export type InstrumentMessage = Omit<InstrumentUpdate, 'tables'> & { tables?: Record<string, Record<string, Float64Array>> };

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
      /** The Feng–Tu window of the final analysis (an ensemble's: each replica's, with `note` saying
       * what it is within the memory budget, ensemble-window.ts); null: none (an ensemble without it). */
      window: { first: number; last: number; T: number; note?: string } | null;
      /** Each replica's seed (one: a single run). */
      seeds: number[];
      /** What the instruments' charts need to know, and which instruments run. */
      run: RunInfo;
      instruments: string[];
    }
  | {
      type: 'chunk';
      firstStep: number;
      /** Minibatch loss and accuracy of each step (an ensemble: the mean across its replicas). */
      losses: Float32Array;
      accuracies: Float32Array;
      eval: EvalPoint | null;
      /** An ensemble's band (ensemble-band.ts); absent for a single run. */
      band?: ChunkBand;
      stepsPerSecond: number;
      step: number;
      epoch: number;
    }
  | { type: 'instrument'; id: string; update: InstrumentMessage }
  /** An ensemble's Feng–Tu analysis, every replica's, with the figures across seeds (ensemble-figures.ts). */
  | ({ type: 'ensemble-window' } & EnsembleWindowResult)
  /** A refresh of the window instruments ended: the step it was due at and each one's wall time, ms. */
  | { type: 'refresh'; step: number; ms: Record<string, number> }
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
