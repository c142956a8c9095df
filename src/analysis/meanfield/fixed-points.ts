/**
 * Length and correlation maps of a wide random MLP and their fixed points
 * (Poole et al. 2016; Schoenholz et al. 2017, eqs. 3–5).
 *
 *   length map       q^{l+1} = L(q^l) = σ_w² E_z[φ(√q^l z)²] + σ_b²
 *   correlation map  c^{l+1} = C(c^l) = (σ_w² E[φ(u1)φ(u2)] + σ_b²) / q*,
 *                    (u1, u2) ~ N(0, q*[[1, c], [c, 1]])
 *
 * Fixed points are found by bracketed root finding (Brent) rather than by plain iteration,
 * because iteration converges only at the rate L'(q*) (resp. C'(c*)), which → 1 at the
 * critical line: e.g. tanh at σ_b² = 0, σ_w² = 1 has q^l ~ 1/(2l). The iterated maps are
 * exported too, and the tests check that long iteration lands on the same fixed points.
 */
import type { Activation } from './activation.ts';
import { brentRoot } from './brent.ts';
import { meanDphiSq, meanPhiPhi, meanPhiSq, type QuadratureOptions } from './gaussian-expectations.ts';
import { checkDepth, checkParams } from './params.ts';

/**
 * |χ1 − 1| below this counts as the critical line. The integrals are good to ~1e-15, but at
 * degenerate points (tanh, σ_b² = 0, σ_w² = 1: q* = 0, χ1 = Σ w_i = 1 ± ε) rounding alone
 * would otherwise pick a phase at random. Moving c* from 1 − O(1e-12) to 1 is invisible.
 */
export const CRITICAL_TOL = 1e-12;

export interface FixedPointOptions extends QuadratureOptions {
  /** Starting length q^0 that selects the basin of attraction (default 1). */
  q0?: number;
  /** Lengths beyond this count as divergence: q* is reported as Infinity (default 1e12). */
  qMax?: number;
}

/** One step of the length map, L(q). */
export function lengthMap(act: Activation, sw2: number, sb2: number, q: number, opts?: QuadratureOptions): number {
  return sw2 * meanPhiSq(act, q, opts) + sb2;
}

/** q^0, q^1, …, q^depth under the length map. */
export function iterateLengthMap(
  act: Activation, sw2: number, sb2: number, q0: number, depth: number, opts?: QuadratureOptions,
): number[] {
  checkParams(sw2, sb2);
  checkDepth(depth);
  if (!(q0 >= 0 && Number.isFinite(q0))) throw new Error(`q0 must be a finite number in [0, ∞), got ${q0}`);
  const out = [q0];
  let q = q0;
  for (let l = 0; l < depth; l++) {
    q = Number.isFinite(q) ? lengthMap(act, sw2, sb2, q, opts) : Infinity;
    out.push(q);
  }
  return out;
}

/**
 * The fixed point q* of the length map reached from q^0 = opts.q0 (default 1).
 *
 * L is increasing (d/dq E[φ(√q z)²] = E[φ'² + φφ''] ≥ 0 for the activations here), so
 * iteration from q0 moves monotonically to the nearest fixed point on the side where
 * h(q) = L(q) − q points. We bracket that root by ×4 / ÷4 steps and polish with Brent.
 * Returns Infinity when h > 0 all the way to qMax (e.g. ReLU with σ_w² > 2 or linear with
 * σ_w² > 1: L(q) − q grows linearly), and 0 when iteration collapses to q = 0
 * (σ_b² = 0 with φ(0) = 0 in the ordered phase). If h(q0) = 0 exactly (ReLU at σ_w² = 2,
 * σ_b² = 0: every q is fixed) q0 itself is returned.
 */
