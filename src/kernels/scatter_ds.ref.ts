/**
 * CPU reference (the spec) for shaders/scatter_ds.wgsl: the scatter about a given float64 mean,
 * in float64, and the exact results the arithmetic probe must return.
 */

/** S = Σ_{t in rows} (x_t − μ)(x_t − μ)ᵀ (P, P) row-major, float64, about the given μ. */
export function centredScatterRef(x: ArrayLike<number>, P: number, mu: ArrayLike<number>, row0: number, rows: number): Float64Array {
  const s = new Float64Array(P * P);
  const d = new Float64Array(P);
  for (let t = row0; t < row0 + rows; t++) {
    for (let p = 0; p < P; p++) d[p] = x[t * P + p] - mu[p];
    for (let i = 0; i < P; i++) {
      const di = d[i];
      if (di === 0) continue;
      const o = i * P;
      for (let j = 0; j < P; j++) s[o + j] += di * d[j];
    }
  }
  return s;
}

/**
 * What the probe entry returns for float32 a, b when the arithmetic is IEEE: p = fl(a·b), the
 * exact error a·b − p, s = fl(a + b), the exact error a + b − s (products and sums of two float32
 * values are exact in float64, and both errors are float32 numbers).
 */
export function probeRef(a: number, b: number): [number, number, number, number] {
  const p = Math.fround(a * b);
  const s = Math.fround(a + b);
  return [p, a * b - p, s, a + b - s];
}
