/**
 * What the mean-field theory needs to know about an activation φ.
 *
 * All Gaussian expectations are over a centred bivariate normal
 *   (u, v) ~ N(0, [[q1, q12], [q12, q2]]),
 * the pre-activations of two inputs at one layer. With q1 = q2 = q12 = q they reduce to the
 * single-input integrals of the length map (E[φ(u)²]) and of χ1 (E[φ'(u)²]).
 *
 * Closed forms are optional: when absent, gaussian-expectations.ts integrates numerically with
 * a trapezoidal rule whose step is set by `analyticStrip`.
 */
export interface ClosedForms {
  /** E[φ(u) φ(v)]. */
  phiPhi?(q1: number, q2: number, q12: number): number;
  /** E[φ'(u) φ'(v)]. */
  dphiDphi?(q1: number, q2: number, q12: number): number;
  /** E[φ(u) φ''(u)], u ~ N(0, q). */
  phiD2phi?(q: number): number;
}

export interface Activation {
  readonly name: string;
  phi(x: number): number;
  dphi(x: number): number;
  /** Second derivative away from kinks (a kink's δ-function is not represented; see relu). */
  d2phi(x: number): number;
  /**
   * Half-width of the strip |Im x| < s where φ, φ', φ'' are analytic: π/2 for tanh (poles of
   * sech at ±iπ/2), Infinity for entire functions, 0 for kinks. Sets the quadrature step.
   */
  readonly analyticStrip: number;
  /**
   * γ ≥ 0 with |φ(x+iy)|, |φ'|, |φ''| ≲ e^{γ y²} inside that strip (default 0: at most
   * polynomial growth). Entire functions can still grow fast off the real axis — erf(a x) has
   * γ = a² — and the quadrature step must shrink with γq as well.
   */
  readonly gaussianGrowth?: number;
  readonly closedForm?: ClosedForms;
}

/**
 * Correlation ρ = q12 / √(q1 q2) clamped to [−1, 1] (rounding can push it past ±1), with
 * the 0/0 cases resolved: equal infinite variances with q12 = q1 count as ρ = 1, a zero
 * variance as ρ = 0 (the expectation then factorises).
 */
export function correlationOf(q1: number, q2: number, q12: number): number {
  if (q1 === q2 && q12 === q1 && q1 > 0) return 1;
  if (q1 === 0 || q2 === 0) return 0;
  const r = q12 / Math.sqrt(q1 * q2);
  return r > 1 ? 1 : r < -1 ? -1 : r;
}
