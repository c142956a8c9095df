/**
 * The scatter matrix S = Σ_t (w_t − μ)(w_t − μ)ᵀ of the rows of a (T, P) GPU buffer, accumulated
 * block by block as the rows arrive (shaders/scatter.wgsl: centred on a reference row, blocks
 * merged with Chan's pairwise update), and the whole-window variants (centred or linearly
 * detrended copy of the window, its column statistics).
 *
 * Typical use while training: every `blockRows` recorded snapshots, encodeBlock(batch, row0, R) in
 * the same command buffer as the training steps; after the window, read the mean (r + m), the
 * trace and use `s` as the operator of the eigensolver (covariance = S/(T − 1)).
 */
import type { GpuContext } from '../../gpu/device.ts';
import type { GpuBatch } from '../../gpu/batch.ts';
import type { BufferResource } from '../../gpu/kernel.ts';
import { createStorage, readF32 } from '../../gpu/buffers.ts';
import { ScatterKernels } from '../../kernels/scatter.ts';

export class GpuScatter {
  readonly stats: GPUBuffer;
  readonly d: GPUBuffer;
  readonly s: GPUBuffer;
  readonly meanRun: GPUBuffer;
  readonly diag: GPUBuffer;
  /** Rows merged so far. */
  n = 0;
  private readonly bgStats: GPUBindGroup;
  private readonly bgCenter: GPUBindGroup;
  private readonly bgAccumulate: GPUBindGroup;
  private readonly bgMerge: GPUBindGroup;
  private readonly bgDiag: GPUBindGroup;

  constructor(
    readonly ctx: GpuContext,
    readonly kernels: ScatterKernels,
    readonly x: GPUBuffer,
    readonly ref: BufferResource,
    readonly P: number,
    readonly blockRows: number,
    label = 'scatter',
  ) {
    const maxBinding = ctx.device.limits.maxStorageBufferBindingSize;
    if (P * P * 4 > maxBinding) {
      throw new Error(`${label}: a ${P}×${P} scatter matrix (${((P * P * 4) / 2 ** 20).toFixed(0)} MiB) exceeds maxStorageBufferBindingSize ${maxBinding}; use the trajectory route`);
    }
    this.stats = createStorage(ctx, `${label}.stats`, 3 * P * 4);
    this.d = createStorage(ctx, `${label}.d`, blockRows * P * 4);
    this.s = createStorage(ctx, `${label}.s`, P * P * 4);
    this.meanRun = createStorage(ctx, `${label}.meanRun`, P * 4);
    this.diag = createStorage(ctx, `${label}.diag`, P * 4);
    const k = kernels;
    this.bgStats = k.bindStats({ x, ref_row: ref, stats: this.stats });
    this.bgCenter = k.bindCenter({ x, ref_row: ref, stats_in: this.stats, d: this.d });
    this.bgAccumulate = k.bindAccumulate({ d_in: this.d, stats_in: this.stats, mean_run: this.meanRun, s: this.s });
    this.bgMerge = k.bindMergeMean({ stats_in: this.stats, mean_run: this.meanRun });
    this.bgDiag = k.bindDiagonal({ s: this.s, diag: this.diag });
  }

  static async create(ctx: GpuContext, x: GPUBuffer, ref: BufferResource, P: number, blockRows: number, label?: string): Promise<GpuScatter> {
    return new GpuScatter(ctx, await ScatterKernels.create(ctx), x, ref, P, blockRows, label);
  }

  /** Merges rows row0 .. row0 + rows − 1 of x (rows ≤ blockRows). */
  encodeBlock(batch: GpuBatch, row0: number, rows: number): void {
    if (!(rows >= 1 && rows <= this.blockRows)) throw new Error(`GpuScatter.encodeBlock: rows must be in [1, ${this.blockRows}], got ${rows}`);
    const P = this.P;
    const k = this.kernels;
    const nA = this.n;
    const n = nA + rows;
    k.encodeStats(batch, this.bgStats, { rows, cols: P, row0 });
    k.encodeCenter(batch, this.bgCenter, { rows, cols: P, row0, detrend: false });
    k.encodeAccumulate(batch, this.bgAccumulate, { rows, cols: P, beta: nA > 0 ? 1 : 0, coef: nA > 0 ? (nA * rows) / n : 0 });
    k.encodeMergeMean(batch, this.bgMerge, { cols: P, frac: rows / n });
    this.n = n;
  }

  encodeDiagonal(batch: GpuBatch): void {
    this.kernels.encodeDiagonal(batch, this.bgDiag, { cols: this.P });
  }

  /** Mean of the rows merged so far, m = mean of (row − ref), in float64 (add the reference). */
  async readMeanOffset(): Promise<Float32Array> {
    return readF32(this.ctx, this.meanRun, 0, this.P);
  }

  async readScatter(): Promise<Float32Array> {
    return readF32(this.ctx, this.s, 0, this.P * this.P);
  }

  /** trace S (after encodeDiagonal was submitted), summed in float64. */
  async readTrace(): Promise<number> {
    const d = await readF32(this.ctx, this.diag, 0, this.P);
    let t = 0;
    for (let i = 0; i < d.length; i++) t += d[i];
    return t;
  }
}

/** Column statistics of a whole (T, P) window relative to a reference row, read back. */
export interface WindowStats {
  /** mean of (x − ref) per column. */
  mean: Float32Array;
  /** Σ_t (x − ref − mean)² per column. */
  ss: Float32Array;
  /** LS slope per step per column. */
  slope: Float32Array;
  T: number;
  P: number;
}

/**
 * The centred (or detrended) window D (T, P) = x − ref − mean (− slope·(t − t̄)), written to `out`,
 * plus its column statistics. `stats` receives [mean | ss | slope] (3P floats).
 */
export function encodeCenteredWindow(
  batch: GpuBatch,
  k: ScatterKernels,
  b: { x: GPUBuffer; ref: BufferResource; stats: GPUBuffer; out: GPUBuffer },
  T: number,
  P: number,
  detrend: boolean,
): void {
  k.encodeStats(batch, k.bindStats({ x: b.x, ref_row: b.ref, stats: b.stats }), { rows: T, cols: P, row0: 0 });
  k.encodeCenter(batch, k.bindCenter({ x: b.x, ref_row: b.ref, stats_in: b.stats, d: b.out }), { rows: T, cols: P, row0: 0, detrend });
}

export async function readWindowStats(ctx: GpuContext, stats: GPUBuffer, T: number, P: number): Promise<WindowStats> {
  const all = await readF32(ctx, stats, 0, 3 * P);
  return { mean: all.slice(0, P), ss: all.slice(P, 2 * P), slope: all.slice(2 * P, 3 * P), T, P };
}

/** Σ_p ss_p (centred) or Σ_p (ss_p − slope_p²·Stt) (detrended): the squared Frobenius norm of D. */
export function windowSumOfSquares(w: WindowStats, detrended: boolean): number {
  const stt = (w.T * (w.T * w.T - 1)) / 12;
  let s = 0;
  for (let p = 0; p < w.P; p++) s += detrended ? Math.max(0, w.ss[p] - w.slope[p] * w.slope[p] * stt) : w.ss[p];
  return s;
}
