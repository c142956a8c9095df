/**
 * The whole MLP on the CPU in float64: forward, softmax cross-entropy and backward, by plain
 * loops. It is the reference the GPU training step is tested against (one SGD step, finite
 * differences) and a spec of what the kernels compose to. Not meant to be fast.
 */
import { activate, activationDerivFromOutput } from '../kernels/activation.ts';
import type { MlpConfig } from './config.ts';
import { paramLayout } from './params.ts';

export interface CpuForward {
  /** acts[0] = x; acts[l+1] = output of layer l (logits last). Each (B, width). */
  acts: Float64Array[];
  losses: Float64Array;
  meanLoss: number;
  correct: number;
}

export function mlpForwardCpu(c: MlpConfig, params: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, rows: number): CpuForward {
  const layout = paramLayout(c);
  const acts: Float64Array[] = [Float64Array.from({ length: rows * c.widths[0] }, (_, i) => x[i])];
  layout.layers.forEach((L, l) => {
    const last = l === layout.layers.length - 1;
    const input = acts[l];
    const out = new Float64Array(rows * L.fanOut);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < L.fanOut; j++) {
        let s = L.biasOffset !== null ? params[L.biasOffset + j] : 0;
        for (let i = 0; i < L.fanIn; i++) s += input[r * L.fanIn + i] * params[L.offset + i * L.fanOut + j];
        out[r * L.fanOut + j] = last ? s : activate(c.activation, s);
      }
    }
    acts.push(out);
  });
  const C = c.widths[c.widths.length - 1];
  const logits = acts[acts.length - 1];
  const losses = new Float64Array(rows);
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    let best = 0;
    for (let k = 0; k < C; k++) if (logits[r * C + k] > m) { m = logits[r * C + k]; best = k; }
    let s = 0;
    for (let k = 0; k < C; k++) s += Math.exp(logits[r * C + k] - m);
    losses[r] = m + Math.log(s) - logits[r * C + y[r]];
    if (best === y[r]) correct++;
  }
  const meanLoss = losses.reduce((a, b) => a + b, 0) / rows;
  return { acts, losses, meanLoss, correct };
}

/** Gradient of the mean loss over the rows, in the flat parameter layout (gaps zero). */
export function mlpGradCpu(c: MlpConfig, params: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, rows: number): { grad: Float64Array; forward: CpuForward } {
  const layout = paramLayout(c);
  const f = mlpForwardCpu(c, params, x, y, rows);
  const grad = new Float64Array(layout.total);
  const C = c.widths[c.widths.length - 1];
  const logits = f.acts[f.acts.length - 1];
  // dZ of the last layer: (softmax − onehot)/B.
  let dz = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let k = 0; k < C; k++) m = Math.max(m, logits[r * C + k]);
    let s = 0;
    for (let k = 0; k < C; k++) s += Math.exp(logits[r * C + k] - m);
    for (let k = 0; k < C; k++) dz[r * C + k] = (Math.exp(logits[r * C + k] - m) / s - (k === y[r] ? 1 : 0)) / rows;
  }
  for (let l = layout.layers.length - 1; l >= 0; l--) {
    const L = layout.layers[l];
    const input = f.acts[l];
    for (let i = 0; i < L.fanIn; i++) {
      for (let j = 0; j < L.fanOut; j++) {
        let s = 0;
        for (let r = 0; r < rows; r++) s += input[r * L.fanIn + i] * dz[r * L.fanOut + j];
        grad[L.offset + i * L.fanOut + j] = s;
      }
    }
    if (L.biasOffset !== null) {
      for (let j = 0; j < L.fanOut; j++) {
        let s = 0;
        for (let r = 0; r < rows; r++) s += dz[r * L.fanOut + j];
        grad[L.biasOffset + j] = s;
      }
    }
    if (l === 0) break;
    const prev = new Float64Array(rows * L.fanIn);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < L.fanIn; i++) {
        let s = 0;
        for (let j = 0; j < L.fanOut; j++) s += dz[r * L.fanOut + j] * params[L.offset + i * L.fanOut + j];
        prev[r * L.fanIn + i] = s * activationDerivFromOutput(c.activation, input[r * L.fanIn + i]);
      }
    }
    dz = prev;
  }
  return { grad, forward: f };
}
