/**
 * shaders/layer_stats.wgsl: per layer, the pre-activation Gram matrix of M inputs in each of S
 * networks (and y = φ(h)), and the backpropagated δ = φ'(h)·g with its squared length.
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';

/** Activations of the statistics kernel, with the codes of its ACT override. */
export type StatsActivation = 'identity' | 'relu' | 'tanh' | 'erf';
export const STATS_ACTIVATIONS: readonly StatsActivation[] = ['identity', 'relu', 'tanh', 'erf'];

/** Floats per network in one layer's statistics: [G (M, M) | P (M,) | D (M,)]. */
export function statsStride(m: number): number {
  return m * m + 2 * m;
}

export interface StatsShape {
  m: number;
  n: number;
  nets: number;
  hOffset: number;
  statsOffset: number;
}

export class LayerStats {
  private constructor(readonly gramKernel: Kernel, readonly deltaKernel: Kernel, readonly act: StatsActivation) {}

  static async create(ctx: GpuContext, opts: { act: StatsActivation; label?: string }): Promise<LayerStats> {
    const code = STATS_ACTIVATIONS.indexOf(opts.act);
    if (code < 0) throw new Error(`layer_stats: activation must be one of ${STATS_ACTIVATIONS.join(', ')}, got '${opts.act}'`);
    const make = (entry: 'gram' | 'delta'): Promise<Kernel> =>
      Kernel.create(ctx, { shader: 'layer_stats', entry, label: `${opts.label ?? 'layer_stats'}.${entry}.${opts.act}`, constants: { ACT: code } });
    const [g, d] = await Promise.all([make('gram'), make('delta')]);
    return new LayerStats(g, d, opts.act);
  }

  bindGram(b: { h: BufferResource; y: BufferResource; stats: BufferResource }, label?: string): GPUBindGroup {
    return this.gramKernel.bindGroup(b, label);
  }

  bindDelta(b: { h: BufferResource; g: BufferResource; stats: BufferResource }, label?: string): GPUBindGroup {
    return this.deltaKernel.bindGroup(b, label);
  }

  private static uniforms(s: StatsShape, deriv: boolean) {
    return { m: s.m, n: s.n, h_offset: s.hOffset, stats_offset: s.statsOffset, stats_stride: statsStride(s.m), deriv: deriv ? 1 : 0 };
  }

  encodeGram(batch: GpuBatch, bg: GPUBindGroup, s: StatsShape): void {
    batch.dispatch(this.gramKernel, bg, LayerStats.uniforms(s, false), [s.m, s.m, s.nets]);
  }

  /** deriv false: δ = g as given (the readout), only its length is measured. */
  encodeDelta(batch: GpuBatch, bg: GPUBindGroup, s: StatsShape, deriv: boolean): void {
    batch.dispatch(this.deltaKernel, bg, LayerStats.uniforms(s, deriv), [s.m, 1, s.nets]);
  }
}
