/**
 * Per-direction SGD noise temperature (Feng & Tu 2021):
 *   T_i = (α/2) · Var_μ[ (∇L_μ − ∇L)·p_i ],
 * L_μ the mean loss over a minibatch μ of B samples drawn WITHOUT replacement from the M
 * training samples, so ∇L_μ·p_i is the mean of B of the M per-sample projections
 * s_n = ∇l_n·p_i, and its variance is the finite-population one:
 *   Var_μ = (v/B)·(M − B)/(M − 1) = S²·(1/B − 1/M),
 *   v = (1/M) Σ_n (s_n − s̄)² (population variance),  S² = M·v/(M − 1).
 * B = M gives 0 (every batch is the full set); B = 1 gives v.
 *
 * If only N < M samples' projections are available (a simple random sample without
 * replacement), their (N − 1)-divisor variance is an unbiased estimate of S², and the same
 * formula S²·(1/B − 1/M) applies; with N = M it is exact. v is then reported as S²·(M − 1)/M.
 *
 * temperatureFromMinibatches is the definition itself, from explicit minibatch gradient
 * projections g_μ = ∇L_μ·p_i, for cross-checks (and for the GPU path that only has batch
 * gradients): Var = mean_μ (g_μ − ∇L·p_i)² when ∇L·p_i is known, else the (n − 1)-divisor
 * sample variance of the g_μ.
 *
 * Layouts: projections are row-major (rows = samples or minibatches, columns = directions i).
 */
import { median, spearman } from './stats.ts';

export interface Temperatures {
  /** T_i = (lr/2)·minibatchVariance_i. */
  T: Float64Array;
  /** Var_μ[(∇L_μ − ∇L)·p_i]. */
  minibatchVariance: Float64Array;
  /** v_i, the population variance of the per-sample projections (estimated if N < M);
   * null for the minibatch estimator, which does not see single samples. */
  perSampleVariance: Float64Array | null;
  /** Mean projection: ∇L·p_i (sample mean if estimated). */
  meanGradient: Float64Array;
  lr: number;
}

function checkMatrix(name: string, what: string, s: ArrayLike<number>, d: number, minRows: number): number {
  if (!(Number.isInteger(d) && d >= 1)) throw new Error(`${name}: d (number of directions) must be an integer >= 1, got ${d}`);
  if (s.length % d !== 0) throw new Error(`${name}: ${what} length ${s.length} is not a multiple of d = ${d}`);
  const rows = s.length / d;
  if (rows < minRows) throw new Error(`${name}: ${what} needs at least ${minRows} rows, got ${rows}`);
  for (let i = 0; i < s.length; i++) {
    if (!Number.isFinite(s[i])) throw new Error(`${name}: ${what}[${i}] must be finite, got ${s[i]}`);
  }
  return rows;
}

function checkLr(name: string, lr: number): void {
  if (!(lr > 0 && Number.isFinite(lr))) throw new Error(`${name}: lr must be finite and > 0, got ${lr}`);
}

/** Column means and centred sums of squares of a row-major rows×d matrix (two-pass). */
function columnMoments(s: ArrayLike<number>, rows: number, d: number, center?: ArrayLike<number>): { mean: Float64Array; ss: Float64Array } {
  const mean = new Float64Array(d);
  for (let r = 0; r < rows; r++) for (let i = 0; i < d; i++) mean[i] += s[r * d + i];
  for (let i = 0; i < d; i++) mean[i] /= rows;
  const c = center ?? mean;
  const ss = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < d; i++) {
      const e = s[r * d + i] - c[i];
      ss[i] += e * e;
    }
  }
  return { mean, ss };
}

export interface PerSampleTemperatureOptions {
  /** Learning rate α. */
  lr: number;
  /** Minibatch size B, 1 <= B <= M. */
  batchSize: number;
  /** Training-set size M (default: the number of rows, i.e. all samples given). */
  populationSize?: number;
}

