/**
 * `sgdscope reproduce toy-landscape`: the SGD toy model of Yang, Tang & Tu (PRL 130, 237101
 * (2023)) with many walkers on the GPU (ensemble.ts, shaders/toy_walkers.wgsl), against the
 * predictions of theory.ts:
 *
 *   density  stationary density along the valley, constant noise (the PRL's idealisation) and
 *            noise ∝ local curvature, vs exp(−L_eff/Δ), the discrete-time adiabatic theory and
 *            Boltzmann (κ = 1); the effective potential L_SGD(x) read off the density
 *   drift    ⟨x⟩(t) from a uniform start for several Δ (and κ = 1): the drift toward the flat end,
 *            faster with more noise
 *   escape   fraction of walkers leaving the valley (L > L_esc) within T steps vs Δ: the noise
 *            level beyond which SGD fails to converge, measured and predicted
 */
import type { GpuContext } from '../../gpu/device.ts';
import type { ToyParams } from '../../kernels/toy_walkers.ts';
import { conditionalUVarianceMeasured, geometryOf, marginalX, noiseOf, runEnsemble, type EnsembleResult, type TracePoint } from './ensemble.ts';
import { binnedDensity, conditionalUVariance, lambdaAt, lSgdAt, measuredLSgd, meanX, predictedEscapedFraction } from './theory.ts';

export interface ToyExperimentSpec {
  /** The valley: λ(x) = lamMin·(lamMax/lamMin)^x on [0, 1]. */
  lamMin: number;
  lamMax: number;
  lr: number;
  delta: number;
  kappa: number;
  walkers: number;
  seed: number;
  density: { steps: number; burnIn: number; recordEvery: number; nx: number; nu: number; uMax: number };
  drift: { deltas: number[]; steps: number };
  escape: { deltas: number[]; steps: number; escLoss: number; walkers: number };
}

export const TOY_DEFAULT: ToyExperimentSpec = {
  lamMin: 1,
  lamMax: 8,
  lr: 0.05,
  delta: 0.02,
  kappa: 4,
  walkers: 4096,
  seed: 1,
  density: { steps: 12000, burnIn: 3000, recordEvery: 10, nx: 20, nu: 24, uMax: 5 },
  drift: { deltas: [0.005, 0.02, 0.08], steps: 4000 },
  escape: { deltas: [0.01, 0.015, 0.02, 0.03, 0.045, 0.065, 0.1, 0.15, 0.22, 0.33], steps: 2000, escLoss: 0.25, walkers: 2048 },
};

export function validateToySpec(s: ToyExperimentSpec): ToyExperimentSpec {
  if (!(s.lamMin > 0 && s.lamMax >= s.lamMin)) throw new Error(`toy: need 0 < lamMin ≤ lamMax, got ${s.lamMin}, ${s.lamMax}`);
  if (!(s.lr > 0 && s.lr * s.lamMax < 2)) throw new Error(`toy: need 0 < lr·lamMax < 2 (stable valley), got lr ${s.lr}, lamMax ${s.lamMax}`);
  if (!(s.delta > 0 && s.kappa > 0)) throw new Error('toy: delta and kappa must be > 0');
  if (!(Number.isInteger(s.walkers) && s.walkers >= 64)) throw new Error(`toy: walkers must be an integer ≥ 64, got ${s.walkers}`);
  if (!(s.density.burnIn < s.density.steps)) throw new Error('toy: density.burnIn must be below density.steps');
  return s;
}

export function valleyParams(s: ToyExperimentSpec, over: Partial<ToyParams> = {}): ToyParams {
  return {
    lr: s.lr,
    delta: s.delta,
    kappa: s.kappa,
    lam0: s.lamMin,
    c: Math.log(s.lamMax / s.lamMin),
    kx: 0,
    x0: 0,
    xLo: 0,
    xHi: 1,
    noisePow: 0,
    lamRef: Math.sqrt(s.lamMin * s.lamMax),
    escLoss: Infinity,
    ...over,
  };
}

