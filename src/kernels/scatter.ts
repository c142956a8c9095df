/**
 * shaders/scatter.wgsl: block-wise scatter matrix S = Σ (w_t − μ)(w_t − μ)ᵀ of row vectors,
 * centred on a reference and merged Chan-style (see the shader's header), plus the column
 * statistics (mean, centred sum of squares, LS slope) and centring/detrending they rely on.
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, groups, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';

interface ScatterUniforms {
  rows: number;
  cols: number;
  row0: number;
  detrend: number;
  beta: number;
  coef: number;
  frac: number;
}

const ZERO: ScatterUniforms = { rows: 0, cols: 0, row0: 0, detrend: 0, beta: 0, coef: 0, frac: 0 };

export class ScatterKernels {
  private constructor(
    readonly stats: Kernel,
    readonly centerK: Kernel,
    readonly accumulateK: Kernel,
    readonly mergeMeanK: Kernel,
    readonly diagonalK: Kernel,
    readonly tile: number,
  ) {}

  /**
   * `reg`: register tile side of accumulate (TM = TN, default 8), `wg`: threads per side of its
   * square workgroup (default 4): each workgroup covers a (wg·reg)² tile of S.
   */
  static async create(ctx: GpuContext, opts: { reg?: number; wg?: number } = {}): Promise<ScatterKernels> {
    const reg = opts.reg ?? 8;
    const wg = opts.wg ?? 4;
    const template = { TM: reg, TN: reg };
    const k = (entry: string, constants: Record<string, number> = {}): Promise<Kernel> =>
      Kernel.create(ctx, { shader: 'scatter', entry, constants, template, label: `scatter.${entry}${entry === 'accumulate' ? `.${reg}x${reg}.${wg}x${wg}` : ''}` });
    const tile = reg * wg;
    const [a, b, c, d, e] = await Promise.all([
      k('column_stats'),
      k('center'),
      k('accumulate', { WG_T: wg }),
      k('merge_mean'),
      k('diagonal'),
    ]);
    return new ScatterKernels(a, b, c, d, e, tile);
  }

  /** x (≥ row0 + R, P), ref (P,), stats (3P,) out. */
  bindStats(b: { x: BufferResource; ref_row: BufferResource; stats: BufferResource }): GPUBindGroup {
    return this.stats.bindGroup(b);
  }

  encodeStats(batch: GpuBatch, bg: GPUBindGroup, s: { rows: number; cols: number; row0: number }): void {
    batch.dispatch(this.stats, bg, { ...ZERO, ...s }, [groups(s.cols, this.stats.workgroupSize[0])]);
  }

  /** d (R, P) = x rows − ref − mean (− slope·(t − t̄) when detrend = 1). */
  bindCenter(b: { x: BufferResource; ref_row: BufferResource; stats_in: BufferResource; d: BufferResource }): GPUBindGroup {
    return this.centerK.bindGroup(b);
  }

  encodeCenter(batch: GpuBatch, bg: GPUBindGroup, s: { rows: number; cols: number; row0: number; detrend: boolean }): void {
    const n = s.rows * s.cols;
    batch.dispatch(this.centerK, bg, { ...ZERO, rows: s.rows, cols: s.cols, row0: s.row0, detrend: s.detrend ? 1 : 0 }, [
      Math.min(groups(n, this.centerK.workgroupSize[0]), 4096),
    ]);
  }

  /** s ← beta·s + d_inᵀ·d_in + coef·(stats_in mean − mean_run)(…)ᵀ. */
  bindAccumulate(b: { d_in: BufferResource; stats_in: BufferResource; mean_run: BufferResource; s: BufferResource }): GPUBindGroup {
    return this.accumulateK.bindGroup(b);
  }

  encodeAccumulate(batch: GpuBatch, bg: GPUBindGroup, s: { rows: number; cols: number; beta: number; coef: number }): void {
    const t = groups(s.cols, this.tile);
    batch.dispatch(this.accumulateK, bg, { ...ZERO, rows: s.rows, cols: s.cols, beta: s.beta, coef: s.coef }, [t, t]);
  }

  bindMergeMean(b: { stats_in: BufferResource; mean_run: BufferResource }): GPUBindGroup {
    return this.mergeMeanK.bindGroup(b);
  }

  encodeMergeMean(batch: GpuBatch, bg: GPUBindGroup, s: { cols: number; frac: number }): void {
    batch.dispatch(this.mergeMeanK, bg, { ...ZERO, cols: s.cols, frac: s.frac }, [groups(s.cols, this.mergeMeanK.workgroupSize[0])]);
  }

  bindDiagonal(b: { s: BufferResource; diag: BufferResource }): GPUBindGroup {
    return this.diagonalK.bindGroup(b);
  }

  encodeDiagonal(batch: GpuBatch, bg: GPUBindGroup, s: { cols: number }): void {
    batch.dispatch(this.diagonalK, bg, { ...ZERO, cols: s.cols }, [groups(s.cols, this.diagonalK.workgroupSize[0])]);
  }
}
