/**
 * The noise-lab kernels (src/kernels/{per_sample_grad,scatter,probe_loss}.ts), at the seed
 * experiment's sizes: the analysed layer is the hidden 50×50 block (P = 2500), batches of 50, the
 * 8000-row training split. A kernel that fails is reported as a skipped row with the reason.
 *
 *   per_sample_grad.materialize  G (M, P) = a_n ⊗ δ_n.     FLOP = M·P         bytes = 4·(M·K + M·N + M·P)
 *   per_sample_grad.project      S (M, J) = G·Vᵀ (G never formed).
 *                                FLOP = 2·M·J·P (as the shader states it)   bytes = 4·(M·K + M·N + J·P + M·J)
 *   scatter.column_stats         mean, centred SS, LS slope of R rows × P.  FLOP ≈ 8·R·P   bytes = 4·(R·P + P + 3·P)
 *   scatter.center               d = x − r − mean.                          FLOP = 2·R·P   bytes = 4·(2·R·P + 4·P)
 *   scatter.accumulate           S ← S + Dᵀ·D (+ coef·δδᵀ), upper triangle of workgroup tiles mirrored.
 *                                FLOP = R·P·(P + 1) (the unique half, 2 per multiply-add)
 *                                bytes = 4·(R·P + 2·P²)   (D read, S read and written)
 *   probe_loss.perturb           Y (Q·M, N) = act(Z0 + θ_q·U_dir).          FLOP = 3·Q·M·N   bytes = 4·(2·Q·M·N + M·N)
 *   probe_loss.loss              per-row CE of (Q·M, C) logits + per-probe partial sums.
 *                                FLOP ≈ 5·Q·M·C   bytes = 4·(Q·M·C + Q·M + M)
 */
import type { GpuContext } from '../../src/gpu/device.ts';
import type { GpuBatch as Batch } from '../../src/gpu/batch.ts';
import type { BufferResource } from '../../src/gpu/kernel.ts';
import { createStorage, readF32, writeBuffer } from '../../src/gpu/buffers.ts';
import { GpuBatch } from '../../src/gpu/batch.ts';
import { runCase, type BenchEnv } from '../core/env.ts';
import { combine, compare, randomArray } from '../core/check.ts';
import * as perSampleGrad from '../../src/kernels/per_sample_grad.ts';
import * as perSampleGradRef from '../../src/kernels/per_sample_grad.ref.ts';
import * as scatterKernels from '../../src/kernels/scatter.ts';
import * as scatterRef from '../../src/kernels/scatter.ref.ts';
import * as probeLoss from '../../src/kernels/probe_loss.ts';
import * as probeLossRef from '../../src/kernels/probe_loss.ref.ts';

// The parts of the noise-lab kernel modules used here.
type B = Record<string, BufferResource>;
interface Encodable<S> {
  bind(b: B): GPUBindGroup;
  encode(batch: Batch, bg: GPUBindGroup, s: S): void;
}
interface PerSampleModule {
  PerSampleMaterialize: { create(ctx: GpuContext, o: { bias: boolean }): Promise<Encodable<{ m: number; k: number; n: number }>> };
  PerSampleProject: { create(ctx: GpuContext, o: { bias: boolean; shape?: { m: number; j: number } }): Promise<Encodable<{ m: number; k: number; n: number; j: number }>> };
}
interface PerSampleRef {
  perSampleGradRef(a: ArrayLike<number>, d: ArrayLike<number>, M: number, K: number, N: number, bias: boolean): Float64Array;
  perSampleProjectRef(a: ArrayLike<number>, d: ArrayLike<number>, v: ArrayLike<number>, M: number, K: number, N: number, J: number, bias: boolean): Float64Array;
}
interface ScatterK {
  bindStats(b: B): GPUBindGroup;
  bindCenter(b: B): GPUBindGroup;
  bindAccumulate(b: B): GPUBindGroup;
  encodeStats(batch: Batch, bg: GPUBindGroup, s: { rows: number; cols: number; row0: number }): void;
  encodeCenter(batch: Batch, bg: GPUBindGroup, s: { rows: number; cols: number; row0: number; detrend: boolean }): void;
  encodeAccumulate(batch: Batch, bg: GPUBindGroup, s: { rows: number; cols: number; beta: number; coef: number }): void;
}
interface ScatterModule {
  ScatterKernels: { create(ctx: GpuContext): Promise<ScatterK> };
}
interface ScatterRef {
  columnStatsRef(x: ArrayLike<number>, P: number, row0: number, R: number): { mean: Float64Array; ss: Float64Array; slope: Float64Array };
}
interface ProbeModule {
  ProbePerturb: { create(ctx: GpuContext, o: { act: 'identity' | 'relu' | 'tanh' }): Promise<Encodable<{ m: number; n: number; dirs: number; probes: number }>> };
  ProbeLoss: { create(ctx: GpuContext): Promise<Encodable<{ m: number; classes: number; probes: number }> & { chunks(m: number): number }> };
}
interface ProbeRef {
  probePerturbRef(z0: ArrayLike<number>, u: ArrayLike<number>, p: { dir: number; theta: number }[], M: number, N: number, D: number, act: 'relu'): Float64Array;
  probeLossRef(logits: ArrayLike<number>, labels: ArrayLike<number>, Q: number, M: number, C: number): { rows: Float64Array; means: Float64Array };
}

