/**
 * shaders/jvp.wgsl: the pieces of a Jacobian–vector-product pass through random networks that
 * dense_forward.wgsl does not do — the layer's weight block (Gaussian from Threefry, or Haar
 * orthogonal by Householder products of Threefry draws) and the per-row step between two
 * products (φ of the primal rows, φ'(h) ⊙ t of the tangent rows, and their squared lengths).
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';

/** φ of the prep step, with the codes of its ACT override (those of dense_forward.wgsl). */
export type JvpActivation = 'identity' | 'relu' | 'tanh';
export const JVP_ACTIVATIONS: readonly JvpActivation[] = ['identity', 'relu', 'tanh'];

const WG = 64;

/** Shapes and strides of one pass (every network's blocks at s·stride, strides in floats). */
export interface JvpShape {
  /** N: width. */
  n: number;
  /** S: networks. */
  nets: number;
  /** P: primal rows per network. */
  pRows: number;
  /** T: tangent rows per network (a multiple of P: row r moves with primal row ⌊r/(T/P)⌋). */
  tRows: number;
  hStride: number;
  tStride: number;
  wStride: number;
}

/** The draws of one layer: key (seed + s, layer); scaleW for rows k < N, scaleB for the bias row. */
export interface JvpDraw {
  seed: number;
  layer: number;
  scaleW: number;
  scaleB: number;
}

/** Floats rounded up to a multiple of 64 (256 bytes: every network's block can be bound alone). */
export function alignedStride(floats: number): number {
  return Math.ceil(floats / 64) * 64;
}

/** The shape of S networks with P primal and T tangent rows of width N, strides 256-byte aligned. */
export function jvpShape(n: number, nets: number, pRows: number, tRows: number): JvpShape {
  if (!(pRows >= 1 && tRows >= pRows && tRows % pRows === 0)) {
    throw new Error(`jvp: tangent rows T must be a positive multiple of the primal rows P, got P=${pRows}, T=${tRows}`);
  }
  return { n, nets, pRows, tRows, hStride: alignedStride(pRows * n), tStride: alignedStride(tRows * n), wStride: alignedStride((n + 1) * n) };
}

type Entry = 'fill' | 'householder' | 'orthogonal' | 'prep';

export class Jvp {
  private constructor(
    private readonly kernels: Record<Entry, Kernel>,
    readonly act: JvpActivation,
  ) {}

  static async create(ctx: GpuContext, opts: { act: JvpActivation; label?: string }): Promise<Jvp> {
    const code = JVP_ACTIVATIONS.indexOf(opts.act);
    if (code < 0) throw new Error(`jvp: activation must be one of ${JVP_ACTIVATIONS.join(', ')}, got '${opts.act}'`);
    const make = (entry: Entry): Promise<Kernel> =>
      Kernel.create(ctx, { shader: 'jvp', entry, label: `${opts.label ?? 'jvp'}.${entry}.${opts.act}`, constants: { WG, ACT: code } });
    const [fill, householder, orthogonal, prep] = await Promise.all([make('fill'), make('householder'), make('orthogonal'), make('prep')]);
    return new Jvp({ fill, householder, orthogonal, prep }, opts.act);
  }

  bindFill(b: { z: BufferResource }, label?: string): GPUBindGroup {
    return this.kernels.fill.bindGroup(b, label);
  }

  bindHouseholder(b: { z: BufferResource; coef: BufferResource }, label?: string): GPUBindGroup {
    return this.kernels.householder.bindGroup(b, label);
  }

  bindOrthogonal(b: { z: BufferResource; coef: BufferResource; w: BufferResource }, label?: string): GPUBindGroup {
    return this.kernels.orthogonal.bindGroup(b, label);
  }

  bindPrep(b: { h: BufferResource; t: BufferResource; y: BufferResource; u: BufferResource; stats: BufferResource }, label?: string): GPUBindGroup {
    return this.kernels.prep.bindGroup(b, label);
  }

  private static uniforms(s: JvpShape, draw: JvpDraw | null, statsOffset: number) {
    return {
      n: s.n, nets: s.nets, p_rows: s.pRows, t_rows: s.tRows, per_primal: s.tRows / s.pRows,
      h_stride: s.hStride, t_stride: s.tStride, w_stride: s.wStride, stats_offset: statsOffset,
      seed: (draw?.seed ?? 0) >>> 0, layer: (draw?.layer ?? 0) >>> 0, scale_w: draw?.scaleW ?? 0, scale_b: draw?.scaleB ?? 0,
    };
  }

  /** z (S, N + 1, N) = the layer's draws, scaled (a Gaussian [W; b]) or raw (scales 1). */
  encodeFill(batch: GpuBatch, bg: GPUBindGroup, s: JvpShape, draw: JvpDraw): void {
    batch.dispatch(this.kernels.fill, bg, Jvp.uniforms(s, draw, 0), [Math.ceil(Math.ceil(s.n / 2) / WG), s.n + 1, s.nets]);
  }

  /**
   * w (S, N + 1, N) = [σ_w Q; σ_b z_N] from the raw draws z: Q Haar-orthogonal (Householder
   * coefficients into coef first).
   */
  encodeOrthogonal(batch: GpuBatch, bgHouseholder: GPUBindGroup, bgOrthogonal: GPUBindGroup, s: JvpShape, sigmaW: number, sigmaB: number): void {
    const grid: [number, number, number] = [Math.ceil(s.n / WG), 1, s.nets];
    batch.dispatch(this.kernels.householder, bgHouseholder, Jvp.uniforms(s, null, 0), grid);
    batch.dispatch(this.kernels.orthogonal, bgOrthogonal, Jvp.uniforms(s, { seed: 0, layer: 0, scaleW: sigmaW, scaleB: sigmaB }, 0), grid);
  }

  /** y = φ(h), u = φ'(h) ⊙ t; the squared row lengths of h and t at stats[statsOffset + s·(P + T) + row]. */
  encodePrep(batch: GpuBatch, bg: GPUBindGroup, s: JvpShape, statsOffset: number): void {
    batch.dispatch(this.kernels.prep, bg, Jvp.uniforms(s, null, statsOffset), [s.pRows + s.tRows, 1, s.nets]);
  }
}
