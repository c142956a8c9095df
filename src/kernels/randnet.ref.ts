/**
 * CPU reference (the spec) for shaders/randnet.wgsl, float64, with the same weights: W[k, n] =
 * scaleW·z[k, n], b[n] = scaleB·z[K, n], z from src/kernels/threefry.ts under key (seed + s, layer).
 */
import { normalBlock } from './threefry.ts';
import type { RandnetLayer } from './randnet.ts';

/** The (K + 1, N) block [W; b] of network s. */
export function randnetWeights(s: RandnetLayer, net: number): Float64Array {
  const z = normalBlock(s.k + 1, s.n, (s.seed + net) >>> 0, s.layer >>> 0);
  const K = s.k;
  for (let i = 0; i < K * s.n; i++) z[i] *= s.scaleW;
  for (let i = K * s.n; i < (K + 1) * s.n; i++) z[i] *= s.scaleB;
  return z;
}

/** h (S, M, N) = a·W + b; a is (S, M, K), or (M, K) shared when aStride = 0. */
export function randnetForwardRef(a: ArrayLike<number>, s: RandnetLayer, aStride: number): Float64Array {
  const { m: M, k: K, n: N } = s;
  const h = new Float64Array(s.nets * M * N);
  for (let net = 0; net < s.nets; net++) {
    const w = randnetWeights(s, net);
    for (let r = 0; r < M; r++) {
      for (let c = 0; c < N; c++) {
        let acc = w[K * N + c];
        for (let k = 0; k < K; k++) acc += a[net * aStride + r * K + k] * w[k * N + c];
        h[(net * M + r) * N + c] = acc;
      }
    }
  }
  return h;
}

/** g (S, M, K) = d (S, M, N) · Wᵀ. */
export function randnetBackwardRef(d: ArrayLike<number>, s: RandnetLayer): Float64Array {
  const { m: M, k: K, n: N } = s;
  const g = new Float64Array(s.nets * M * K);
  for (let net = 0; net < s.nets; net++) {
    const w = randnetWeights(s, net);
    for (let r = 0; r < M; r++) {
      for (let k = 0; k < K; k++) {
        let acc = 0;
        for (let c = 0; c < N; c++) acc += d[(net * M + r) * N + c] * w[k * N + c];
        g[(net * M + r) * K + k] = acc;
      }
    }
  }
  return g;
}

/** g (S, M, N) = scaleW · z[m, n] under key (seed + s, layer). */
export function randnetFillRef(s: RandnetLayer): Float64Array {
  const out = new Float64Array(s.nets * s.m * s.n);
  for (let net = 0; net < s.nets; net++) {
    const z = normalBlock(s.m, s.n, (s.seed + net) >>> 0, s.layer >>> 0);
    for (let i = 0; i < z.length; i++) out[net * s.m * s.n + i] = s.scaleW * z[i];
  }
  return out;
}
