/**
 * Free-probability prediction of the squared singular values of the input–output Jacobian of a
 * deep random network at initialisation (Pennington, Schoenholz & Ganguli, "Resurrecting the
 * sigmoid in deep learning through dynamical isometry", NeurIPS 2017).
 *
 * J = W^L D^{L−1} ⋯ W^1 D^0 (the experiments' h^0 → h^L; a cyclic shift of the paper's
 * D^L W^L ⋯ D^1 W^1 with the same free factors), D^l = diag φ'(h^l) with h^l at the fixed point
 * q*. In the large-width limit W_lW_lᵀ and D_l² are asymptotically free, so S-transforms multiply:
 *   S_{JJᵀ}(m) = Π_l S_{WWᵀ}(m)·S_{D²}(m),
 *   S_{WWᵀ} = 1/(σ_w²(1 + m)) (Gaussian, Marchenko–Pastur of ratio 1),  1/σ_w² (orthogonal),
 *   S_{D²}(m) = (1 + m)/(m x),  x = M_{D²}^{-1}(m),  M_{D²}(x) = x G_{D²}(x) − 1  (d2-law.ts).
 * With M_{JJᵀ}^{-1}(m) = (1 + m)/(m S_{JJᵀ}(m)) this gives λ as a function of the unknown x:
 *   Gaussian:    λ = (1 + m)/m · (σ_w² m x)^L
 *   orthogonal:  λ = (1 + m)/m · (σ_w² m x/(1 + m))^L,        m = M_{D²}(x).
 * For each λ the root x (Im x > 0) is found by complex Newton on ln λ(x) − ln(λ + i0), marching
 * down a grid in ln λ from above the support (where x is real) and continuing the root; a first
 * solve at ln λ + iε (ε = 1e-3, a Poisson smoothing that keeps the root off the real axis) seeds a
 * refinement at ε = 1e-9. Then M_{JJᵀ}(λ) = m and the density of ln λ is −Im m/π.
 *
 * Checks of this solver (tests/jacobian-theory.test.ts): linear + Gaussian reproduces the closed
 * Fuss–Catalan density of order L (fuss-catalan.ts); every case has mean χ1^L and normalised
 * variance L·(v_W + v_D) (v_W = 1 Gaussian, 0 orthogonal; v_D = Var d/(E d)²), the exact first two
 * free cumulants of the product. Orthogonal weights with an atom law (linear; tanh at q* = 0) give
 * all squared singular values at (σ_w² d)^L: returned as `atom`.
 */
import { activationByName } from './activations.ts';
import { qStar } from './fixed-points.ts';
import { checkParams } from './params.ts';
import { d2Law, type D2Law, type JacobianActivation } from './d2-law.ts';

export type WeightEnsemble = 'gaussian' | 'orthogonal';

export interface JacobianSpectrumOptions {
  activation: JacobianActivation;
  ensemble: WeightEnsemble;
  sw2: number;
  sb2: number;
  /** L: weight layers. */
  depth: number;
  /** Lowest λ of the grid (absolute); default 1e-12 × the support's upper edge. */
  floor?: number;
  /** Grid step in ln λ inside the support (default 0.02). */
  step?: number;
}

export interface JacobianSpectrumTheory {
  activation: JacobianActivation;
  ensemble: WeightEnsemble;
  sw2: number;
  sb2: number;
  depth: number;
  /** Fixed point q* of the length map (Infinity for ReLU/linear beyond criticality). */
  qStar: number;
  /** The input length q⁰ a measurement should use: q* when finite and > 0, else 1 (ReLU/linear: any q). */
  inputQ: number;
  chi1: number;
  /** E[d], Var d/(E d)² of the layers' D². */
  d2Mean: number;
  d2NormVariance: number;
  /** Mean squared singular value (1/N) tr JJᵀ = χ1^L. */
  meanSq: number;
  /** Var(λ)/mean² = L (v_W + v_D). */
  normVariance: number;
  /** Orthogonal weights with D² an atom: every λ equals `atom`; the grid is then empty. */
  atom: number | null;
  /** ln λ grid (ascending λ), the density of ln λ and the CDF F(λ) = 1 − ∫_λ^∞ ρ. */
  lambda: Float64Array;
  densityLn: Float64Array;
  cdf: Float64Array;
  /** Upper edge of the support: the first grid point from above with density ≥ 1e-7 (the grid's
   * first step into the support is 1/16 of `step`). */
  edge: number;
  floor: number;
  seconds: number;
}

type Cx = [number, number];
const cmul = (a: Cx, b: Cx): Cx => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const cdiv = (a: Cx, b: Cx): Cx => {
  const m = b[0] * b[0] + b[1] * b[1];
  return [(a[0] * b[0] + a[1] * b[1]) / m, (a[1] * b[0] - a[0] * b[1]) / m];
};
const clog = (a: Cx): Cx => [0.5 * Math.log(a[0] * a[0] + a[1] * a[1]), Math.atan2(a[1], a[0])];
const wrap = (t: number): number => t - 2 * Math.PI * Math.round(t / (2 * Math.PI));

