/**
 * Dense layers: the matmul ladder for the fused forward Y = act(X·W), and the two backward matmuls.
 *
 * Shapes are llm.c style M×K×N: X is (M, K), W is (K, N), Y is (M, N). The seed network
 * 784-50-50-10 at batch 50 gives 50×784×50, 50×50×50 (ReLU) and 50×50×10 (identity); then a mid
 * shape 512×784×256 and 1024³ (ReLU).
 *
 *   forward      FLOP = 2·M·K·N                    bytes = 4·(M·K + K·N + M·N)
 *   grad_weight  dW = Xᵀ·dZ (K, N):  FLOP = 2·M·K·N   bytes = 4·(M·K + M·N + K·N)
 *   grad_input   dX = (dZ·Wᵀ) ⊙ act'(X) (M, K):  FLOP = 2·M·K·N (+ M·K for act')
 *                                                  bytes = 4·(M·N + K·N + 2·M·K)   (X read for act')
 *
 * The ladder (select with --variant; the list is bench/ladder.ts, which the kernel lab shares): each
 * rung is a real kernel, validated like the others.
 *   0 naive        one output per thread, 2 loads per FMA          shaders/bench_matmul_naive.wgsl
 *   1 smem tiled   32×32 workgroup tiles staged in workgroup memory, 4×4 micro-tiles in a private
 *                  array (the project's first kernel, git 4e8674f)  shaders/bench_matmul_smem.wgsl
 *   2 reg 4×4      register-blocked, no workgroup memory, 4×4 unrolled scalar tile, 8×8 threads
 *   3 reg 8×8      the same with an 8×8 tile, 4×4 threads
 *   4 reg 16×8     16×8 tile (16×16 threads when the output has ≥ 512×128 entries, else 4×4)
 *   5 auto         what training uses: chooseDenseTiles (src/kernels/dense_tiles.ts) per shape
 *   6 k-unroll     bench only (shaders/bench_matmul_unroll.wgsl): rung 3/4's register tile with the K
 *                  loop unrolled by 4 and the 4 products summed before the accumulator (jax-js's form)
 *   2–5 are shaders/dense_forward.wgsl with different template tiles.
 */
import type { GpuContext } from '../../src/gpu/device.ts';
import { Kernel } from '../../src/gpu/kernel.ts';
import { createStorage, readF32, stubBuffer, writeBuffer } from '../../src/gpu/buffers.ts';
import { GpuBatch } from '../../src/gpu/batch.ts';
import type { DenseShape } from '../../src/kernels/dense_forward.ts';
import { DenseGradInput, DenseGradWeight } from '../../src/kernels/dense_backward.ts';
import { tileKey } from '../../src/kernels/dense_tiles.ts';
import { overrideDecls } from '../../src/gpu/reflect.ts';
import { shaderSource } from '../../src/gpu/shader-source.ts';
import { denseForwardRef } from '../../src/kernels/dense_forward.ref.ts';
import { gradInputRef, gradWeightRef } from '../../src/kernels/dense_backward.ref.ts';
import { activationCode, type Activation } from '../../src/kernels/activation.ts';
import { runCase, type BenchEnv, type KernelCase } from '../core/env.ts';
import { compare, randomArray } from '../core/check.ts';
import type { EncodeCall } from '../core/timing.ts';
import { evalGrid } from '../core/grid.ts';
import { MATMUL_LADDER, ladderListing, problemConstants } from '../ladder.ts';

export interface DenseBenchShape extends DenseShape {
  name: string;
  act: Activation;
}

export const SEED_SHAPES: DenseBenchShape[] = [
  { name: 'seed L1', m: 50, k: 784, n: 50, act: 'relu' },
  { name: 'seed L2', m: 50, k: 50, n: 50, act: 'relu' },
  { name: 'seed L3', m: 50, k: 50, n: 10, act: 'identity' },
];
export const BIG_SHAPES: DenseBenchShape[] = [
  { name: 'mid', m: 512, k: 784, n: 256, act: 'relu' },
  { name: '1024³', m: 1024, k: 1024, n: 1024, act: 'relu' },
];
export const ALL_SHAPES = [...SEED_SHAPES, ...BIG_SHAPES];

export function shapeLabel(s: DenseShape): string {
  return `${s.m}x${s.k}x${s.n}`;
}