function skipRow(env: BenchEnv, kernel: string, why: string): void {
  env.emit({
    kernel, variant: '-', shape: '-', ms: null, wallMs: null, timer: '-', flops: 0, bytes: 0,
    gflops: null, gbs: null, peakPct: null, bound: '-', check: `skipped: ${why}`,
  });
}

export async function runNoiseKernels(env: BenchEnv): Promise<void> {
  env.log('\n## noise-lab kernels (per-sample gradients, covariance accumulation, flatness probes) at seed sizes');
  await perSample(env).catch((e) => skipRow(env, 'per_sample_grad', `failed: ${(e as Error).message.split('\n')[0]}`));
  await scatter(env).catch((e) => skipRow(env, 'scatter', `failed: ${(e as Error).message.split('\n')[0]}`));
  await probes(env).catch((e) => skipRow(env, 'probe_loss', `failed: ${(e as Error).message.split('\n')[0]}`));
}

async function perSample(env: BenchEnv): Promise<void> {
  const { ctx } = env;
  const mod: PerSampleModule = perSampleGrad;
  const ref: PerSampleRef = perSampleGradRef;
  const K = 50;
  const N = 50;
  const P = K * N;
  {
    const M = 50;
    const a = randomArray(M * K, 61, 1);
    const delta = randomArray(M * N, 62, 0.5);
    const mat = await mod.PerSampleMaterialize.create(ctx, { bias: false });
    const ab = createStorage(ctx, 'bench.psg.a', a);
    const db = createStorage(ctx, 'bench.psg.delta', delta);
    const gb = createStorage(ctx, 'bench.psg.g', M * P * 4);
    const bg = mat.bind({ a: ab, delta: db, g: gb });
    const s = { m: M, k: K, n: N };
    await runCase(env, {
      kernel: 'per_sample_grad',
      variant: 'materialize',
      shape: `${M}x${P}`,
      flops: M * P,
      bytes: 4 * (M * K + M * N + M * P),
      dispatches: 1,
      encode: (b) => mat.encode(b, bg, s),
      check: async () => {
        const b = new GpuBatch(ctx, 'check');
        mat.encode(b, bg, s);
        b.submit();
        return compare(await readF32(ctx, gb, 0, M * P), ref.perSampleGradRef(a, delta, M, K, N, false), 1e-6, 1e-6, 'G');
      },
    });
  }
  for (const [M, J, why] of [[50, 16, 'per step'], [1000, 32, 'full-set chunk']] as const) {
    const a = randomArray(M * K, 63 + M, 1);
    const delta = randomArray(M * N, 64 + M, 0.5);
    const v = randomArray(J * P, 65 + J, 1 / Math.sqrt(P));
    const proj = await mod.PerSampleProject.create(ctx, { bias: false, shape: { m: M, j: J } });
    const ab = createStorage(ctx, 'bench.psp.a', a);
    const db = createStorage(ctx, 'bench.psp.delta', delta);
    const vb = createStorage(ctx, 'bench.psp.v', v);
    const sb = createStorage(ctx, 'bench.psp.s', M * J * 4);
    const bg = proj.bind({ a: ab, delta: db, v: vb, s: sb });
    const s = { m: M, k: K, n: N, j: J };
    await runCase(env, {
      kernel: 'per_sample_grad',
      variant: `project J=${J} (${why})`,
      shape: `${M}x${P}x${J}`,
      flops: 2 * M * J * P,
      bytes: 4 * (M * K + M * N + J * P + M * J),
      dispatches: 1,
      encode: (b) => proj.encode(b, bg, s),
      check: async () => {
        const b = new GpuBatch(ctx, 'check');
        proj.encode(b, bg, s);
        b.submit();
        const rows = Math.min(M, 100);
        const got = await readF32(ctx, sb, 0, rows * J);
        return compare(got, ref.perSampleProjectRef(a.subarray(0, rows * K), delta.subarray(0, rows * N), v, rows, K, N, J, false), 2e-5, 2e-4, 'S');
      },
    });
  }
}

