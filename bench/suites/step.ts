/**
 * The whole SGD step of the seed experiment (784-50-50-10 ReLU, no bias, B 50, lr 0.1, MNIST-10k)
 * through the real TrainStepPlan (src/nn/mlp-gpu.ts) and the real Trainer (src/train/trainer.ts).
 *
 * One step = 11 dispatches: gather, 3 forwards, softmax-CE, 3 grad_weight, 2 grad_input, SGD.
 *   FLOP/step = 2·B·(784·50 + 50·50 + 50·10)        forward
 *             + 2·B·(784·50 + 50·50 + 50·10)        grad_weight
 *             + 2·B·(50·50 + 50·10)                 grad_input (layers 1, 2)
 *             + small terms (softmax-CE, SGD: 4·P)
 *
 * Variants (steps/s = 1000 / wall ms per step with 200+ steps per submit):
 *   one pass             GpuBatch's default: all 11·R dispatches in one compute pass
 *   pass per dispatch    GpuBatch(passPerDispatch = true)
 *   + snapshot           a buffer copy of the 50×50 layer after every step into a (T, 2500) trajectory
 *                        (what src/analysis/noise/recorder.ts does)
 *   + snapshot + projection   also the per-sample gradients of the 50×50 layer projected on 16
 *                        directions every step (per_sample_grad.project, if that kernel exists)
 * and the real Trainer.run (800 steps in chunks of 200, pipelined, one evaluation at the end): plain,
 * with the snapshot hook, and (Node) with Dawn's busy polling instead of the gentle wait.
 * and the kernel-time share: Σ over the 11 dispatches of each kernel's GPU time (timed alone, R
 * per pass) against the wall time per step; the rest is encoding, submission, synchronisation and
 * on-GPU dispatch overhead (GPU ms/step from timestamps around the R steps shows which).
 */
import type { GpuContext } from '../../src/gpu/device.ts';
import { GpuBatch } from '../../src/gpu/batch.ts';
import { createStorage } from '../../src/gpu/buffers.ts';
import { MlpGpu } from '../../src/nn/mlp-gpu.ts';
import { TrainStepPlan } from '../../src/nn/train-step.ts';
import { SEED_MLP } from '../../src/nn/config.ts';
import { uploadDataset } from '../../src/train/gpu-dataset.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { setGentleWaiting } from '../../src/gpu/sync.ts';
import type { EncodeCall } from '../core/timing.ts';
import { PerSampleProject } from '../../src/kernels/per_sample_grad.ts';
import type { BenchEnv } from '../core/env.ts';
import { SEED_B, SEED_LR, seedSetup, weightsError } from '../core/seed.ts';
import { fmt, type Row, type StepSummary } from '../core/report.ts';
import { paired, sgdscopeTimer } from '../core/peer.ts';

export const STEP_FLOPS = (() => {
  const B = SEED_B;
  const fwd = 2 * B * (784 * 50 + 50 * 50 + 50 * 10);
  return 2 * fwd + 2 * B * (50 * 50 + 50 * 10);
})();

/** The seed network on the GPU with a plan for `maxSteps` steps of pre-uploaded minibatch indices. */
export interface SeedGpu {
  mlp: MlpGpu;
  plan: TrainStepPlan;
  maxSteps: number;
  data: { x: GPUBuffer; y: GPUBuffer; n: number };
  indices: GPUBuffer;
  metrics: GPUBuffer;
  hyper: { lr: number; weightDecay: number; momentum: number };
  reset(): void;
  encodeStep: EncodeCall;
}

