/**
 * The top k eigenpairs of a dense symmetric matrix in float64, computing only what is asked for
 * (the PCA stage wants all of D90/D99's eigenvalues but vectors for the top k only):
 *
 *  1. Householder tridiagonalisation A = Q·T·Qᵀ (Golub & Van Loan §8.3.1), the reflectors kept:
 *     (4/3)n³ flops, on the lower triangle stored row by row so every inner loop is unit-stride;
 *  2. all eigenvalues of T by implicit QL without vectors (symmetric-eig.ts's tql2): O(n²);
 *  3. eigenvectors of T for the top k by inverse iteration (LAPACK dstein's scheme: LU with partial
 *     pivoting of T − λI, a few solves from a random start, modified Gram–Schmidt against the
 *     vectors already found whose eigenvalues lie within 1e-3·‖T‖): O(n·k) plus O(n·k·c) for
 *     clusters of size c;
 *  4. back-transformation of those k vectors by the reflectors: 2n²k flops.
 * Against symmetricEig (tred2 + tql2 with vectors, ≈ 9n³ flops for all n pairs) this is ≈ 3× less
 * work at n = 2500, k = 1000, with the same backward stability (eigenvalues to ~ε·‖A‖).
 *
 * Output as symmetricEig: values descending (all n, or the top k with vectors), vectors column-
 * major (vector j at [j·n, (j + 1)·n)), unit norm, the largest-magnitude entry positive.
 */
import { Rng } from '../../util/rng.ts';
import { tridiagonalEigenvalues } from './symmetric-eig.ts';
import { Arena, linalgIfLoaded, type LinalgExports } from './wasm/linalg.ts';
import { backTransformWasm, tridiagonaliseWasm } from './wasm/tridiagonal.ts';

export interface TopEigResult {
  n: number;
  /** All n eigenvalues, descending. */
  values: Float64Array;
  /** Column-major n×k: the eigenvectors of values[0..k). */
  vectors: Float64Array;
  k: number;
}

/** Householder tridiagonalisation of the symmetric A (row-major n×n, read only). */
export function tridiagonalise(A: ArrayLike<number>, n: number): { d: Float64Array; e: Float64Array; V: Float64Array; beta: Float64Array } {
  // Lower triangle, row by row: L[i·n + j] = A_ij for j ≤ i.
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) L[i * n + j] = 0.5 * (A[i * n + j] + A[j * n + i]);
  const d = new Float64Array(n);
  const e = new Float64Array(n); // e[i] couples i and i + 1
  // Reflector k acts on indices k + 1 … n − 1: H_k = I − β_k·v vᵀ with v = V[k·n + (k+1 … n−1)], v_{k+1} = 1.
  const V = new Float64Array(n * n);
  const beta = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const v = k * n;
    // x = A[k+1 … n−1, k] (column k below the diagonal = row entries L[i·n + k]).
    let sigma = 0;
    for (let i = k + 2; i < n; i++) sigma += L[i * n + k] * L[i * n + k];
    const x0 = L[(k + 1) * n + k];
    if (sigma === 0) {
      e[k] = x0;
      beta[k] = 0;
      continue;
    }
    const mu = Math.sqrt(x0 * x0 + sigma);
    const v0 = x0 <= 0 ? x0 - mu : -sigma / (x0 + mu);
    const b = (2 * v0 * v0) / (sigma + v0 * v0);
    V[v + k + 1] = 1;
    for (let i = k + 2; i < n; i++) V[v + i] = L[i * n + k] / v0;
    beta[k] = b;
    e[k] = mu;
    // p = β·A₂₂·v over the trailing block (lower storage: row i holds columns ≤ i).
    for (let i = k + 1; i < n; i++) p[i] = 0;
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = V[v + i];
      let s = 0;
      for (let j = k + 1; j < i; j++) {
        const a = L[row + j];
        s += a * V[v + j];
        p[j] += a * vi;
      }
      p[i] += s + L[row + i] * vi;
    }
    let pv = 0;
    for (let i = k + 1; i < n; i++) {
      p[i] *= b;
      pv += p[i] * V[v + i];
    }
    // w = p − (β·pᵀv/2)·v, stored in p; A₂₂ −= v wᵀ + w vᵀ.
    const c = 0.5 * b * pv;
    for (let i = k + 1; i < n; i++) p[i] -= c * V[v + i];
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = V[v + i];
      const wi = p[i];
      for (let j = k + 1; j <= i; j++) L[row + j] -= vi * p[j] + wi * V[v + j];
    }
  }
  for (let i = 0; i < n; i++) d[i] = L[i * n + i];
  if (n >= 2) e[n - 2] = L[(n - 1) * n + n - 2];
  return { d, e, V, beta };
}

