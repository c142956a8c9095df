/**
 * Dense symmetric eigensolver in float64: A = V·diag(λ)·Vᵀ.
 *
 * Householder tridiagonalisation followed by the implicit QL algorithm with Wilkinson-type
 * shifts (EISPACK tred2 / tql2, in the form of the public-domain JAMA library). Cost ≈ (4/3)n³
 * flops for the reduction, + (4/3)n³ to accumulate the transformations and ≈ 3n³ for the QL
 * rotations when eigenvectors are wanted; both phases are backward stable (eigenvalue error
 * ≲ ε·‖A‖₂). Chosen over cyclic Jacobi, which needs several sweeps of ~4n³ flops each.
 *
 * Storage: JAMA indexes V[row][col] and its inner loops run down columns; here V is one flat
 * array with V[row][col] at W[col·n + row] (column-major), so every inner loop is unit-stride
 * and the finished W is directly the column-major eigenvector matrix.
 *
 * Output conventions: eigenvalues in DESCENDING order; eigenvector j = column j of `vectors`
 * (column-major n×n, unit norm); its sign is fixed so the entry of largest magnitude is
 * positive (first such entry on ties), making results reproducible and comparable.
 *
 * Input: A (n×n, row- or column-major alike since it is symmetric). It is symmetrised as
 * (A + Aᵀ)/2 so float32 round-off asymmetry from the GPU is harmless; an asymmetry larger than
 * `symmetryTol`·max|A_ij| is an error (most likely a wrong layout or a non-symmetric operator).
 */

export interface SymmetricEigOptions {
  /** Compute eigenvectors (default true). Without them the cost drops to ≈ (4/3)n³ + O(n²). */
  vectors?: boolean;
  /** Allowed |A_ij − A_ji| relative to max|A_ij| (default 1e-5, generous for float32 input). */
  symmetryTol?: number;
}

export interface SymmetricEigResult {
  n: number;
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Column-major n×n; column j is the unit eigenvector of values[j]. null if not requested. */
  vectors: Float64Array | null;
}

const EPS = 2 ** -52;
const MAX_QL_ITERATIONS = 60;

/** sqrt(a² + b²) without overflow; Math.hypot is several times slower in V8. */
function hypot(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y === 0) return 0;
  const r = x / y;
  return y * Math.sqrt(1 + r * r);
}

/** Householder reduction to tridiagonal form: fills d (diagonal), e (sub-diagonal in e[1..]),
 * and, if wantVectors, turns W into the accumulated orthogonal transformation. */