/** F(x) = ln λ(x) − target and F'(x), m = M_{D²}(x). */
function residual(law: D2Law, x: Cx, L: number, lnSw2: number, orth: boolean, target: Cx): { f: Cx; df: Cx; m: Cx } {
  const [mr, mi, dmr, dmi] = law.moment(x[0], x[1]);
  const m: Cx = [mr, mi];
  const dm: Cx = [dmr, dmi];
  const onePlus: Cx = [1 + m[0], m[1]];
  const l1 = clog(onePlus);
  const lm = clog(m);
  const lx = clog(x);
  const k = orth ? 1 - L : 1; // coefficient of ln(1 + m)
  const f: Cx = [k * l1[0] + (L - 1) * lm[0] + L * (lnSw2 + lx[0]) - target[0], wrap(k * l1[1] + (L - 1) * lm[1] + L * lx[1] - target[1])];
  // dF/dx = dm·(k/(1 + m) + (L − 1)/m) + L/x
  const a = cdiv([k, 0], onePlus);
  const b = cdiv([L - 1, 0], m);
  const c = cdiv([L, 0], x);
  const df0 = cmul(dm, [a[0] + b[0], a[1] + b[1]]);
  return { f, df: [df0[0] + c[0], df0[1] + c[1]], m };
}

/**
 * Complex Newton from x0 for the root in the upper half plane: a step that lands below the real
 * axis is reflected back above it (F(x̄) is the conjugate of F(x): the lower half plane holds the
 * mirror image of the root, and near a square-root edge of the support Newton overshoots across
 * the axis). null when it does not converge.
 */
function newton(law: D2Law, x0: Cx, L: number, lnSw2: number, orth: boolean, target: Cx, maxIter = 60): { x: Cx; m: Cx; iterations: number } | null {
  let x = x0;
  for (let it = 0; it < maxIter; it++) {
    const { f, df, m } = residual(law, x, L, lnSw2, orth, target);
    if (!(Number.isFinite(f[0]) && Number.isFinite(f[1]))) return null;
    if (Math.hypot(f[0], f[1]) < 1e-13) return { x, m, iterations: it };
    const step = cdiv(f, df);
    if (!(Number.isFinite(step[0]) && Number.isFinite(step[1]))) return null;
    const next: Cx = [x[0] - step[0], Math.abs(x[1] - step[1])];
    x = next;
    if (Math.hypot(step[0], step[1]) <= 1e-11 * Math.hypot(x[0], x[1])) return { x, m: residual(law, x, L, lnSw2, orth, target).m, iterations: it + 1 };
  }
  return null;
}

function inputLength(act: JacobianActivation, q: number): number {
  if (act === 'tanh') return q;
  return Number.isFinite(q) && q > 0 ? q : 1;
}

