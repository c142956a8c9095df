/**
 * An ensemble of SGD walkers on the toy valley, on the GPU (shaders/toy_walkers.wgsl): chunks of
 * steps per dispatch, the walkers' state read back after each chunk for the traces (mean x, mean
 * λ, escaped fraction), and the (x, u) histogram accumulated on the GPU after the burn-in.
 */
import type { GpuContext } from '../../gpu/device.ts';
import { GpuBatch } from '../../gpu/batch.ts';
import { createStorage, readF32, readU32 } from '../../gpu/buffers.ts';
import { ToyWalkers, type ToyParams } from '../../kernels/toy_walkers.ts';
import { Rng } from '../../util/rng.ts';
import { binnedDensity, conditionalUVariance, lambdaAt, type NoiseModel, type ValleyGeometry } from './theory.ts';

export type ToyInit = 'uniform' | 'stationary' | { x: number; y: number } | { pos: Float32Array };

export interface EnsembleOptions {
  params: ToyParams;
  walkers: number;
  seed: number;
  steps: number;
  /** Steps per dispatch (default 500). */
  chunk?: number;
  /** First recorded step (default: no histogram). */
  recordFrom?: number | null;
  recordEvery?: number;
  nx?: number;
  nu?: number;
  uMax?: number;
  init?: ToyInit;
}

export interface TracePoint {
  step: number;
  meanX: number;
  meanLambda: number;
  /** Fraction of walkers that escaped so far. */
  escaped: number;
}

export interface EnsembleResult {
  hist: Uint32Array;
  nx: number;
  nu: number;
  uMax: number;
  trace: TracePoint[];
  pos: Float32Array;
  status: Uint32Array;
  seconds: number;
  walkerSteps: number;
}

let kernelCache = new WeakMap<GPUDevice, Promise<ToyWalkers>>();

function walkersKernel(ctx: GpuContext): Promise<ToyWalkers> {
  let k = kernelCache.get(ctx.device);
  if (!k) {
    k = ToyWalkers.create(ctx);
    kernelCache.set(ctx.device, k);
    k.catch(() => (kernelCache = new WeakMap()));
  }
  return k;
}

export function geometryOf(p: ToyParams): ValleyGeometry {
  return { lam0: p.lam0, c: p.c, xLo: p.xLo, xHi: p.xHi };
}

export function noiseOf(p: ToyParams): NoiseModel {
  return { lr: p.lr, delta: p.delta, kappa: p.kappa, noisePow: p.noisePow, lamRef: p.lamRef };
}

/** Initial positions (W, 2). 'stationary' samples x from the adiabatic+ prediction and y from its conditional Gaussian. */
export function initialPositions(p: ToyParams, walkers: number, init: ToyInit, seed: number): Float32Array {
  if (typeof init === 'object' && 'pos' in init) {
    if (init.pos.length !== 2 * walkers) throw new Error(`toy ensemble: init.pos must hold 2·${walkers} values, got ${init.pos.length}`);
    return init.pos.slice();
  }
  const pos = new Float32Array(2 * walkers);
  const rng = new Rng(seed ^ 0x5bd1e995);
  if (typeof init === 'object') {
    for (let w = 0; w < walkers; w++) {
      pos[2 * w] = init.x;
      pos[2 * w + 1] = init.y;
    }
    return pos;
  }
  if (init === 'uniform') {
    for (let w = 0; w < walkers; w++) pos[2 * w] = p.xLo + (p.xHi - p.xLo) * rng.uniform();
    return pos;
  }
  const g = geometryOf(p);
  const n = noiseOf(p);
  const nx = 1000;
  const probs = binnedDensity('adiabatic+', g, n, nx);
  const cdf = new Float64Array(nx);
  let acc = 0;
  for (let b = 0; b < nx; b++) cdf[b] = acc += probs[b];
  const width = (p.xHi - p.xLo) / nx;
  for (let w = 0; w < walkers; w++) {
    const r = rng.uniform();
    let lo = 0;
    let hi = nx - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    const x = p.xLo + width * (lo + rng.uniform());
    const lam = lambdaAt(g, x);
    pos[2 * w] = x;
    pos[2 * w + 1] = rng.normal() * Math.sqrt((conditionalUVariance(n, lam) * p.delta) / lam);
  }
  return pos;
}

