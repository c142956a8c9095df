/**
 * The WebAssembly paths of symmetric-eig-top.ts: Householder tridiagonalisation with the rank-2
 * update and the next step's symmetric product fused into one pass over the trailing block
 * (each entry read and written once per step instead of twice: the step is memory-bound), and
 * the back-transformation of k vectors applied to groups of vectors that stay in cache while
 * the reflectors stream past. Same results as the JavaScript twins up to round-off.
 */
import { Arena, type LinalgExports } from './linalg.ts';

export interface Tridiagonal {
  d: Float64Array;
  e: Float64Array;
  /** Reflector k (k < n − 2) at V[k·n + (k+1 … n−1)], V[k·n + k + 1] = 1; H_k = I − β_k v vᵀ. */
  V: Float64Array;
  beta: Float64Array;
}

/** Householder vector of x = column k below the diagonal (entries k+1 … n−1 of `col`), into v. */
function house(col: Float64Array, k: number, n: number, v: Float64Array): { beta: number; e: number } {
  let sigma = 0;
  for (let i = k + 2; i < n; i++) sigma += col[i] * col[i];
  const x0 = col[k + 1];
  if (sigma === 0) return { beta: 0, e: x0 };
  const mu = Math.sqrt(x0 * x0 + sigma);
  const v0 = x0 <= 0 ? x0 - mu : -sigma / (x0 + mu);
  v.fill(0);
  v[k + 1] = 1;
  for (let i = k + 2; i < n; i++) v[i] = col[i] / v0;
  return { beta: (2 * v0 * v0) / (sigma + v0 * v0), e: mu };
}

export function tridiagonaliseWasm(wasm: LinalgExports, A: ArrayLike<number>, n: number): Tridiagonal {
  const ar = new Arena(wasm);
  const L = ar.alloc(n * n);
  const vA = ar.alloc(n);
  const uA = ar.alloc(n);
  const wA = ar.alloc(n);
  const yA = ar.alloc(n);
  const mem = (): Float64Array => new Float64Array(wasm.memory.buffer);
  let F = mem();
  const l0 = L / 8;
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) F[l0 + i * n + j] = 0.5 * (A[i * n + j] + A[j * n + i]);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const V = new Float64Array(n * n);
  const beta = new Float64Array(n);
  const col = new Float64Array(n);
  const v = F.subarray(vA / 8, vA / 8 + n);
  const u = F.subarray(uA / 8, uA / 8 + n);
  const w = F.subarray(wA / 8, wA / 8 + n);
  const y = F.subarray(yA / 8, yA / 8 + n);
  F = mem();
  // One pass over rows ≥ from: rank-2 update by (v, w) (zero: none) and y = A'·u.
  const pass = (from: number, ui: Float64Array): void => {
    y.fill(0, from);
    for (let i = from; i < n; i++) {
      const row = L + (i * n + from) * 8;
      const even = (i - from) & ~1;
      let s = wasm.fused_row(row, vA + from * 8, wA + from * 8, uA + from * 8, yA + from * 8, even, v[i], w[i], ui[i]);
      if (even < i - from) {
        // The odd column just left of the diagonal, in JavaScript.
        const j = i - 1;
        const a = (F[l0 + i * n + j] -= v[i] * w[j] + w[i] * v[j]);
        s += a * ui[j];
        y[j] += a * ui[i];
      }
      const at = l0 + i * n + i;
      const a = F[at] - 2 * v[i] * w[i];
      F[at] = a;
      y[i] += s + a * ui[i];
    }
  };
  if (n < 3) {
    for (let i = 0; i < n; i++) d[i] = F[l0 + i * n + i];
    if (n === 2) e[0] = F[l0 + n];
    return { d, e, V, beta };
  }
  // Step 0's reflector and its product y = A(≥1, ≥1)·v_0 (no update yet: v = w = 0).
  for (let i = 1; i < n; i++) col[i] = F[l0 + i * n];
  let h = house(col, 0, n, u);
  v.fill(0);
  w.fill(0);
  pass(1, u);
  for (let k = 0; k < n - 2; k++) {
    beta[k] = h.beta;
    e[k] = h.e;
    v.set(u);
    if (h.beta !== 0) V.set(v.subarray(k + 1), k * n + k + 1);
    // w = p − (β·pᵀv/2)·v with p = β·y (zero when the column needed no reflector).
    let pv = 0;
    for (let i = k + 1; i < n; i++) {
      w[i] = h.beta * y[i];
      pv += w[i] * v[i];
    }
    const c = 0.5 * h.beta * pv;
    for (let i = k + 1; i < n; i++) w[i] -= c * v[i];
    // Column k + 1 first (it defines the next reflector), then one fused pass over rows ≥ k + 2.
    const k1 = k + 1;
    for (let i = k1; i < n; i++) {
      const at = l0 + i * n + k1;
      F[at] -= v[i] * w[k1] + w[i] * v[k1];
      col[i] = F[at];
    }
    d[k] = F[l0 + k * n + k];
    if (k + 1 < n - 2) h = house(col, k1, n, u);
    else u.fill(0);
    if (h.beta === 0) u.fill(0);
    pass(k + 2, u);
    if (k + 1 >= n - 2) break;
  }
  for (let i = n - 2; i < n; i++) d[i] = F[l0 + i * n + i];
  d[n - 3] = F[l0 + (n - 3) * n + n - 3];
  e[n - 2] = F[l0 + (n - 1) * n + n - 2];
  return { d, e, V, beta };
}

/**
 * Z (k vectors of length n, vector-major) ← H_0·H_1·…·H_{n−3}·Z, in groups of vectors small
 * enough to stay in cache while every reflector streams past once per group.
 */
export function backTransformWasm(wasm: LinalgExports, t: Tridiagonal, Z: Float64Array, n: number, k: number): void {
  if (k === 0) return;
  const ar = new Arena(wasm);
  const G = Math.max(1, Math.min(k, Math.floor(2 ** 18 / (8 * n))));
  const zA = ar.alloc(G * n);
  const vA = ar.alloc(n * n);
  new Float64Array(wasm.memory.buffer, vA, n * n).set(t.V);
  for (let g0 = 0; g0 < k; g0 += G) {
    const g = Math.min(G, k - g0);
    new Float64Array(wasm.memory.buffer, zA, g * n).set(Z.subarray(g0 * n, (g0 + g) * n));
    for (let r = n - 3; r >= 0; r--) {
      if (t.beta[r] === 0) continue;
      const off = (r + 1) * 8;
      wasm.reflect(vA + r * n * 8 + off, zA + off, n - r - 1, t.beta[r], g, n * 8);
    }
    Z.set(new Float64Array(wasm.memory.buffer, zA, g * n), g0 * n);
  }
}
