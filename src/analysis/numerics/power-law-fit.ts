/**
 * Inverse variance–flatness relation σ_i² ∝ F_i^(−ψ) (Feng & Tu 2021: ψ ≈ 4 on MNIST;
 * an equilibrium system would give σ_i² ∝ F_i², i.e. ψ = −2).
 *
 * Ordinary least squares of y_i = ln σ_i² on x_i = ln F_i over the chosen indices:
 *   y ≈ c + slope·x,  ψ = −slope,  SE(ψ) = SE(slope) = sqrt(SSE/(n − 2) / Σ(x − x̄)²),
 *   σ_i² ≈ e^c · F_i^(−ψ);  r = Pearson correlation of (x, y) (negative for ψ > 0).
 * Natural logs; ψ and r do not depend on the base, the intercept c does.
 *
 * Default range: indices 1..end — index 0 is PC1, the drift, which is not diffusion and sits
 * off the relation. Within the range, entries with F null/non-finite/≤ 0 (a side of the
 * flatness search not reached) or σ² non-finite/≤ 0 are skipped and listed in `skipped`.
 */
import { linearRegression } from './stats.ts';

export interface PowerLawFitOptions {
  /** First index used (default 1: skip the drift direction). */
  from?: number;
  /** One past the last index used (default: the length of the inputs). */
  to?: number;
}

export interface PowerLawFit {
  /** Exponent in σ² ∝ F^(−ψ). */
  psi: number;
  /** Standard error of ψ (NaN if n = 2). */
  psiSE: number;
  /** Intercept c of ln σ² = c − ψ·ln F (natural log), and its standard error. */
  intercept: number;
  interceptSE: number;
  /** Pearson r of (ln F, ln σ²). */
  r: number;
  /** Points used. */
  n: number;
  /** Indices used and indices in [from, to) skipped for a missing/non-positive F or σ². */
  used: number[];
  skipped: number[];
}

export function powerLawFit(
  variances: ArrayLike<number>,
  flatness: ArrayLike<number | null>,
  options: PowerLawFitOptions = {},
): PowerLawFit {
  const name = 'powerLawFit';
  if (variances.length !== flatness.length) {
    throw new Error(`${name}: variances and flatness must have the same length, got ${variances.length} and ${flatness.length}`);
  }
  const len = variances.length;
  const from = options.from ?? 1;
  const to = options.to ?? len;
  if (!(Number.isInteger(to) && to >= 0 && to <= len)) throw new Error(`${name}: to must be an integer in [0, ${len}], got ${to}`);
  if (!(Number.isInteger(from) && from >= 0 && from < to)) throw new Error(`${name}: from must be an integer in [0, to = ${to}), got ${from}`);

  const x: number[] = [];
  const y: number[] = [];
  const used: number[] = [];
  const skipped: number[] = [];
  for (let i = from; i < to; i++) {
    const F = flatness[i];
    const v = variances[i];
    if (F === null || !(Number.isFinite(F) && F > 0) || !(Number.isFinite(v) && v > 0)) {
      skipped.push(i);
      continue;
    }
    x.push(Math.log(F));
    y.push(Math.log(v));
    used.push(i);
  }
  if (used.length < 2) {
    throw new Error(`${name}: need at least 2 usable points in [${from}, ${to}), got ${used.length} (skipped ${skipped.length})`);
  }
  const fit = linearRegression(x, y);
  return {
    psi: -fit.slope,
    psiSE: fit.slopeSE,
    intercept: fit.intercept,
    interceptSE: fit.interceptSE,
    r: fit.r,
    n: fit.n,
    used,
    skipped,
  };
}