/** Rung names, in ladder order (bench/ladder.ts is the list). */
export const LADDER = MATMUL_LADDER.map((r) => r.name);

/** A compiled forward kernel of one rung with how to dispatch it. */
export interface ForwardVariant {
  rung: number;
  label: string;
  kernel: Kernel;
  grid(s: DenseShape): [number, number, number];
}

export async function forwardVariant(ctx: GpuContext, rung: number, s: DenseShape, act: Activation): Promise<ForwardVariant> {
  const r = MATMUL_LADDER[rung];
  const { template, constants: free, label } = r.setup(s);
  const declared = overrideDecls(shaderSource(r.shader)).map((d) => d.name);
  const constants = { ...free, ...problemConstants(declared, activationCode(act), false) };
  // Named by content, so two rungs that are the same kernel at a shape (auto = reg 8x8) share it.
  const key = Object.entries({ ...template, ...constants }).map(([k, v]) => `${k}${Number(v)}`).join('.');
  const kernel = await Kernel.create(ctx, { shader: r.shader, entry: r.entry, template, constants, label: `bench.${r.shader}.${key}` });
  const vars = { ...template, ...constants, wg_x: kernel.workgroupSize[0], wg_y: kernel.workgroupSize[1], wg_z: kernel.workgroupSize[2] };
  const limit = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  return { rung, label: `${rung}: ${label}`, kernel, grid: (t) => evalGrid(r.grid, { ...vars, M: t.m, K: t.k, N: t.n }, limit) };
}

/** Inputs, output and the CPU reference (on sampled rows for big shapes) of one forward shape. */
export class ForwardData {
  readonly xb: GPUBuffer;
  readonly wb: GPUBuffer;
  readonly yb: GPUBuffer;
  readonly rows: number[];
  private refCache: Float64Array | null = null;

  constructor(readonly ctx: GpuContext, readonly s: DenseBenchShape, readonly x: Float32Array, readonly w: Float32Array) {
    this.xb = createStorage(ctx, `bench.x.${shapeLabel(s)}`, x);
    this.wb = createStorage(ctx, `bench.w.${shapeLabel(s)}`, w);
    this.yb = createStorage(ctx, `bench.y.${shapeLabel(s)}`, s.m * s.n * 4);
    // All rows up to 64; beyond, 64 rows spread over the matrix, first and last included.
    const R = Math.min(s.m, 64);
    this.rows = Array.from({ length: R }, (_, i) => (R === 1 ? 0 : Math.round((i * (s.m - 1)) / (R - 1))));
  }

  static create(ctx: GpuContext, s: DenseBenchShape): ForwardData {
    const x = randomArray(s.m * s.k, 11 + s.k, 1);
    const w = randomArray(s.k * s.n, 13 + s.n, 1 / Math.sqrt(s.k));
    return new ForwardData(ctx, s, x, w);
  }

  /** Y rows `rows` from the reference (the spec in src/kernels/dense_forward.ref.ts). */
  ref(): Float64Array {
    if (this.refCache) return this.refCache;
    const { s } = this;
    const xs = new Float32Array(this.rows.length * s.k);
    this.rows.forEach((r, i) => xs.set(this.x.subarray(r * s.k, (r + 1) * s.k), i * s.k));
    this.refCache = denseForwardRef(xs, this.w, this.rows.length, s.k, s.n, s.act, false);
    return this.refCache;
  }

  /** Reads the sampled rows of Y. */
  async readRows(): Promise<Float32Array> {
    const { s } = this;
    const y = await readF32(this.ctx, this.yb, 0, s.m * s.n);
    const out = new Float32Array(this.rows.length * s.n);
    this.rows.forEach((r, i) => out.set(y.subarray(r * s.n, (r + 1) * s.n), i * s.n));
    return out;
  }

  async checkAfter(run: () => void | Promise<void>): Promise<ReturnType<typeof compare>> {
    writeBuffer(this.ctx, this.yb, new Float32Array(this.s.m * this.s.n).fill(NaN));
    await run();
    return compare(await this.readRows(), this.ref(), 1e-4, 1e-4, `Y ${shapeLabel(this.s)}`);
  }

  destroy(): void {
    this.xb.destroy();
    this.wb.destroy();
    this.yb.destroy();
  }
}

