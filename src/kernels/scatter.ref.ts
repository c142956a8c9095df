/** CPU reference (the spec) for shaders/scatter.wgsl: two-pass float64 statistics of row vectors. */

/** Column means, centred sums of squares and LS slopes in t of rows row0..row0+R−1 of x (·, P). */
export function columnStatsRef(x: ArrayLike<number>, P: number, row0: number, R: number): { mean: Float64Array; ss: Float64Array; slope: Float64Array } {
  const mean = new Float64Array(P);
  for (let t = 0; t < R; t++) for (let p = 0; p < P; p++) mean[p] += x[(row0 + t) * P + p];
  for (let p = 0; p < P; p++) mean[p] /= R;
  const ss = new Float64Array(P);
  const slope = new Float64Array(P);
  const tbar = (R - 1) / 2;
  const stt = (R * (R * R - 1)) / 12;
  for (let t = 0; t < R; t++) {
    for (let p = 0; p < P; p++) {
      const e = x[(row0 + t) * P + p] - mean[p];
      ss[p] += e * e;
      slope[p] += (t - tbar) * e;
    }
  }
  for (let p = 0; p < P; p++) slope[p] = R > 1 ? slope[p] / stt : 0;
  return { mean, ss, slope };
}

/**
 * Two-pass scatter S = Σ_t (x_t − μ)(x_t − μ)ᵀ (P, P) row-major, in float64; with `detrend` the
 * per-column LS line in t is removed instead of the mean.
 */
export function scatterRef(x: ArrayLike<number>, T: number, P: number, detrend = false): { scatter: Float64Array; mean: Float64Array } {
  const { mean, slope } = columnStatsRef(x, P, 0, T);
  const tbar = (T - 1) / 2;
  const d = new Float64Array(T * P);
  for (let t = 0; t < T; t++) {
    for (let p = 0; p < P; p++) d[t * P + p] = x[t * P + p] - mean[p] - (detrend ? slope[p] * (t - tbar) : 0);
  }
  const s = new Float64Array(P * P);
  for (let t = 0; t < T; t++) {
    const o = t * P;
    for (let i = 0; i < P; i++) {
      const di = d[o + i];
      if (di === 0) continue;
      for (let j = 0; j < P; j++) s[i * P + j] += di * d[o + j];
    }
  }
  return { scatter: s, mean };
}
