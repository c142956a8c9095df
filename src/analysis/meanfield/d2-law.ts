/**
 * The law of d = φ'(h)², h ~ N(0, q): the squared diagonal of one layer's Jacobian factor
 * D = diag φ'(h) at a fixed point q = q*, through its moment generating function
 *   M(x) = E[d/(x − d)] = x G(x) − 1,   G(x) = E[1/(x − d)]      (x complex, Im x ≥ 0)
 * and M'(x) — the input of the free-probability Jacobian spectrum (jacobian-spectrum.ts).
 *
 *   linear:  d ≡ 1 (an atom);   relu: d ∈ {0, 1} with probability ½ each (atoms, any q);
 *   tanh:    d = sech⁴(√q z), continuous on (0, 1] (an atom at 1 when q = 0).
 *
 * For tanh, E over z ~ N(0, 1) is integrated over z ∈ [0, Z] (d is even in z) on a uniform grid
 * with d(z) and the Gaussian weight linear on each segment; then the segment integral of
 * w/(x − d) has a closed form in complex logarithms,
 *   ∫ w/(x − d) dz = (A/s)·[ln(x − d₀) − ln(x − d₁)] − r·h/s,  A = w₀ + (r/s)(x − d₀),
 * (s, r the slopes of d and w, h the segment), exact for the interpolants however close x is to
 * the real axis — a quadrature with nodes would see poles at its nodes there. Where d is nearly
 * flat on a segment (|s h| ≪ |x − d|, e.g. at z = 0) Simpson's rule is used instead. The
 * interpolation error is O(h²) relative: h = 9/1200 gives ≲ 5e-5. Far from the support
 * (|x| > 4; d ≤ 1) M = Σ_k E[d^k]/x^k instead (40 terms, 4^−40 ≈ 1e-24): x G − 1 would cancel
 * catastrophically there, where M is small.
 */
import { meanDphiSq } from './gaussian-expectations.ts';
import { activationByName } from './activations.ts';

export type JacobianActivation = 'tanh' | 'relu' | 'linear';

export interface D2Law {
  activation: JacobianActivation;
  q: number;
  /** E[d] = E[φ'(h)²] (χ1 = σ_w² E[d]). */
  mean: number;
  /** Var(d)/E[d]²: d's share of the spectrum's normalised variance per layer. */
  normVariance: number;
  /** The law's atoms (linear, relu, tanh at q = 0); null for a continuous law. */
  atoms: { value: number; mass: number }[] | null;
  /** M(x) and M'(x) at x = xr + i·xi: [Re M, Im M, Re M', Im M']. */
  moment(xr: number, xi: number): [number, number, number, number];
}

const Z_MAX = 9;
const SEGMENTS = 1200;
const SERIES = 40;

/** M = Σ_k μ_k x^{−k}, M' = −Σ_k k μ_k x^{−k−1} (|x| > 4 ≥ 4·max d). */
function series(mu: Float64Array, xr: number, xi: number): [number, number, number, number] {
  const m2 = xr * xr + xi * xi;
  const ir = xr / m2;
  const ii = -xi / m2;
  let pr = 1, pi = 0; // x^{−k}
  let mr = 0, mi = 0, dr = 0, di = 0;
  for (let k = 1; k < mu.length; k++) {
    const nr = pr * ir - pi * ii;
    pi = pr * ii + pi * ir;
    pr = nr;
    mr += mu[k] * pr;
    mi += mu[k] * pi;
    // −k μ_k x^{−k−1}
    dr -= k * mu[k] * (pr * ir - pi * ii);
    di -= k * mu[k] * (pr * ii + pi * ir);
  }
  return [mr, mi, dr, di];
}

function atomLaw(activation: JacobianActivation, q: number, atoms: { value: number; mass: number }[]): D2Law {
  const mean = atoms.reduce((s, a) => s + a.mass * a.value, 0);
  const second = atoms.reduce((s, a) => s + a.mass * a.value * a.value, 0);
  return {
    activation, q, mean, normVariance: second / (mean * mean) - 1, atoms,
    moment(xr, xi) {
      let gr = 0, gi = 0, dr = 0, di = 0;
      for (const a of atoms) {
        // a/(x − a) and −a/(x − a)²
        const ur = xr - a.value;
        const m2 = ur * ur + xi * xi;
        const ir = ur / m2;
        const ii = -xi / m2;
        const pa = a.mass * a.value;
        gr += pa * ir;
        gi += pa * ii;
        dr -= pa * (ir * ir - ii * ii);
        di -= pa * 2 * ir * ii;
      }
      return [gr, gi, dr, di];
    },
  };
}