export function forwardCost(s: DenseShape): { flops: number; bytes: number } {
  return { flops: 2 * s.m * s.k * s.n, bytes: 4 * (s.m * s.k + s.k * s.n + s.m * s.n) };
}

/** Encodes one forward of a rung on `data`. */
export function forwardEncoder(v: ForwardVariant, data: ForwardData): EncodeCall {
  // Bindings the rung's shader declares beyond x, w, y (dense_forward's x4 view and row indices,
  // unused with its X4 and INDEXED overrides off) get a stub.
  const given: Record<string, GPUBuffer> = { x: data.xb, w: data.wb, y: data.yb };
  for (const name of v.kernel.bufferNames) given[name] ??= stubBuffer(data.ctx);
  const bg = v.kernel.bindGroup(given);
  const s = data.s;
  const grid = v.grid(s);
  // The ladder's contract is { m, k, n }; dense_forward's replica strides and index offsets are 0
  // for one network.
  const u: Record<string, number> = { m: s.m, k: s.k, n: s.n };
  for (const f of v.kernel.reflection.uniform?.layout.fields ?? []) u[f.name] ??= 0;
  return (b: GpuBatch) => b.dispatch(v.kernel, bg, u, grid);
}

function slowRung(rung: number, s: DenseShape, env: BenchEnv): string | null {
  // The naive and smem rungs at 1024³ take seconds per call on a software adapter (the same code is
  // checked at the four other shapes); they run, checked and timed, when asked for with --variant.
  if (env.opts.variants !== null) return null;
  if (s.m * s.k * s.n >= 1024 ** 3 && rung <= 1 && env.ctx.isSoftware) return 'skipped: > 1 s per call on a software adapter (ask with --variant 0,1)';
  return null;
}

export async function runMatmulLadder(env: BenchEnv): Promise<void> {
  const { ctx } = env;
  env.log('\n## dense forward Y = act(X·W): the matmul ladder (FLOP 2·M·K·N, bytes 4·(MK + KN + MN))');
  const rungs = env.opts.variants ?? LADDER.map((_, i) => i);
  for (const s of ALL_SHAPES) {
    const data = ForwardData.create(ctx, s);
    const { flops, bytes } = forwardCost(s);
    for (const rung of rungs) {
      if (rung < 0 || rung >= LADDER.length) throw new Error(`--variant ${rung}: the ladder has rungs 0..${LADDER.length - 1} (${ladderListing()})`);
      const skip = slowRung(rung, s, env);
      const v = await forwardVariant(ctx, rung, s, s.act);
      const encode = forwardEncoder(v, data);
      if (skip) {
        env.emit({
          kernel: 'dense_forward', variant: v.label, shape: shapeLabel(s), ms: null, wallMs: null, timer: '-', flops, bytes,
          gflops: null, gbs: null, peakPct: null, bound: '-', check: skip,
        });
        continue;
      }
      const c: KernelCase = {
        kernel: 'dense_forward',
        variant: v.label,
        shape: shapeLabel(s),
        flops,
        bytes,
        dispatches: 1,
        encode,
        maxCalls: 2000,
        check: () =>
          data.checkAfter(async () => {
            const b = new GpuBatch(ctx, 'check');
            encode(b, 0);
            b.submit();
          }),
      };
      await runCase(env, c);
    }
    data.destroy();
  }
}