/** `baseline`: the kernels as of git 6a09fc6 (MlpGpuOptions.baseline), the same numbers bit for bit. */
export async function seedGpu(ctx: GpuContext, maxSteps: number, opts: { baseline?: boolean } = {}): Promise<SeedGpu> {
  const setup = await seedSetup();
  const mlp = await MlpGpu.create(ctx, SEED_MLP, { momentum: false, baseline: opts.baseline });
  const tr = setup.data.train;
  const data = uploadDataset(ctx, 'bench.train', tr.x, tr.y, tr.d, 10);
  const indices = createStorage(ctx, 'bench.indices', setup.batches(maxSteps));
  const metrics = createStorage(ctx, 'bench.metrics', 2 * maxSteps * 4);
  const hyper = { lr: SEED_LR, weightDecay: 0, momentum: 0 };
  const plan = await TrainStepPlan.create(mlp, SEED_B, data, indices, metrics, { settings: [{ ...hyper, dropout: 0, seed: 1 }] });
  mlp.uploadParams(setup.init);
  return {
    mlp, plan, maxSteps, data, indices, metrics, hyper,
    reset: () => mlp.uploadParams(setup.init),
    encodeStep: (b, i) => plan.encodeStep(b, (i % maxSteps) * SEED_B, i % maxSteps),
  };
}

/** The dispatches of one step, each as its own call (the plan's own list). */
function stepDispatches(g: SeedGpu): { label: string; encode: EncodeCall }[] {
  return g.plan.dispatchList.map((d) => ({ label: d.label, encode: (b: GpuBatch) => d.encode(b, 0, 0, 1) }));
}

