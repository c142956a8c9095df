/**
 * Closed-form predictions for SGD walkers on the toy valley (shaders/toy_walkers.wgsl,
 * Yang, Tang & Tu, PRL 130, 237101 (2023)):
 *
 *   L(x, y) = λ(x)·y²/2,  λ(x) = lam0·e^{c·x},  x ∈ [xLo, xHi] (reflecting),  F(x) = λ(x)^(−1/2)
 *   x ← x − α(∂ₓL + η_x),  y ← y − α(∂_yL + η_y),  Var(αη_y) = 2αΔs(x),  Var(αη_x) = 2αΔs(x)/κ
 *   s(x) = 1 (constant noise) or (λ(x)/λ_ref)^p (noise ∝ local curvature).
 *
 * 1. Idealised effective loss (the PRL's result; continuous time, constant noise):
 *      P(x, y) ∝ exp(−L_eff/Δ),  L_eff = L + L_SGD,  L_SGD = Δ(1 − κ)·ln F(x)
 *    so the marginal along the valley is P(x) ∝ ∫dy e^{−λy²/2Δ}·F^{κ−1} ∝ λ^{−1/2}·λ^{(1−κ)/2} = λ^{−κ/2}.
 *    κ = 1 (isotropic, thermal) leaves only the entropic λ^{−1/2}; κ > 1 favours the flat end more.
 *
 * 2. Adiabatic elimination, discrete time, any s(x): y relaxes fast at fixed x; its stationary
 *    variance under y ← (1 − αλ)y + √(2αΔs)·ξ is exactly
 *      v(x) = Var(y | x) = Δ·s/(λ·(1 − αλ/2))        (stable for αλ < 2)
 *    and x feels the mean drift −∂ₓλ·v/2 = −c·Δ·s/(2(1 − αλ/2)) (time t = α·steps) and diffusion
 *    D_x = Δs/κ. Zero flux, ∂ₓ(D_x P) = drift·P, gives ('adiabatic')
 *      P(x) ∝ s(x)^{−1}·[λ(x)/(1 − αλ(x)/2)]^{−κ/2},
 *    which is (1) when s = 1 and α → 0; the (1 − αλ/2) factor is the discrete-time correction.
 *    In u = y·√(λ/Δ): Var(u | x) = s/(1 − αλ/2) (1 in the idealised limit).
 *    Next order ('adiabatic+'): the drift −cλy²/2 itself fluctuates with y², which diffuses x
 *    by D_f = ½Σ_k Cov(f_t, f_{t+k})/α = (α c²λ²v²/4)·(1 + a²)/(1 − a²), a = 1 − αλ
 *    (→ c²Δ²/(4λ) for α → 0). With κ > 1 the x-noise Δ/κ is weak, so D_f matters at the flat end
 *    (here ~20% of Δ/κ for Δ = 0.05, κ = 4, c = ln 8, λ = 1). P = G/D with
 *    G = exp ∫ drift/D dx, D = Δs/κ + D_f, integrated numerically.
 *
 * 3. Harmonic well (c = 0, kx > 0, constant noise): the update is a linear AR(1) per coordinate,
 *    so the stationary law is exactly Gaussian with
 *      Var(y) = Δ/(λ0(1 − αλ0/2)),   Var(x) = (Δ/κ)/(kx(1 − α·kx/2)),
 *    the continuous-time values Δ/λ0, Δ/(κ·kx) times the discrete-time factor 1/(1 − αk/2).
 *
 * 4. Escape: a walker leaves the valley when L > L_esc. At fixed x, y is an AR(1) with
 *    coefficient a = 1 − αλ and stationary variance v; a new exceedance of |y| > y_e = √(2L_esc/λ)
 *    happens at a step with probability h(x) = P(|Y_t| > y_e, |Y_{t−1}| ≤ y_e) (computed by
 *    quadrature over Y_{t−1}). With escapes rare (quasi-stationary) the fraction escaped within T
 *    steps is ≈ 1 − ⟨exp(−h(x)·T)⟩ over P(x) if walkers keep their x, 1 − exp(−⟨h⟩T) if they
 *    sample P(x) during the run. The noise level of 50% escape is the "upper bound".
 */

export interface ValleyGeometry {
  lam0: number;
  c: number;
  xLo: number;
  xHi: number;
}

export interface NoiseModel {
  lr: number;
  delta: number;
  kappa: number;
  noisePow: number;
  lamRef: number;
}

export const lambdaAt = (g: ValleyGeometry, x: number): number => g.lam0 * Math.exp(g.c * x);

export function noiseScaleAt(n: NoiseModel, lam: number): number {
  return n.noisePow === 0 ? 1 : (lam / n.lamRef) ** n.noisePow;
}

