/**
 * Small descriptive statistics in float64, used by the noise-lab analyses.
 *
 *   mean       x̄ = (1/n) Σ x_i
 *   variance   (1/(n − ddof)) Σ (x_i − x̄)²          (two-pass: no E[x²] − x̄² cancellation)
 *   median     middle order statistic (mean of the two middle ones for even n)
 *   pearson    r = Sxy / sqrt(Sxx·Syy),  S.. the centred cross sums
 *   spearman   Pearson r of the ranks, ties given their average rank
 *   linearRegression   ordinary least squares y ≈ a + b·x:
 *       b = Sxy/Sxx,  a = ȳ − b·x̄,  s² = SSE/(n − 2),
 *       SE(b) = sqrt(s²/Sxx),  SE(a) = sqrt(s²·(1/n + x̄²/Sxx))
 *
 * Inputs are any ArrayLike<number>; non-finite entries are rejected (callers filter first),
 * so a NaN never slips silently into a fitted exponent.
 */

function requireFinite(name: string, x: ArrayLike<number>, minLength: number): void {
  if (x.length < minLength) {
    throw new Error(`${name}: needs at least ${minLength} values, got ${x.length}`);
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new Error(`${name}: entry ${i} must be finite, got ${x[i]}`);
  }
}

function requireSameLength(name: string, x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length) {
    throw new Error(`${name}: x and y must have the same length, got ${x.length} and ${y.length}`);
  }
}

export function mean(x: ArrayLike<number>): number {
  requireFinite('mean(x)', x, 1);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Variance with divisor n − ddof (ddof = 0: population, ddof = 1: unbiased sample). */
export function variance(x: ArrayLike<number>, ddof = 0): number {
  if (!(ddof === 0 || ddof === 1)) throw new Error(`variance: ddof must be 0 or 1, got ${ddof}`);
  requireFinite('variance(x)', x, ddof + 1);
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - m;
    s += d * d;
  }
  return s / (x.length - ddof);
}

export function median(x: ArrayLike<number>): number {
  requireFinite('median(x)', x, 1);
  const s = Float64Array.from(x).sort();
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : 0.5 * (s[h - 1] + s[h]);
}

/** Pearson correlation; NaN when either input is constant (correlation undefined). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  requireSameLength('pearson', x, y);
  requireFinite('pearson(x)', x, 2);
  requireFinite('pearson(y)', y, 2);
  const mx = mean(x);
  const my = mean(y);
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  // Clamp: rounding can push |r| a hair above 1 for exactly collinear data.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** Ranks 1..n; tied values share the average of the ranks they span. */
export function ranks(x: ArrayLike<number>): Float64Array {
  requireFinite('ranks(x)', x, 0);
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const r = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]] === x[order[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) r[order[t]] = avg;
    i = j + 1;
  }
  return r;
}

/** Spearman rank correlation (Pearson of average ranks); NaN if either input is constant. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  requireSameLength('spearman', x, y);
  requireFinite('spearman(x)', x, 2);
  requireFinite('spearman(y)', y, 2);
  return pearson(ranks(x), ranks(y));
}

export interface LinearFit {
  slope: number;
  intercept: number;
  /** Standard errors from s² = SSE/(n − 2); NaN when n = 2 (no residual degrees of freedom). */
  slopeSE: number;
  interceptSE: number;
  /** Pearson r of x and y (NaN if y is constant). */
  r: number;
  n: number;
  /** Sum of squared residuals. */
  sse: number;
}

export function linearRegression(x: ArrayLike<number>, y: ArrayLike<number>): LinearFit {
  requireSameLength('linearRegression', x, y);
  requireFinite('linearRegression(x)', x, 2);
  requireFinite('linearRegression(y)', y, 2);
  const n = x.length;
  const mx = mean(x);
  const my = mean(y);
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  if (sxx === 0) throw new Error('linearRegression: x must not be constant (slope undefined)');
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const e = y[i] - (intercept + slope * x[i]);
    sse += e * e;
  }
  const s2 = n > 2 ? sse / (n - 2) : NaN;
  return {
    slope,
    intercept,
    slopeSE: Math.sqrt(s2 / sxx),
    interceptSE: Math.sqrt(s2 * (1 / n + (mx * mx) / sxx)),
    r: syy === 0 ? NaN : Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy))),
    n,
    sse,
  };
}
