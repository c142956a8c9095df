/**
 * One-sample Kolmogorov–Smirnov distance between sorted samples and a theoretical CDF, optionally
 * only above a floor (values below it are counted in the empirical CDF but not compared: e.g.
 * singular values that float32 products cannot resolve), and the critical value for n samples.
 */

/**
 * sup over λ ≥ floor of |F_n(λ) − F(λ)|, F_n the empirical CDF of all n samples (ascending).
 * Checked on both sides of every sample at or above the floor, and at the floor itself.
 */
export function ksDistance(sorted: ArrayLike<number>, cdf: (x: number) => number, floor = -Infinity): { d: number; at: number; compared: number } {
  const n = sorted.length;
  let i0 = 0;
  while (i0 < n && sorted[i0] < floor) i0++;
  let d = 0;
  let at = floor;
  if (Number.isFinite(floor)) {
    d = Math.abs(i0 / n - cdf(floor));
  }
  for (let i = i0; i < n; i++) {
    const f = cdf(sorted[i]);
    const gap = Math.max(Math.abs((i + 1) / n - f), Math.abs(i / n - f));
    if (gap > d) {
      d = gap;
      at = sorted[i];
    }
  }
  return { d, at, compared: n - i0 };
}

/**
 * The KS critical distance for n independent samples at level α, from the asymptotic Kolmogorov
 * tail P(√n D > c) ≤ 2e^{−2c²}: c = √(−ln(α/2)/2) (1.95 at α = 1e-3); a conservative bound.
 */
export function ksCritical(n: number, alpha: number): number {
  if (!(n >= 1)) throw new Error(`ksCritical: n must be ≥ 1, got ${n}`);
  if (!(alpha > 0 && alpha < 1)) throw new Error(`ksCritical: alpha must be in (0, 1), got ${alpha}`);
  return Math.sqrt(-Math.log(alpha / 2) / 2) / Math.sqrt(n);
}