/** F = λ^(−1/2) and L_SGD(x) = Δ(1 − κ)·ln F(x). */
export function flatnessAt(g: ValleyGeometry, x: number): number {
  return 1 / Math.sqrt(lambdaAt(g, x));
}

export function lSgdAt(g: ValleyGeometry, n: NoiseModel, x: number): number {
  return n.delta * (1 - n.kappa) * Math.log(flatnessAt(g, x));
}

export type DensityModel = 'effective-loss' | 'adiabatic' | 'adiabatic+' | 'boltzmann';

/** Unnormalised marginal density along the valley (see the header), 0 where αλ ≥ 2 for 'adiabatic'. */
export function densityAt(model: Exclude<DensityModel, 'adiabatic+'>, g: ValleyGeometry, n: NoiseModel, x: number): number {
  const lam = lambdaAt(g, x);
  if (model === 'boltzmann') return lam ** -0.5;
  if (model === 'effective-loss') return lam ** (-n.kappa / 2);
  const q = 1 - (n.lr * lam) / 2;
  if (q <= 0) return 0;
  return (1 / noiseScaleAt(n, lam)) * (lam / q) ** (-n.kappa / 2);
}

/** x-diffusion (time units) from the fluctuating drift −cλy²/2 at x (the 'adiabatic+' correction). */
export function driftFluctuationDiffusion(g: ValleyGeometry, n: NoiseModel, x: number): number {
  const lam = lambdaAt(g, x);
  const q = 1 - (n.lr * lam) / 2;
  if (q <= 0) return Infinity;
  const v = (n.delta * noiseScaleAt(n, lam)) / (lam * q);
  const a = 1 - n.lr * lam;
  return ((n.lr * g.c * g.c * lam * lam * v * v) / 4) * ((1 + a * a) / (1 - a * a));
}

/** 'adiabatic+' density on a fine grid: P = G/D, G = exp ∫ drift/D (drift, D in time units). */
function adiabaticPlusGrid(g: ValleyGeometry, n: NoiseModel, points: number): { xs: Float64Array; p: Float64Array } {
  const xs = new Float64Array(points);
  const p = new Float64Array(points);
  const h = (g.xHi - g.xLo) / (points - 1);
  let logG = 0;
  let prev = 0;
  for (let i = 0; i < points; i++) {
    const x = g.xLo + i * h;
    xs[i] = x;
    const lam = lambdaAt(g, x);
    const q = 1 - (n.lr * lam) / 2;
    if (q <= 0) {
      p[i] = 0;
      continue;
    }
    const D = (n.delta * noiseScaleAt(n, lam)) / n.kappa + driftFluctuationDiffusion(g, n, x);
    const ratio = (-g.c * n.delta * noiseScaleAt(n, lam)) / (2 * q) / D;
    if (i > 0) logG += 0.5 * (ratio + prev) * h;
    prev = ratio;
    p[i] = Math.exp(logG) / D;
  }
  return { xs, p };
}

/** Bin probabilities (nx bins over [xLo, xHi]) of a density model, by Simpson's rule in each bin. */
export function binnedDensity(model: DensityModel, g: ValleyGeometry, n: NoiseModel, nx: number): Float64Array {
  const out = new Float64Array(nx);
  const w = (g.xHi - g.xLo) / nx;
  const sub = 8;
  const grid = model === 'adiabatic+' ? adiabaticPlusGrid(g, n, nx * sub + 1) : null;
  let total = 0;
  for (let b = 0; b < nx; b++) {
    let s = 0;
    for (let k = 0; k <= sub; k++) {
      const x = g.xLo + w * (b + k / sub);
      const wt = k === 0 || k === sub ? 1 : k % 2 === 1 ? 4 : 2;
      s += wt * (grid ? grid.p[b * sub + k] : densityAt(model as Exclude<DensityModel, 'adiabatic+'>, g, n, x));
    }
    out[b] = (s * w) / (3 * sub);
    total += out[b];
  }
  for (let b = 0; b < nx; b++) out[b] /= total;
  return out;
}

/** Mean of x under a density model (by the binned density on a fine grid). */
export function meanX(model: DensityModel, g: ValleyGeometry, n: NoiseModel): number {
  const nx = 400;
  const p = binnedDensity(model, g, n, nx);
  const w = (g.xHi - g.xLo) / nx;
  let m = 0;
  for (let b = 0; b < nx; b++) m += p[b] * (g.xLo + (b + 0.5) * w);
  return m;
}

/** Var(u | x), u = y·√(λ/Δ), under the adiabatic discrete-time theory. */
export function conditionalUVariance(n: NoiseModel, lam: number): number {
  return noiseScaleAt(n, lam) / (1 - (n.lr * lam) / 2);
}

