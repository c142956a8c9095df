/**
 * TensorFlow.js as the peer, on the same adapter in the same run:
 *
 *  - tfjs-webgpu (@tensorflow/tfjs-backend-webgpu) is given sgdscope's own GPUDevice
 *    (new WebGPUBackend(device)), so both libraries run on the same adapter, device and Dawn
 *    toggles (in Node: robustness off, which only helps tfjs). In Node it needs navigator.gpu: the
 *    GPU object of npm `webgpu` is installed as globalThis.navigator.gpu, and kept alive by the
 *    GpuContext.
 *  - tfjs-cpu (plain JS) and, where it loads, tfjs-wasm (XNNPACK) as the CPU reference.
 *
 * Measured: the fused dense forward at every shape of the ladder (tf.fused.matMul with the same
 * activation, against sgdscope's production kernel, rung 5), and the seed experiment's SGD step
 * (784-50-50-10 ReLU, no bias, lr 0.1, B 50: tf.variable weights, optimizer.minimize with
 * tf.train.sgd, tf.losses.softmaxCrossEntropy, the same MNIST-10k minibatches gathered on the
 * device) against sgdscope's TrainStepPlan. Every peer result is checked first: its matmul output
 * against the CPU reference, its weights after 3 SGD steps against the float64 CPU network.
 * Ratios are sgdscope / peer per call (>1: sgdscope faster), by paired wall time with many calls
 * queued per sync (bench/core/peer.ts).
 */
import type * as TF from '@tensorflow/tfjs-core';
import type { GpuContext } from '../../src/gpu/device.ts';
import { gpuErrorsSince, type BenchEnv } from '../core/env.ts';
import { compare } from '../core/check.ts';
import { fmt, type Row } from '../core/report.ts';
import { paired, queuedTimer, sgdscopeTimer, solo, type QueuedTimer } from '../core/peer.ts';
import { ALL_SHAPES, ForwardData, forwardCost, forwardEncoder, forwardVariant, shapeLabel, type DenseBenchShape } from './dense.ts';
import { SEED_B, SEED_LR, seedSetup, weightsError } from '../core/seed.ts';
import { STEP_FLOPS, seedGpu, type SeedGpu } from './step.ts';
import type { EncodeCall } from '../core/timing.ts';
import { PRODUCTION_RUNG } from '../ladder.ts';

type Tf = typeof TF;


/** Makes navigator.gpu exist in Node (tfjs and jax-js look for it). Returns a reason when it cannot. */
export function ensureNavigatorGpu(ctx: GpuContext): string | null {
  const g = globalThis as unknown as { navigator?: Record<string, unknown> };
  if (g.navigator?.gpu) return null;
  if (ctx.runtime !== 'node' || !ctx.instance) return 'navigator.gpu is missing';
  const gpu = ctx.instance;
  if (!g.navigator) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: `Node ${process.version}`, hardwareConcurrency: 2 }, configurable: true, writable: true });
  } else {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  }
  return null;
}

export interface TfBackends {
  tf: Tf;
  /** backend name → null when usable, else the reason it is not. */
  available: Map<string, string | null>;
  webgpuName: string;
}

let loaded: Promise<TfBackends> | null = null;

export async function loadTf(env: BenchEnv): Promise<TfBackends> {
  const { ctx } = env;
  const available = new Map<string, string | null>();
  const why = ensureNavigatorGpu(ctx);
  const tf = (await import('@tensorflow/tfjs-core')) as Tf;
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  await import('@tensorflow/tfjs-backend-cpu');
  tf.env().set('IS_TEST', false);
  available.set('cpu', null);
  // tfjs registers kernels per backend *name*: the shared-device backend must be called 'webgpu'
  // (replacing the one the package registers, which would open a device of its own).
  const webgpuName = 'webgpu';
  if (why) available.set(webgpuName, why);
  else {
    try {
      const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
      const info = ctx.adapterInfo as unknown as GPUAdapterInfo;
      if (tf.findBackendFactory(webgpuName)) tf.removeBackend(webgpuName);
      tf.registerBackend(webgpuName, () => new WebGPUBackend(ctx.device, info), 0);
      available.set(webgpuName, null);
    } catch (e) {
      available.set(webgpuName, `could not load @tensorflow/tfjs-backend-webgpu: ${(e as Error).message}`);
    }
  }
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (ctx.runtime === 'node') {
      const url = new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url);
      wasm.setWasmPaths(decodeURIComponent(url.pathname));
    } else {
      const [plain, simd, threaded] = await Promise.all([
        import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url'),
        import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url'),
        import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url'),
      ]);
      wasm.setWasmPaths({
        'tfjs-backend-wasm.wasm': plain.default,
        'tfjs-backend-wasm-simd.wasm': simd.default,
        'tfjs-backend-wasm-threaded-simd.wasm': threaded.default,
      });
    }
    available.set('wasm', null);
  } catch (e) {
    available.set('wasm', `could not load @tensorflow/tfjs-backend-wasm: ${(e as Error).message.split('\n')[0]}`);
  }
  return { tf, available, webgpuName };
}

