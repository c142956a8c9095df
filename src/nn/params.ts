/**
 * The flat parameter layout: every layer's weights and bias in one buffer, so the SGD update is
 * one dispatch over all P parameters and a layer is a sub-range that a kernel binds directly.
 *
 * Layer l (inputs K = widths[l], outputs N = widths[l+1]) is a (K + bias, N) row-major block:
 * rows 0..K−1 hold W (so z = x·W, x a row vector), row K holds b. Each block starts at a multiple
 * of 64 floats (256 bytes, WebGPU's minStorageBufferOffsetAlignment); the gaps stay zero and are
 * updated by SGD as zeros (their gradient is zero), which costs nothing measurable.
 */
import type { MlpConfig } from './config.ts';

export interface LayerLayout {
  index: number;
  /** K: inputs. */
  fanIn: number;
  /** N: outputs. */
  fanOut: number;
  /** Rows of the block: K + 1 with a bias, else K. */
  rows: number;
  /** Offset of the block in floats. */
  offset: number;
  /** Floats in the block (rows·N). */
  size: number;
  /** Offset of W's N·K weights (= offset) and of b (offset + K·N). */
  biasOffset: number | null;
}

export interface ParamLayout {
  layers: LayerLayout[];
  /** Floats in the buffer including alignment gaps. */
  total: number;
  /** Number of real parameters. */
  count: number;
}

const ALIGN_FLOATS = 64;

export function paramLayout(c: MlpConfig): ParamLayout {
  const layers: LayerLayout[] = [];
  let offset = 0;
  let count = 0;
  for (let l = 0; l + 1 < c.widths.length; l++) {
    const fanIn = c.widths[l];
    const fanOut = c.widths[l + 1];
    const rows = fanIn + (c.bias ? 1 : 0);
    const size = rows * fanOut;
    layers.push({ index: l, fanIn, fanOut, rows, offset, size, biasOffset: c.bias ? offset + fanIn * fanOut : null });
    count += size;
    offset = Math.ceil((offset + size) / ALIGN_FLOATS) * ALIGN_FLOATS;
  }
  return { layers, total: offset, count };
}

/** Layer l's W as a (K, N) row-major copy. */
export function layerWeights(flat: Float32Array, L: LayerLayout): Float32Array {
  return flat.slice(L.offset, L.offset + L.fanIn * L.fanOut);
}

/** Layer l's bias (N,), or null without biases. */
export function layerBias(flat: Float32Array, L: LayerLayout): Float32Array | null {
  return L.biasOffset === null ? null : flat.slice(L.biasOffset, L.biasOffset + L.fanOut);
}

/**
 * Throws unless every parameter is finite: an analysis of NaN or infinite weights would print
 * numbers (λ = 0, a loss of NaN) that mean nothing. The message names the layer, the (row, column)
 * of the first bad value and `where` (a file or a run).
 */
export function checkFiniteParams(flat: Float32Array, layout: ParamLayout, where: string): void {
  let bad = 0;
  let first: string | null = null;
  for (const L of layout.layers) {
    for (let i = 0; i < L.size; i++) {
      const v = flat[L.offset + i];
      if (Number.isFinite(v)) continue;
      bad++;
      if (first === null) {
        const r = Math.floor(i / L.fanOut);
        first = `${r < L.fanIn ? `weights_layer${L.index}[${r}, ${i % L.fanOut}]` : `bias_layer${L.index}[${i % L.fanOut}]`} = ${v}`;
      }
    }
  }
  if (bad > 0) throw new Error(`${where}: ${bad} of ${layout.count} parameters are not finite (first: ${first}); nothing to analyse in NaN or infinite weights`);
}