export async function runStep(env: BenchEnv): Promise<void> {
  const { ctx } = env;
  env.log(`\n## whole SGD step, seed experiment 784-50-50-10, B ${SEED_B} (${(STEP_FLOPS / 1e6).toFixed(2)} MFLOP/step, 11 dispatches)`);
  const setup = await seedSetup();
  const maxSteps = 272; // 11·272 dispatches ≤ the uniform arena's 4096 slots
  const g = await seedGpu(ctx, maxSteps);

  // Check: 3 steps on the GPU against the float64 CPU reference from the same weights and batches.
  const CHECK_STEPS = 3;
  const b0 = new GpuBatch(ctx, 'check');
  for (let i = 0; i < CHECK_STEPS; i++) g.encodeStep(b0, i);
  b0.submit();
  const err = weightsError(setup.layout, await g.mlp.readParams(), setup.cpuSteps(CHECK_STEPS));
  const ok = err < 1e-4;
  const check = ok ? `ok (${CHECK_STEPS} steps vs CPU: rel err ${err.toExponential(1)})` : `FAIL: weights after ${CHECK_STEPS} steps differ from the CPU reference by ${err.toExponential(2)} (relative)`;

  const rowBase = (variant: string): Row => ({
    kernel: 'sgd_step', variant, shape: '784-50-50-10 B50', ms: null, wallMs: null, timer: '-', flops: STEP_FLOPS, bytes: 0,
    gflops: null, gbs: null, peakPct: null, bound: '-', check,
  });
  if (!ok || env.opts.validateOnly) {
    env.emit(rowBase('one pass (TrainStepPlan)'));
    await validateOnlyExtras(env, g);
    return;
  }

  // Kernel share, in interleaved rounds: each round times R steps in one pass (wall), then each of
  // the 11 dispatches alone (R per pass, GPU time). On a machine shared with other work a single
  // measurement is only ever inflated, so each quantity is its best round: share = Σ (best kernel
  // times) / (best wall time per step), i.e. the decomposition on a quiet machine.
  const parts = stepDispatches(g);
  const rounds = 3;
  const walls: number[] = [];
  const perKernel = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    g.reset();
    const st = await env.time(g.encodeStep, { maxCalls: 250, minCalls: 250, targetMs: 1, repeats: 1 });
    walls.push(st.wallMs);
    for (const p of parts) {
      const t = await env.time(p.encode, { maxCalls: 1000, targetMs: Math.min(40, env.opts.targetMs), repeats: 1 });
      perKernel.set(p.label, [...(perKernel.get(p.label) ?? []), t.ms]);
    }
  }
  g.reset();
  const kernelSum = [...perKernel.values()].reduce((a, v) => a + Math.min(...v), 0);
  const bestWall = Math.min(...walls);
  const kernelShare = kernelSum / bestWall;
  env.log(
    `kernels of one step, µs each (${ctx.hasTimestamps ? 'GPU timestamps' : 'wall'}, best of ${rounds} interleaved rounds): ` +
      `${[...perKernel].map(([l, v]) => `${l} ${(Math.min(...v) * 1000).toFixed(0)}`).join(', ')}; Σ ${(kernelSum * 1000).toFixed(0)} µs = ${(100 * kernelShare).toFixed(0)}% of the best one-pass wall time per step (${bestWall.toFixed(2)} ms)`,
  );

  // Per-step extras: a layer snapshot, a per-sample projection.
  const L1 = g.mlp.layout.layers[1];
  const T = maxSteps;
  const traj = createStorage(ctx, 'bench.trajectory', T * L1.size * 4);
  const snapshot = (b: GpuBatch, i: number): void => b.copy(g.mlp.params, L1.offset * 4, traj, (i % T) * L1.size * 4, L1.size * 4);
  const J = 16;
  const proj = await PerSampleProject.create(ctx, { bias: false, shape: { m: SEED_B, j: J } });
  const v = createStorage(ctx, 'bench.dirs', new Float32Array(J * L1.size).map((_, i) => Math.sin(i)));
  const sOut = createStorage(ctx, 'bench.proj', SEED_B * J * 4);
  const projBg = proj.bind({ a: g.plan.acts.outs[0], delta: g.plan.acts.dz[1], v, s: sOut });
  const project = (b: GpuBatch): void => proj.encode(b, projBg, { m: SEED_B, k: L1.fanIn, n: L1.fanOut, j: J });

  const variants: { name: string; ppd: boolean; encode: EncodeCall; extraDispatches: number }[] = [
    { name: 'one pass', ppd: false, encode: g.encodeStep, extraDispatches: 0 },
    { name: 'pass per dispatch', ppd: true, encode: g.encodeStep, extraDispatches: 0 },
    { name: '+ snapshot 50x50', ppd: false, encode: (b, i) => { g.encodeStep(b, i); snapshot(b, i); }, extraDispatches: 0 },
  ];
  variants.push({ name: '+ snapshot + projection J=16', ppd: false, encode: (b, i) => { g.encodeStep(b, i); project(b); snapshot(b, i); }, extraDispatches: 1 });
  for (const v of variants) {
    // Encoding cost alone (CPU): encode R steps, then submit and wait outside the clock.
    const R = Math.min(maxSteps, 250);
    let encMs = 0;
    {
      const t0 = performance.now();
      const b = new GpuBatch(ctx, 'encode', null, v.ppd);
      for (let i = 0; i < R; i++) v.encode(b, i);
      encMs = (performance.now() - t0) / R;
      b.submit();
      await ctx.device.queue.onSubmittedWorkDone();
    }
    g.reset();
    const t = await env.time(v.encode, { maxCalls: R, minCalls: R, passPerDispatch: v.ppd, targetMs: 1 });
    g.reset();
    const wall = t.wallMs;
    const summary: StepSummary = {
      variant: v.name,
      stepsPerSecond: 1000 / wall,
      wallMsPerStep: wall,
      gpuMsPerStep: t.gpuMs,
      kernelMsPerStep: v.name === 'one pass' ? kernelSum : null,
      kernelShare: v.name === 'one pass' ? kernelShare : null,
      encodeMsPerStep: encMs,
    };
    env.steps.push(summary);
    const { peakPct, bound } = env.roofline(STEP_FLOPS, 0, 11 + v.extraDispatches, t.ms);
    env.emit({
      ...rowBase(v.name),
      ms: t.ms,
      wallMs: wall,
      timer: t.timer,
      gflops: STEP_FLOPS / (t.ms * 1e6),
      peakPct,
      bound,
      perSecond: 1000 / wall,
      note: `${fmt(1000 / wall)} steps/s (wall)`,
      samples: { gpu: t.gpuSamples, wall: t.wallSamples, calls: t.calls },
    });
    env.log(
      `  ${v.name}: ${fmt(1000 / wall)} steps/s; wall ${fmt(wall)} ms/step, GPU ${fmt(t.gpuMs)} ms/step, encode ${fmt(encMs)} ms/step` +
        (summary.kernelShare !== null ? `; Σ kernels ${fmt(kernelSum)} ms/step = ${(100 * summary.kernelShare).toFixed(0)}% of the best wall time (interleaved rounds)` : ''),
    );
  }

  await againstBaseline(env, g, maxSteps, rowBase);

  // The real Trainer: 800 steps in chunks of 200, pipelined two deep, with its evaluation of the
  // full train/test sets at the end (once), with and without the per-step snapshot hook.
  // In Node, once more with Dawn's busy polling while waiting (setGentleWaiting(false)): what the
  // gentle wait (src/gpu/sync.ts) saves when the GPU is the CPU.
  const trainerRuns: { withSnapshot: boolean; gentle: boolean }[] = [
    { withSnapshot: false, gentle: true },
    { withSnapshot: true, gentle: true },
    ...(ctx.runtime === 'node' ? [{ withSnapshot: false, gentle: false }] : []),
  ];
  for (const { withSnapshot, gentle } of trainerRuns) {
    const steps = 800;
    const trainer = await Trainer.create(
      ctx,
      SEED_MLP,
      { steps, epochs: null, lr: SEED_LR, batchSize: SEED_B, seed: 1, chunkSteps: 200, evalEvery: 1e9 },
      { train: setup.data.train, test: setup.data.test },
    );
    const hooks = withSnapshot ? { onStepEncoded: (b: GpuBatch, step: number) => snapshotInto(b, trainer.mlp, traj, step, T) } : {};
    setGentleWaiting(gentle);
    const res = await trainer.run(hooks).finally(() => setGentleWaiting(true));
    const name = `Trainer.run${withSnapshot ? ' + snapshot' : ''}${gentle ? '' : ', busy-poll wait'}`;
    env.steps.push({ variant: `${name} (800 steps, 1 eval)`, stepsPerSecond: res.stepsPerSecond, wallMsPerStep: 1000 / res.stepsPerSecond, gpuMsPerStep: null, kernelMsPerStep: null, kernelShare: null, encodeMsPerStep: null });
    env.emit({
      ...rowBase(name),
      ms: 1000 / res.stepsPerSecond,
      wallMs: 1000 / res.stepsPerSecond,
      timer: 'wall',
      gflops: (STEP_FLOPS * res.stepsPerSecond) / 1e9,
      perSecond: res.stepsPerSecond,
      check: res.status === 'completed' ? `ok (${res.message}; test acc ${(100 * (trainer.history.evals.at(-1)?.test?.accuracy ?? 0)).toFixed(1)}%)` : `FAIL: ${res.message}`,
      note: `${fmt(res.stepsPerSecond)} steps/s including one full train+test evaluation`,
    });
  }
  traj.destroy();
}