export function jacobianSpectrumTheory(o: JacobianSpectrumOptions): JacobianSpectrumTheory {
  const t0 = performance.now();
  checkParams(o.sw2, o.sb2);
  const L = o.depth;
  if (!(Number.isInteger(L) && L >= 1 && L <= 10000)) throw new Error(`depth must be an integer in [1, 10000], got ${L}`);
  const step = o.step ?? 0.02;
  if (!(step > 0 && step <= 0.5)) throw new Error(`step must be in (0, 0.5], got ${step}`);
  const q = qStar(activationByName(o.activation), o.sw2, o.sb2);
  const inputQ = inputLength(o.activation, q);
  const law = d2Law(o.activation, o.activation === 'tanh' ? q : inputQ);
  const orth = o.ensemble === 'orthogonal';
  const chi1 = o.sw2 * law.mean;
  const base = {
    activation: o.activation, ensemble: o.ensemble, sw2: o.sw2, sb2: o.sb2, depth: L, qStar: q, inputQ, chi1,
    d2Mean: law.mean, d2NormVariance: law.normVariance, meanSq: chi1 ** L, normVariance: L * ((orth ? 0 : 1) + law.normVariance),
  };
  if (orth && law.atoms?.length === 1) {
    const atom = (o.sw2 * law.atoms[0].value) ** L;
    return { ...base, atom, lambda: new Float64Array(0), densityLn: new Float64Array(0), cdf: new Float64Array(0), edge: atom, floor: o.floor ?? atom, seconds: (performance.now() - t0) / 1000 };
  }
  const lnSw2 = Math.log(o.sw2);
  // Above (σ_w² max d·(4 | 1))^L the spectrum is empty (operator-norm bound of the free product).
  const maxD = law.atoms ? Math.max(...law.atoms.map((a) => a.value)) : 1;
  const lnTop = L * Math.log(o.sw2 * maxD * (orth ? 1 : 4)) + 0.1;
  const EPS = 1e-3;
  const lnMean = Math.log(base.meanSq);
  // Far above the support M(λ) ≈ E[λ]/λ and M_{D²}(x) ≈ E[d]/x, so x ≈ E[d]·λ/E[λ].
  let x: Cx = [law.mean * Math.exp(lnTop - lnMean), 1e-12];
  let ln = lnTop;
  const lnGrid: number[] = [];
  const dens: number[] = [];
  let edge = NaN;
  let lnFloor = o.floor !== undefined ? Math.log(o.floor) : NaN;
  let coarse = true;
  // Mass of the continuous part above the current point; JJᵀ's atom at 0 is D²'s (ReLU: ½).
  const zeroAtom = law.atoms?.find((a) => a.value === 0)?.mass ?? 0;
  let above = 0;
  const remaining = (): number => 1 - zeroAtom - above;
  // The root at ln λ = to, continued from x at `from`; where Newton loses it (near an edge of the
  // support, where the root turns a square-root corner) the step is halved, up to 2⁻¹².
  const track = (x0: Cx, from: number, to: number, depth: number): { x: Cx; m: Cx } | null => {
    const r = newton(law, x0, L, lnSw2, orth, [to, EPS]);
    if (r || depth >= 12) return r;
    const mid = 0.5 * (from + to);
    const half = track(x0, from, mid, depth + 1);
    return half ? track(half.x, mid, to, depth + 1) : null;
  };
  let h = 0.25;
  let maxRho = 0;
  for (let guard = 0; guard < 1_000_000; guard++) {
    const next = ln - h;
    if (!coarse && next < lnFloor) break;
    const seed = track(x, ln, next, 0);
    // Below the support's lower edge (orthogonal near isometry) the root leaves the upper half
    // plane: stop once the density has vanished or all the mass is accounted for.
    const lastRho = dens.length ? dens[dens.length - 1] : 0;
    if (!coarse && (remaining() < 1e-7 || (!seed && (remaining() < 1e-3 || lastRho < 1e-4 * maxRho)))) break;
    if (!seed) throw new Error(`jacobianSpectrumTheory (${o.activation}, ${o.ensemble}, σ_w² = ${o.sw2}, σ_b² = ${o.sb2}, L = ${L}): no root at λ = ${Math.exp(next).toExponential(3)}`);
    const fine = newton(law, seed.x, L, lnSw2, orth, [next, 1e-9]) ?? seed;
    const rho = Math.max(0, -fine.m[1] / Math.PI);
    if (coarse && rho >= 1e-7) {
      // entered the support: go back one coarse step and march finely from there
      coarse = false;
      h = step / 16;
      if (!Number.isFinite(lnFloor)) lnFloor = ln - 12 * Math.LN10;
      continue;
    }
    // Inside the support the step adapts: at most a 5% change of the density (relative to the
    // larger of the two, or 2% of its maximum) per step, between step/64 and step.
    if (!coarse && dens.length && h > step / 64 && Math.abs(rho - lastRho) > 0.05 * Math.max(rho, lastRho, 0.02 * maxRho)) {
      h /= 2;
      continue;
    }
    x = seed.x;
    ln = next;
    if (!coarse) {
      if (dens.length) above += 0.5 * (rho + lastRho) * h;
      lnGrid.push(ln);
      dens.push(rho);
      maxRho = Math.max(maxRho, rho);
      if (Number.isNaN(edge) && rho >= 1e-7) edge = Math.exp(ln);
      h = Math.min(step, h * 1.25);
    }
    if (coarse && ln < lnMean - 200) throw new Error('jacobianSpectrumTheory: no support found above λ = 1e-87 × the mean');
  }
  // ascending λ; F(λ) = 1 − ∫_λ^top ρ d ln λ (trapezoid from the top)
  const n = lnGrid.length;
  const lambda = new Float64Array(n);
  const densityLn = new Float64Array(n);
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let k = 0; k < n; k++) {
    const i = n - 1 - k;
    lambda[i] = Math.exp(lnGrid[k]);
    densityLn[i] = dens[k];
    if (k > 0) acc += 0.5 * (dens[k] + dens[k - 1]) * (lnGrid[k - 1] - lnGrid[k]);
    cdf[i] = 1 - acc;
  }
  return { ...base, atom: null, lambda, densityLn, cdf, edge, floor: Math.exp(lnFloor), seconds: (performance.now() - t0) / 1000 };
}

/** F(λ) by linear interpolation in ln λ (the atom's step for an atom; F(floor) below the grid). */
export function theoryCdf(t: JacobianSpectrumTheory, lam: number): number {
  if (t.atom !== null) return lam >= t.atom ? 1 : 0;
  const n = t.lambda.length;
  if (!(lam > t.lambda[0])) return t.cdf[0];
  if (lam >= t.lambda[n - 1]) return 1;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (t.lambda[mid] <= lam) lo = mid;
    else hi = mid;
  }
  const f = (Math.log(lam) - Math.log(t.lambda[lo])) / (Math.log(t.lambda[hi]) - Math.log(t.lambda[lo]));
  return t.cdf[lo] + f * (t.cdf[hi] - t.cdf[lo]);
}