async function scatter(env: BenchEnv): Promise<void> {
  const { ctx } = env;
  const mod: ScatterModule = scatterKernels;
  const ref: ScatterRef = scatterRef;
  const P = 2500;
  const R = 200;
  const k = await mod.ScatterKernels.create(ctx);
  // Snapshots of a layer: a large mean plus small fluctuations (what the recorder feeds it).
  const base = randomArray(P, 71, 0.3);
  const noise = randomArray(R * P, 72, 1e-3);
  const x = new Float32Array(R * P);
  for (let t = 0; t < R; t++) for (let p = 0; p < P; p++) x[t * P + p] = base[p] + noise[t * P + p];
  const xb = createStorage(ctx, 'bench.sc.x', x);
  const refRow = { buffer: xb, offset: 0, size: P * 4 };
  const stats = createStorage(ctx, 'bench.sc.stats', 3 * P * 4);
  const d = createStorage(ctx, 'bench.sc.d', R * P * 4);
  const s = createStorage(ctx, 'bench.sc.s', P * P * 4);
  const meanRun = createStorage(ctx, 'bench.sc.mean', P * 4);
  const bgStats = k.bindStats({ x: xb, ref_row: refRow, stats });
  const bgCenter = k.bindCenter({ x: xb, ref_row: refRow, stats_in: stats, d });
  const bgAcc = k.bindAccumulate({ d_in: d, stats_in: stats, mean_run: meanRun, s });
  const stRef = ref.columnStatsRef(x, P, 0, R);

  await runCase(env, {
    kernel: 'scatter',
    variant: 'column_stats',
    shape: `${R}x${P}`,
    flops: 8 * R * P,
    bytes: 4 * (R * P + 4 * P),
    dispatches: 1,
    encode: (b) => k.encodeStats(b, bgStats, { rows: R, cols: P, row0: 0 }),
    check: async () => {
      const b = new GpuBatch(ctx, 'check');
      k.encodeStats(b, bgStats, { rows: R, cols: P, row0: 0 });
      b.submit();
      const got = await readF32(ctx, stats, 0, 3 * P);
      // The kernel's statistics are of y = x − ref_row (the first snapshot).
      const meanOffset = Array.from(stRef.mean, (m, p) => m - x[p]);
      return combine([
        compare(got.subarray(0, P), meanOffset, 1e-6, 1e-4, 'mean − ref'),
        compare(got.subarray(P, 2 * P), stRef.ss, 1e-8, 1e-3, 'centred SS'),
      ]);
    },
  });
  await runCase(env, {
    kernel: 'scatter',
    variant: 'center',
    shape: `${R}x${P}`,
    flops: 2 * R * P,
    bytes: 4 * (2 * R * P + 4 * P),
    dispatches: 1,
    encode: (b) => k.encodeCenter(b, bgCenter, { rows: R, cols: P, row0: 0, detrend: false }),
    check: async () => {
      const b = new GpuBatch(ctx, 'check');
      k.encodeStats(b, bgStats, { rows: R, cols: P, row0: 0 });
      k.encodeCenter(b, bgCenter, { rows: R, cols: P, row0: 0, detrend: false });
      b.submit();
      const got = await readF32(ctx, d, 0, R * P);
      const want = new Float64Array(R * P);
      for (let t = 0; t < R; t++) for (let p = 0; p < P; p++) want[t * P + p] = x[t * P + p] - stRef.mean[p];
      return compare(got, want, 1e-6, 1e-3, 'd');
    },
  });
  await runCase(env, {
    kernel: 'scatter',
    variant: 'accumulate (SYRK)',
    shape: `${R}x${P} -> ${P}²`,
    flops: R * P * (P + 1),
    bytes: 4 * (R * P + 2 * P * P),
    dispatches: 1,
    maxCalls: 50,
    encode: (b) => k.encodeAccumulate(b, bgAcc, { rows: R, cols: P, beta: 1, coef: 0 }),
    check: async () => {
      writeBuffer(ctx, s, new Float32Array(P * P).fill(NaN));
      const b = new GpuBatch(ctx, 'check');
      k.encodeStats(b, bgStats, { rows: R, cols: P, row0: 0 });
      k.encodeCenter(b, bgCenter, { rows: R, cols: P, row0: 0, detrend: false });
      k.encodeAccumulate(b, bgAcc, { rows: R, cols: P, beta: 0, coef: 0 });
      b.submit();
      const dv = await readF32(ctx, d, 0, R * P);
      const S = await readF32(ctx, s, 0, P * P);
      // 256 entries (i, j) of Dᵀ·D from the GPU's own D (the centring is checked above), both triangles.
      const got: number[] = [];
      const want: number[] = [];
      let scale = 0;
      for (let q = 0; q < 256; q++) {
        const i = (q * 7919) % P;
        const j = q % 2 ? i : (q * 104729 + 13) % P;
        let acc = 0;
        for (let t = 0; t < R; t++) acc += dv[t * P + i] * dv[t * P + j];
        got.push(S[i * P + j]);
        want.push(acc);
        if (i === j) scale = Math.max(scale, acc);
      }
      return compare(got, want, 1e-5 * scale, 1e-4, 'S entries');
    },
  });
  for (const b of [xb, stats, d, s, meanRun]) b.destroy();
}

