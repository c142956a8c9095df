/**
 * The Feng–Tu figures of a dashboard ensemble, across its replicas (seeds): each replica's
 * analysis (ensemble-window.ts) reduced to its key numbers, then mean ± standard error of the mean
 * across the seeds (spread() of experiments/feng-tu/seeds.ts: the numbers `sgdscope reproduce
 * feng-tu --replicas R` writes to summary.json), as ChartData with error bars the page draws:
 *
 *  - the spectrum: σ_i² at rank i (each replica's i-th largest variance; its own principal
 *    directions), mean ± SE across seeds;
 *  - variance vs flatness: at each analysed rank (PC1, the drift, left out as in each fit), the
 *    point (mean F_i, mean σ_i²) with ± SE bars in both directions;
 *  - ψ per seed (± the fit's own standard error) beside the mean ψ and mean ± SE across seeds.
 *
 * Plain numbers only: the page draws them and computes nothing.
 */
import type { ChartData } from '../../analysis/report/chart-data.ts';
import type { FengTuResult } from '../feng-tu/run.ts';
import { seedRecord, spread, type FengTuSeedRecord, type Spread } from '../feng-tu/seeds.ts';
import type { EnsembleWindowPlan } from './ensemble-window.ts';

/** What the figures keep of one replica's analysis (not its window: that is R·T·P floats). */
export interface ReplicaWindow {
  record: FengTuSeedRecord;
  /** σ_i², i = 1…k, decreasing. */
  variances: Float64Array;
  /** 0-based PCs whose F_i was measured, and F_i (null: not measured). */
  dirs: number[];
  F: (number | null)[];
}

export function replicaWindowOf(seed: number, r: FengTuResult, seconds: number): ReplicaWindow {
  return {
    record: seedRecord(seed, r, seconds),
    variances: r.pca ? Float64Array.from(r.pca.variances) : new Float64Array(0),
    dirs: [...r.dirs],
    F: r.dirs.map((_, j) => r.flatness?.directions[j]?.F ?? null),
  };
}

export const SPREAD_KEYS = ['psi', 'r', 'd90', 'd99', 'd90Pc1Removed', 'd99Pc1Removed', 'testAccuracy'] as const;
export type SpreadKey = (typeof SPREAD_KEYS)[number];

/** The ensemble's Feng–Tu result as the page gets it ('ensemble-window' message). */
export interface EnsembleWindowResult {
  /** What the window is (ensemble-window.ts: the steps recorded, the memory, the budget). */
  note: string;
  window: { first: number; last: number; T: number };
  seeds: number[];
  /** The replicas analysed, by seed (a failed one is in `failed`). */
  records: FengTuSeedRecord[];
  failed: { seed: number; reason: string }[];
  spread: Record<SpreadKey, Spread | null>;
  charts: ChartData[];
}

const at = (v: ArrayLike<number | null>, i: number): number | null => (i < v.length ? v[i] : null);
const lo = (s: Spread | null): number | null => (s ? s.mean - s.se : null);
const hi = (s: Spread | null): number | null => (s ? s.mean + s.se : null);

function spectrumChart(reps: ReplicaWindow[]): ChartData {
  const k = Math.max(0, ...reps.map((r) => r.variances.length));
  const s = Array.from({ length: k }, (_, i) => spread(reps.map((r) => at(r.variances, i))));
  return {
    id: 'ensemble-spectrum',
    title: `PCA spectrum across ${reps.length} seeds`,
    xLabel: 'PC index i',
    yLabel: 'σᵢ² (weight units²)',
    xLog: false,
    yLog: true,
    x: Array.from({ length: k }, (_, i) => i + 1),
    series: [{ label: 'mean σᵢ² (bars: ± SE across seeds)', y: s.map((v) => v?.mean ?? null), style: 'points' }],
    errorBars: [{ series: 0, yLo: s.map(lo), yHi: s.map(hi) }],
    note: `σᵢ² of each seed's own i-th principal direction, mean ± standard error across ${reps.length} seeds`,
  };
}

function varianceFlatnessChart(reps: ReplicaWindow[]): ChartData {
  const dirs = reps[0]?.dirs ?? [];
  const pts = dirs.flatMap((pc, j) => {
    if (pc === 0) return [];
    const F = spread(reps.map((r) => r.F[j] ?? null));
    const v = spread(reps.map((r) => at(r.variances, pc)));
    return F && v && F.mean > 0 && v.mean > 0 ? [{ pc, F, v }] : [];
  });
  pts.sort((a, b) => a.F.mean - b.F.mean);
  return {
    id: 'ensemble-variance-flatness',
    title: `Variance vs flatness across ${reps.length} seeds`,
    xLabel: 'Fᵢ (weight units)',
    yLabel: 'σᵢ² (weight units²)',
    xLog: true,
    yLog: true,
    x: pts.map((p) => p.F.mean),
    series: [{ label: 'mean (Fᵢ, σᵢ²) (bars: ± SE across seeds)', y: pts.map((p) => p.v.mean), style: 'points' }],
    errorBars: [{ series: 0, yLo: pts.map((p) => lo(p.v)), yHi: pts.map((p) => hi(p.v)), xLo: pts.map((p) => lo(p.F)), xHi: pts.map((p) => hi(p.F)) }],
    note: `PCs ${pts.map((p) => p.pc + 1).sort((a, b) => a - b).join(', ')} (PC1, the drift, left out as in each fit): mean ± SE across seeds of σᵢ² and Fᵢ at each rank`,
  };
}

function psiChart(records: FengTuSeedRecord[], s: Spread | null): ChartData {
  const rs = [...records].sort((a, b) => a.seed - b.seed);
  const flat = (v: number | null): (number | null)[] => rs.map(() => v);
  return {
    id: 'ensemble-psi',
    title: 'ψ per seed and across seeds',
    xLabel: 'seed',
    yLabel: 'ψ',
    xLog: false,
    yLog: false,
    x: rs.map((r) => r.seed),
    series: [
      { label: 'ψ of the seed (bars: ± its fit SE)', y: rs.map((r) => r.psi), style: 'points' },
      { label: 'mean ψ', y: flat(s?.mean ?? null), style: 'dashed' },
      { label: 'mean − SE', y: flat(lo(s)), style: 'thin' },
      { label: 'mean + SE', y: flat(hi(s)), style: 'thin' },
    ],
    errorBars: [{ series: 0, yLo: rs.map((r) => (r.psi !== null && r.psiSE !== null ? r.psi - r.psiSE : null)), yHi: rs.map((r) => (r.psi !== null && r.psiSE !== null ? r.psi + r.psiSE : null)) }],
    note: s ? `ψ = ${s.mean.toFixed(3)} ± ${s.se.toFixed(3)} (mean ± SE across ${s.n} seeds; sd ${s.sd.toFixed(3)})` : 'no seed has a fit',
  };
}

/** The ensemble's figures and numbers from each analysed replica (in seed order) and the failed ones. */
export function ensembleWindowResult(plan: EnsembleWindowPlan, window: EnsembleWindowResult['window'], seeds: number[], reps: ReplicaWindow[], failed: EnsembleWindowResult['failed']): EnsembleWindowResult {
  const records = reps.map((r) => r.record);
  const s = Object.fromEntries(SPREAD_KEYS.map((key) => [key, spread(records.map((r) => r[key]))])) as Record<SpreadKey, Spread | null>;
  return {
    note: plan.note,
    window,
    seeds,
    records,
    failed,
    spread: s,
    charts: reps.length ? [spectrumChart(reps), varianceFlatnessChart(reps), psiChart(records, s.psi)] : [],
  };
}