function snapshotInto(b: GpuBatch, mlp: MlpGpu, traj: GPUBuffer, step: number, T: number): void {
  const L1 = mlp.layout.layers[1];
  b.copy(mlp.params, L1.offset * 4, traj, ((step - 1) % T) * L1.size * 4, L1.size * 4);
}

/** In validate-only runs: the step's dispatch list equals the plan (same weights after 2 steps). */
async function validateOnlyExtras(env: BenchEnv, g: SeedGpu): Promise<void> {
  const { ctx } = env;
  g.reset();
  const b = new GpuBatch(ctx, 'check');
  g.encodeStep(b, 0);
  b.submit();
  const viaPlan = await g.mlp.readParams();
  g.reset();
  const b2 = new GpuBatch(ctx, 'check2');
  for (const p of stepDispatches(g)) p.encode(b2, 0);
  b2.submit();
  const viaList = await g.mlp.readParams();
  const diff = viaPlan.reduce((m, v, i) => Math.max(m, Math.abs(v - viaList[i])), 0);
  env.emit({
    kernel: 'sgd_step', variant: 'dispatch list = plan', shape: '784-50-50-10 B50', ms: null, wallMs: null, timer: '-', flops: 0, bytes: 0,
    gflops: null, gbs: null, peakPct: null, bound: '-',
    check: diff === 0 ? 'ok (bit-identical)' : `FAIL: the timed dispatch list differs from TrainStepPlan (max |Δw| ${diff})`,
  });
}