export async function useBackend(t: TfBackends, name: string): Promise<string | null> {
  const why = t.available.get(name);
  if (why) return why;
  try {
    const ok = await t.tf.setBackend(name);
    if (!ok) return `tf.setBackend('${name}') failed`;
    await t.tf.ready();
    return null;
  } catch (e) {
    t.available.set(name, (e as Error).message.split('\n')[0]);
    return t.available.get(name)!;
  }
}

function label(name: string, webgpuName: string): string {
  return name === webgpuName ? 'tfjs-webgpu' : `tfjs-${name}`;
}

export async function runTfjs(env: BenchEnv): Promise<void> {
  env.log('\n## peer: TensorFlow.js on the same adapter (ratio = sgdscope / peer per call, paired wall time)');
  loaded ??= loadTf(env);
  let t: TfBackends;
  try {
    t = await loaded;
  } catch (e) {
    env.note(`TensorFlow.js could not be loaded: ${(e as Error).message}`);
    return;
  }
  for (const [name, why] of t.available) {
    if (why) env.note(`${label(name, t.webgpuName)} cannot run here: ${why}`);
  }
  for (const backend of [t.webgpuName, 'wasm', 'cpu']) {
    const why = await useBackend(t, backend);
    if (why) {
      env.note(`${label(backend, t.webgpuName)} skipped: ${why}`);
      continue;
    }
    await tfMatmul(env, t, backend);
    await tfTraining(env, t, backend);
  }
}

function tfForward(tf: Tf, a: TF.Tensor2D, b: TF.Tensor2D, act: DenseBenchShape['act']): TF.Tensor2D {
  return tf.fused.matMul({ a, b, activation: act === 'relu' ? 'relu' : 'linear' }) as TF.Tensor2D;
}

/** Flushes tfjs-webgpu's pending command encoder (it submits every 15 dispatches on its own). */
export function tfFlush(tf: Tf): void {
  const be = tf.backend() as unknown as { commandEncoder?: unknown; endComputePassEncoder?: () => void; submitQueue?: () => void };
  if (!be.commandEncoder || !be.submitQueue || !be.endComputePassEncoder) return;
  be.endComputePassEncoder();
  be.submitQueue();
}

