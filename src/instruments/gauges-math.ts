/**
 * The arithmetic of the per-sample gauges (src/instruments/gauges.ts), pure and on the CPU, from
 * the sums shaders/gauges.wgsl leaves for one minibatch of B per-sample gradients g_n with mean ḡ.
 *
 * Batch-size tests, each reported as the smallest threshold the batch passes (Cockpit's
 * convention; the batch is adequate when the value is at most the threshold):
 *   norm test (Byrd, Chin, Nocedal & Wu 2012, eq. 3.9):
 *     θ_norm = sqrt( Σ_n |g_n − ḡ|² / (B − 1) / (B·|ḡ|²) )                        passes if ≤ θ
 *   inner-product test (Bollapragada, Byrd & Nocedal 2018, eq. 2.6):
 *     θ_ip   = sqrt( Σ_n (g_n·ḡ − |ḡ|²)² / (B − 1) / (B·|ḡ|⁴) )                     passes if ≤ θ
 *   orthogonality test (same paper, eq. 2.9):
 *     ν_orth = sqrt( Σ_n |g_n − (g_n·ḡ/|ḡ|²)·ḡ|² / (B − 1) / (B·|ḡ|²) )               passes if ≤ ν
 * and the batch each would ask for (Byrd's eq. 3.12): B·(value/threshold)².
 *
 * α (Cockpit, Schneider, Dangel & Hennig 2021): the step from θ_{t−1} to θ_t = θ_{t−1} + τ·d̂ is
 * placed on a quadratic q(s) = c + b·s + a·s² fitted by weighted least squares to four noisy
 * observations along d̂: the minibatch loss and its directional derivative at s = 0 (step t's
 * minibatch, at θ_{t−1}) and at s = τ (step t + 1's minibatch, at θ_t), each weighted by the
 * inverse of its per-sample variance. α = 2τ/ŝ − 1 with ŝ = −b/a the far point at the starting
 * height: −1 no move, 0 the fitted minimum, 1 the other side of the valley. A concave fit (a ≤ 0)
 * has no α (Cockpit logs −1 for it); zero variances become 1e-10, as Cockpit's.
 */

export interface BatchTests {
  normTest: number;
  innerTest: number;
  orthoTest: number;
}

/**
 * From Σ_n |g_n|² (sampleSq), |ḡ|² (gradSq) and Σ_n (g_n·ḡ − |ḡ|²)² (projVar, the centred sum of
 * squares of the projections on ḡ, whose mean is |ḡ|²).
 */
export function batchTests(B: number, sampleSq: number, gradSq: number, projVar: number): BatchTests {
  if (!(B >= 2 && gradSq > 0)) return { normTest: NaN, innerTest: NaN, orthoTest: NaN };
  const varNorm = (sampleSq - B * gradSq) / (B - 1);
  const varInner = projVar / (B - 1);
  // Σ (g_n·ḡ)² = centred sum + B·(mean)², the mean being |ḡ|².
  const projSq = projVar + B * gradSq * gradSq;
  const varOrtho = (sampleSq - projSq / gradSq) / (B - 1);
  const root = (v: number): number => Math.sqrt(Math.max(0, v));
  return { normTest: root(varNorm / (B * gradSq)), innerTest: root(varInner / (B * gradSq * gradSq)), orthoTest: root(varOrtho / (B * gradSq)) };
}

/** One end of α's fit: the minibatch loss, its directional derivative, and their per-sample variances. */
export interface FitPoint {
  f: number;
  varF: number;
  df: number;
  varDf: number;
}

/**
 * Least squares min |A·x − b| for a small dense A (rows × cols, rows ≥ cols) by Householder QR:
 * better conditioned than the normal equations when the weights span many decades (a zero
 * variance becomes a weight of 1e10). Null when A is rank-deficient.
 */
function lstsq(A: number[][], b: number[]): number[] | null {
  const m = A.length;
  const n = A[0].length;
  const R = A.map((row) => [...row]);
  const y = [...b];
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += R[i][k] ** 2;
    norm = Math.sqrt(norm);
    if (!(norm > 0)) return null;
    const alpha = R[k][k] > 0 ? -norm : norm;
    const v = R.map((row, i) => (i < k ? 0 : row[k])).map((x, i) => (i === k ? x - alpha : x));
    const vv = v.reduce((s, x) => s + x * x, 0);
    if (vv === 0) continue;
    const reflect = (col: (i: number) => number, set: (i: number, x: number) => void): void => {
      let d = 0;
      for (let i = k; i < m; i++) d += v[i] * col(i);
      const f = (2 * d) / vv;
      for (let i = k; i < m; i++) set(i, col(i) - f * v[i]);
    };
    for (let j = k; j < n; j++) reflect((i) => R[i][j], (i, x) => (R[i][j] = x));
    reflect((i) => y[i], (i, x) => (y[i] = x));
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let j = i + 1; j < n; j++) s -= R[i][j] * x[j];
    if (!(Math.abs(R[i][i]) > 0)) return null;
    x[i] = s / R[i][i];
  }
  return x.every(Number.isFinite) ? x : null;
}

/** The weighted least-squares quadratic [c, b, a] through (0, start) and (tau, end); null if singular. */
export function fitQuadratic(tau: number, start: FitPoint, end: FitPoint): number[] | null {
  const eps = (v: number): number => (v === 0 ? 1e-10 : v);
  // Rows: f(0), f(τ), f'(0), f'(τ) as functions of (c, b, a), each scaled by 1/sqrt(its variance).
  const X = [[1, 0, 0], [1, tau, tau * tau], [0, 1, 0], [0, 1, 2 * tau]];
  const y = [start.f, end.f, start.df, end.df];
  const w = [start.varF, end.varF, start.varDf, end.varDf].map((v) => 1 / Math.sqrt(eps(v)));
  return lstsq(X.map((row, k) => row.map((x) => x * w[k])), y.map((v, k) => v * w[k]));
}

/** α of a step of length tau: NaN for a concave or singular fit. */
export function alphaOf(tau: number, start: FitPoint, end: FitPoint): { alpha: number; concave: boolean } {
  const mu = fitQuadratic(tau, start, end);
  if (!mu) return { alpha: NaN, concave: false };
  if (mu[2] <= 0) return { alpha: NaN, concave: true };
  return { alpha: (2 * tau) / (-mu[1] / mu[2]) - 1, concave: false };
}

/** Lower edges (log10) of a GSNR histogram's HIST bins: bin 0 is everything below lo. */
export function histEdges(hist: number, lo: number, hi: number): number[] {
  const w = (hi - lo) / (hist - 2);
  return Array.from({ length: hist }, (_, b) => (b === 0 ? -Infinity : lo + (b - 1) * w));
}

/**
 * The median of log10 r from the histogram, linear inside its bin; at an open end bin, that
 * bin's finite edge (a bound, not a value).
 */
export function histMedianLog10(counts: ArrayLike<number>, lo: number, hi: number): number {
  const n = counts.length;
  let total = 0;
  for (let b = 0; b < n; b++) total += counts[b];
  if (!(total > 0)) return NaN;
  const w = (hi - lo) / (n - 2);
  let below = 0;
  for (let b = 0; b < n; b++) {
    if (below + counts[b] >= total / 2) {
      if (b === 0) return lo;
      if (b === n - 1) return hi;
      return lo + (b - 1) * w + (counts[b] > 0 ? ((total / 2 - below) / counts[b]) * w : 0);
    }
    below += counts[b];
  }
  return hi;
}