function tanhLaw(q: number): D2Law {
  const n = SEGMENTS;
  const h = Z_MAX / n;
  const d = new Float64Array(n + 1);
  const w = new Float64Array(n + 1);
  const c = Math.sqrt(q);
  for (let i = 0; i <= n; i++) {
    const z = i * h;
    const s = 1 / Math.cosh(c * z);
    d[i] = s * s * s * s;
    w[i] = (2 * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI);
  }
  const mean = meanDphiSq(activationByName('tanh'), q);
  // E[d^k], k = 1 … SERIES, of the same piecewise-linear model (so that the series far from the
  // support and the segments near it agree to rounding): per segment
  //   ∫ (w₀ + r t)(d₀ + s t)^k dt = [(w₀ − r d₀/s)(d₁^{k+1} − d₀^{k+1})/(k+1) + (r/s)(d₁^{k+2} − d₀^{k+2})/(k+2)]/s,
  // or Simpson where d is flat.
  const moments = new Float64Array(SERIES + 1);
  for (let i = 0; i < n; i++) {
    const d0 = d[i], d1 = d[i + 1], w0 = w[i];
    const s = (d1 - d0) / h;
    const r = (w[i + 1] - w0) / h;
    if (Math.abs(s * h) < 1e-3) {
      const dm = 0.5 * (d0 + d1), wm = 0.5 * (w0 + w[i + 1]);
      for (let k = 1; k <= SERIES; k++) moments[k] += (h / 6) * (w0 * d0 ** k + 4 * wm * dm ** k + w[i + 1] * d1 ** k);
      continue;
    }
    const a = w0 - (r * d0) / s;
    let p0 = d0, p1 = d1; // d^{k+1}
    for (let k = 1; k <= SERIES; k++) {
      p0 *= d0;
      p1 *= d1;
      moments[k] += (a * (p1 - p0)) / ((k + 1) * s) + (r * (p1 * d1 - p0 * d0)) / ((k + 2) * s * s);
    }
  }
  const second = moments[2];
  // Per node: ln(x − d_i) and 1/(x − d_i), reused by both neighbouring segments.
  const lr = new Float64Array(n + 1);
  const li = new Float64Array(n + 1);
  const ir = new Float64Array(n + 1);
  const ii = new Float64Array(n + 1);
  return {
    activation: 'tanh', q, mean, normVariance: second / (mean * mean) - 1, atoms: null,
    moment(xr, xi) {
      if (xr * xr + xi * xi > 16) return series(moments, xr, xi);
      for (let k = 0; k <= n; k++) {
        const ur = xr - d[k];
        const m2 = ur * ur + xi * xi;
        lr[k] = 0.5 * Math.log(m2);
        li[k] = Math.atan2(xi, ur);
        ir[k] = ur / m2;
        ii[k] = -xi / m2;
      }
      let gr = 0, gi = 0, dr = 0, di = 0;
      for (let k = 0; k < n; k++) {
        const s = (d[k + 1] - d[k]) / h;
        const r = (w[k + 1] - w[k]) / h;
        const ur = xr - d[k];
        const dist = Math.sqrt(ur * ur + xi * xi);
        if (Math.abs(s * h) < 1e-3 * dist) {
          // Simpson: h/6·[f0 + 4 fm + f1], f = w/(x − d) (and −w/(x − d)² for G')
          const dm = 0.5 * (d[k] + d[k + 1]);
          const wm = 0.5 * (w[k] + w[k + 1]);
          const vr = xr - dm;
          const m2 = vr * vr + xi * xi;
          const mr = vr / m2;
          const mi = -xi / m2;
          gr += (h / 6) * (w[k] * ir[k] + 4 * wm * mr + w[k + 1] * ir[k + 1]);
          gi += (h / 6) * (w[k] * ii[k] + 4 * wm * mi + w[k + 1] * ii[k + 1]);
          const a0 = ir[k], b0 = ii[k], a1 = ir[k + 1], b1 = ii[k + 1];
          dr -= (h / 6) * (w[k] * (a0 * a0 - b0 * b0) + 4 * wm * (mr * mr - mi * mi) + w[k + 1] * (a1 * a1 - b1 * b1));
          di -= (h / 6) * (w[k] * 2 * a0 * b0 + 8 * wm * mr * mi + w[k + 1] * 2 * a1 * b1);
          continue;
        }
        // A = w0 + (r/s)(x − d0); G += (A/s)(ln(x−d0) − ln(x−d1)) − r h/s
        const rs = r / s;
        const ar = w[k] + rs * ur;
        const ai = rs * xi;
        const er = lr[k] - lr[k + 1];
        const ei = li[k] - li[k + 1];
        gr += (ar * er - ai * ei) / s - (r * h) / s;
        gi += (ar * ei + ai * er) / s;
        // dG/dx = (r/s²)(ln(x−d0) − ln(x−d1)) + (A/s)(1/(x−d0) − 1/(x−d1))
        const fr = ir[k] - ir[k + 1];
        const fi = ii[k] - ii[k + 1];
        dr += (rs * er + (ar * fr - ai * fi)) / s;
        di += (rs * ei + (ar * fi + ai * fr)) / s;
      }
      // M = x G − 1, M' = G + x G'
      return [xr * gr - xi * gi - 1, xr * gi + xi * gr, gr + xr * dr - xi * di, gi + xr * di + xi * dr];
    },
  };
}

/** The law of φ'(h)², h ~ N(0, q) (q is ignored by linear and relu, whose law does not depend on it). */
export function d2Law(activation: JacobianActivation, q: number): D2Law {
  if (activation === 'linear') return atomLaw('linear', q, [{ value: 1, mass: 1 }]);
  if (activation === 'relu') return atomLaw('relu', q, [{ value: 0, mass: 0.5 }, { value: 1, mass: 0.5 }]);
  if (activation !== 'tanh') throw new Error(`d2Law: activation must be tanh, relu or linear, got '${activation}'`);
  if (!(Number.isFinite(q) && q >= 0)) throw new Error(`d2Law: tanh needs a finite fixed point q* ≥ 0, got ${q}`);
  return q === 0 ? atomLaw('tanh', 0, [{ value: 1, mass: 1 }]) : tanhLaw(q);
}