async function tfMatmul(env: BenchEnv, t: TfBackends, backend: string): Promise<void> {
  const { ctx } = env;
  const { tf } = t;
  const gpu = backend === t.webgpuName;
  const name = label(backend, t.webgpuName);
  for (const s of ALL_SHAPES) {
    const { flops, bytes } = forwardCost(s);
    const shape = shapeLabel(s);
    const base: Row = {
      kernel: 'dense_forward', variant: `${name} fused.matMul`, shape, ms: null, wallMs: null, timer: 'wall', flops, bytes,
      gflops: null, gbs: null, peakPct: null, bound: '-', check: '',
    };
    if (s.m * s.k * s.n > 300e6 && backend === 'cpu') {
      env.emit({ ...base, check: 'skipped: tfjs-cpu takes seconds per call at this size (not a useful reference)' });
      continue;
    }
    const errorsBefore = ctx.uncapturedErrors.length;
    const data = ForwardData.create(ctx, s);
    const a = tf.tensor2d(data.x, [s.m, s.k]);
    const b = tf.tensor2d(data.w, [s.k, s.n]);
    // Check the peer's output on the sampled rows.
    const y = tfForward(tf, a, b, s.act);
    const yv = await y.data();
    y.dispose();
    const got = new Float32Array(data.rows.length * s.n);
    data.rows.forEach((r, i) => got.set(yv.subarray(r * s.n, (r + 1) * s.n), i * s.n));
    const chk = compare(got, data.ref(), 1e-4, 1e-4, `tf Y ${shape}`);
    if (!chk.ok || env.opts.validateOnly) {
      env.emit({ ...base, check: chk.message });
      a.dispose();
      b.dispose();
      data.destroy();
      continue;
    }
    let last: TF.Tensor | null = null;
    const peer = queuedTimer(
      (calls) => {
        for (let i = 0; i < calls; i++) {
          last?.dispose();
          last = tfForward(tf, a, b, s.act);
        }
      },
      () => (gpu ? tfFlush(tf) : undefined),
      async () => {
        if (gpu) await ctx.device.queue.onSubmittedWorkDone();
        else await last?.data();
      },
    );
    let row: Row;
    if (gpu) {
      const v = await forwardVariant(ctx, PRODUCTION_RUNG, s, s.act);
      const ours = sgdscopeTimer(ctx, forwardEncoder(v, data));
      const p = await paired(ours, peer, { targetMs: env.opts.targetMs, repeats: env.opts.repeats, maxCallsA: 2000, maxCallsB: 1000 });
      // tfjs's own GPU time per kernel (tf.time: each program in its own timestamped pass), where
      // timestamps are not quantized (Node's Dawn; Chrome rounds to 100 µs).
      let kernelMs: number | null = null;
      if (ctx.hasTimestamps && ctx.runtime === 'node') {
        const n = 5;
        const info = await tf.time(() => {
          for (let i = 0; i < n; i++) tfForward(tf, a, b, s.act).dispose();
        });
        if (typeof info.kernelMs === 'number') kernelMs = info.kernelMs / n;
      }
      row = {
        ...base,
        ms: p.bMs,
        wallMs: p.bMs,
        gflops: flops / (p.bMs * 1e6),
        gbs: bytes / (p.bMs * 1e6),
        check: chk.message,
        vsPeer: { peer: name, ratio: p.ratio, basis: 'wall' },
        note: `sgdscope ${v.label} ${fmt(p.aMs)} ms wall/call vs ${fmt(p.bMs)}${kernelMs !== null ? `; tfjs GPU time ${fmt(kernelMs)} ms/call` : ''}`,
        samples: { gpu: [], wall: p.bSamples, calls: p.bCalls },
      };
      // Attach the ratio to sgdscope's own production row too.
      const mine = env.rows.find((r) => r.kernel === 'dense_forward' && r.shape === shape && r.variant.startsWith(`${PRODUCTION_RUNG}: `));
      if (mine) mine.vsPeer = { peer: name, ratio: p.ratio, basis: 'wall' };
    } else {
      const r = await solo(peer, { targetMs: env.opts.targetMs * 2, repeats: 3, maxCalls: 500 });
      row = { ...base, ms: r.ms, wallMs: r.ms, gflops: flops / (r.ms * 1e6), gbs: bytes / (r.ms * 1e6), check: chk.message, samples: { gpu: [], wall: r.samples, calls: r.calls } };
      const mine = env.rows.find((x) => x.kernel === 'dense_forward' && x.shape === shape && x.variant.startsWith(`${PRODUCTION_RUNG}: `));
      if (mine?.wallMs) row.vsPeer = { peer: name, ratio: r.ms / mine.wallMs, basis: 'wall' };
    }
    (last as TF.Tensor | null)?.dispose();
    row.check = gpuErrorsSince(env, errorsBefore) ?? row.check;
    row.bound = env.roofline(flops, bytes, 1, row.ms).bound;
    row.peakPct = env.roofline(flops, bytes, 1, row.ms).peakPct;
    env.emit(row);
    a.dispose();
    b.dispose();
    data.destroy();
  }
}