export interface DensityResult {
  noise: 'constant' | 'curvature';
  params: ToyParams;
  /** Bin centres and probabilities: measured and the predictions. */
  x: number[];
  measured: number[];
  effectiveLoss: number[];
  adiabatic: number[];
  adiabaticPlus: number[];
  boltzmann: number[];
  /** L_SGD(x): read from the density (relative to x = first bin) and Δ(1 − κ)·ln F (same reference). */
  lSgdMeasured: (number | null)[];
  lSgdPredicted: number[];
  /** Var(u | x), u = y√(λ/Δ): measured and adiabatic. */
  uVarMeasured: (number | null)[];
  uVarPredicted: number[];
  meanX: number;
  meanXPredicted: { effectiveLoss: number; adiabaticPlus: number; boltzmann: number };
  /** Max over bins of |measured − predicted|/(predicted + 0.02). */
  deviation: { effectiveLoss: number; adiabatic: number; adiabaticPlus: number; boltzmann: number };
  seconds: number;
  walkerSteps: number;
}

export interface DriftResult {
  delta: number;
  kappa: number;
  trace: TracePoint[];
  /** Stationary ⟨x⟩ predicted (adiabatic+). */
  meanXPredicted: number;
  /** Steps until ⟨x⟩ first comes within 10% (of its initial distance) of the prediction. */
  relaxationSteps: number | null;
}

export interface EscapeResult {
  noise: 'constant' | 'curvature';
  deltas: number[];
  measured: number[];
  /** Predictions with x frozen and x well mixed during the run (theory.ts). */
  predictedFrozen: number[];
  predictedMixed: number[];
  /** Δ at which half the walkers escape within the run (log-interpolated): measured, and the two predictions. */
  halfMeasured: number | null;
  halfPredicted: { frozen: number | null; mixed: number | null };
  /** Median step of escape among escaped walkers, per Δ. */
  medianEscapeStep: (number | null)[];
}

export interface ToyExperimentResult {
  spec: ToyExperimentSpec;
  densities: DensityResult[];
  drifts: DriftResult[];
  escapes: EscapeResult[];
  seconds: number;
  walkerSteps: number;
  walkerStepsPerSecond: number;
}

export interface ToyHooks {
  onStage?(what: string): void;
}

const round = (a: ArrayLike<number>): number[] => Array.from(a);

function density(ctx: GpuContext, s: ToyExperimentSpec, noise: 'constant' | 'curvature'): Promise<DensityResult> {
  const p = valleyParams(s, { noisePow: noise === 'constant' ? 0 : 1 });
  const d = s.density;
  return runEnsemble(ctx, { params: p, walkers: s.walkers, seed: s.seed, steps: d.steps, init: 'uniform', recordFrom: d.burnIn + 1, recordEvery: d.recordEvery, nx: d.nx, nu: d.nu, uMax: d.uMax }).then((r: EnsembleResult) => {
    const g = geometryOf(p);
    const n = noiseOf(p);
    const measured = marginalX(r.hist, d.nx, d.nu);
    const preds = {
      effectiveLoss: binnedDensity('effective-loss', g, n, d.nx),
      adiabatic: binnedDensity('adiabatic', g, n, d.nx),
      adiabaticPlus: binnedDensity('adiabatic+', g, n, d.nx),
      boltzmann: binnedDensity('boltzmann', g, n, d.nx),
    };
    const dev = (want: Float64Array): number => Math.max(...Array.from(measured, (v, b) => Math.abs(v - want[b]) / (want[b] + 0.02)));
    const xs = Array.from({ length: d.nx }, (_, b) => (b + 0.5) / d.nx);
    const lMeasured = measuredLSgd(g, p.delta, measured);
    const l0 = lSgdAt(g, n, xs[0]);
    let mx = 0;
    for (let b = 0; b < d.nx; b++) mx += measured[b] * xs[b];
    return {
      noise,
      params: p,
      x: xs,
      measured: round(measured),
      effectiveLoss: round(preds.effectiveLoss),
      adiabatic: round(preds.adiabatic),
      adiabaticPlus: round(preds.adiabaticPlus),
      boltzmann: round(preds.boltzmann),
      lSgdMeasured: lMeasured,
      lSgdPredicted: xs.map((x) => lSgdAt(g, n, x) - l0),
      uVarMeasured: conditionalUVarianceMeasured(r.hist, d.nx, d.nu, d.uMax),
      uVarPredicted: xs.map((x) => conditionalUVariance(n, lambdaAt(g, x))),
      meanX: mx,
      meanXPredicted: { effectiveLoss: meanX('effective-loss', g, n), adiabaticPlus: meanX('adiabatic+', g, n), boltzmann: meanX('boltzmann', g, n) },
      deviation: { effectiveLoss: dev(preds.effectiveLoss), adiabatic: dev(preds.adiabatic), adiabaticPlus: dev(preds.adiabaticPlus), boltzmann: dev(preds.boltzmann) },
      seconds: r.seconds,
      walkerSteps: r.walkerSteps,
    };
  });
}