async function probes(env: BenchEnv): Promise<void> {
  const { ctx } = env;
  const mod: ProbeModule = probeLoss;
  const ref: ProbeRef = probeLossRef;
  const M = 8000;
  const N = 50;
  const D = 8;
  const Q = 16;
  const C = 10;
  const z0 = randomArray(M * N, 81, 1);
  const u = randomArray(M * D * N, 82, 1);
  const probeList = Array.from({ length: Q }, (_, q) => ({ dir: q % D, theta: (q - Q / 2) * 0.05 }));
  const pdata = Float32Array.from(probeList.flatMap((p) => [p.dir, p.theta]));
  const pert = await mod.ProbePerturb.create(ctx, { act: 'relu' });
  const loss = await mod.ProbeLoss.create(ctx);
  const yb = createStorage(ctx, 'bench.probe.y', Q * M * N * 4);
  const bgP = pert.bind({ z0: createStorage(ctx, 'bench.probe.z0', z0), u: createStorage(ctx, 'bench.probe.u', u), probe: createStorage(ctx, 'bench.probe.p', pdata), y: yb });
  const sp = { m: M, n: N, dirs: D, probes: Q };
  await runCase(env, {
    kernel: 'probe_loss',
    variant: `perturb (Q=${Q}, D=${D})`,
    shape: `${Q}x${M}x${N}`,
    flops: 3 * Q * M * N,
    bytes: 4 * (2 * Q * M * N + M * N),
    dispatches: 1,
    maxCalls: 200,
    encode: (b) => pert.encode(b, bgP, sp),
    check: async () => {
      const b = new GpuBatch(ctx, 'check');
      pert.encode(b, bgP, sp);
      b.submit();
      const rows = 2 * M * N; // the first two probes
      const want = ref.probePerturbRef(z0, u, probeList.slice(0, 2), M, N, D, 'relu');
      return compare(await readF32(ctx, yb, 0, rows), want, 1e-6, 1e-6, 'Y');
    },
  });
  const logits = randomArray(Q * M * C, 83, 3);
  const labels = Uint32Array.from({ length: M }, (_, i) => (i * 3) % C);
  const G = loss.chunks(M);
  const rowsB = createStorage(ctx, 'bench.probe.rows', Q * M * 4);
  const part = createStorage(ctx, 'bench.probe.partial', Q * G * 4);
  const bgL = loss.bind({ logits: createStorage(ctx, 'bench.probe.logits', logits), labels: createStorage(ctx, 'bench.probe.labels', labels), rows: rowsB, partial: part });
  const sl = { m: M, classes: C, probes: Q };
  await runCase(env, {
    kernel: 'probe_loss',
    variant: `loss (Q=${Q})`,
    shape: `${Q}x${M}x${C}`,
    flops: 5 * Q * M * C,
    bytes: 4 * (Q * M * C + Q * M + M),
    dispatches: 1,
    maxCalls: 200,
    encode: (b) => loss.encode(b, bgL, sl),
    check: async () => {
      const b = new GpuBatch(ctx, 'check');
      loss.encode(b, bgL, sl);
      b.submit();
      const want = ref.probeLossRef(logits, labels, Q, M, C);
      const p = await readF32(ctx, part, 0, Q * G);
      const means = Array.from({ length: Q }, (_, q) => p.slice(q * G, (q + 1) * G).reduce((s, x) => s + x, 0) / M);
      return combine([
        compare(await readF32(ctx, rowsB, 0, Q * M), want.rows, 1e-5, 1e-5, 'row losses'),
        compare(means, want.means, 1e-5, 1e-5, 'probe means'),
      ]);
    },
  });
}
