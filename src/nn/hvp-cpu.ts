/**
 * CPU references (the spec) for shaders/hvp.wgsl, in float64 and plain loops, and their
 * composition into the exact Hessian–vector product of an MLP's mean softmax cross-entropy
 * (mlpHvpCpu), the analytic second-order reference the GPU product is tested against.
 * One direction at a time (the kernels' vector index j is a loop around these).
 */
import { activate, activationDerivFromOutput, type Activation } from '../kernels/activation.ts';
import type { MlpConfig } from './config.ts';
import { paramLayout } from './params.ts';

/** φ''(z) through y = φ(z), as hvp.wgsl's d2. */
export function activationSecondFromOutput(a: Activation, y: number): number {
  return a === 'tanh' ? -2 * y * (1 - y * y) : 0;
}

/**
 * Rz (M, N) = R{a}·W + [a, 1]·V, R{a} = φ'(a)⊙rzin. `rzin` null: R{a} = 0; `v` null: V = 0.
 * w, v are (K + bias, N) blocks.
 */
export function rForwardRef(
  a: ArrayLike<number>, rzin: ArrayLike<number> | null, w: ArrayLike<number>, v: ArrayLike<number> | null,
  m: number, k: number, n: number, prevAct: Activation, bias: boolean,
): Float64Array {
  const rz = new Float64Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      let s = v && bias ? v[k * n + c] : 0;
      for (let i = 0; i < k; i++) {
        const x = a[r * k + i];
        if (rzin) s += activationDerivFromOutput(prevAct, x) * rzin[r * k + i] * w[i * n + c];
        if (v) s += x * v[i * n + c];
      }
      rz[r * n + c] = s;
    }
  }
  return rz;
}

/** R{dz} (M, C) = scale·(diag p − ppᵀ)·Rz per row, p = softmax(z). */
export function rSoftmaxCeRef(z: ArrayLike<number>, rz: ArrayLike<number>, m: number, classes: number, scale: number): Float64Array {
  const out = new Float64Array(m * classes);
  const p = new Float64Array(classes);
  for (let r = 0; r < m; r++) {
    const base = r * classes;
    let mx = -Infinity;
    for (let c = 0; c < classes; c++) mx = Math.max(mx, z[base + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += (p[c] = Math.exp(z[base + c] - mx));
    let dot = 0;
    for (let c = 0; c < classes; c++) {
      p[c] /= sum;
      dot += p[c] * rz[base + c];
    }
    for (let c = 0; c < classes; c++) out[base + c] = scale * p[c] * (rz[base + c] - dot);
  }
  return out;
}

/** (Hv) (K + bias, N) = [a, 1]ᵀ·rdz + R{a}ᵀ·dz, R{a} = φ'(a)⊙rzin (null: 0). */
export function rGradWeightRef(
  a: ArrayLike<number>, rzin: ArrayLike<number> | null, dz: ArrayLike<number>, rdz: ArrayLike<number>,
  m: number, k: number, n: number, prevAct: Activation, bias: boolean,
): Float64Array {
  const rows = k + (bias ? 1 : 0);
  const out = new Float64Array(rows * n);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < n; c++) {
      let s = 0;
      for (let r = 0; r < m; r++) {
        if (i === k) {
          s += rdz[r * n + c];
          continue;
        }
        const x = a[r * k + i];
        s += x * rdz[r * n + c];
        if (rzin) s += activationDerivFromOutput(prevAct, x) * rzin[r * k + i] * dz[r * n + c];
      }
      out[i * n + c] = s;
    }
  }
  return out;
}

/**
 * R{dz_prev} (M, K) = φ'(a)⊙(rdz·Wᵀ + dz·Vᵀ) + φ''(a)⊙rzin⊙(dz·Wᵀ); V null: 0. Only the K weight
 * rows of w and v are used.
 */
export function rGradInputRef(
  a: ArrayLike<number>, rzin: ArrayLike<number>, w: ArrayLike<number>, v: ArrayLike<number> | null, dz: ArrayLike<number>, rdz: ArrayLike<number>,
  m: number, k: number, n: number, prevAct: Activation,
): Float64Array {
  const out = new Float64Array(m * k);
  for (let r = 0; r < m; r++) {
    for (let i = 0; i < k; i++) {
      let s1 = 0;
      let s2 = 0;
      for (let c = 0; c < n; c++) {
        s1 += rdz[r * n + c] * w[i * n + c];
        if (v) s1 += dz[r * n + c] * v[i * n + c];
        s2 += dz[r * n + c] * w[i * n + c];
      }
      const y = a[r * k + i];
      out[r * k + i] = activationDerivFromOutput(prevAct, y) * s1 + activationSecondFromOutput(prevAct, y) * rzin[r * k + i] * s2;
    }
  }
  return out;
}