/** Mean drift along x per step at x (adiabatic): −α·c·Δ·s/(2(1 − αλ/2)). */
export function driftPerStep(g: ValleyGeometry, n: NoiseModel, x: number): number {
  const lam = lambdaAt(g, x);
  return (-n.lr * g.c * n.delta * noiseScaleAt(n, lam)) / (2 * (1 - (n.lr * lam) / 2));
}

/** Exact stationary variances of the harmonic well (c = 0, kx > 0, constant noise). */
export function harmonicVariances(lr: number, delta: number, kappa: number, lam0: number, kx: number): { varX: number; varY: number; continuousX: number; continuousY: number } {
  return {
    varY: delta / (lam0 * (1 - (lr * lam0) / 2)),
    varX: delta / kappa / (kx * (1 - (lr * kx) / 2)),
    continuousY: delta / lam0,
    continuousX: delta / (kappa * kx),
  };
}

/** Complementary error function (the Chebyshev-fitted erfcc of Numerical Recipes; relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

const SQRT1_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Per-step probability that a stationary AR(1) y_t = a·y_{t−1} + √(v(1−a²))·ξ newly exceeds
 * |y| > ye: P(|Y_t| > ye, |Y_{t−1}| ≤ ye), by Simpson quadrature over Y_{t−1} = √v·z, |z| ≤ ye/√v.
 */
export function newExceedanceProbability(a: number, v: number, ye: number): number {
  if (!(v > 0)) return 0;
  const zmax = ye / Math.sqrt(v);
  if (zmax > 40) return 0;
  const sc = Math.sqrt(1 - a * a); // conditional std of Y_t/√v given z
  if (sc === 0) return 0;
  const n = 400;
  let s = 0;
  for (let k = 0; k <= n; k++) {
    const z = -zmax + (2 * zmax * k) / n;
    const wt = k === 0 || k === n ? 1 : k % 2 === 1 ? 4 : 2;
    const phi = SQRT1_2PI * Math.exp(-0.5 * z * z);
    // P(|a z + sc ξ| > zmax)
    const tail = 0.5 * erfc((zmax - a * z) / (sc * Math.SQRT2)) + 0.5 * erfc((zmax + a * z) / (sc * Math.SQRT2));
    s += wt * phi * tail;
  }
  return (s * (2 * zmax)) / (3 * n);
}

/** Escape hazard per step at x (section 4 of the header); 1 where the y-dynamics is unstable (αλ ≥ 2). */
export function escapeHazard(g: ValleyGeometry, n: NoiseModel, escLoss: number, x: number): number {
  const lam = lambdaAt(g, x);
  const q = 1 - (n.lr * lam) / 2;
  if (q <= 0) return 1;
  const v = (n.delta * noiseScaleAt(n, lam)) / (lam * q);
  return newExceedanceProbability(1 - n.lr * lam, v, Math.sqrt((2 * escLoss) / lam));
}

/**
 * Predicted fraction escaped within `steps` steps, walkers starting from the (adiabatic+)
 * stationary state, in two limits of the x-motion during the run: frozen (each walker keeps its x:
 * 1 − ⟨e^{−h(x)T}⟩) and well mixed (every walker samples P(x): 1 − e^{−⟨h⟩T}). When h varies
 * strongly with x (noise ∝ λ), the truth lies between the two; Jensen: frozen ≤ mixed.
 */
export function predictedEscapedFraction(g: ValleyGeometry, n: NoiseModel, escLoss: number, steps: number, nx = 200): { frozen: number; mixed: number } {
  const p = binnedDensity('adiabatic+', g, n, nx);
  const w = (g.xHi - g.xLo) / nx;
  let survive = 0;
  let meanH = 0;
  for (let b = 0; b < nx; b++) {
    const h = escapeHazard(g, n, escLoss, g.xLo + (b + 0.5) * w);
    survive += p[b] * Math.exp(-h * steps);
    meanH += p[b] * h;
  }
  return { frozen: 1 - survive, mixed: 1 - Math.exp(-meanH * steps) };
}

/**
 * Measured effective potential along the valley from a histogram of x: since
 * P(x) = ∫dy e^{−L_eff/Δ} = e^{−L_SGD(x)/Δ}·√(2πΔ/λ(x)), L_SGD(x) = −Δ·ln(P(x)·√λ(x)) + const.
 * Returned relative to its value at the first finite bin; null where the bin is empty.
 */
export function measuredLSgd(g: ValleyGeometry, delta: number, probs: ArrayLike<number>): (number | null)[] {
  const nx = probs.length;
  const w = (g.xHi - g.xLo) / nx;
  const raw = Array.from(probs, (p, b) => (p > 0 ? -delta * Math.log((p / w) * Math.sqrt(lambdaAt(g, g.xLo + (b + 0.5) * w))) : null));
  const ref = raw.find((v) => v !== null) ?? 0;
  return raw.map((v) => (v === null ? null : v - ref!));
}
