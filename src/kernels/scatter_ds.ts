/**
 * shaders/scatter_ds.wgsl: the scatter matrix S = Σ_t (x_t − μ)(x_t − μ)ᵀ of float32 rows in
 * double-single arithmetic (S = s_hi + s_lo, ~48 significant bits), and the arithmetic self-test
 * (probe) that tells whether this device's fma is fused and its additions are IEEE (see the
 * shader's header).
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, groups, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';

const ZERO = { rows: 0, cols: 0, row0: 0, first: 0, n: 0 };

export interface ScatterDsOptions {
  /** fma is fused on this device (the fast exact product); false: Dekker's split. */
  exactFma: boolean;
  /** Register tile side (TM = TN, default 4) and threads per workgroup side (default 4). */
  reg?: number;
  wg?: number;
}

export class ScatterDsKernels {
  private constructor(
    readonly accumulateK: Kernel,
    readonly probeK: Kernel,
    readonly tile: number,
    readonly exactFma: boolean,
  ) {}

  static async create(ctx: GpuContext, o: ScatterDsOptions): Promise<ScatterDsKernels> {
    const reg = o.reg ?? 4;
    const wg = o.wg ?? 4;
    const template = { TM: reg, TN: reg };
    const k = (entry: string, constants: Record<string, number | boolean>): Promise<Kernel> =>
      Kernel.create(ctx, { shader: 'scatter_ds', entry, constants, template, label: `scatter_ds.${entry}${o.exactFma ? '.fma' : '.dekker'}${entry === 'accumulate' ? `.${reg}x${reg}.${wg}x${wg}` : ''}` });
    const [acc, probe] = await Promise.all([k('accumulate', { WG_T: wg, EXACT_FMA: o.exactFma }), k('probe', { EXACT_FMA: o.exactFma })]);
    return new ScatterDsKernels(acc, probe, reg * wg, o.exactFma);
  }

  /** x (T, P) rows, ref_row (P,) = float32(μ), mean_lo (P,) = float32(μ − ref_row), s_hi/s_lo (P, P). */
  bindAccumulate(b: { x: BufferResource; ref_row: BufferResource; mean_lo: BufferResource; s_hi: BufferResource; s_lo: BufferResource }): GPUBindGroup {
    return this.accumulateK.bindGroup(b);
  }

  /** S ← [S +] Σ over rows row0 .. row0 + rows − 1 (first: overwrite S). */
  encodeAccumulate(batch: GpuBatch, bg: GPUBindGroup, s: { rows: number; cols: number; row0: number; first: boolean }): void {
    const t = groups(s.cols, this.tile);
    batch.dispatch(this.accumulateK, bg, { ...ZERO, rows: s.rows, cols: s.cols, row0: s.row0, first: s.first ? 1 : 0 }, [t, t]);
  }

  /** probe_in (2n,) pairs (a, b); probe_out (4n,) = p, error of p, s = a + b, error of s. */
  bindProbe(b: { probe_in: BufferResource; probe_out: BufferResource }): GPUBindGroup {
    return this.probeK.bindGroup(b);
  }

  encodeProbe(batch: GpuBatch, bg: GPUBindGroup, n: number): void {
    batch.dispatch(this.probeK, bg, { ...ZERO, n }, [groups(n, this.probeK.workgroupSize[0])]);
  }
}
