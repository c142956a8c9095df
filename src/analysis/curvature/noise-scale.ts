/**
 * The gradient noise scales of McCandlish, Kaplan, Amodei et al. (2018; ../shared/science.md §8)
 * at fixed weights, from the true gradient G, K minibatch gradients g_j and Hessian–vector products:
 *
 *   B_simple = tr Σ / |G|²            B_noise = tr(HΣ) / (Gᵀ H G)
 *
 * Σ is the per-sample gradient covariance over the M training samples (the unbiased sample
 * covariance, 1/(M − 1)), G = ∇L over all of them. A minibatch of B drawn as training draws it has
 *   E[d_j d_jᵀ] = f·Σ/B,   d_j = g_j − G,   f = 1 − B/M (a uniform B-subset) or 1 (with replacement),
 * so with c = B/f
 *   tr Σ    ≈ c·(1/K)·Σ_j |d_j|²          tr(HΣ) ≈ c·(1/K)·Σ_j d_jᵀ H d_j
 * both unbiased; |G|² and GᵀHG are exact (G over the whole set). The standard errors are c·sd/√K of
 * the per-minibatch terms; B_noise's is tr(HΣ)'s divided by GᵀHG. For a block S of parameters (one
 * layer) every vector is restricted to S and H is the block H_SS: the layer's own noise scales.
 */
import { meanAndError } from './minibatch.ts';

export interface NoiseScaleInput {
  /** G, H·G (dim). */
  G: ArrayLike<number>;
  HG: ArrayLike<number>;
  /** d_j = g_j − G and H·d_j, row-major (K, dim). */
  D: ArrayLike<number>;
  HD: ArrayLike<number>;
  dim: number;
  batchSize: number;
  /** f: 1 − B/M for uniform B-subsets ('shuffle'), 1 with replacement. */
  sampling: number;
}

export interface NoiseScale {
  g2: number;
  gHg: number;
  trSigma: number;
  trSigmaSe: number;
  trHSigma: number;
  trHSigmaSe: number;
  bSimple: number;
  bNoise: number;
  bNoiseSe: number;
  /** |d_j|² and d_jᵀ H d_j per minibatch (the run folder's raw numbers). */
  d2: Float64Array;
  dHd: Float64Array;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>, off: number, n: number): number => {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[off + i] * b[off + i];
  return s;
};

export function noiseScale(o: NoiseScaleInput): NoiseScale {
  const { dim: n, batchSize: B, sampling: f } = o;
  const K = o.D.length / n;
  if (!(Number.isInteger(K) && K >= 1) || o.HD.length !== o.D.length) throw new Error(`noiseScale: D and HD must hold K·dim values (dim ${n}), got ${o.D.length} and ${o.HD.length}`);
  if (o.G.length !== n || o.HG.length !== n) throw new Error(`noiseScale: G and HG must hold dim = ${n} values`);
  const c = f > 0 ? B / f : NaN;
  const d2 = new Float64Array(K);
  const dHd = new Float64Array(K);
  for (let j = 0; j < K; j++) {
    d2[j] = dot(o.D, o.D, j * n, n);
    dHd[j] = dot(o.D, o.HD, j * n, n);
  }
  const s = meanAndError(d2);
  const h = meanAndError(dHd);
  const g2 = dot(o.G, o.G, 0, n);
  const gHg = dot(o.G, o.HG, 0, n);
  const trSigma = c * s.mean;
  const trHSigma = c * h.mean;
  const ratio = (a: number, b: number): number => (b > 0 ? a / b : NaN);
  return {
    g2,
    gHg,
    trSigma,
    trSigmaSe: c * s.se,
    trHSigma,
    trHSigmaSe: c * h.se,
    bSimple: ratio(trSigma, g2),
    bNoise: ratio(trHSigma, gHg),
    bNoiseSe: ratio(c * h.se, gHg),
    d2,
    dHd,
  };
}