/**
 * Eigenvectors of the symmetric tridiagonal (d, e) for the given eigenvalues (descending), by
 * inverse iteration with reorthogonalisation inside clusters. Vector-major n×m.
 */
export function tridiagonalVectors(d: Float64Array, e: Float64Array, lambdas: Float64Array, seed = 1, wasm: LinalgExports | null = null): Float64Array {
  const n = d.length;
  const m = lambdas.length;
  // With the WebAssembly kernels, Z and x live in their memory and Gram–Schmidt runs there.
  const ar = wasm ? new Arena(wasm) : null;
  const zAt = ar ? ar.alloc(n * m) : 0;
  const xAt = ar ? ar.alloc(n) : 0;
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]) + Math.abs(e[i] ?? 0) + (i > 0 ? Math.abs(e[i - 1]) : 0));
  const eps = 2 ** -52;
  const tiny = eps * norm || Number.MIN_VALUE;
  const Z = ar ? ar.view(zAt, n * m) : new Float64Array(n * m);
  const rng = new Rng(seed);
  // LU factors of T − λI with partial pivoting: U has diagonal u0 and two superdiagonals u1, u2.
  const u0 = new Float64Array(n);
  const u1 = new Float64Array(n);
  const u2 = new Float64Array(n);
  const l = new Float64Array(n);
  const piv = new Uint8Array(n);
  const x = ar ? ar.view(xAt, n) : new Float64Array(n);
  let clusterStart = 0;
  for (let j = 0; j < m; j++) {
    const lam = lambdas[j];
    if (j > 0 && Math.abs(lambdas[j - 1] - lam) > 1e-3 * norm) clusterStart = j;
    // Factorise (Gaussian elimination with row interchanges, as LAPACK dlagtf).
    let a = d[0] - lam;
    let b = n > 1 ? e[0] : 0;
    let c2 = 0;
    for (let i = 0; i < n - 1; i++) {
      const sub = e[i];
      const dn = d[i + 1] - lam;
      const sup = i + 1 < n - 1 ? e[i + 1] : 0;
      if (Math.abs(a) >= Math.abs(sub)) {
        piv[i] = 0;
        const f = a === 0 ? 0 : sub / a;
        l[i] = f;
        u0[i] = a;
        u1[i] = b;
        u2[i] = c2;
        a = dn - f * b;
        b = sup;
        c2 = 0;
      } else {
        piv[i] = 1;
        const f = a / sub;
        l[i] = f;
        u0[i] = sub;
        u1[i] = dn;
        u2[i] = sup;
        a = b - f * dn;
        b = -f * sup;
        c2 = 0;
      }
      if (Math.abs(u0[i]) < tiny) u0[i] = u0[i] < 0 ? -tiny : tiny;
    }
    u0[n - 1] = Math.abs(a) < tiny ? (a < 0 ? -tiny : tiny) : a;
    for (let i = 0; i < n; i++) x[i] = rng.uniform() - 0.5;
    // Four solves; the cluster's earlier vectors are projected out after the last two (twice after
    // the last): Gram–Schmidt over a cluster of c vectors costs 4·c·n flops a pass, the solve 10·n.
    const inCluster = j > clusterStart;
    for (let it = 0; it < 4; it++) {
      // Forward: apply the row interchanges and multipliers; back: solve U·x = y.
      for (let i = 0; i < n - 1; i++) {
        if (piv[i]) {
          const t = x[i];
          x[i] = x[i + 1];
          x[i + 1] = t - l[i] * x[i];
        } else x[i + 1] -= l[i] * x[i];
      }
      x[n - 1] /= u0[n - 1];
      if (n > 1) x[n - 2] = (x[n - 2] - u1[n - 2] * x[n - 1]) / u0[n - 2];
      for (let i = n - 3; i >= 0; i--) x[i] = (x[i] - u1[i] * x[i + 1] - u2[i] * x[i + 2]) / u0[i];
      for (let pass = 0; pass < (inCluster ? Math.max(0, it - 1) : 0); pass++) {
        if (wasm) {
          wasm.mgs(xAt, zAt + clusterStart * n * 8, n, j - clusterStart);
          continue;
        }
        for (let q = clusterStart; q < j; q++) {
          const z = q * n;
          let s = 0;
          for (let i = 0; i < n; i++) s += x[i] * Z[z + i];
          for (let i = 0; i < n; i++) x[i] -= s * Z[z + i];
        }
      }
      let s = 0;
      for (let i = 0; i < n; i++) s += x[i] * x[i];
      const inv = 1 / Math.sqrt(s);
      for (let i = 0; i < n; i++) x[i] *= inv;
    }
    Z.set(x, j * n);
  }
  return ar ? Z.slice() : Z;
}

