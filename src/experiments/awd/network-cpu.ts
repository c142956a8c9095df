/**
 * Per-sample quantities of a trained MLP around one dense layer, in float64 on the CPU (the AWD
 * networks are small: 784-30-30-10): the layer's input a_n (K), its pre-activation z_n = a_n·W
 * (N), the per-sample loss l_n and dl_n/dz_n (N, no 1/M), and the loss of the layers above the
 * chosen one for any replacement pre-activation (used for l(x; W + ΔW) = loss from a·(W + ΔW)).
 */
import { activate, activationDerivFromOutput } from '../../kernels/activation.ts';
import type { MlpConfig } from '../../nn/config.ts';
import { paramLayout } from '../../nn/params.ts';
import type { Dataset } from '../../data/index.ts';

export interface LayerRecord {
  n: number;
  K: number;
  N: number;
  /** (n, K) inputs of the layer. */
  a: Float64Array;
  /** (n, N) pre-activations z = a·W (+ b). */
  z: Float64Array;
  /** (n,) per-sample losses. */
  loss: Float64Array;
  /** (n, N) dl/dz of the layer per sample. */
  delta: Float64Array;
  correct: number;
}

/** Loss and dl/dz of the layers from `layer` up, given the pre-activation z (N) of `layer`. */
export function lossFromLayer(c: MlpConfig, params: ArrayLike<number>, layer: number, z: ArrayLike<number>, label: number, wantDelta = false): { loss: number; delta: Float64Array | null; argmax: number } {
  const layout = paramLayout(c);
  const last = layout.layers.length - 1;
  // Forward from layer's pre-activation.
  const hs: Float64Array[] = [];
  let cur = Float64Array.from(z);
  const zs: Float64Array[] = [cur];
  for (let l = layer; l < last; l++) {
    const h = cur.map((v) => activate(c.activation, v));
    hs.push(h);
    const L = layout.layers[l + 1];
    const next = new Float64Array(L.fanOut);
    for (let j = 0; j < L.fanOut; j++) {
      let s = L.biasOffset !== null ? params[L.biasOffset + j] : 0;
      for (let i = 0; i < L.fanIn; i++) s += h[i] * params[L.offset + i * L.fanOut + j];
      next[j] = s;
    }
    cur = next;
    zs.push(cur);
  }
  const logits = cur;
  let m = -Infinity;
  let arg = 0;
  for (let k = 0; k < logits.length; k++) if (logits[k] > m) (m = logits[k]), (arg = k);
  let s = 0;
  for (let k = 0; k < logits.length; k++) s += Math.exp(logits[k] - m);
  const loss = m + Math.log(s) - logits[label];
  if (!wantDelta) return { loss, delta: null, argmax: arg };
  let d = logits.map((v, k) => Math.exp(v - m) / s - (k === label ? 1 : 0));
  for (let l = last; l > layer; l--) {
    const L = layout.layers[l];
    const h = hs[l - layer - 1];
    const prev = new Float64Array(L.fanIn);
    for (let i = 0; i < L.fanIn; i++) {
      let t = 0;
      for (let j = 0; j < L.fanOut; j++) t += d[j] * params[L.offset + i * L.fanOut + j];
      prev[i] = t * activationDerivFromOutput(c.activation, h[i]);
    }
    d = prev;
  }
  return { loss, delta: d, argmax: arg };
}

export function recordLayer(c: MlpConfig, params: ArrayLike<number>, ds: Dataset, layer: number): LayerRecord {
  const layout = paramLayout(c);
  if (!(Number.isInteger(layer) && layer >= 0 && layer < layout.layers.length)) throw new Error(`recordLayer: layer must be in [0, ${layout.layers.length - 1}], got ${layer}`);
  const Lt = layout.layers[layer];
  const K = Lt.fanIn;
  const N = Lt.fanOut;
  const a = new Float64Array(ds.n * K);
  const z = new Float64Array(ds.n * N);
  const loss = new Float64Array(ds.n);
  const delta = new Float64Array(ds.n * N);
  let correct = 0;
  const W = Float64Array.from({ length: layout.total }, (_, i) => params[i]);
  for (let r = 0; r < ds.n; r++) {
    let cur = Float64Array.from(ds.x.subarray(r * ds.d, (r + 1) * ds.d));
    for (let l = 0; l < layer; l++) {
      const L = layout.layers[l];
      const next = new Float64Array(L.fanOut);
      for (let i = 0; i < L.fanIn; i++) {
        const v = cur[i];
        if (v === 0) continue;
        const o = L.offset + i * L.fanOut;
        for (let j = 0; j < L.fanOut; j++) next[j] += v * W[o + j];
      }
      if (L.biasOffset !== null) for (let j = 0; j < L.fanOut; j++) next[j] += W[L.biasOffset + j];
      for (let j = 0; j < L.fanOut; j++) next[j] = activate(c.activation, next[j]);
      cur = next;
    }
    a.set(cur, r * K);
    const zr = new Float64Array(N);
    for (let i = 0; i < K; i++) {
      const v = cur[i];
      if (v === 0) continue;
      const o = Lt.offset + i * N;
      for (let j = 0; j < N; j++) zr[j] += v * W[o + j];
    }
    if (Lt.biasOffset !== null) for (let j = 0; j < N; j++) zr[j] += W[Lt.biasOffset + j];
    z.set(zr, r * N);
    const f = lossFromLayer(c, W, layer, zr, ds.y[r], true);
    loss[r] = f.loss;
    delta.set(f.delta!, r * N);
    if (f.argmax === ds.y[r]) correct++;
  }
  return { n: ds.n, K, N, a, z, loss, delta, correct };
}