export function qStar(act: Activation, sw2: number, sb2: number, opts: FixedPointOptions = {}): number {
  checkParams(sw2, sb2);
  const q0 = opts.q0 ?? 1;
  const qMax = opts.qMax ?? 1e12;
  if (!(Number.isFinite(q0) && q0 > 0)) throw new Error(`q0 must be a finite number in (0, ∞), got ${q0}`);
  if (!(qMax > q0)) throw new Error(`qMax must exceed q0 = ${q0}, got ${qMax}`);
  const h = (q: number): number => lengthMap(act, sw2, sb2, q, opts) - q;

  const h0 = h(q0);
  if (h0 === 0) return q0;
  if (h0 > 0) {
    let lo = q0;
    let hi = 4 * q0;
    while (h(hi) > 0) {
      if (hi > qMax) return Infinity;
      lo = hi;
      hi *= 4;
    }
    return brentRoot(h, lo, hi);
  }
  let hi = q0;
  let lo = q0 / 4;
  while (h(lo) < 0) {
    hi = lo;
    lo /= 4;
    if (lo < 1e-280) {
      // h(0) = σ_b² + σ_w² φ(0)² ≥ 0: either 0 is the fixed point or one lies in (0, hi).
      if (h(0) <= 0) return 0;
      return brentRoot(h, 0, hi);
    }
  }
  return brentRoot(h, lo, hi);
}

/** One step of the correlation map at length q (normally q*). */
export function correlationMap(
  act: Activation, sw2: number, sb2: number, q: number, c: number, opts?: QuadratureOptions,
): number {
  if (!(q > 0 && Number.isFinite(q))) throw new Error(`q must be a finite length in (0, ∞) for the correlation map, got ${q}`);
  if (!(c >= -1 && c <= 1)) throw new Error(`c must be a correlation in [-1, 1], got ${c}`);
  return (sw2 * meanPhiPhi(act, q, q, c * q, opts) + sb2) / q;
}

/** c^0, c^1, …, c^depth under the correlation map at q = q*(σ_w², σ_b²). */
export function iterateCorrelationMap(
  act: Activation, sw2: number, sb2: number, c0: number, depth: number, opts: FixedPointOptions = {},
): number[] {
  checkDepth(depth);
  const q = finiteQStar(act, sw2, sb2, opts, 'iterateCorrelationMap');
  const out = [c0];
  let c = c0;
  for (let l = 0; l < depth; l++) {
    c = Math.min(1, correlationMap(act, sw2, sb2, q, c, opts)); // rounding can give 1 + 1e-16
    out.push(c);
  }
  return out;
}

function finiteQStar(act: Activation, sw2: number, sb2: number, opts: FixedPointOptions, who: string): number {
  const q = qStar(act, sw2, sb2, opts);
  if (!Number.isFinite(q)) {
    throw new Error(
      `${who}: the length map diverges for ${act.name} at sw2=${sw2}, sb2=${sb2} (q* = ∞); ` +
        `the correlation map needs a finite q*`,
    );
  }
  return q;
}

/**
 * The stable fixed point c* of the correlation map on [0, 1] (the one reached from any
 * c^0 ∈ [0, 1), e.g. 0.5).
 *
 * Why this is well defined: by Mehler's formula E[φ(u1)φ(u2)] = Σ_k b_k² c^k with
 * b_k = E[φ(√q z) He_k(z)]/√k!, so C(c) is increasing and convex on [0, 1], C(0) ≥ 0 and
 * C(1) = 1, C'(1) = χ1. Hence g(c) = C(c) − c is convex with g(0) ≥ 0, g(1) = 0:
 *   χ1 ≤ 1 (ordered):  g > 0 on [0, 1)  → c* = 1  (also within CRITICAL_TOL above 1);
 *   χ1 > 1 (chaotic):  g'(1) > 0 → exactly one root c* ∈ [0, 1), attracting (C'(c*) < 1).
 * In the chaotic case we bracket [0, 1 − 2^{-k}] (g(1 − ε) ≈ −ε(χ1 − 1) < 0) and use Brent.
 */
export function cStar(act: Activation, sw2: number, sb2: number, opts: FixedPointOptions = {}): number {
  const q = finiteQStar(act, sw2, sb2, opts, 'cStar');
  const chi1 = sw2 * meanDphiSq(act, q, opts);
  if (chi1 <= 1 + CRITICAL_TOL) return 1;
  if (q === 0) throw new Error(`cStar: q* = 0 with χ1 = ${chi1} > 1 for ${act.name}; correlation map undefined`);
  const g = (c: number): number => correlationMap(act, sw2, sb2, q, c, opts) - c;
  if (g(0) <= 0) return 0;
  for (let k = 1; k <= 52; k++) {
    const b = 1 - 2 ** -k;
    if (g(b) < 0) return brentRoot(g, 0, b, { relTol: 2 * Number.EPSILON, absTol: 1e-15 });
  }
  return 1; // c* within 2^-52 of 1: indistinguishable from the critical line in float64
}
