/**
 * Summary of a PCA spectrum of a weight trajectory: how many directions carry the motion.
 *
 * Given variances σ_1² ≥ σ_2² ≥ … (all of them, or the top k plus the total trace V):
 *   ratio_i = σ_i² / V,   cumulative_d = Σ_{i≤d} σ_i² / V,
 *   D_f = min{ d : cumulative_d ≥ f }   for f = 0.90 (D90) and 0.99 (D99).
 * The denominator is always the TOTAL variance V = trace of the covariance, never the sum of
 * the supplied top-k values; when the top k do not reach f, D_f is null ("more than k").
 * A relative slack of 1e-12 on the comparison keeps exact ties (e.g. ten equal variances,
 * D90 = 9) from being lost to the rounding of the cumulative sum.
 *
 * Variants (each a separately labelled VarianceProfile):
 *  - 'all'          the spectrum as given (Feng & Tu: D99 ≈ 40 of 2,500).
 *  - 'pc1-removed'  PC1 is the slow drift of w* (aligned with the mean weight), not
 *                   diffusion; drop it: components 2, 3, … over V − σ_1². D counts them.
 *  - 'detrended'    spectrum of the PCA of the window after detrendLinear (detrend.ts), i.e.
 *                   the per-coordinate least-squares line in t removed before the PCA.
 * Alignment: |cos(PC1, w*)| with the mean weight and |cos(PC1, b)| with the drift velocity b
 * (detrendLinear's slope); |cos| because a principal direction has no sign.
 *
 * Round-off never ends the analysis: negative variances (a PSD spectrum a hair below zero) are
 * clamped to 0, and a total smaller than the sum of the supplied variances (round-off in either)
 * is raised to that sum — each with a warning in the profile's `warnings` when it exceeds what
 * float64 arithmetic explains (1e-6·σ_1² for a negative value, 1e-9 relative for the total), so a
 * spectrum computed in too little precision is visible rather than fatal. A spectrum that is not
 * in decreasing order beyond 1e-9·σ_1² is an error (the index i must keep meaning "i-th principal
 * direction", so it is not silently re-sorted): that is a caller's bug, not round-off.
 */
import { absCos } from './dense.ts';

export { detrendLinear, type Detrended } from './detrend.ts';

export type VarianceVariant = 'all' | 'pc1-removed' | 'detrended';

export interface VarianceProfile {
  variant: VarianceVariant;
  /** Human-readable description of what was counted over what. */
  label: string;
  /** 1-based PCA index of variances[0] (2 for 'pc1-removed'). */
  firstComponent: number;
  /** The denominator V of every ratio. */
  total: number;
  variances: Float64Array;
  ratio: Float64Array;
  cumulative: Float64Array;
  /** Number of components (counted from firstComponent) reaching 90% / 99% of total; null if
   * the supplied components do not reach it. */
  d90: number | null;
  d99: number | null;
  /** total − Σ variances: variance in components that were not supplied (≥ 0). */
  unresolved: number;
  /** What was clamped, and by how much (empty when nothing was). */
  warnings: string[];
}

const LABELS: Record<VarianceVariant, string> = {
  all: 'all components; fractions of the total variance (trace)',
  'pc1-removed': 'PC1 (drift) left out; components 2, 3, … as fractions of total − σ1²',
  detrended: 'PCA of the linearly detrended window (per-coordinate LS line in t removed); fractions of its trace',
};

function cleanSpectrum(name: string, values: ArrayLike<number>, warnings: string[]): Float64Array {
  if (values.length < 1) throw new Error(`${name}: eigenvalues must have at least 1 entry`);
  const v = Float64Array.from(values);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new Error(`${name}: eigenvalues[${i}] must be finite, got ${v[i]}`);
  }
  const top = Math.max(0, v[0]);
  let negatives = 0;
  let worst = 0;
  for (let i = 0; i < v.length; i++) {
    if (i > 0 && v[i] > v[i - 1] + 1e-9 * top + 1e-300) {
      throw new Error(`${name}: eigenvalues must be in decreasing order; eigenvalues[${i}] = ${v[i]} > eigenvalues[${i - 1}] = ${v[i - 1]}`);
    }
    if (v[i] < 0) {
      if (v[i] < -1e-6 * top) negatives++;
      worst = Math.min(worst, v[i]);
      v[i] = 0;
    }
  }
  if (negatives > 0) warnings.push(`${negatives} negative variances beyond round-off (down to ${worst.toPrecision(3)} = ${(worst / top).toExponential(2)}·σ1²) were clamped to 0: the spectrum's tail is below its numerical precision`);
  return v;
}

