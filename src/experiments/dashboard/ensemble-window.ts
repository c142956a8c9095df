/**
 * The Feng–Tu window of a dashboard ensemble (replicas R > 1 with the pca-window instrument on):
 * what is recorded and analysed, within a stated memory budget.
 *
 * Why a budget: the analysis needs the analysed layer at EVERY step of the window, and a window can
 * only be recorded while it passes, so each replica keeps its own (T, P) float32 trajectory on the
 * GPU until training ends — R·T·P·4 bytes (the seed network's layer, P = 2,500, over 10 epochs of
 * MNIST's 1,200 steps: 114 MiB per replica). The dashboard keeps the R trajectories together under
 * ENSEMBLE_WINDOW_BUDGET: the window is the last T_R = min(T, ⌊budget / (R·P·4 B)⌋) steps of the
 * run, every step of it recorded (no sub-sampling, so each replica's analysis is exactly
 * `sgdscope reproduce feng-tu --replicas R --window-steps T_R` on the same seeds). No weight
 * checkpoints are kept (they serve T(t) vs L(t), not analysed here). After training the replicas are
 * analysed one after another (experiments/feng-tu/ensemble.ts analyseReplicas), so the analysis
 * itself holds one network's buffers at a time.
 *
 * The analysis of each replica: the PCA spectrum σ_i², D90/D99, the flatness F_i along its PCs and
 * the fit σ_i² ∝ F_i^(−ψ) (ψ, r). The stages measuring one network's temperatures, T(t) and the
 * MLF ensemble are left out for an ensemble (their figures have no across-seed version here).
 */
import type { FengTuOptions } from '../feng-tu/options.ts';

/** The R trajectories of an ensemble's window together stay at or below this many bytes. */
export const ENSEMBLE_WINDOW_BUDGET = 256 * 2 ** 20;

export interface EnsembleWindowPlan {
  R: number;
  P: number;
  /** Window asked (the pca-window instrument's windowEpochs × steps per epoch) and window recorded. */
  asked: number;
  T: number;
  /** GPU bytes of the R trajectories. */
  bytes: number;
  budget: number;
  /** One line for the page: what the window is and why. */
  note: string;
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(b < 10 * 2 ** 20 ? 1 : 0)} MiB`;

/** The window recorded for R replicas of a layer of P weights when T steps are asked. */
export function ensembleWindowPlan(R: number, P: number, asked: number, budget = ENSEMBLE_WINDOW_BUDGET): EnsembleWindowPlan {
  const fit = Math.floor(budget / (R * P * 4));
  const T = Math.min(asked, fit);
  const bytes = R * T * P * 4;
  const cut = T < asked ? `, cut from the ${asked} asked so that ${R} × ${asked} × ${P} × 4 B (${mib(R * asked * P * 4)}) fits the ensemble budget of ${mib(budget)}` : '';
  return {
    R, P, asked, T, bytes, budget,
    note: `Feng–Tu window of each of the ${R} replicas: the last ${T} steps, every step (${R} × ${T} × ${P} floats = ${mib(bytes)} on the GPU${cut})`,
  };
}

/** The form's problems with the window of an ensemble: a window under 3 steps, or k above T_R − 1. */
export function ensembleWindowErrors(plan: EnsembleWindowPlan, k: number): Record<string, string> {
  if (plan.T < 3) return { 'window-epochs': `lab.windowEpochs: ${plan.R} replicas of a ${plan.P}-weight layer leave room for ${plan.T} steps in the ensemble budget (${mib(plan.budget)}); at least 3 are needed: fewer replicas or a smaller layer` };
  if (Number.isInteger(k) && k > plan.T - 1) return { k: `lab.k must be at most T − 1 = ${plan.T - 1} for the ensemble's window of ${plan.T} steps (the ${mib(plan.budget)} budget of ${plan.R} replicas), got ${k}` };
  return {};
}

/** The Feng–Tu options every replica is analysed with (the Node reference runs the same). */
export function ensembleLabOptions(lab: { layer: number; k: number; flatK: number }, plan: EnsembleWindowPlan): Partial<FengTuOptions> {
  return {
    layer: lab.layer,
    windowSteps: plan.T,
    k: lab.k,
    flatK: lab.flatK,
    checkpointEvery: 0,
    skip: { detrended: true, temperature: true, temperatureVsLoss: true, mlf: true },
  };
}