export interface MlpHvpCpuResult {
  /** H·v in the flat parameter layout (gaps zero; entries outside `layers` zero). */
  hv: Float64Array;
  /** Mean loss over the rows. */
  loss: number;
}

/**
 * H·v of the mean softmax cross-entropy over `rows` samples, for v in the flat layout, by the
 * R-operator in float64 (the composition of the references above, as HvpEngine composes the
 * kernels). `layers`: the block — v is read only on those layers and the product written only
 * there (H_SS·v_S); default all layers (the whole Hessian).
 */
export function mlpHvpCpu(
  c: MlpConfig, params: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, rows: number, v: ArrayLike<number>, layers?: number[],
): MlpHvpCpuResult {
  const layout = paramLayout(c);
  const Ls = layout.layers;
  const last = Ls.length - 1;
  const sel = new Set(layers ?? Ls.map((L) => L.index));
  const lo = Math.min(...sel);
  const block = (buf: ArrayLike<number>, l: number): Float64Array => Float64Array.from({ length: Ls[l].size }, (_, i) => buf[Ls[l].offset + i]);
  const act = (l: number): Activation => (l === 0 ? 'identity' : c.activation);
  // Forward: acts[l] = input of layer l; the last is the logits.
  const acts: Float64Array[] = [Float64Array.from({ length: rows * c.widths[0] }, (_, i) => x[i])];
  for (const L of Ls) {
    const input = acts[L.index];
    const out = new Float64Array(rows * L.fanOut);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < L.fanOut; j++) {
        let s = L.biasOffset !== null ? params[L.biasOffset + j] : 0;
        for (let i = 0; i < L.fanIn; i++) s += input[r * L.fanIn + i] * params[L.offset + i * L.fanOut + j];
        out[r * L.fanOut + j] = L.index === last ? s : activate(c.activation, s);
      }
    }
    acts.push(out);
  }
  const C = c.widths[c.widths.length - 1];
  const logits = acts[last + 1];
  // Backward: dz[l] = dL/dz_l for the mean loss.
  const dz: Float64Array[] = new Array(Ls.length);
  dz[last] = new Float64Array(rows * C);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    let mx = -Infinity;
    for (let k = 0; k < C; k++) mx = Math.max(mx, logits[r * C + k]);
    let s = 0;
    for (let k = 0; k < C; k++) s += Math.exp(logits[r * C + k] - mx);
    loss += mx + Math.log(s) - logits[r * C + y[r]];
    for (let k = 0; k < C; k++) dz[last][r * C + k] = (Math.exp(logits[r * C + k] - mx) / s - (k === y[r] ? 1 : 0)) / rows;
  }
  for (let l = last; l > lo; l--) {
    const L = Ls[l];
    const w = block(params, l);
    const prev = new Float64Array(rows * L.fanIn);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < L.fanIn; i++) {
        let s = 0;
        for (let j = 0; j < L.fanOut; j++) s += dz[l][r * L.fanOut + j] * w[i * L.fanOut + j];
        prev[r * L.fanIn + i] = s * activationDerivFromOutput(c.activation, acts[l][r * L.fanIn + i]);
      }
    }
    dz[l - 1] = prev;
  }
  // R-forward from the lowest perturbed layer.
  const rz: (Float64Array | null)[] = Ls.map(() => null);
  for (let l = lo; l <= last; l++) {
    const L = Ls[l];
    rz[l] = rForwardRef(acts[l], l > lo ? rz[l - 1] : null, block(params, l), sel.has(l) ? block(v, l) : null, rows, L.fanIn, L.fanOut, act(l), c.bias);
  }
  // R-backward.
  const hv = new Float64Array(layout.total);
  let rdz = rSoftmaxCeRef(logits, rz[last]!, rows, C, 1 / rows);
  for (let l = last; l >= lo; l--) {
    const L = Ls[l];
    if (sel.has(l)) {
      const g = rGradWeightRef(acts[l], l > lo ? rz[l - 1] : null, dz[l], rdz, rows, L.fanIn, L.fanOut, act(l), c.bias);
      hv.set(g, L.offset);
    }
    if (l > lo) rdz = rGradInputRef(acts[l], rz[l - 1]!, block(params, l), sel.has(l) ? block(v, l) : null, dz[l], rdz, rows, L.fanIn, L.fanOut, c.activation);
  }
  return { hv, loss: loss / rows };
}
