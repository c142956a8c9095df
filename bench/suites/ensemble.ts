/**
 * The ensemble ladder: R replicas of the seed network (784-50-50-10 ReLU, no bias, B 50, lr 0.1,
 * MNIST-10k; replica r is the run of seed 1 + r) trained in lockstep by one TrainStepPlan, against
 * the same R runs as R separate single-network plans on the same device, timed in the same run.
 *
 *   one call (ensemble)   one SGD step of all R replicas: the plan's 9 dispatches (3 forward, softmax-CE,
 *                         2 grad_input, 3 grad_weight with the SGD update fused), grid z = replica
 *   one call (separate)   one SGD step of each of the R runs: 9·R dispatches, all in one pass (the
 *                         best case for separate runs: no submit or wait between them)
 *   FLOP/call  = R · STEP_FLOPS (bench/suites/step.ts)
 *   bytes/call = R · (B·784·4 + 2·P·4): each replica's minibatch rows read once, its P weights read
 *                and written once (activations stay in caches at these shapes)
 *
 * Checked first, at every R: two steps of the ensemble and of the separate runs; replica r of the
 * ensemble must equal run r alone bit for bit, and both the float64 CPU reference of seed 1 + r
 * (relative error < 1e-4). Reported per R: the GPU time per call (timestamps; the roofline columns),
 * then from paired wall-time repeats (ensemble, separate, ensemble, … so a burst of load from other
 * processes hits both; bench/core/peer.ts): steps/s of all replicas together (replica-steps/s), per
 * replica, and the ratio ensemble / separate (vs peer).
 */
import type { GpuContext } from '../../src/gpu/device.ts';
import { GpuBatch } from '../../src/gpu/batch.ts';
import { createStorage } from '../../src/gpu/buffers.ts';
import { MlpGpu } from '../../src/nn/mlp-gpu.ts';
import { TrainStepPlan } from '../../src/nn/train-step.ts';
import { SEED_MLP } from '../../src/nn/config.ts';
import { uploadDataset } from '../../src/train/gpu-dataset.ts';
import type { BenchEnv } from '../core/env.ts';
import type { EncodeCall } from '../core/timing.ts';
import { SEED_B, SEED_LR, seedSetup, weightsError, type SeedSetup } from '../core/seed.ts';
import { fmt, type Row } from '../core/report.ts';
import { STEP_FLOPS } from './step.ts';
import { paired } from '../core/peer.ts';
import { sgdscopeTimer } from '../core/peer.ts';

/** The R ladder when timing; validate-only runs check a short one. */
export const ENSEMBLE_LADDER = [1, 2, 4, 8, 16, 32];
const VALIDATE_LADDER = [1, 3];
/** Steps of minibatch indices held on the GPU (timed calls wrap around them). */
const HELD_STEPS = 64;
const CHECK_STEPS = 2;

/** R networks of the seed experiment in one plan: replica r trains seed 1 + r. */
interface Trained {
  mlps: MlpGpu[];
  encode: EncodeCall;
  /** Dispatches per call. */
  dispatches: number;
  reset(): void;
  /** Each replica's parameters. */
  params(): Promise<Float32Array[]>;
  destroy(): void;
}

async function ensembleOf(ctx: GpuContext, setup: SeedSetup, data: { x: GPUBuffer; y: GPUBuffer; n: number }, seeds: number[]): Promise<Trained> {
  const R = seeds.length;
  const B = SEED_B;
  const mlp = await MlpGpu.create(ctx, SEED_MLP, { momentum: false, replicas: R });
  const idx = new Uint32Array(HELD_STEPS * R * B);
  seeds.forEach((seed, r) => {
    const own = setup.batchesOf(seed, HELD_STEPS);
    for (let s = 0; s < HELD_STEPS; s++) idx.set(own.subarray(s * B, (s + 1) * B), (s * R + r) * B);
  });
  const indices = createStorage(ctx, `bench.ens${R}.indices`, idx);
  const metrics = createStorage(ctx, `bench.ens${R}.metrics`, 2 * HELD_STEPS * R * 4);
  const settings = seeds.map((seed) => ({ lr: SEED_LR, weightDecay: 0, momentum: 0, dropout: 0, seed }));
  const plan = await TrainStepPlan.create(mlp, B, data, indices, metrics, { settings });
  const init = new Float32Array(R * mlp.stride);
  seeds.forEach((seed, r) => init.set(setup.initOf(seed), r * mlp.stride));
  const reset = (): void => mlp.uploadParams(init);
  reset();
  return {
    mlps: [mlp],
    encode: (b, i) => plan.encodeStep(b, (i % HELD_STEPS) * R * B, i % HELD_STEPS),
    dispatches: plan.dispatchList.length,
    reset,
    params: async () => {
      const all = await mlp.readParams();
      return seeds.map((_, r) => all.subarray(r * mlp.stride, (r + 1) * mlp.stride));
    },
    destroy: () => [indices, metrics, mlp.params, mlp.grads, mlp.velocity].forEach((x) => x.destroy()),
  };
}

/** The same runs as separate single networks, each step of each encoded in turn. */
async function separateOf(ctx: GpuContext, setup: SeedSetup, data: { x: GPUBuffer; y: GPUBuffer; n: number }, seeds: number[]): Promise<Trained> {
  const runs = await Promise.all(seeds.map((seed) => ensembleOf(ctx, setup, data, [seed])));
  return {
    mlps: runs.flatMap((r) => r.mlps),
    encode: (b, i) => {
      for (const r of runs) r.encode(b, i);
    },
    dispatches: runs.reduce((a, r) => a + r.dispatches, 0),
    reset: () => runs.forEach((r) => r.reset()),
    params: async () => (await Promise.all(runs.map((r) => r.params()))).flat(),
    destroy: () => runs.forEach((r) => r.destroy()),
  };
}

