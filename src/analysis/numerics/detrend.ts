/**
 * Per-coordinate linear detrending of a trajectory window (row-major T×P, row t = step t).
 *
 * For each weight p, the least-squares line x_{t,p} ≈ a_p + b_p·t over t = 0..T−1 has the
 * closed form (t̄ = (T − 1)/2, S_tt = Σ_t (t − t̄)² = T(T² − 1)/12):
 *   b_p = Σ_t (t − t̄)·x_{t,p} / S_tt          (Σ_t (t − t̄) = 0, so x need not be centred)
 *   a_p = x̄_p − b_p·t̄
 *   r_{t,p} = x_{t,p} − a_p − b_p·t = (x_{t,p} − x̄_p) − b_p·(t − t̄)
 * The residuals have zero mean and no linear trend in every coordinate, so their PCA is
 * the diffusion with the steady drift of the weights removed; b (per step) is the drift
 * velocity, a natural "drift direction" to compare PC1 with.
 */

export interface Detrended {
  /** r_{t,p}, row-major T×P. */
  residual: Float64Array;
  /** b_p, change per step. */
  slope: Float64Array;
  /** a_p, the fitted value at t = 0. */
  intercept: Float64Array;
}

export function detrendLinear(traj: ArrayLike<number>, T: number, P: number): Detrended {
  if (!(Number.isInteger(T) && T >= 3)) throw new Error(`detrendLinear: T must be an integer >= 3 (two points fit a line exactly), got ${T}`);
  if (!(Number.isInteger(P) && P >= 1)) throw new Error(`detrendLinear: P must be an integer >= 1, got ${P}`);
  if (traj.length !== T * P) throw new Error(`detrendLinear: trajectory must have T·P = ${T * P} entries, got ${traj.length}`);
  const tBar = (T - 1) / 2;
  const stt = (T * (T * T - 1)) / 12;
  const mean = new Float64Array(P);
  const slope = new Float64Array(P);
  for (let t = 0; t < T; t++) {
    const w = t - tBar;
    for (let p = 0; p < P; p++) {
      const x = traj[t * P + p];
      if (!Number.isFinite(x)) throw new Error(`detrendLinear: entry (t=${t}, p=${p}) must be finite, got ${x}`);
      mean[p] += x;
      slope[p] += w * x;
    }
  }
  const intercept = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    mean[p] /= T;
    slope[p] /= stt;
    intercept[p] = mean[p] - slope[p] * tBar;
  }
  const residual = new Float64Array(T * P);
  for (let t = 0; t < T; t++) {
    const w = t - tBar;
    for (let p = 0; p < P; p++) residual[t * P + p] = traj[t * P + p] - mean[p] - slope[p] * w;
  }
  return { residual, slope, intercept };
}