/**
 * The step as trained today against the step with the kernels as of git 6a09fc6 (MlpGpu
 * { baseline: true }: that commit's tile table, scalar loads, a gather dispatch before the input
 * layer and an SGD dispatch after the backward pass — 11 dispatches instead of 9), paired in one
 * run (A B A B …, wall time with many steps per submit), after checking both give the same
 * weights bit for bit. The ensembles issue's goal for the single seed run: ≥ 2×.
 */
async function againstBaseline(env: BenchEnv, g: SeedGpu, maxSteps: number, rowBase: (variant: string) => Row): Promise<void> {
  const { ctx } = env;
  const base = await seedGpu(ctx, maxSteps, { baseline: true });
  const CHECK = 3;
  g.reset();
  for (const side of [g, base]) {
    const b = new GpuBatch(ctx, 'check.baseline');
    for (let i = 0; i < CHECK; i++) side.encodeStep(b, i);
    b.submit();
  }
  const [a, b] = [await g.mlp.readParams(), await base.mlp.readParams()];
  const differing = a.reduce((n, v, i) => n + (Object.is(v, b[i]) ? 0 : 1), 0);
  const check = differing === 0 ? `ok (= the baseline kernels bit for bit after ${CHECK} steps)` : `FAIL: ${differing} of ${a.length} weights differ from the baseline kernels after ${CHECK} steps`;
  g.reset();
  base.reset();
  const p = await paired(sgdscopeTimer(ctx, g.encodeStep), sgdscopeTimer(ctx, base.encodeStep), {
    targetMs: env.opts.targetMs, repeats: env.opts.repeats, maxCallsA: Math.min(maxSteps, 250), maxCallsB: Math.min(maxSteps, 250),
  });
  g.reset();
  const rows: Row[] = [
    { ...rowBase(`today (${g.plan.dispatchList.length} dispatches), paired`), ms: p.aMs, wallMs: p.aMs, timer: 'wall', gflops: STEP_FLOPS / (p.aMs * 1e6), perSecond: 1000 / p.aMs, check, vsPeer: { peer: 'baseline kernels', ratio: p.ratio, basis: 'wall' } },
    { ...rowBase(`baseline kernels, git 6a09fc6 (${base.plan.dispatchList.length} dispatches), paired`), ms: p.bMs, wallMs: p.bMs, timer: 'wall', gflops: STEP_FLOPS / (p.bMs * 1e6), perSecond: 1000 / p.bMs, check },
  ];
  for (const r of rows) env.emit({ ...r, note: `${fmt(r.perSecond!)} steps/s (paired wall time)` });
  env.note(`seed step against the baseline kernels (git 6a09fc6), paired wall time: ${fmt(1000 / p.aMs)} vs ${fmt(1000 / p.bMs)} steps/s = ${fmt(p.ratio)}× (goal ≥ 2×)`);
  env.log(`  today vs baseline kernels: ${fmt(1000 / p.aMs)} vs ${fmt(1000 / p.bMs)} steps/s, ${fmt(p.ratio)}×; ${check}`);
}