export function validateToyParams(p: ToyParams): void {
  const pos = (name: keyof ToyParams): void => {
    if (!(Number.isFinite(p[name]) && (p[name] as number) > 0)) throw new Error(`toy: ${name} must be a positive number, got ${p[name]}`);
  };
  pos('lr');
  pos('delta');
  pos('kappa');
  pos('lam0');
  pos('lamRef');
  if (!(Number.isFinite(p.c) && Number.isFinite(p.kx) && p.kx >= 0 && Number.isFinite(p.x0))) throw new Error('toy: c, kx ≥ 0 and x0 must be finite');
  if (!(Number.isFinite(p.xLo) && Number.isFinite(p.xHi) && p.xHi > p.xLo)) throw new Error(`toy: need xLo < xHi, got [${p.xLo}, ${p.xHi}]`);
  if (!(p.noisePow >= 0 && p.noisePow <= 4)) throw new Error(`toy: noisePow must be in [0, 4], got ${p.noisePow}`);
  if (!(p.escLoss > 0)) throw new Error(`toy: escLoss must be > 0 (Infinity: never), got ${p.escLoss}`);
}

export async function runEnsemble(ctx: GpuContext, o: EnsembleOptions): Promise<EnsembleResult> {
  validateToyParams(o.params);
  const W = o.walkers;
  if (!(Number.isInteger(W) && W >= 1 && W <= 4_000_000)) throw new Error(`toy ensemble: walkers must be an integer in [1, 4e6], got ${W}`);
  if (!(Number.isInteger(o.steps) && o.steps >= 1)) throw new Error(`toy ensemble: steps must be a positive integer, got ${o.steps}`);
  const chunk = o.chunk ?? 500;
  const nx = o.nx ?? 40;
  const nu = o.nu ?? 24;
  const uMax = o.uMax ?? 4;
  const kernel = await walkersKernel(ctx);
  const t0 = performance.now();
  const pos0 = initialPositions(o.params, W, o.init ?? 'uniform', o.seed);
  const posBuf = createStorage(ctx, 'toy.pos', pos0);
  const statusBuf = createStorage(ctx, 'toy.status', W * 4);
  const histBuf = createStorage(ctx, 'toy.hist', nx * nu * 4);
  const bg = kernel.bind({ pos: posBuf, status: statusBuf, hist: histBuf }, 'toy.walkers');
  const g = geometryOf(o.params);
  const trace: TracePoint[] = [];
  const summarize = (step: number, pos: Float32Array, status: Uint32Array): void => {
    let sx = 0;
    let sl = 0;
    let live = 0;
    for (let w = 0; w < W; w++) {
      if (status[w] !== 0) continue;
      live++;
      sx += pos[2 * w];
      sl += lambdaAt(g, pos[2 * w]);
    }
    trace.push({ step, meanX: live ? sx / live : NaN, meanLambda: live ? sl / live : NaN, escaped: (W - live) / W });
  };
  summarize(0, pos0, new Uint32Array(W));
  let done = 0;
  let pos: Float32Array = pos0;
  let status: Uint32Array = new Uint32Array(W);
  try {
    while (done < o.steps) {
      const k = Math.min(chunk, o.steps - done);
      const batch = new GpuBatch(ctx, 'toy');
      kernel.encode(batch, bg, o.params, {
        walkers: W,
        steps: k,
        step0: done,
        seed: o.seed,
        recordFrom: o.recordFrom ?? null,
        recordEvery: o.recordEvery ?? 1,
        nx,
        nu,
        uMax,
      });
      batch.submit();
      done += k;
      pos = await readF32(ctx, posBuf, 0, 2 * W);
      status = await readU32(ctx, statusBuf, 0, W);
      summarize(done, pos, status);
    }
    const hist = await readU32(ctx, histBuf, 0, nx * nu);
    return { hist, nx, nu, uMax, trace, pos, status, seconds: (performance.now() - t0) / 1000, walkerSteps: W * o.steps };
  } finally {
    posBuf.destroy();
    statusBuf.destroy();
    histBuf.destroy();
  }
}

/** Marginal bin probabilities along x from an (nx, nu) histogram. */
export function marginalX(hist: Uint32Array, nx: number, nu: number): Float64Array {
  const out = new Float64Array(nx);
  let total = 0;
  for (let b = 0; b < nx; b++) {
    let s = 0;
    for (let j = 0; j < nu; j++) s += hist[b * nu + j];
    out[b] = s;
    total += s;
  }
  if (total > 0) for (let b = 0; b < nx; b++) out[b] /= total;
  return out;
}

/** Per-x-bin variance of u from the histogram (bin centres), null where a bin is nearly empty. */
export function conditionalUVarianceMeasured(hist: Uint32Array, nx: number, nu: number, uMax: number): (number | null)[] {
  const du = (2 * uMax) / nu;
  const out: (number | null)[] = [];
  for (let b = 0; b < nx; b++) {
    let n = 0;
    let s2 = 0;
    for (let j = 0; j < nu; j++) {
      const u = -uMax + (j + 0.5) * du;
      n += hist[b * nu + j];
      s2 += hist[b * nu + j] * u * u;
    }
    // Sheppard's correction for the bin width: Var ≈ Σu²/n − du²/12.
    out.push(n >= 200 ? s2 / n - (du * du) / 12 : null);
  }
  return out;
}
