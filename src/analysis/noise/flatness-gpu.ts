/**
 * Flatness F_i of the full training loss along each principal direction p_i through w* on the GPU:
 * measureFlatness (flatness.ts: outward bracketing then Illinois/bisection to relTol, all
 * directions and both sides in lockstep) with its loss evaluator = ProbeEvaluator (probe-eval.ts),
 * which evaluates every probe of a round in a few dispatches with the activations below the
 * perturbed layer cached.
 *
 * The first step θ0 defaults to 1% of ‖w*‖ of the analysed layer and the cap to 100·‖w*‖: a
 * direction along which the loss stays below k·L0 that far is reported as not reached.
 */
import { measureFlatness, type FlatnessResult } from '../numerics/flatness.ts';
import type { ProbeEvaluator } from './probe-eval.ts';

export interface GpuFlatnessOptions {
  nDirs: number;
  /** Threshold factor: L(θ) = k·L0 (default 2). */
  k?: number;
  /** ‖w*‖ of the analysed layer, for the default θ0 and cap. */
  weightNorm: number;
  theta0?: number;
  thetaMax?: number;
  relTol?: number;
  absTol?: number;
  /** measureFlatness's outward search (default here: 'model'). */
  bracket?: 'geometric' | 'model';
  onRound?: (round: number, probes: number, open: number) => void;
}

export async function gpuFlatness(evaluator: ProbeEvaluator, o: GpuFlatnessOptions): Promise<FlatnessResult & { probes: number; ms: number }> {
  const t0 = performance.now();
  const theta0 = o.theta0 ?? 0.01 * o.weightNorm;
  const thetaMax = o.thetaMax ?? 100 * o.weightNorm;
  if (!(theta0 > 0 && Number.isFinite(theta0))) throw new Error(`gpuFlatness: theta0 must be finite and > 0, got ${theta0}`);
  let rounds = 0;
  let probes = 0;
  const res = await measureFlatness(
    async (p) => {
      const r = await evaluator.evaluate(p);
      rounds++;
      probes += p.length;
      o.onRound?.(rounds, p.length, p.length);
      return r.means;
    },
    { nDirs: o.nDirs, k: o.k ?? 2, theta0, thetaMax: Math.max(thetaMax, theta0), relTol: o.relTol ?? 1e-3, absTol: o.absTol, bracket: o.bracket ?? 'model' },
  );
  return { ...res, probes, ms: performance.now() - t0 };
}
