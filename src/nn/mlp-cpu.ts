/**
 * The whole MLP on the CPU in float64: forward, softmax cross-entropy and backward, by plain
 * loops. It is the reference the GPU training step is tested against (one SGD step, finite
 * differences, dropout) and a spec of what the kernels compose to. Not meant to be fast.
 *
 * The general form takes fixed dropout masks on the hidden activations (the reference for
 * TrainStepPlan with dropout): layer l < last computes h_l = act(z_l), y_l = h_l ⊙ m_l, and layer
 * l+1 reads y_l; backward:
 *   dL/dz_l = (dL/dz_{l+1}·W_{l+1}ᵀ) ⊙ m_l ⊙ act'(z_l),   dL/dW_{l+1} = y_lᵀ·dL/dz_{l+1}.
 * masks[l] is (rows, widths[l+1]) or null for no dropout on that layer; mlpForwardCpu and
 * mlpGradCpu are the mask-free case.
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

function noMasks(c: MlpConfig): null[] {
  return Array.from({ length: c.widths.length - 1 }, () => null);
}

function unmasked(f: MaskedForward): CpuForward {
  return { acts: [...f.ins, f.hs[f.hs.length - 1]], losses: f.losses, meanLoss: f.meanLoss, correct: f.correct };
}

export function mlpForwardCpu(c: MlpConfig, params: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, rows: number): CpuForward {
  return unmasked(mlpForwardCpuMasked(c, params, x, y, rows, noMasks(c)));
}

/** Gradient of the mean loss over the rows, in the flat parameter layout (gaps zero). */
export function mlpGradCpu(c: MlpConfig, params: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, rows: number): { grad: Float64Array; forward: CpuForward } {
  const { grad, forward } = mlpGradCpuMasked(c, params, x, y, rows, noMasks(c));
  return { grad, forward: unmasked(forward) };
}

export interface MaskedForward {
  /** ins[l]: input of layer l (the dropped previous output; ins[0] = x). */
  ins: Float64Array[];
  /** hs[l]: act(z_l) before dropout (logits for the last layer). */
  hs: Float64Array[];
  losses: Float64Array;
  meanLoss: number;
  correct: number;
}

export function mlpForwardCpuMasked(
  c: MlpConfig, params: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, rows: number, masks: (ArrayLike<number> | null)[],
): MaskedForward {
  const layout = paramLayout(c);
  const last = layout.layers.length - 1;
  const ins: Float64Array[] = [Float64Array.from({ length: rows * c.widths[0] }, (_, i) => x[i])];
  const hs: Float64Array[] = [];
  layout.layers.forEach((L, l) => {
    const input = ins[l];
    const h = new Float64Array(rows * L.fanOut);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < L.fanOut; j++) {
        let s = L.biasOffset !== null ? params[L.biasOffset + j] : 0;
        for (let i = 0; i < L.fanIn; i++) s += input[r * L.fanIn + i] * params[L.offset + i * L.fanOut + j];
        h[r * L.fanOut + j] = l === last ? s : activate(c.activation, s);
      }
    }
    hs.push(h);
    if (l < last) {
      const m = masks[l];
      ins.push(m ? h.map((v, i) => v * m[i]) : h.slice());
    }
  });
  const C = c.widths[c.widths.length - 1];
  const logits = hs[last];
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
  return { ins, hs, losses, meanLoss: losses.reduce((a, b) => a + b, 0) / rows, correct };
}

/** Gradient of the mean loss (flat layout) under fixed masks. */
export function mlpGradCpuMasked(
  c: MlpConfig, params: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, rows: number, masks: (ArrayLike<number> | null)[],
): { grad: Float64Array; forward: MaskedForward } {
  const layout = paramLayout(c);
  const f = mlpForwardCpuMasked(c, params, x, y, rows, masks);
  const grad = new Float64Array(layout.total);
  const last = layout.layers.length - 1;
  const C = c.widths[c.widths.length - 1];
  const logits = f.hs[last];
  let dz = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let k = 0; k < C; k++) m = Math.max(m, logits[r * C + k]);
    let s = 0;
    for (let k = 0; k < C; k++) s += Math.exp(logits[r * C + k] - m);
    for (let k = 0; k < C; k++) dz[r * C + k] = (Math.exp(logits[r * C + k] - m) / s - (k === y[r] ? 1 : 0)) / rows;
  }
  for (let l = last; l >= 0; l--) {
    const L = layout.layers[l];
    const input = f.ins[l];
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
    const hPrev = f.hs[l - 1];
    const m = masks[l - 1];
    const prev = new Float64Array(rows * L.fanIn);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < L.fanIn; i++) {
        let s = 0;
        for (let j = 0; j < L.fanOut; j++) s += dz[r * L.fanOut + j] * params[L.offset + i * L.fanOut + j];
        const idx = r * L.fanIn + i;
        prev[idx] = s * (m ? m[idx] : 1) * activationDerivFromOutput(c.activation, hPrev[idx]);
      }
    }
    dz = prev;
  }
  return { grad, forward: f };
}