/** The backward matmuls of the dense layer (production tiles), at the seed shapes and the big ones. */
export async function runDenseBackward(env: BenchEnv): Promise<void> {
  const { ctx } = env;
  env.log('\n## dense backward: grad_weight dW = Xᵀ·dZ, grad_input dX = (dZ·Wᵀ) ⊙ act\'(X) (FLOP 2·M·K·N)');
  for (const s of ALL_SHAPES) {
    const shape = shapeLabel(s);
    const x = randomArray(s.m * s.k, 17 + s.k, 1).map((v) => Math.max(v, 0)); // post-ReLU activations
    const w = randomArray(s.k * s.n, 19 + s.n, 1 / Math.sqrt(s.k));
    const dz = randomArray(s.m * s.n, 23 + s.m, 0.1);
    const xb = createStorage(ctx, 'bench.bw.x', x);
    const wb = createStorage(ctx, 'bench.bw.w', w);
    const dzb = createStorage(ctx, 'bench.bw.dz', dz);
    const dwb = createStorage(ctx, 'bench.bw.dw', s.k * s.n * 4);
    const dxb = createStorage(ctx, 'bench.bw.dx', s.m * s.k * 4);
    const big = s.m * s.k * s.n > 1e8;

    // grad_weight: rows of dW sampled for the big shapes (rows of dW are input features).
    const gw = await DenseGradWeight.create(ctx, { bias: false, shape: s });
    const gwBg = gw.bind({ x: xb, dz: dzb, dw: dwb });
    const gwEnc: EncodeCall = (b) => gw.encode(b, gwBg, s);
    await runCase(env, {
      kernel: 'dense_grad_weight',
      variant: `auto ${tileKey(gw.tiles)}`,
      shape,
      flops: 2 * s.m * s.k * s.n,
      bytes: 4 * (s.m * s.k + s.m * s.n + s.k * s.n),
      dispatches: 1,
      encode: gwEnc,
      check: async () => {
        writeBuffer(ctx, dwb, new Float32Array(s.k * s.n).fill(NaN));
        const b = new GpuBatch(ctx, 'check');
        gwEnc(b, 0);
        b.submit();
        const got = await readF32(ctx, dwb, 0, s.k * s.n);
        if (!big) return compare(got, gradWeightRef(x, dz, s.m, s.k, s.n, false), 1e-4, 1e-4, 'dW');
        // Columns of X for 64 sampled features: the reference on that slice.
        const feats = Array.from({ length: 64 }, (_, i) => Math.round((i * (s.k - 1)) / 63));
        const xs = new Float32Array(s.m * feats.length);
        for (let r = 0; r < s.m; r++) feats.forEach((f, j) => (xs[r * feats.length + j] = x[r * s.k + f]));
        const ref = gradWeightRef(xs, dz, s.m, feats.length, s.n, false);
        const g = new Float32Array(feats.length * s.n);
        feats.forEach((f, j) => g.set(got.subarray(f * s.n, (f + 1) * s.n), j * s.n));
        return compare(g, ref, 1e-4, 1e-4, 'dW (64 sampled rows)');
      },
    });

    // grad_input (ReLU' of the previous layer's output fused).
    const gi = await DenseGradInput.create(ctx, { prevAct: 'relu', shape: s });
    const giBg = gi.bind({ x: xb, w: wb, dz: dzb, dx: dxb });
    const giEnc: EncodeCall = (b) => gi.encode(b, giBg, s);
    await runCase(env, {
      kernel: 'dense_grad_input',
      variant: `auto ${tileKey(gi.tiles)}`,
      shape,
      flops: 2 * s.m * s.k * s.n,
      bytes: 4 * (s.m * s.n + s.k * s.n + 2 * s.m * s.k),
      dispatches: 1,
      encode: giEnc,
      note: s.name === 'seed L1' ? 'not part of an SGD step (the input layer needs no dX)' : undefined,
      check: async () => {
        writeBuffer(ctx, dxb, new Float32Array(s.m * s.k).fill(NaN));
        const b = new GpuBatch(ctx, 'check');
        giEnc(b, 0);
        b.submit();
        const got = await readF32(ctx, dxb, 0, s.m * s.k);
        const rows = big ? Array.from({ length: 32 }, (_, i) => Math.round((i * (s.m - 1)) / 31)) : Array.from({ length: s.m }, (_, i) => i);
        const xs = new Float32Array(rows.length * s.k);
        const dzs = new Float32Array(rows.length * s.n);
        const g = new Float32Array(rows.length * s.k);
        rows.forEach((r, i) => {
          xs.set(x.subarray(r * s.k, (r + 1) * s.k), i * s.k);
          dzs.set(dz.subarray(r * s.n, (r + 1) * s.n), i * s.n);
          g.set(got.subarray(r * s.k, (r + 1) * s.k), i * s.k);
        });
        return compare(g, gradInputRef(xs, w, dzs, rows.length, s.k, s.n, 'relu'), 1e-4, 1e-4, big ? 'dX (32 sampled rows)' : 'dX');
      },
    });
    for (const b of [xb, wb, dzb, dwb, dxb]) b.destroy();
  }
}
