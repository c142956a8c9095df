/**
 * The result of a Feng–Tu run and what the stages record in it (run.ts fills it stage by stage;
 * files.ts, the dashboard and stage-state.ts read it).
 */
import type { MlpConfig } from '../../nn/config.ts';
import type { TrainConfig } from '../../train/config.ts';
import type { ChunkProgress, History, RunResult, Trainer } from '../../train/trainer.ts';
import { summarizePca, type PcaSummary } from '../../analysis/numerics/pca-summary.ts';
import type { PowerLawFit } from '../../analysis/numerics/power-law-fit.ts';
import type { TemperatureAnisotropy, Temperatures } from '../../analysis/numerics/temperature.ts';
import { norm2 } from '../../analysis/numerics/dense.ts';
import type { TemperatureRow } from '../../analysis/noise/temperature-gpu.ts';
import type { MlfEnsemble } from '../../analysis/noise/mlf.ts';
import type { FengTuOptions, Stage } from './options.ts';
import type { FitStage, FlatnessStage, PcaStage, PrecisePca } from './stages.ts';

export interface FengTuProgress {
  onTrainChunk?(p: ChunkProgress, trainer: Trainer): void;
  onStageStart?(stage: Stage, detail: string): void;
  onStageProgress?(stage: Stage, done: number, total: number | null, detail: string): void;
  onStageEnd?(stage: Stage, seconds: number, detail: string): void;
  /** Once the window is read back ('train'), then after each analysis stage (done, failed or
   * skipped), with everything computed so far. */
  onStageDone?(stage: Stage, r: FengTuResult): void | Promise<void>;
}

export interface StageRecord {
  status: 'done' | 'failed' | 'skipped';
  seconds: number;
  /** failed: the error message; skipped: why. */
  error?: string;
  detail?: string;
  /** Taken from an earlier attempt of this run (--resume), not recomputed. */
  resumed?: boolean;
}

export interface FengTuResult {
  options: FengTuOptions;
  model: MlpConfig;
  train: TrainConfig;
  run: RunResult;
  stepsPerEpoch: number;
  /** Steps trained (the run's length, or where a stop rule ended it). */
  totalSteps: number;
  window: { firstStep: number; lastStep: number; T: number; epochs: number };
  layer: number;
  fanIn: number;
  fanOut: number;
  P: number;
  trainSize: number;
  trainer: Trainer;
  /** The analysed network's training history (its replica's, in an ensemble: not the trainer's own). */
  history: History;
  /** Final weights (all layers) and w* (final with the analysed layer's window mean). */
  finalParams: Float32Array;
  wStarParams: Float32Array;
  /** Analysed layer's w* (P) and drift velocity (per step). */
  wStar: Float64Array;
  drift: Float64Array;
  trajectory: Float32Array;
  /** Each analysis stage's outcome, in the order run. */
  stages: Partial<Record<Stage, StageRecord>>;
  /** null when that stage failed or was skipped. */
  pca: PrecisePca | null;
  scatter: PcaStage['scatter'] | null;
  pcaDetrended: PrecisePca | null;
  summary: PcaSummary | null;
  pc1VsMeanWeight: number | null;
  pc1VsDrift: number | null;
  flatness: FlatnessStage | null;
  fit: PowerLawFit | null;
  fitError: string | null;
  fitDetail: FitStage | null;
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

/** A result whose PCA stage succeeded (what the dashboard's panels need). */
export type FengTuWithPca = FengTuResult & { pca: PrecisePca; summary: PcaSummary };

export function hasPca(r: FengTuResult): r is FengTuWithPca {
  return r.pca !== null && r.summary !== null;
}

/** Stages that failed (a run with any is "completed with failed stages"). */
export function failedStages(r: FengTuResult): Stage[] {
  return (Object.entries(r.stages) as [Stage, StageRecord][]).filter(([, s]) => s.status === 'failed').map(([n]) => n);
}

/** The PCA summary (D90/D99 per variant, alignments) from the stages done so far. */
export function summarise(r: FengTuResult): void {
  if (!r.pca) return;
  const summary = summarizePca({
    eigenvalues: r.pca.variances,
    total: r.pca.total,
    pc1: r.pca.components.subarray(0, r.P),
    meanWeight: r.wStar,
    drift: norm2(r.drift) > 0 ? r.drift : undefined,
    detrended: r.pcaDetrended ? { eigenvalues: r.pcaDetrended.variances, total: r.pcaDetrended.total } : undefined,
  });
  r.summary = summary;
  r.pc1VsMeanWeight = summary.pc1VsMeanWeight;
  r.pc1VsDrift = summary.pc1VsDrift;
}
