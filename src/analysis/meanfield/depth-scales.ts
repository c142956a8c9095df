/**
 * Stability exponents and depth scales at the fixed point (Schoenholz et al. 2017, §3):
 *
 *   χ1    = σ_w² E[φ'(√q* z)²]                        slope of C at c = 1; gradient factor
 *   χ_q   = σ_w² E[φ'(√q* z)² + φ(√q* z) φ''(√q* z)]  = L'(q*)  (Stein: d/dq E[φ²] = E[φ'²+φφ''])
 *   χ_c   = σ_w² E[φ'(u1) φ'(u2)] at c*               = C'(c*)  (d/dc E[φφ] = q E[φ'φ'])
 *
 *   ξ_q = −1/ln χ_q,   ξ_c = −1/ln χ_c,   ξ_∇ = −1/ln χ1.
 *
 * Perturbations of q and c decay like e^{−l/ξ}. In the ordered phase c* = 1 so χ_c = χ1 and
 * ξ_c = ξ_∇; at the critical line χ_c → 1 and ξ_c → ∞. ξ_∇ is negative in the chaotic phase
 * (gradients grow like e^{l/|ξ_∇|}). A slope ≥ 1 at a stable fixed point only happens on the
 * critical line (or by rounding next to it) and is reported as ξ = Infinity; so is every ξ
 * with |χ1 − 1| ≤ CRITICAL_TOL (phase 'critical').
 */
import type { Activation } from './activation.ts';
import { CRITICAL_TOL, cStar, qStar, type FixedPointOptions } from './fixed-points.ts';
import { meanDphiDphi, meanDphiSq, meanPhiD2phi } from './gaussian-expectations.ts';
import { checkParams } from './params.ts';

export type Phase = 'ordered' | 'critical' | 'chaotic' | 'divergent';

export interface MeanFieldPoint {
  sw2: number;
  sb2: number;
  qStar: number;
  chi1: number;
  /** Slope of the length map at q*. */
  chiQ: number;
  cStar: number;
  /** Slope of the correlation map at c*. */
  chiC: number;
  xiQ: number;
  xiC: number;
  xiGrad: number;
  phase: Phase;
}

/** χ1 = σ_w² E[φ'(√q* z)²]; with q* = ∞ only if the activation's closed form allows it (ReLU, linear). */
export function chi1(act: Activation, sw2: number, sb2: number, opts: FixedPointOptions = {}): number {
  checkParams(sw2, sb2);
  return sw2 * meanDphiSq(act, qStar(act, sw2, sb2, opts), opts);
}

/** χ_c(c) = σ_w² E[φ'(u1)φ'(u2)], (u1, u2) ~ N(0, q[[1, c], [c, 1]]). */
export function chiC(act: Activation, sw2: number, q: number, c: number, opts: FixedPointOptions = {}): number {
  return sw2 * meanDphiDphi(act, q, q, c * q, opts);
}

/** −1/ln χ with the critical value χ = 1 (and rounding just past it for a stable point) → ∞. */
export function depthScale(chi: number, stable = true): number {
  if (Number.isNaN(chi)) return NaN;
  if (stable && chi >= 1) return Infinity;
  return -1 / Math.log(chi);
}

/** All fixed-point quantities at (σ_w², σ_b²). A diverging length map gives phase 'divergent' and NaNs. */
export function meanFieldPoint(act: Activation, sw2: number, sb2: number, opts: FixedPointOptions = {}): MeanFieldPoint {
  checkParams(sw2, sb2);
  const q = qStar(act, sw2, sb2, opts);
  if (!Number.isFinite(q)) {
    let x1 = NaN;
    try {
      x1 = sw2 * meanDphiSq(act, q, opts); // defined for ReLU/linear through their closed forms
    } catch {
      /* no closed form at q = ∞ */
    }
    return {
      sw2, sb2, qStar: q, chi1: x1, chiQ: NaN, cStar: NaN, chiC: NaN,
      xiQ: NaN, xiC: NaN, xiGrad: depthScale(x1, false), phase: 'divergent',
    };
  }
  const x1 = sw2 * meanDphiSq(act, q, opts);
  const xq = x1 + sw2 * meanPhiD2phi(act, q, opts);
  const critical = Math.abs(x1 - 1) <= CRITICAL_TOL;
  const c = cStar(act, sw2, sb2, opts);
  const xc = c === 1 ? x1 : chiC(act, sw2, q, c, opts);
  return {
    sw2,
    sb2,
    qStar: q,
    chi1: x1,
    chiQ: xq,
    cStar: c,
    chiC: xc,
    xiQ: depthScale(xq),
    xiC: critical ? Infinity : depthScale(xc),
    xiGrad: critical ? Infinity : depthScale(x1, false),
    phase: critical ? 'critical' : x1 < 1 ? 'ordered' : 'chaotic',
  };
}
