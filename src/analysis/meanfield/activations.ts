/**
 * The activations of the study, with closed-form Gaussian integrals where they exist.
 * Notation: (u, v) ~ N(0, [[q1, q12], [q12, q2]]), ρ = q12/√(q1 q2), θ = arccos ρ.
 */
import { correlationOf, type Activation } from './activation.ts';
import { erf as erfFn } from '../../util/erf.ts';

/** tanh: no closed forms; poles of sech² at ±iπ/2 → strip π/2. */
export const tanh: Activation = {
  name: 'tanh',
  phi: Math.tanh,
  dphi(x) {
    const s = 1 / Math.cosh(x); // sech² = 1 − tanh², without the cancellation at large |x|
    return s * s;
  },
  d2phi(x) {
    const s = 1 / Math.cosh(x);
    return -2 * Math.tanh(x) * s * s;
  },
  analyticStrip: Math.PI / 2,
};

/**
 * ReLU, φ(x) = max(x, 0), φ'(x) = [x > 0] (the subgradient at 0 is taken as 0).
 * Arc-cosine kernels (Cho & Saul 2009):
 *   E[φ(u)φ(v)]   = √(q1 q2) (sin θ + (π − θ) cos θ) / (2π)
 *   E[φ'(u)φ'(v)] = (π − θ) / (2π)
 * φ'' is δ(x); φ(x)δ(x) = 0, so E[φφ''] = 0 and the length map is exactly linear in q.
 */
export const relu: Activation = {
  name: 'relu',
  phi: (x) => (x > 0 ? x : 0),
  dphi: (x) => (x > 0 ? 1 : 0),
  d2phi: () => 0,
  analyticStrip: 0,
  closedForm: {
    phiPhi(q1, q2, q12) {
      if (q1 === 0 || q2 === 0) return 0;
      const rho = correlationOf(q1, q2, q12);
      const theta = Math.acos(rho);
      // √(q1 q2) written so that q1 = q2 = ∞ gives ∞ rather than NaN.
      const scale = q1 === q2 ? q1 : Math.sqrt(q1 * q2);
      return (scale * (Math.sqrt(1 - rho * rho) + (Math.PI - theta) * rho)) / (2 * Math.PI);
    },
    dphiDphi(q1, q2, q12) {
      if (q1 === 0 || q2 === 0) return 0;
      return (Math.PI - Math.acos(correlationOf(q1, q2, q12))) / (2 * Math.PI);
    },
    phiD2phi: () => 0,
  },
};

/**
 * Scaled error function φ(x) = erf(√π x / 2), chosen so that φ'(0) = 1 like tanh
 * (φ'(x) = e^{−πx²/4}). With a² = π/4 (Williams 1997 for erf(a·)):
 *   E[φ(u)φ(v)]   = (2/π) arcsin( (π/2) q12 / √((1 + π q1/2)(1 + π q2/2)) )
 *   E[φ'(u)φ'(v)] = E[e^{−(π/4)(u²+v²)}] = det(I + (π/2) Σ)^{−1/2}
 *                 = 1/√((1 + π q1/2)(1 + π q2/2) − (π q12/2)²)
 *   E[φ(u)φ''(u)] = d/dq E[φ²] − E[φ'²]          (heat equation: d/dq E[f(u)] = E[f''(u)]/2)
 *                 = −(π q/2) / ((1 + π q/2) √(1 + π q)).
 */
const SQRT_PI_2 = Math.sqrt(Math.PI) / 2;
export const erf: Activation = {
  name: 'erf',
  phi: (x) => erfFn(SQRT_PI_2 * x),
  dphi: (x) => Math.exp((-Math.PI / 4) * x * x),
  d2phi: (x) => ((-Math.PI / 2) * x) * Math.exp((-Math.PI / 4) * x * x),
  analyticStrip: Infinity,
  gaussianGrowth: Math.PI / 4, // |erf(w)| ~ e^{(Im w)²}, w = √π x/2
  closedForm: {
    phiPhi(q1, q2, q12) {
      const a = 1 + (Math.PI / 2) * q1;
      const b = 1 + (Math.PI / 2) * q2;
      const s = ((Math.PI / 2) * q12) / Math.sqrt(a * b);
      return (2 / Math.PI) * Math.asin(s > 1 ? 1 : s < -1 ? -1 : s);
    },
    dphiDphi(q1, q2, q12) {
      const a = 1 + (Math.PI / 2) * q1;
      const b = 1 + (Math.PI / 2) * q2;
      const c = (Math.PI / 2) * q12;
      return 1 / Math.sqrt(a * b - c * c);
    },
    phiD2phi(q) {
      const h = (Math.PI / 2) * q;
      return -h / ((1 + h) * Math.sqrt(1 + Math.PI * q));
    },
  },
};

/** Identity φ(x) = x: E[uv] = q12, φ' = 1, φ'' = 0. */
export const linear: Activation = {
  name: 'linear',
  phi: (x) => x,
  dphi: () => 1,
  d2phi: () => 0,
  analyticStrip: Infinity,
  closedForm: {
    phiPhi: (_q1, _q2, q12) => q12,
    dphiDphi: () => 1,
    phiD2phi: () => 0,
  },
};

export const ACTIVATIONS: Readonly<Record<string, Activation>> = { tanh, relu, erf, linear };

/** Look an activation up by name; the error lists the allowed names. */
export function activationByName(name: string): Activation {
  const a = ACTIVATIONS[name];
  if (!a) throw new Error(`activation must be one of ${Object.keys(ACTIVATIONS).join(', ')}; got "${name}"`);
  return a;
}

/** The same activation with its closed forms removed (forces quadrature; for tests). */
export function withoutClosedForms(act: Activation): Activation {
  const { closedForm: _drop, ...rest } = act;
  return { ...rest, name: `${act.name} (quadrature)` };
}