async function tfTraining(env: BenchEnv, t: TfBackends, backend: string): Promise<void> {
  const { ctx } = env;
  const { tf } = t;
  const gpu = backend === t.webgpuName;
  const name = label(backend, t.webgpuName);
  const setup = await seedSetup();
  const tr = setup.data.train;
  const B = SEED_B;
  const steps = 272;
  const idx = Int32Array.from(setup.batches(steps));
  const X = tf.tensor2d(tr.x, [tr.n, tr.d]);
  const Y = tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(tr.y), 'int32'), 10), 'float32');
  const init = setup.weights(setup.init);
  const dims = setup.layout.layers.map((L) => [L.fanIn, L.fanOut] as [number, number]);
  const W = init.map((w, l) => tf.variable(tf.tensor2d(w, dims[l]), true, `w${l}`));
  const opt = tf.train.sgd(SEED_LR);
  const reset = (): void => W.forEach((v, l) => v.assign(tf.tensor2d(init[l], dims[l])));
  const step = (s: number): void => {
    tf.tidy(() => {
      const ib = tf.tensor1d(idx.subarray((s % steps) * B, (s % steps) * B + B), 'int32');
      const xb = tf.gather(X, ib);
      const yb = tf.gather(Y, ib);
      opt.minimize(() => {
        const h1 = tf.fused.matMul({ a: xb, b: W[0], activation: 'relu' });
        const h2 = tf.fused.matMul({ a: h1, b: W[1], activation: 'relu' });
        const z = tf.matMul(h2, W[2]);
        return tf.losses.softmaxCrossEntropy(yb, z) as TF.Scalar;
      }, false, W);
    });
  };
  const base: Row = {
    kernel: 'sgd_step', variant: `${name} (minimize)`, shape: '784-50-50-10 B50', ms: null, wallMs: null, timer: 'wall', flops: STEP_FLOPS, bytes: 0,
    gflops: null, gbs: null, peakPct: null, bound: '-', check: '',
  };
  const errorsBefore = ctx.uncapturedErrors.length;
  try {
    // Check: 3 steps from the same weights on the same batches vs the float64 CPU network.
    for (let s = 0; s < 3; s++) step(s);
    const flat = new Float32Array(setup.layout.total);
    for (let l = 0; l < W.length; l++) flat.set(await W[l].data(), setup.layout.layers[l].offset);
    const err = weightsError(setup.layout, flat, setup.cpuSteps(3));
    const check = err < 1e-4 ? `ok (3 steps vs CPU: rel err ${err.toExponential(1)})` : `FAIL: weights after 3 steps differ from the CPU reference by ${err.toExponential(2)}`;
    if (err >= 1e-4 || env.opts.validateOnly) {
      env.emit({ ...base, check });
      return;
    }
    reset();
    let s0 = 0;
    const peer = queuedTimer(
      (calls) => {
        for (let i = 0; i < calls; i++) step(s0++);
      },
      () => (gpu ? tfFlush(tf) : undefined),
      async () => {
        if (gpu) await ctx.device.queue.onSubmittedWorkDone();
        else await W[2].data();
      },
    );
    let row: Row;
    if (gpu) {
      const g: SeedGpu = await seedGpu(ctx, steps);
      const ours = sgdscopeTimer(ctx, g.encodeStep);
      const p = await paired(ours, peer, { targetMs: Math.max(env.opts.targetMs, 300), repeats: env.opts.repeats, maxCallsA: steps, maxCallsB: 1000 });
      row = {
        ...base, ms: p.bMs, wallMs: p.bMs, gflops: STEP_FLOPS / (p.bMs * 1e6), perSecond: 1000 / p.bMs, check,
        vsPeer: { peer: name, ratio: p.ratio, basis: 'wall' },
        note: `${fmt(1000 / p.bMs)} steps/s vs sgdscope ${fmt(1000 / p.aMs)} steps/s (paired)`,
        samples: { gpu: [], wall: p.bSamples, calls: p.bCalls },
      };
      env.steps.push({ variant: `${name} (paired sgdscope: ${fmt(1000 / p.aMs)} steps/s)`, stepsPerSecond: 1000 / p.bMs, wallMsPerStep: p.bMs, gpuMsPerStep: null, kernelMsPerStep: null, kernelShare: null, encodeMsPerStep: null });
    } else {
      const r = await solo(peer, { targetMs: Math.max(env.opts.targetMs, 300), repeats: 3, maxCalls: 500 });
      const ours = env.steps.find((x) => x.variant === 'one pass');
      row = {
        ...base, ms: r.ms, wallMs: r.ms, gflops: STEP_FLOPS / (r.ms * 1e6), perSecond: 1000 / r.ms, check,
        vsPeer: ours ? { peer: name, ratio: r.ms / ours.wallMsPerStep, basis: 'wall' } : undefined,
        note: `${fmt(1000 / r.ms)} steps/s`,
        samples: { gpu: [], wall: r.samples, calls: r.calls },
      };
      env.steps.push({ variant: name, stepsPerSecond: 1000 / r.ms, wallMsPerStep: r.ms, gpuMsPerStep: null, kernelMsPerStep: null, kernelShare: null, encodeMsPerStep: null });
    }
    row.check = gpuErrorsSince(env, errorsBefore) ?? row.check;
    env.emit(row);
  } finally {
    tf.dispose([X, Y, ...W]);
    opt.dispose();
  }
}