/** From per-sample projections s[n·d + i] = ∇l_n·p_i (all M samples, or a random N of them). */
export function temperatureFromPerSample(
  s: ArrayLike<number>,
  d: number,
  options: PerSampleTemperatureOptions,
): Temperatures {
  const name = 'temperatureFromPerSample';
  const N = checkMatrix(name, 's', s, d, 2);
  const M = options.populationSize ?? N;
  const B = options.batchSize;
  checkLr(name, options.lr);
  if (!(Number.isInteger(M) && M >= N)) throw new Error(`${name}: populationSize must be an integer >= the ${N} samples given, got ${M}`);
  if (!(Number.isInteger(B) && B >= 1 && B <= M)) throw new Error(`${name}: batchSize must be an integer in [1, M = ${M}], got ${B}`);
  const { mean, ss } = columnMoments(s, N, d);
  const factor = 1 / B - 1 / M;
  const T = new Float64Array(d);
  const minibatchVariance = new Float64Array(d);
  const perSampleVariance = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const S2 = ss[i] / (N - 1);
    minibatchVariance[i] = S2 * factor;
    perSampleVariance[i] = (S2 * (M - 1)) / M;
    T[i] = 0.5 * options.lr * minibatchVariance[i];
  }
  return { T, minibatchVariance, perSampleVariance, meanGradient: mean, lr: options.lr };
}

export interface MinibatchTemperatureOptions {
  lr: number;
  /** ∇L·p_i (d entries) if known; otherwise the mean of the minibatch projections is used. */
  fullGradient?: ArrayLike<number>;
}

/** From minibatch projections g[μ·d + i] = ∇L_μ·p_i (the direct definition). */
export function temperatureFromMinibatches(
  g: ArrayLike<number>,
  d: number,
  options: MinibatchTemperatureOptions,
): Temperatures {
  const name = 'temperatureFromMinibatches';
  checkLr(name, options.lr);
  const full = options.fullGradient;
  const rows = checkMatrix(name, 'g', g, d, full ? 1 : 2);
  if (full) checkMatrix(name, 'fullGradient', full, d, 1);
  if (full && full.length !== d) throw new Error(`${name}: fullGradient must have d = ${d} entries, got ${full.length}`);
  const { mean, ss } = columnMoments(g, rows, d, full);
  const divisor = full ? rows : rows - 1;
  const T = new Float64Array(d);
  const minibatchVariance = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    minibatchVariance[i] = ss[i] / divisor;
    T[i] = 0.5 * options.lr * minibatchVariance[i];
  }
  return { T, minibatchVariance, perSampleVariance: null, meanGradient: full ? Float64Array.from(full) : mean, lr: options.lr };
}

export interface TemperatureAnisotropy {
  max: number;
  min: number;
  median: number;
  /** max T / min T (Infinity if min T = 0). */
  maxOverMin: number;
  /** T_1 / median T, T_1 the temperature along p_1 (index 0). */
  firstOverMedian: number;
  /** Spearman ρ of T_i with F_i over directions with a finite F (null if no F or < 3 pairs).
   * NaN if T or F is constant over those pairs. The sharp-is-hot picture predicts ρ < 0. */
  spearmanWithFlatness: number | null;
  /** Directions entering the Spearman correlation. */
  spearmanN: number;
}

/** Anisotropy of the temperatures; `flatness` (F_i, null where not measured) optional. */
export function temperatureAnisotropy(T: ArrayLike<number>, flatness?: ArrayLike<number | null>): TemperatureAnisotropy {
  const name = 'temperatureAnisotropy';
  if (T.length < 1) throw new Error(`${name}: T must have at least 1 entry`);
  for (let i = 0; i < T.length; i++) {
    if (!(Number.isFinite(T[i]) && T[i] >= 0)) throw new Error(`${name}: T[${i}] must be finite and >= 0, got ${T[i]}`);
  }
  let max = -Infinity;
  let min = Infinity;
  for (let i = 0; i < T.length; i++) {
    max = Math.max(max, T[i]);
    min = Math.min(min, T[i]);
  }
  const med = median(T);
  let spearmanWithFlatness: number | null = null;
  let spearmanN = 0;
  if (flatness) {
    if (flatness.length !== T.length) throw new Error(`${name}: flatness must have T.length = ${T.length} entries, got ${flatness.length}`);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < T.length; i++) {
      const F = flatness[i];
      if (F !== null && Number.isFinite(F)) {
        a.push(T[i]);
        b.push(F);
      }
    }
    spearmanN = a.length;
    if (a.length >= 3) spearmanWithFlatness = spearman(a, b);
  }
  return {
    max,
    min,
    median: med,
    maxOverMin: min > 0 ? max / min : Infinity,
    firstOverMedian: med > 0 ? T[0] / med : Infinity,
    spearmanWithFlatness,
    spearmanN,
  };
}
