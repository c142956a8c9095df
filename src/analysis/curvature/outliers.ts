/**
 * Outliers above the bulk of a Hessian spectrum (Sagun et al.; Papyan: a bulk near zero plus
 * about C outliers from the class structure).
 *
 * Definition used here (the "largest gap" rule, on the converged top-k eigenvalues λ_1 ≥ … ≥ λ_k):
 *   r_i = λ_i / λ_{i+1} for i = 1 … k − minBulk (only where λ_{i+1} > 0),
 *   i* = argmax r_i;  if r_{i*} ≥ minRatio: outliers = λ_1 … λ_{i*}, bulk edge = λ_{i*+1};
 *   otherwise no outliers are claimed (count 0, bulk edge = λ_1).
 * So the bulk edge is the largest eigenvalue below the widest multiplicative gap at the top of
 * the spectrum; at least `minBulk` of the top k stay below it, so k must reach into the bulk
 * (k ≳ 2C). The SLQ density gives an independent count above that edge (slq.ts countAbove).
 */
export interface OutlierSplit {
  count: number;
  /** λ_{i*+1}: the top of the bulk (largest eigenvalue not counted as an outlier). */
  bulkEdge: number;
  /** λ_{i*}/λ_{i*+1}: the gap that separates them. */
  gapRatio: number;
  rule: string;
}

export function splitOutliers(values: ArrayLike<number>, o: { minRatio?: number; minBulk?: number } = {}): OutlierSplit {
  const minRatio = o.minRatio ?? 1.5;
  const minBulk = o.minBulk ?? 3;
  const k = values.length;
  const rule = `largest ratio λ_i/λ_(i+1) among the top ${k} (at least ${minBulk} left below it), counted if ≥ ${minRatio}`;
  let best = -1;
  let bestRatio = 0;
  for (let i = 0; i + 1 < k && i < k - minBulk; i++) {
    const lo = values[i + 1];
    if (!(lo > 0) || !(values[i] > 0)) continue;
    const r = values[i] / lo;
    if (r > bestRatio) {
      bestRatio = r;
      best = i;
    }
  }
  if (best < 0 || bestRatio < minRatio) return { count: 0, bulkEdge: k ? values[0] : NaN, gapRatio: bestRatio, rule };
  return { count: best + 1, bulkEdge: values[best + 1], gapRatio: bestRatio, rule };
}