/** Top-k eigenpairs (and all eigenvalues) of the symmetric A (row-major n×n). */
/** `js`: the JavaScript path even when the WebAssembly kernels are loaded (tests compare them). */
export function symmetricEigTop(A: ArrayLike<number>, n: number, k: number, o: { seed?: number; js?: boolean } = {}): TopEigResult {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`symmetricEigTop: n must be an integer >= 1, got ${n}`);
  if (A.length !== n * n) throw new Error(`symmetricEigTop: A must have n² = ${n * n} entries, got ${A.length}`);
  if (!(Number.isInteger(k) && k >= 0 && k <= n)) throw new Error(`symmetricEigTop: k must be an integer in [0, ${n}], got ${k}`);
  for (let i = 0; i < n * n; i++) if (!Number.isFinite(A[i])) throw new Error(`symmetricEigTop: A[${i}] must be finite, got ${A[i]}`);
  // With the WebAssembly kernels loaded (loadLinalg), the same steps run ~3× faster.
  const wasm = o.js ? null : linalgIfLoaded();
  const t = wasm ? tridiagonaliseWasm(wasm, A, n) : tridiagonalise(A, n);
  const { d, e, V, beta } = t;
  const values = tridiagonalEigenvalues(d, e);
  const Z = tridiagonalVectors(d, e, values.subarray(0, k), o.seed, wasm);
  if (wasm) backTransformWasm(wasm, t, Z, n, k);
  // Back-transform: x = H_0·H_1·…·H_{n−3}·z, applied from the last reflector to the first.
  for (let r = n - 3; r >= 0 && !wasm; r--) {
    const b = beta[r];
    if (b === 0) continue;
    const v = r * n;
    for (let j = 0; j < k; j++) {
      const z = j * n;
      let s = 0;
      for (let i = r + 1; i < n; i++) s += V[v + i] * Z[z + i];
      s *= b;
      for (let i = r + 1; i < n; i++) Z[z + i] -= s * V[v + i];
    }
  }
  for (let j = 0; j < k; j++) {
    const z = j * n;
    let big = 0;
    for (let i = 0; i < n; i++) if (Math.abs(Z[z + i]) > Math.abs(big)) big = Z[z + i];
    if (big < 0) for (let i = 0; i < n; i++) Z[z + i] = -Z[z + i];
  }
  return { n, values, vectors: Z, k };
}
