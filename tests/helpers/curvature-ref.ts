/**
 * Float64 references for the curvature instruments on tiny networks: the explicit Hessian of the
 * mean loss over some rows (one R-operator product per parameter, mlpHvpCpu, symmetrised), and
 * gradients, in the compact order of HvpEngine (layer blocks one after another, no gaps); the tiny
 * instrumented training run both instrument tests analyse.
 */
import type { MlpConfig } from '../../src/nn/config.ts';
import { paramLayout } from '../../src/nn/params.ts';
import { mlpHvpCpu } from '../../src/nn/hvp-cpu.ts';
import { mlpGradCpu } from '../../src/nn/mlp-cpu.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { gaussianMixture } from '../../src/data/synthetic.ts';
import type { GpuContext } from '../../src/gpu/device.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { InstrumentHost } from '../../src/instruments/host.ts';
import type { Instrument } from '../../src/instruments/types.ts';
import type { InstrumentValues } from '../../src/instruments/values.ts';
import { expect } from 'vitest';

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

/** The tiny network and data set of the curvature instrument tests (tanh, biases: a smooth Hessian). */
export const TINY_MODEL: MlpConfig = { widths: [6, 5, 4, 3], activation: 'tanh', bias: true, init: { kind: 'normal', sigmaW: 1.6, sigmaB: 0.2 } };
export const tinyData = (): Dataset => gaussianMixture({ classes: 3, d: 6, n: 90, sep: 1.5, seed: 4 });

/**
 * Trains TINY_MODEL on `data` for `steps` steps (chunks of 2, seed 7) with the instruments, then
 * the closing refresh at the final weights; no instrument may warn. Returns the host, the final
 * weights and the run's seed.
 */
export async function runTiny(ctx: GpuContext, data: Dataset, lr: number, batchSize: number, steps: number, active: { def: Instrument; values: InstrumentValues }[]) {
  const train = { lr, batchSize, steps, epochs: null, seed: 7, chunkSteps: 2 };
  const trainer = await Trainer.create(ctx, TINY_MODEL, train, { train: data, test: null });
  const warnings: string[] = [];
  const host = await InstrumentHost.create({ trainer, trainSet: data, active, side: () => Promise.resolve(ctx), onWarning: (id, m) => warnings.push(`${id}: ${m}`) });
  await trainer.run(host.hooks());
  await host.finish(trainer.step, true);
  if (warnings.length) throw new Error(`instrument warnings: ${warnings.join('; ')}`);
  return { host, params: await trainer.mlp.readParams(), seed: train.seed };
}

/** |got − want| ≤ tol·|want| + atol, naming both. */
export function expectRel(got: number, want: number, tol: number, atol = 1e-9): void {
  expect(Math.abs(got - want), `${got} vs ${want}`).toBeLessThanOrEqual(tol * Math.abs(want) + atol);
}
