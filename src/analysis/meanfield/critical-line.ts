/**
 * The order-to-chaos transition χ1(σ_w², σ_b²) = 1 as a curve σ_w²(σ_b²).
 *
 * For fixed σ_b², χ1 − 1 is negative at small σ_w² (χ1 ≤ σ_w² sup φ'²) and we assume it
 * crosses zero once (true for tanh, erf, ReLU, linear). We bracket the crossing by doubling /
 * halving from σ_w² = 1 and solve with Brent. The crossing is transversal for σ_b² > 0, so the
 * root is good to ~1e-13. At σ_b² = 0 (odd φ) q* = 0 up to σ_w² = 1/φ'(0)² and beyond it
 * χ1 − 1 ≈ (4/3)q*² = O((σ_w² − 1)²) for tanh: the root is hit exactly at 1 (χ1(1) = 1 in
 * floating point) but nearby values are resolvable only to ~√ε ≈ 1e-8.
 */
import type { Activation } from './activation.ts';
import { brentRoot } from './brent.ts';
import { chi1 } from './depth-scales.ts';
import type { FixedPointOptions } from './fixed-points.ts';
import { checkBiasVariance } from './params.ts';

export interface CriticalLineOptions extends FixedPointOptions {
  /** Absolute tolerance on σ_w² (default 1e-13, well inside the 1e-10 requirement). */
  tol?: number;
}

/** σ_w² at which χ1 = 1 for the given σ_b². */
export function criticalSigmaW2(act: Activation, sb2: number, opts: CriticalLineOptions = {}): number {
  checkBiasVariance(sb2);
  const f = (sw2: number): number => {
    const v = chi1(act, sw2, sb2, opts) - 1;
    if (Number.isNaN(v)) throw new Error(`criticalSigmaW2: χ1 is undefined for ${act.name} at sw2=${sw2}, sb2=${sb2}`);
    return v;
  };
  let lo = 1;
  let hi = 1;
  const f1 = f(1);
  if (f1 === 0) return 1;
  if (f1 < 0) {
    while (f((hi *= 2)) < 0) {
      lo = hi;
      if (hi > 1e6) throw new Error(`criticalSigmaW2: χ1 < 1 for all sw2 <= 1e6 at sb2=${sb2} for ${act.name}; no transition`);
    }
  } else {
    while (f((lo /= 2)) > 0) {
      hi = lo;
      if (lo < 1e-6) throw new Error(`criticalSigmaW2: χ1 > 1 for all sw2 >= 1e-6 at sb2=${sb2} for ${act.name}; no transition`);
    }
  }
  return brentRoot(f, lo, hi, { absTol: opts.tol ?? 1e-13, relTol: Number.EPSILON });
}

/** The critical line at several σ_b² values. */
export function criticalLine(act: Activation, sb2Values: readonly number[], opts: CriticalLineOptions = {}): { sb2: number; sw2: number }[] {
  return sb2Values.map((sb2) => ({ sb2, sw2: criticalSigmaW2(act, sb2, opts) }));
}