function tred2(W: Float64Array, n: number, d: Float64Array, e: Float64Array, wantVectors: boolean): void {
  for (let j = 0; j < n; j++) d[j] = W[j * n + n - 1];

  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      // Row already reduced: skip the transformation.
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = W[j * n + i - 1];
        W[j * n + i] = 0;
        W[i * n + j] = 0;
      }
    } else {
      // Householder vector u = d (scaled) with u[i−1] shifted by g, H = I − u·uᵀ/h.
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;

      // e = A·u over the leading i×i block (lower triangle stored in W's columns).
      for (let j = 0; j < i; j++) {
        const cj = j * n;
        f = d[j];
        W[i * n + j] = f;
        g = e[j] + W[cj + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const w = W[cj + k];
          g += w * d[k];
          e[k] += w * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      // Rank-2 update A ← A − u·eᵀ − e·uᵀ.
      for (let j = 0; j < i; j++) {
        const cj = j * n;
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) W[cj + k] -= f * e[k] + g * d[k];
        d[j] = W[cj + i - 1];
        W[cj + i] = 0;
      }
    }
    d[i] = h;
  }

  if (!wantVectors) {
    // The tridiagonal's diagonal sits on W's diagonal once the loop is done.
    for (let j = 0; j < n; j++) d[j] = W[j * n + j];
    e[0] = 0;
    return;
  }

  // Accumulate the Householder transformations into W.
  for (let i = 0; i < n - 1; i++) {
    W[i * n + n - 1] = W[i * n + i];
    W[i * n + i] = 1;
    const h = d[i + 1];
    const ci1 = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = W[ci1 + k] / h;
      for (let j = 0; j <= i; j++) {
        const cj = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += W[ci1 + k] * W[cj + k];
        for (let k = 0; k <= i; k++) W[cj + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) W[ci1 + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = W[j * n + n - 1];
    W[j * n + n - 1] = 0;
  }
  W[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e); rotations applied to W's columns if wantVectors. */
function tql2(W: Float64Array, n: number, d: Float64Array, e: Float64Array, wantVectors: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;

  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    // Find a negligible sub-diagonal element to split the matrix.
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1) {
      if (Math.abs(e[m]) <= EPS * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > MAX_QL_ITERATIONS) {
          throw new Error(`symmetricEig: QL iteration did not converge for eigenvalue ${l} of ${n}`);
        }
        // Shift from the leading 2×2 block.
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;

        // Implicit QL sweep from m−1 down to l.
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (wantVectors) {
            const ci = i * n;
            const ci1 = (i + 1) * n;
            for (let k = 0; k < n; k++) {
              const wk1 = W[ci1 + k];
              const wk = W[ci + k];
              W[ci1 + k] = s * wk + c * wk1;
              W[ci + k] = c * wk - s * wk1;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/**
 * All eigenvalues (descending) of the symmetric tridiagonal matrix with diagonal d and
 * off-diagonal e (e[i] couples i and i + 1), by implicit QL without vectors: O(n²).
 */
export function tridiagonalEigenvalues(d: ArrayLike<number>, e: ArrayLike<number>): Float64Array {
  const n = d.length;
  const dd = Float64Array.from(d);
  // tql2 takes the off-diagonal in e[1..n−1] (e[i] couples i − 1 and i).
  const ee = new Float64Array(n);
  for (let i = 1; i < n; i++) ee[i] = e[i - 1];
  if (n > 1) tql2(new Float64Array(0), n, dd, ee, false);
  return dd.sort().reverse();
}

export function symmetricEig(A: ArrayLike<number>, n: number, options: SymmetricEigOptions = {}): SymmetricEigResult {
  const wantVectors = options.vectors ?? true;
  const symmetryTol = options.symmetryTol ?? 1e-5;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`symmetricEig: n must be an integer >= 1, got ${n}`);
  if (A.length !== n * n) throw new Error(`symmetricEig: A must have n² = ${n * n} entries, got ${A.length}`);
  if (!(symmetryTol >= 0)) throw new Error(`symmetricEig: symmetryTol must be >= 0, got ${symmetryTol}`);

  let maxAbs = 0;
  for (let i = 0; i < n * n; i++) {
    const a = A[i];
    if (!Number.isFinite(a)) throw new Error(`symmetricEig: A[${i}] must be finite, got ${a}`);
    maxAbs = Math.max(maxAbs, Math.abs(a));
  }
  const W = new Float64Array(n * n);
  let maxAsym = 0;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c <= r; c++) {
      const arc = A[r * n + c];
      const acr = A[c * n + r];
      maxAsym = Math.max(maxAsym, Math.abs(arc - acr));
      const v = 0.5 * (arc + acr);
      W[c * n + r] = v;
      W[r * n + c] = v;
    }
  }
  if (maxAsym > symmetryTol * maxAbs) {
    throw new Error(
      `symmetricEig: A is not symmetric: max|A_ij − A_ji| = ${maxAsym} exceeds symmetryTol·max|A| = ${symmetryTol * maxAbs}`,
    );
  }

  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 1) {
    return { n, values: Float64Array.of(W[0]), vectors: wantVectors ? Float64Array.of(1) : null };
  }
  tred2(W, n, d, e, wantVectors);
  tql2(W, n, d, e, wantVectors);

  // Sort descending (tql2 leaves them unordered).
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[b] - d[a]);
  const values = new Float64Array(n);
  for (let j = 0; j < n; j++) values[j] = d[order[j]];
  if (!wantVectors) return { n, values, vectors: null };

  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const src = order[j] * n;
    const dst = j * n;
    let big = 0;
    let bigAbs = -1;
    for (let k = 0; k < n; k++) {
      const a = Math.abs(W[src + k]);
      if (a > bigAbs) {
        bigAbs = a;
        big = W[src + k];
      }
    }
    const sign = big < 0 ? -1 : 1;
    for (let k = 0; k < n; k++) vectors[dst + k] = sign * W[src + k];
  }
  return { n, values, vectors };
}