/** Log-interpolated x where y first crosses 0.5 (y increasing in x), or null. */
export function halfPoint(xs: number[], ys: number[]): number | null {
  for (let i = 1; i < xs.length; i++) {
    if (ys[i - 1] < 0.5 && ys[i] >= 0.5) {
      const t = (0.5 - ys[i - 1]) / (ys[i] - ys[i - 1]);
      return Math.exp(Math.log(xs[i - 1]) + t * (Math.log(xs[i]) - Math.log(xs[i - 1])));
    }
  }
  return ys.length && ys[0] >= 0.5 ? xs[0] : null;
}

export async function runToyExperiment(ctx: GpuContext, spec: ToyExperimentSpec, hooks: ToyHooks = {}): Promise<ToyExperimentResult> {
  validateToySpec(spec);
  const t0 = performance.now();
  let walkerSteps = 0;
  const densities: DensityResult[] = [];
  for (const noise of ['constant', 'curvature'] as const) {
    hooks.onStage?.(`density (${noise} noise): ${spec.walkers} walkers × ${spec.density.steps} steps`);
    const d = await density(ctx, spec, noise);
    walkerSteps += d.walkerSteps;
    densities.push(d);
  }
  const drifts: DriftResult[] = [];
  const driftCases = [...spec.drift.deltas.map((delta) => ({ delta, kappa: spec.kappa })), { delta: spec.delta, kappa: 1 }];
  for (const c of driftCases) {
    hooks.onStage?.(`drift (Δ ${c.delta}, κ ${c.kappa}): ${spec.walkers} walkers × ${spec.drift.steps} steps from a uniform start`);
    const p = valleyParams(spec, { delta: c.delta, kappa: c.kappa });
    const r = await runEnsemble(ctx, { params: p, walkers: spec.walkers, seed: spec.seed + 17, steps: spec.drift.steps, chunk: Math.max(25, Math.round(spec.drift.steps / 80)), init: 'uniform' });
    walkerSteps += r.walkerSteps;
    const target = meanX('adiabatic+', geometryOf(p), noiseOf(p));
    const x0 = r.trace[0].meanX;
    const hit = r.trace.find((t) => Math.abs(t.meanX - target) <= 0.1 * Math.abs(x0 - target));
    drifts.push({ delta: c.delta, kappa: c.kappa, trace: r.trace, meanXPredicted: target, relaxationSteps: hit ? hit.step : null });
  }
  const escapes: EscapeResult[] = [];
  for (const noise of ['constant', 'curvature'] as const) {
    const e = spec.escape;
    hooks.onStage?.(`escape (${noise} noise): ${e.deltas.length} noise levels × ${e.walkers} walkers × ${e.steps} steps`);
    const measured: number[] = [];
    const frozen: number[] = [];
    const mixed: number[] = [];
    const medians: (number | null)[] = [];
    for (const delta of e.deltas) {
      const p = valleyParams(spec, { delta, noisePow: noise === 'constant' ? 0 : 1, escLoss: e.escLoss });
      const r = await runEnsemble(ctx, { params: p, walkers: e.walkers, seed: spec.seed + 101, steps: e.steps, chunk: e.steps, init: 'stationary' });
      walkerSteps += r.walkerSteps;
      measured.push(r.trace.at(-1)!.escaped);
      const pr = predictedEscapedFraction(geometryOf(p), noiseOf(p), e.escLoss, e.steps);
      frozen.push(pr.frozen);
      mixed.push(pr.mixed);
      const steps = Array.from(r.status).filter((v) => v !== 0).sort((a, b) => a - b);
      medians.push(steps.length ? steps[Math.floor(steps.length / 2)] : null);
    }
    escapes.push({
      noise,
      deltas: e.deltas,
      measured,
      predictedFrozen: frozen,
      predictedMixed: mixed,
      halfMeasured: halfPoint(e.deltas, measured),
      halfPredicted: { frozen: halfPoint(e.deltas, frozen), mixed: halfPoint(e.deltas, mixed) },
      medianEscapeStep: medians,
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  return { spec, densities, drifts, escapes, seconds, walkerSteps, walkerStepsPerSecond: walkerSteps / seconds };
}