/** Two steps of both, then: ensemble = separate bit for bit, each replica = its CPU reference. */
async function check(ctx: GpuContext, setup: SeedSetup, ens: Trained, sep: Trained, seeds: number[], cpu: Map<number, Float64Array>): Promise<string> {
  for (const t of [ens, sep]) {
    t.reset();
    const b = new GpuBatch(ctx, 'bench.ensemble.check');
    for (let i = 0; i < CHECK_STEPS; i++) t.encode(b, i);
    b.submit();
  }
  const [a, s] = [await ens.params(), await sep.params()];
  ens.reset();
  sep.reset();
  let worst = 0;
  for (const [r, seed] of seeds.entries()) {
    const differ = a[r].findIndex((v, i) => !Object.is(v, s[r][i]));
    if (differ >= 0) return `FAIL: replica ${r} of the ensemble differs from its run alone (float ${differ})`;
    if (!cpu.has(seed)) cpu.set(seed, setup.cpuStepsOf(seed, CHECK_STEPS));
    worst = Math.max(worst, weightsError(setup.layout, a[r], cpu.get(seed)!));
  }
  if (!(worst < 1e-4)) return `FAIL: after ${CHECK_STEPS} steps a replica differs from the CPU reference by ${worst.toExponential(2)} (relative)`;
  return `ok (= R runs alone bit for bit; vs CPU ${worst.toExponential(1)})`;
}

export async function runEnsemble(env: BenchEnv): Promise<void> {
  const { ctx } = env;
  const ladder = env.opts.validateOnly ? VALIDATE_LADDER : ENSEMBLE_LADDER;
  env.log(`\n## ensembles: R replicas of 784-50-50-10 B ${SEED_B} in lockstep vs R separate runs (R = ${ladder.join(', ')})`);
  const setup = await seedSetup();
  const tr = setup.data.train;
  const data = uploadDataset(ctx, 'bench.ensemble.train', tr.x, tr.y, tr.d, 10);
  const cpu = new Map<number, Float64Array>();
  const P = setup.layout.total;
  let one: number | null = null;
  const ratios: string[] = [];
  for (const R of ladder) {
    const seeds = Array.from({ length: R }, (_, r) => 1 + r);
    const ens = await ensembleOf(ctx, setup, data, seeds);
    const sep = await separateOf(ctx, setup, data, seeds);
    try {
      const verdict = await check(ctx, setup, ens, sep, seeds, cpu);
      const flops = R * STEP_FLOPS;
      const bytes = R * (SEED_B * 784 * 4 + 2 * P * 4);
      const shape = `784-50-50-10 B50 x${R}`;
      const base = (variant: string): Row => ({ kernel: 'ensemble_step', variant, shape, ms: null, wallMs: null, timer: '-', flops, bytes, gflops: null, gbs: null, peakPct: null, bound: '-', check: verdict });
      if (!verdict.startsWith('ok') || env.opts.validateOnly) {
        env.emit(base(`R=${R} ensemble`));
        continue;
      }
      const timed: { t: Trained; name: string }[] = [{ t: ens, name: `R=${R} ensemble` }, { t: sep, name: `R=${R} separate runs` }];
      const rows: Row[] = [];
      for (const { t, name } of timed) {
        t.reset();
        const tm = await env.time(t.encode, { maxCalls: Math.max(1, Math.floor(3000 / t.dispatches)) });
        const { peakPct, bound } = env.roofline(flops, bytes, t.dispatches, tm.ms);
        rows.push({
          ...base(name), ms: tm.ms, wallMs: tm.wallMs, timer: tm.timer, gflops: flops / (tm.ms * 1e6), gbs: bytes / (tm.ms * 1e6), peakPct, bound,
          samples: { gpu: tm.gpuSamples, wall: tm.wallSamples, calls: tm.calls },
        });
      }
      ens.reset();
      sep.reset();
      const p = await paired(sgdscopeTimer(ctx, ens.encode), sgdscopeTimer(ctx, sep.encode), {
        targetMs: env.opts.targetMs, repeats: env.opts.repeats, maxCallsA: Math.floor(3000 / ens.dispatches), maxCallsB: Math.max(1, Math.floor(3000 / sep.dispatches)),
      });
      ens.reset();
      sep.reset();
      for (const [j, wall] of [p.aMs, p.bMs].entries()) {
        rows[j].wallMs = wall;
        rows[j].perSecond = (1000 * R) / wall;
        rows[j].note = `${fmt((1000 * R) / wall)} replica-steps/s, ${fmt(1000 / wall)} steps/s per replica (paired wall time)`;
      }
      const ratio = p.ratio;
      rows[0].vsPeer = { peer: `${R} separate`, ratio, basis: 'wall' };
      for (const r of rows) env.emit(r);
      one ??= rows[0].perSecond!;
      ratios.push(`R=${R}: ${fmt(rows[0].perSecond!)} replica-steps/s = ${fmt(rows[0].perSecond! / one)}× R=1, ${fmt(ratio)}× ${R} separate runs`);
      env.log(`  R=${R}: ensemble ${rows[0].note}; separate ${rows[1].note}; ensemble/separate ${fmt(ratio)}×`);
    } finally {
      ens.destroy();
      sep.destroy();
    }
  }
  data.x.destroy();
  data.y.destroy();
  if (ratios.length) env.note(`ensemble ladder (wall time, replica-steps/s): ${ratios.join('; ')}`);
}