function firstReaching(cumulative: Float64Array, f: number): number | null {
  for (let i = 0; i < cumulative.length; i++) if (cumulative[i] >= f * (1 - 1e-12)) return i + 1;
  return null;
}

/**
 * Profile of one spectrum. `total` defaults to Σ variances (meaning: all components given);
 * if supplied it must be >= Σ variances up to a relative 1e-6.
 */
export function varianceProfile(
  variances: ArrayLike<number>,
  total?: number,
  variant: VarianceVariant = 'all',
  firstComponent = 1,
): VarianceProfile {
  const name = 'varianceProfile';
  const warnings: string[] = [];
  const v = cleanSpectrum(name, variances, warnings);
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i];
  let V = total ?? sum;
  if (!(Number.isFinite(V) && V > 0)) throw new Error(`${name}: total must be finite and > 0, got ${V}`);
  if (V < sum) {
    if (V < sum * (1 - 1e-9)) warnings.push(`total = ${V} is smaller than the sum of the supplied variances ${sum} (by ${((sum - V) / sum).toExponential(2)} relative): round-off in the spectrum or the trace; the total was raised to the sum`);
    V = sum;
  }
  const ratio = new Float64Array(v.length);
  const cumulative = new Float64Array(v.length);
  let acc = 0;
  for (let i = 0; i < v.length; i++) {
    ratio[i] = v[i] / V;
    acc += v[i];
    cumulative[i] = acc / V;
  }
  return {
    variant,
    label: LABELS[variant],
    firstComponent,
    total: V,
    variances: v,
    ratio,
    cumulative,
    d90: firstReaching(cumulative, 0.9),
    d99: firstReaching(cumulative, 0.99),
    unresolved: V - sum,
    warnings,
  };
}

export interface PcaSummaryInput {
  /** σ_i² of the window, decreasing (all, or the top k with `total`). */
  eigenvalues: ArrayLike<number>;
  /** Trace of the covariance; default Σ eigenvalues. */
  total?: number;
  /** PC1 direction (P entries) for the alignments. */
  pc1?: ArrayLike<number>;
  /** Mean weight w* of the window. */
  meanWeight?: ArrayLike<number>;
  /** Drift direction, e.g. detrendLinear(...).slope. */
  drift?: ArrayLike<number>;
  /** Spectrum of the detrended window's PCA. */
  detrended?: { eigenvalues: ArrayLike<number>; total?: number };
}

export interface PcaSummary {
  all: VarianceProfile;
  /** null when only one component was supplied and total − σ1² leaves nothing to count. */
  pc1Removed: VarianceProfile | null;
  detrended: VarianceProfile | null;
  /** |cos(PC1, w*)| and |cos(PC1, drift)|, null when the vectors were not supplied. */
  pc1VsMeanWeight: number | null;
  pc1VsDrift: number | null;
}

export function summarizePca(input: PcaSummaryInput): PcaSummary {
  const all = varianceProfile(input.eigenvalues, input.total, 'all', 1);
  const rest = all.total - all.variances[0];
  const pc1Removed =
    all.variances.length > 1 && rest > 0 ? varianceProfile(all.variances.subarray(1), rest, 'pc1-removed', 2) : null;
  const detrended = input.detrended
    ? varianceProfile(input.detrended.eigenvalues, input.detrended.total, 'detrended', 1)
    : null;
  const align = (v: ArrayLike<number> | undefined, what: string): number | null => {
    if (!v) return null;
    if (!input.pc1) throw new Error(`summarizePca: pc1 is required to compute the alignment with ${what}`);
    return absCos(input.pc1, v);
  };
  return {
    all,
    pc1Removed,
    detrended,
    pc1VsMeanWeight: align(input.meanWeight, 'meanWeight'),
    pc1VsDrift: align(input.drift, 'drift'),
  };
}
