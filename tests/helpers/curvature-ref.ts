/**
 * Float64 references for the curvature instruments on tiny networks: the explicit Hessian of the
 * mean loss over some rows (one R-operator product per parameter, mlpHvpCpu, symmetrised), and
 * gradients, in the compact order of HvpEngine (layer blocks one after another, no gaps).
 */
import type { MlpConfig } from '../../src/nn/config.ts';
import { paramLayout } from '../../src/nn/params.ts';
import { mlpHvpCpu } from '../../src/nn/hvp-cpu.ts';
import { mlpGradCpu } from '../../src/nn/mlp-cpu.ts';
import type { Dataset } from '../../src/data/dataset.ts';

/** Flat-layout index of each compact index (all layers, or the block `layers`). */
export function compactIndex(c: MlpConfig, layers?: readonly number[]): number[] {
  const out: number[] = [];
  for (const L of paramLayout(c).layers) if (!layers || layers.includes(L.index)) for (let i = 0; i < L.size; i++) out.push(L.offset + i);
  return out;
}

/** The rows `idx` of a dataset (all rows when omitted). */
export function rowsOf(set: Dataset, idx?: ArrayLike<number>): { x: Float64Array; y: number[]; rows: number } {
  const list = idx ? Array.from(idx) : Array.from({ length: set.n }, (_, i) => i);
  const x = new Float64Array(list.length * set.d);
  list.forEach((i, r) => x.set(set.x.subarray(i * set.d, (i + 1) * set.d), r * set.d));
  return { x, y: list.map((i) => set.y[i]), rows: list.length };
}

/** H (dim×dim, row-major, symmetrised) of the mean loss over the rows, over the compact block. */
export function explicitHessian(c: MlpConfig, params: ArrayLike<number>, r: { x: Float64Array; y: number[]; rows: number }, layers?: readonly number[]): { H: Float64Array; dim: number } {
  const index = compactIndex(c, layers);
  const dim = index.length;
  const total = paramLayout(c).total;
  const H = new Float64Array(dim * dim);
  for (let j = 0; j < dim; j++) {
    const v = new Float64Array(total);
    v[index[j]] = 1;
    const hv = mlpHvpCpu(c, params, r.x, r.y, r.rows, v, layers && [...layers]).hv;
    for (let i = 0; i < dim; i++) H[i * dim + j] = hv[index[i]];
  }
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) H[i * dim + j] = H[j * dim + i] = (H[i * dim + j] + H[j * dim + i]) / 2;
  return { H, dim };
}

/** ∇ of the mean loss over the rows, compact. */
export function compactGrad(c: MlpConfig, params: ArrayLike<number>, r: { x: Float64Array; y: number[]; rows: number }, layers?: readonly number[]): Float64Array {
  const g = mlpGradCpu(c, params, r.x, r.y, r.rows).grad;
  return Float64Array.from(compactIndex(c, layers), (i) => g[i]);
}

export function matVec(H: Float64Array, dim: number, v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += H[i * dim + j] * v[j];
    out[i] = s;
  }
  return out;
}

export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
