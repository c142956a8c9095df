/**
 * The numerical noise floor of a PCA spectrum: how large the round-off in each σ_i² can be, and
 * so the index below which components are trustworthy.
 *
 * Model (absolute error of an eigenvalue of the covariance C = S/(T − 1), S = Σ_t d_t d_tᵀ):
 *   δσ² ≈ [ √T·u_acc·trace S  +  √P·u_eig·λ_max(S) ] / (T − 1)
 *  - accumulation: every entry of S is a sum of T products d_ti·d_tj, each added with a relative
 *    round-off u_acc (float64: 2⁻⁵³; double-single: ~2⁻⁴⁸, the pair's precision; float32: 2⁻²⁴)
 *    whose signs are random, so the error matrix E has |E_ij| ~ √T·u_acc·Σ_t|d_ti d_tj| and
 *    ‖E‖₂ ≤ ‖E‖_F ≲ √T·u_acc·trace S; an eigenvalue moves by at most ‖E‖₂ (Weyl);
 *  - eigensolver: a backward-stable dense solver in float64 moves each eigenvalue by ~√P·2⁻⁵³·λ_max
 *    (the typical growth of Householder round-off; the worst-case bound has P instead of √P);
 *    an iterative one with float32 products (the trajectory route), by ~√P·2⁻²⁴·λ_max; an
 *    iterative solver's Ritz value is within its residual norm, so the largest relative residual
 *    reached replaces √P·u_eig when it is larger.
 * Measured errors against float64 stay below this estimate (tests/precise-pca.test.ts) and are
 * typically 10–100× smaller; it is an honest upper estimate, not a bound.
 *
 * A component is trusted when σ_i² ≥ floor / relTol (relative error ≤ relTol, default 1e-3):
 * trustedUpTo = the number of leading components that are (the spectrum is sorted, so they are
 * the first ones). Analyses of components past it are marked, never silently used.
 */

export type Accumulation = 'float64' | 'double-single' | 'float32';

export const UNIT_ROUNDOFF: Record<Accumulation, number> = {
  float64: 2 ** -53,
  'double-single': 2 ** -48,
  float32: 2 ** -24,
};

export interface NoiseFloor {
  /** Estimated absolute round-off of σ_i² (covariance units). */
  variance: number;
  /** The same relative to σ_1². */
  relativeToTop: number;
  /** Components 1 … trustedUpTo have σ_i² ≥ variance / relTol. */
  trustedUpTo: number;
  relTol: number;
  accumulation: Accumulation;
  eigensolver: 'float64' | 'float32';
  /** The formula, for summary.json. */
  model: string;
}

export interface NoiseFloorInput {
  /** σ_i², descending (covariance units, divisor T − 1). */
  variances: ArrayLike<number>;
  /** trace of the covariance. */
  total: number;
  T: number;
  P: number;
  accumulation: Accumulation;
  eigensolver: 'float64' | 'float32';
  /** Largest ‖Cu − θu‖/σ_1² an iterative solver reached (a Ritz value is within its residual). */
  eigensolverResidual?: number;
  relTol?: number;
}

export function noiseFloor(i: NoiseFloorInput): NoiseFloor {
  const relTol = i.relTol ?? 1e-3;
  if (!(relTol > 0 && relTol < 1)) throw new Error(`noiseFloor: relTol must be in (0, 1), got ${relTol}`);
  if (!(i.T >= 2 && i.P >= 1)) throw new Error(`noiseFloor: T must be >= 2 and P >= 1, got T = ${i.T}, P = ${i.P}`);
  const top = Math.max(0, i.variances[0] ?? 0);
  const uAcc = UNIT_ROUNDOFF[i.accumulation];
  const uEig = i.eigensolver === 'float64' ? 2 ** -53 : 2 ** -24;
  // Covariance units: trace S/(T − 1) = total, λ_max(S)/(T − 1) = σ_1².
  const eig = Math.max(Math.sqrt(i.P) * uEig, i.eigensolverResidual ?? 0);
  const variance = Math.sqrt(i.T) * uAcc * Math.max(0, i.total) + eig * top;
  let trustedUpTo = 0;
  while (trustedUpTo < i.variances.length && i.variances[trustedUpTo] >= variance / relTol) trustedUpTo++;
  return {
    variance,
    relativeToTop: top > 0 ? variance / top : NaN,
    trustedUpTo,
    relTol,
    accumulation: i.accumulation,
    eigensolver: i.eigensolver,
    model: `δσ² ≈ √T·u_acc·trace + max(√P·u_eig, residual)·σ1², u_acc = ${uAcc.toExponential(2)} (${i.accumulation}), u_eig = ${uEig.toExponential(2)} (${i.eigensolver}); trusted: σ_i² ≥ δσ²/${relTol}`,
  };
}
