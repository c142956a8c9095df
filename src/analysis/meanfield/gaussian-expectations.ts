/**
 * The Gaussian expectations of mean-field theory, from closed forms when the activation has
 * them, otherwise by quadrature (trapezoidal rule tuned to the activation's analytic strip,
 * or a caller-supplied GaussRule such as a Gauss–Hermite one).
 *
 * Bivariate case: (u, v) ~ N(0, [[q1, q12], [q12, q2]]) is sampled as
 *   u = √q1 z1,   v = √q2 (ρ z1 + √(1−ρ²) z2),   ρ = q12/√(q1 q2),   z1, z2 iid N(0,1),
 * which reproduces Var u = q1, Var v = q2, Cov = √(q1 q2) ρ = q12.
 */
import { correlationOf, type Activation } from './activation.ts';
import type { GaussRule } from './gauss-hermite.ts';
import { trapezoidRuleFor } from './gauss-trapezoid.ts';

export interface QuadratureOptions {
  /** Integrate with this rule (e.g. gaussHermite(200)) even where a closed form exists. */
  rule?: GaussRule;
}

function checkVariance(name: string, q: number): void {
  if (!(q >= 0)) throw new Error(`${name} must be a variance >= 0 (or Infinity), got ${q}`);
}

function checkCovariance(q1: number, q2: number, q12: number): void {
  checkVariance('q1', q1);
  checkVariance('q2', q2);
  const bound = Math.sqrt(q1 * q2);
  if (!(Math.abs(q12) <= bound * (1 + 1e-12) + 1e-300)) {
    throw new Error(`q12 must satisfy |q12| <= sqrt(q1*q2) = ${bound} (positive semi-definite), got ${q12}`);
  }
}

function needFinite(act: Activation, what: string, q: number): void {
  if (!Number.isFinite(q)) {
    throw new Error(`${what} for ${act.name} at infinite variance has no closed form; variance must be finite`);
  }
}

function ruleFor(act: Activation, q: number, opts?: QuadratureOptions): GaussRule {
  return opts?.rule ?? trapezoidRuleFor(q, act.analyticStrip, act.gaussianGrowth ?? 0);
}

/** E[f(√q z)], z ~ N(0, 1). */
function expectScalar(f: (u: number) => number, q: number, rule: GaussRule): number {
  const s = Math.sqrt(q);
  const { n, nodes, weights } = rule;
  let acc = 0;
  for (let i = 0; i < n; i++) acc += weights[i] * f(s * nodes[i]);
  return acc;
}

/** E[f(u) g(v)] for the bivariate normal above (tensor-product rule, f(u) hoisted out). */
function expectPair(
  f: (u: number) => number,
  g: (v: number) => number,
  q1: number,
  q2: number,
  q12: number,
  rule: GaussRule,
): number {
  const rho = correlationOf(q1, q2, q12);
  const s1 = Math.sqrt(q1);
  const s2 = Math.sqrt(q2);
  const { n, nodes, weights } = rule;
  if (rho === 1 || rho === -1) {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += weights[i] * f(s1 * nodes[i]) * g(rho * s2 * nodes[i]);
    return acc;
  }
  const a = s2 * rho;
  const b = s2 * Math.sqrt(1 - rho * rho);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const fu = f(s1 * nodes[i]);
    if (fu === 0) continue;
    const shift = a * nodes[i];
    let inner = 0;
    for (let j = 0; j < n; j++) inner += weights[j] * g(shift + b * nodes[j]);
    acc += weights[i] * fu * inner;
  }
  return acc;
}

/** E[φ(u) φ(v)] — the NNGP / correlation-map integrand. */
export function meanPhiPhi(act: Activation, q1: number, q2: number, q12: number, opts?: QuadratureOptions): number {
  checkCovariance(q1, q2, q12);
  const cf = act.closedForm?.phiPhi;
  if (cf && !opts?.rule) return cf(q1, q2, q12);
  needFinite(act, 'E[phi(u)phi(v)]', Math.max(q1, q2));
  return expectPair(act.phi, act.phi, q1, q2, q12, ruleFor(act, Math.max(q1, q2), opts));
}

/** E[φ'(u) φ'(v)] — the slope of the correlation map (times σ_w²), χ_c. */
export function meanDphiDphi(act: Activation, q1: number, q2: number, q12: number, opts?: QuadratureOptions): number {
  checkCovariance(q1, q2, q12);
  const cf = act.closedForm?.dphiDphi;
  if (cf && !opts?.rule) return cf(q1, q2, q12);
  needFinite(act, "E[phi'(u)phi'(v)]", Math.max(q1, q2));
  return expectPair(act.dphi, act.dphi, q1, q2, q12, ruleFor(act, Math.max(q1, q2), opts));
}

/** E[φ(u)²], u ~ N(0, q) — the length map integrand (1-D, cheaper than meanPhiPhi(q,q,q)). */
export function meanPhiSq(act: Activation, q: number, opts?: QuadratureOptions): number {
  checkVariance('q', q);
  const cf = act.closedForm?.phiPhi;
  if (cf && !opts?.rule) return cf(q, q, q);
  needFinite(act, 'E[phi(u)^2]', q);
  const { phi } = act;
  return expectScalar((u) => {
    const p = phi(u);
    return p * p;
  }, q, ruleFor(act, q, opts));
}

/** E[φ'(u)²], u ~ N(0, q) — χ1 / σ_w². */
export function meanDphiSq(act: Activation, q: number, opts?: QuadratureOptions): number {
  checkVariance('q', q);
  const cf = act.closedForm?.dphiDphi;
  if (cf && !opts?.rule) return cf(q, q, q);
  needFinite(act, "E[phi'(u)^2]", q);
  const { dphi } = act;
  return expectScalar((u) => {
    const d = dphi(u);
    return d * d;
  }, q, ruleFor(act, q, opts));
}

/** E[φ(u) φ''(u)], u ~ N(0, q) — the extra term in the slope of the length map. */
export function meanPhiD2phi(act: Activation, q: number, opts?: QuadratureOptions): number {
  checkVariance('q', q);
  const cf = act.closedForm?.phiD2phi;
  if (cf && !opts?.rule) return cf(q);
  needFinite(act, "E[phi(u)phi''(u)]", q);
  const { phi, d2phi } = act;
  return expectScalar((u) => phi(u) * d2phi(u), q, ruleFor(act, q, opts));
}
