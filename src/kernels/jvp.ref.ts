/**
 * CPU reference (the spec) for shaders/jvp.wgsl, float64, plain loops, unpadded blocks: the same
 * draws (src/kernels/threefry.ts), the same Householder construction of a Haar-orthogonal block,
 * and the same per-row prep step.
 */
import { normalBlock } from './threefry.ts';
import type { JvpActivation, JvpDraw } from './jvp.ts';

/** The (N + 1, N) block of network `net`: rows k < N scaleW·z[k, ·], row N scaleB·z[N, ·]. */
export function jvpFillRef(n: number, net: number, draw: JvpDraw): Float64Array {
  const z = normalBlock(n + 1, n, (draw.seed + net) >>> 0, draw.layer >>> 0);
  for (let i = 0; i < n * n; i++) z[i] *= draw.scaleW;
  for (let i = n * n; i < (n + 1) * n; i++) z[i] *= draw.scaleB;
  return z;
}

/** τ_k, v_k[k] and d_k of the header (column k of the raw draws z, rows k … N − 1). */
export function householderRef(z: ArrayLike<number>, n: number): { tau: Float64Array; vkk: Float64Array; d: Float64Array } {
  const tau = new Float64Array(n);
  const vkk = new Float64Array(n);
  const d = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm2 = 0;
    for (let i = k; i < n; i++) norm2 += z[i * n + k] ** 2;
    const x0 = z[k * n + k];
    const alpha = Math.sqrt(norm2);
    const sgn = x0 >= 0 ? 1 : -1;
    const denom = alpha * (alpha + Math.abs(x0));
    tau[k] = denom > 0 ? 1 / denom : 0;
    vkk[k] = x0 + sgn * alpha;
    d[k] = -sgn;
  }
  return { tau, vkk, d };
}

/**
 * [σ_w Q; σ_b z_N] (N + 1, N) from the raw draws z (N + 1, N): Q = H_0 ⋯ H_{N−1} diag(d), applied
 * to the identity from the left, reflection by reflection (H_{N−1} first).
 */
export function orthogonalRef(z: ArrayLike<number>, n: number, sigmaW: number, sigmaB: number): Float64Array {
  const { tau, vkk, d } = householderRef(z, n);
  const w = new Float64Array((n + 1) * n);
  for (let j = 0; j < n; j++) w[j * n + j] = sigmaW * d[j];
  const v = new Float64Array(n);
  for (let k = n - 1; k >= 0; k--) {
    v.fill(0);
    v[k] = vkk[k];
    for (let i = k + 1; i < n; i++) v[i] = z[i * n + k];
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < n; i++) dot += v[i] * w[i * n + j];
      const f = tau[k] * dot;
      for (let i = k; i < n; i++) w[i * n + j] -= f * v[i];
    }
  }
  for (let j = 0; j < n; j++) w[n * n + j] = sigmaB * z[n * n + j];
  return w;
}

export function phiRef(act: JvpActivation, x: number): number {
  return act === 'relu' ? Math.max(x, 0) : act === 'tanh' ? Math.tanh(x) : x;
}

export function dphiRef(act: JvpActivation, x: number): number {
  if (act === 'relu') return x > 0 ? 1 : 0;
  if (act === 'tanh') return 1 - Math.tanh(x) ** 2;
  return 1;
}

/**
 * One network's prep step: h (P, N), t (T, N) → y = φ(h), u = φ'(h_⌊r/R⌋) ⊙ t_r, and the squared
 * row lengths [Σh² per primal row, Σt² per tangent row].
 */
export function prepRef(act: JvpActivation, h: ArrayLike<number>, t: ArrayLike<number>, n: number, pRows: number, tRows: number): { y: Float64Array; u: Float64Array; stats: Float64Array } {
  const y = new Float64Array(pRows * n);
  const u = new Float64Array(tRows * n);
  const stats = new Float64Array(pRows + tRows);
  const per = tRows / pRows;
  for (let r = 0; r < pRows; r++) {
    for (let i = 0; i < n; i++) {
      const x = h[r * n + i];
      y[r * n + i] = phiRef(act, x);
      stats[r] += x * x;
    }
  }
  for (let r = 0; r < tRows; r++) {
    const p = Math.floor(r / per);
    for (let i = 0; i < n; i++) {
      const x = t[r * n + i];
      u[r * n + i] = dphiRef(act, h[p * n + i]) * x;
      stats[pRows + r] += x * x;
    }
  }
  return { y, u, stats };
}
