/**
 * Stochastic Lanczos quadrature (SLQ; Ubaru, Chen & Saad 2017; Ghorbani, Krishnan & Xiao 2019)
 * for the spectral density of a symmetric n×n operator H, and Hutchinson's trace estimator.
 *
 * Spectral density φ(t) = (1/n) Σ_i δ(t − λ_i). For a unit probe q, qᵀ f(H) q = Σ_i (qᵀv_i)² f(λ_i),
 * a Stieltjes integral that m Lanczos steps from q approximate by Gauss quadrature exactly for
 * polynomials of degree ≤ 2m − 1: nodes θ_k = eigenvalues of T_m, weights τ_k = (first component
 * of T_m's k-th eigenvector)², Σ_k τ_k = 1. With q = z/√n, z Rademacher (±1), E[(qᵀv_i)²] = 1/n,
 * so averaging over probes:
 *   φ(t) ≈ (1/R) Σ_probes Σ_k τ_k · g_σ(t − θ_k),   g_σ a unit Gaussian of width σ,
 * which integrates to 1 (each probe's weights sum to 1, each Gaussian to 1), and whose mean is
 * (1/R) Σ_probes Σ_k τ_k θ_k = (1/R) Σ_probes qᵀHq = (1/R) Σ zᵀHz / n — exactly the Hutchinson
 * estimate of trace(H)/n with the same probes (Gaussian broadening does not move the mean).
 *
 * Hutchinson: trace(H) = E[zᵀHz] for Rademacher z; the estimate's standard error is the sample
 * standard deviation of zᵀHz over √R (Var zᵀHz = 2 Σ_{i≠j} H_ij² for Rademacher probes).
 */
import { Rng } from '../../util/rng.ts';
import type { BlockOperator } from '../numerics/ritz.ts';
import { lanczosTridiagonal, tridiagonalEig } from './lanczos.ts';

/** Column-major n×r Rademacher (±1) probes from a seeded generator. */
export function rademacherProbes(n: number, r: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const Z = new Float64Array(n * r);
  for (let i = 0; i < Z.length; i++) Z[i] = rng.uniform() < 0.5 ? -1 : 1;
  return Z;
}

export interface SlqOptions {
  n: number;
  /** Probe vectors R (default 16). */
  probes?: number;
  /** Lanczos steps m per probe (default min(n, 80)). */
  steps?: number;
  /** Probes per operator call (default all: every step is one call on R vectors). */
  batch?: number;
  /** Full re-orthogonalisation within each probe's recurrence (default true). */
  reorthogonalize?: boolean;
  seed?: number;
  onStep?: (done: number, total: number) => void;
}

export interface SlqProbe {
  /** Gauss quadrature nodes θ_k (descending) and weights τ_k (Σ = 1). */
  nodes: Float64Array;
  weights: Float64Array;
}

export interface SlqResult {
  n: number;
  steps: number;
  probes: SlqProbe[];
  /** Mean of the spectral distribution, (1/R)Σ Σ τθ = Hutchinson estimate of trace/n with these probes. */
  mean: number;
  /** n·mean, and its standard error across probes. */
  trace: number;
  traceStdErr: number;
  /** Operator calls and columns. */
  operatorCalls: number;
  operatorColumns: number;
}

export async function slq(op: BlockOperator, o: SlqOptions): Promise<SlqResult> {
  const n = o.n;
  const R = o.probes ?? 16;
  const steps = o.steps ?? Math.min(n, 80);
  const batch = o.batch ?? R;
  if (!(Number.isInteger(R) && R >= 1)) throw new Error(`slq: probes must be an integer >= 1, got ${R}`);
  if (!(Number.isInteger(steps) && steps >= 1 && steps <= n)) throw new Error(`slq: steps must be an integer in [1, n = ${n}], got ${steps}`);
  if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`slq: batch must be an integer >= 1, got ${batch}`);
  const Z = rademacherProbes(n, R, o.seed ?? 2024);
  let calls = 0;
  let columns = 0;
  const counted: BlockOperator = async (V, b) => {
    calls++;
    columns += b;
    return op(V, b);
  };
  const probes: SlqProbe[] = [];
  let stepsDone = 0;
  const groups = Math.ceil(R / batch);
  for (let g0 = 0; g0 < R; g0 += batch) {
    const r = Math.min(batch, R - g0);
    const runs = await lanczosTridiagonal(counted, Z.subarray(g0 * n, (g0 + r) * n), r, {
      n,
      steps,
      reorthogonalize: o.reorthogonalize,
      onStep: () => o.onStep?.(++stepsDone, groups * steps),
    });
    for (const run of runs) probes.push(quadrature(run.alpha, run.beta));
  }
  const perProbe = probes.map((p) => p.nodes.reduce((s, th, k) => s + th * p.weights[k], 0));
  const mean = perProbe.reduce((a, b) => a + b, 0) / R;
  let v = 0;
  for (const x of perProbe) v += (x - mean) ** 2;
  const sd = R > 1 ? Math.sqrt(v / (R - 1)) : NaN;
  return { n, steps, probes, mean, trace: n * mean, traceStdErr: (n * sd) / Math.sqrt(R), operatorCalls: calls, operatorColumns: columns };
}

/** Gauss quadrature (nodes, weights) from a Lanczos tridiagonal. */
export function quadrature(alpha: Float64Array, beta: Float64Array): SlqProbe {
  const m = alpha.length;
  const e = tridiagonalEig(alpha, beta, m);
  const weights = new Float64Array(m);
  for (let k = 0; k < m; k++) weights[k] = e.vectors[k * m] ** 2;
  return { nodes: e.values, weights };
}

export interface DensityOptions {
  /** Gaussian width σ (absolute); default sigmaRel·(max node − min node). */
  sigma?: number;
  /** σ relative to the node range when sigma is not given (default 0.01). */
  sigmaRel?: number;
  /** Grid points (default 1000). */
  points?: number;
  /** Grid range (default [min node − 5σ, max node + 5σ]). */
  range?: [number, number];
}

export interface SpectralDensity {
  x: Float64Array;
  density: Float64Array;
  sigma: number;
  /** Trapezoid integral of the density over the grid (≈ 1 when the grid covers every node ± 5σ). */
  integral: number;
  /** Mean of the broadened density on the grid (≈ SlqResult.mean). */
  mean: number;
}

/** The Gaussian-broadened SLQ density on a uniform grid. */
export function spectralDensity(s: SlqResult, o: DensityOptions = {}): SpectralDensity {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of s.probes) for (const th of p.nodes) {
    lo = Math.min(lo, th);
    hi = Math.max(hi, th);
  }
  const spread = hi - lo || Math.abs(hi) || 1;
  const sigma = o.sigma ?? (o.sigmaRel ?? 0.01) * spread;
  if (!(sigma > 0)) throw new Error(`spectralDensity: sigma must be > 0, got ${sigma}`);
  const [a, b] = o.range ?? [lo - 5 * sigma, hi + 5 * sigma];
  const P = o.points ?? 1000;
  if (!(Number.isInteger(P) && P >= 2) || !(b > a)) throw new Error(`spectralDensity: need points >= 2 and range[1] > range[0]`);
  const x = new Float64Array(P);
  const density = new Float64Array(P);
  const h = (b - a) / (P - 1);
  for (let i = 0; i < P; i++) x[i] = a + i * h;
  const norm = 1 / (sigma * Math.sqrt(2 * Math.PI) * s.probes.length);
  for (const p of s.probes) {
    for (let k = 0; k < p.nodes.length; k++) {
      const th = p.nodes[k];
      const wk = p.weights[k] * norm;
      // Only the grid points within 8σ contribute measurably.
      const i0 = Math.max(0, Math.floor((th - 8 * sigma - a) / h));
      const i1 = Math.min(P - 1, Math.ceil((th + 8 * sigma - a) / h));
      for (let i = i0; i <= i1; i++) {
        const d = (x[i] - th) / sigma;
        density[i] += wk * Math.exp(-0.5 * d * d);
      }
    }
  }
  let integral = 0;
  let first = 0;
  for (let i = 0; i + 1 < P; i++) {
    integral += 0.5 * h * (density[i] + density[i + 1]);
    first += 0.5 * h * (x[i] * density[i] + x[i + 1] * density[i + 1]);
  }
  return { x, density, sigma, integral, mean: first / (integral || 1) };
}

/**
 * Expected number of eigenvalues above t from the quadrature: n·(1/R)Σ_probes Σ_{θ_k > t} τ_k
 * (a count of outliers as the density sees them; unbiased up to the quadrature's resolution).
 */
export function countAbove(s: SlqResult, t: number): number {
  let w = 0;
  for (const p of s.probes) for (let k = 0; k < p.nodes.length; k++) if (p.nodes[k] > t) w += p.weights[k];
  return (s.n * w) / s.probes.length;
}

export interface HutchinsonOptions {
  n: number;
  /** Rademacher probes (default 64). */
  probes?: number;
  /** Probes per operator call (default all). */
  batch?: number;
  seed?: number;
}

export interface HutchinsonResult {
  trace: number;
  /** Standard error of the estimate: sd(zᵀHz)/√R. */
  stdErr: number;
  /** zᵀHz per probe. */
  samples: Float64Array;
  /** Diagonal estimate mean_z(z ⊙ Hz) (Bekas, Kokiopoulou & Saad 2007), and its per-entry standard error. */
  diagonal: Float64Array;
  diagonalStdErr: Float64Array;
}

export async function hutchinson(op: BlockOperator, o: HutchinsonOptions): Promise<HutchinsonResult> {
  const n = o.n;
  const R = o.probes ?? 64;
  const batch = o.batch ?? R;
  if (!(Number.isInteger(R) && R >= 2)) throw new Error(`hutchinson: probes must be an integer >= 2, got ${R}`);
  const Z = rademacherProbes(n, R, o.seed ?? 7);
  const samples = new Float64Array(R);
  const sum = new Float64Array(n);
  const sumSq = new Float64Array(n);
  for (let g0 = 0; g0 < R; g0 += batch) {
    const r = Math.min(batch, R - g0);
    const V = Z.slice(g0 * n, (g0 + r) * n);
    const HV = await op(V, r);
    for (let c = 0; c < r; c++) {
      let s = 0;
      for (let t = 0; t < n; t++) {
        const d = V[c * n + t] * HV[c * n + t];
        s += d;
        sum[t] += d;
        sumSq[t] += d * d;
      }
      samples[g0 + c] = s;
    }
  }
  const mean = samples.reduce((a, b) => a + b, 0) / R;
  let v = 0;
  for (const x of samples) v += (x - mean) ** 2;
  const diagonal = new Float64Array(n);
  const diagonalStdErr = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    diagonal[t] = sum[t] / R;
    diagonalStdErr[t] = Math.sqrt(Math.max(0, sumSq[t] / R - diagonal[t] ** 2) / (R - 1));
  }
  return { trace: mean, stdErr: Math.sqrt(v / (R - 1) / R), samples, diagonal, diagonalStdErr };
}
