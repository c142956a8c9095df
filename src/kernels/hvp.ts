/**
 * shaders/hvp.wgsl: the R-operator (forward-over-reverse) passes of an exact Hessian–vector
 * product, for J directions at once (dispatch z = direction):
 *   RForward      Rz_l = R{a_l}·W_l + [a_l, 1]·V_l
 *   RSoftmaxCe    R{dz} = s·(diag p − ppᵀ)·Rz at the logits
 *   RGradWeight   (Hv)_l = [a_l, 1]ᵀ·R{dz_l} + R{a_l}ᵀ·dz_l   (optionally accumulated)
 *   RGradInput    R{dz_{l−1}} = φ'(a)⊙(R{dz_l}·Wᵀ + dz_l·V_lᵀ) + φ''(a)⊙Rz_{l−1}⊙(dz_l·Wᵀ)
 * One instance per (flags, tile shape). CPU references: hvp.ref.ts. The whole product is composed
 * in src/analysis/curvature/hvp-gpu.ts.
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, groups, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { activationCode, type Activation } from './activation.ts';
import { chooseDenseTiles, denseGrid, tileKey, type DenseOp, type DenseTiles } from './dense_tiles.ts';

/** Rows m, inputs k, outputs n of a layer, for `vectors` directions. */
export interface HvpShape {
  m: number;
  k: number;
  n: number;
  vectors: number;
}

/** Where a layer's block sits inside each direction of v / each product of hv (floats). */
export interface BlockPlace {
  offset: number;
  stride: number;
}

/**
 * Tiles for the R-kernels: the dense kernels' measured choice, capped at 8×8 (each R-kernel runs
 * two products per loop step, so twice the loads and registers of the dense kernel it mirrors).
 */
export function chooseHvpTiles(op: DenseOp, m: number, k: number, n: number, bias = false): DenseTiles {
  const t = chooseDenseTiles(op, m, k, n, bias);
  if (t.TM * t.TN <= 64) return t;
  return { TM: 8, TN: 8, WG_X: Math.min(t.WG_X, 8), WG_Y: Math.min(t.WG_Y, 8) };
}

function uniforms(s: { m: number; k: number; n: number }, o: Partial<{ vOffset: number; vStride: number; outOffset: number; outStride: number; accumulate: boolean; scale: number }>) {
  return {
    m: s.m,
    k: s.k,
    n: s.n,
    v_offset: o.vOffset ?? 0,
    v_stride: o.vStride ?? 0,
    out_offset: o.outOffset ?? 0,
    out_stride: o.outStride ?? 0,
    accumulate: o.accumulate ? 1 : 0,
    scale: o.scale ?? 0,
  };
}

function checkVectors(label: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${label}: vectors must be an integer >= 1, got ${v}`);
}

export class RForward {
  private constructor(readonly kernel: Kernel, readonly tiles: DenseTiles) {}

  /**
   * `prevAct`: activation that produced the layer input a (for R{a} = φ'(a)⊙Rz_{l−1});
   * `hasRin`: a layer below is perturbed; `hasV`: this layer's block of v is not zero.
   */
  static async create(ctx: GpuContext, o: { prevAct: Activation; bias: boolean; hasRin: boolean; hasV: boolean; shape?: { m: number; k: number; n: number }; tiles?: DenseTiles }): Promise<RForward> {
    if (!o.hasRin && !o.hasV) throw new Error('RForward: hasRin and hasV are both false (the tangent would be zero)');
    const s = o.shape ?? { m: 64, k: 64, n: 64 };
    const tiles = o.tiles ?? chooseHvpTiles('forward', s.m, s.k, s.n);
    const kernel = await Kernel.create(ctx, {
      shader: 'hvp',
      entry: 'r_forward',
      label: `hvp.r_forward.${o.prevAct}${o.bias ? '.bias' : ''}${o.hasRin ? '.rin' : ''}${o.hasV ? '.v' : ''}.${tileKey(tiles)}`,
      template: { TM: tiles.TM, TN: tiles.TN },
      constants: { WG_X: tiles.WG_X, WG_Y: tiles.WG_Y, ACT: activationCode(o.prevAct), HAS_BIAS: o.bias, HAS_RIN: o.hasRin, HAS_V: o.hasV },
    });
    return new RForward(kernel, tiles);
  }

  /** a (M, K); rzin (J, M, K); w (K + b, N); v (J, stride); rz_out (J, M, N). Unused inputs: any storage buffer. */
  bind(b: { a: BufferResource; rzin: BufferResource; w: BufferResource; v: BufferResource; rz_out: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bg: GPUBindGroup, s: HvpShape, v: BlockPlace): void {
    checkVectors(this.kernel.label, s.vectors);
    const [x, y] = denseGrid(this.tiles, s.m, s.n);
    batch.dispatch(this.kernel, bg, uniforms(s, { vOffset: v.offset, vStride: v.stride }), [x, y, s.vectors]);
  }
}

export class RSoftmaxCe {
  private constructor(readonly kernel: Kernel) {}

  static async create(ctx: GpuContext): Promise<RSoftmaxCe> {
    const kernel = await Kernel.create(ctx, { shader: 'hvp', entry: 'r_softmax_ce', label: 'hvp.r_softmax_ce', template: { TM: 1, TN: 1 } });
    return new RSoftmaxCe(kernel);
  }

  /** z (M, C) logits; rzin (J, M, C) their tangent; rdz_out (J, M, C). */
  bind(b: { z: BufferResource; rzin: BufferResource; rdz_out: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  /** `scale`: s of dz = (p − onehot)·s, 1/M_total for the mean loss. */
  encode(batch: GpuBatch, bg: GPUBindGroup, s: { m: number; classes: number; vectors: number; scale: number }): void {
    checkVectors(this.kernel.label, s.vectors);
    batch.dispatch(this.kernel, bg, uniforms({ m: s.m, k: 0, n: s.classes }, { scale: s.scale }), [groups(s.m, this.kernel.workgroupSize[0]), 1, s.vectors]);
  }
}

export class RGradWeight {
  private constructor(readonly kernel: Kernel, readonly tiles: DenseTiles, readonly bias: boolean) {}

  /** `prevAct`, `hasRin` as for RForward. */
  static async create(ctx: GpuContext, o: { prevAct: Activation; bias: boolean; hasRin: boolean; shape?: { m: number; k: number; n: number }; tiles?: DenseTiles }): Promise<RGradWeight> {
    const s = o.shape ?? { m: 64, k: 64, n: 64 };
    const tiles = o.tiles ?? chooseHvpTiles('grad_weight', s.m, s.k, s.n, o.bias);
    const kernel = await Kernel.create(ctx, {
      shader: 'hvp',
      entry: 'r_grad_weight',
      label: `hvp.r_grad_weight.${o.prevAct}${o.bias ? '.bias' : ''}${o.hasRin ? '.rin' : ''}.${tileKey(tiles)}`,
      template: { TM: tiles.TM, TN: tiles.TN },
      constants: { WG_X: tiles.WG_X, WG_Y: tiles.WG_Y, ACT: activationCode(o.prevAct), HAS_BIAS: o.bias, HAS_RIN: o.hasRin },
    });
    return new RGradWeight(kernel, tiles, o.bias);
  }

  /** a (M, K); rzin (J, M, K); dz (M, N); rdz (J, M, N); hv (J, stride). */
  bind(b: { a: BufferResource; rzin: BufferResource; dz: BufferResource; rdz: BufferResource; hv: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bg: GPUBindGroup, s: HvpShape, out: BlockPlace & { accumulate: boolean }): void {
    checkVectors(this.kernel.label, s.vectors);
    const [x, y] = denseGrid(this.tiles, s.k + (this.bias ? 1 : 0), s.n);
    batch.dispatch(this.kernel, bg, uniforms(s, { outOffset: out.offset, outStride: out.stride, accumulate: out.accumulate }), [x, y, s.vectors]);
  }
}

export class RGradInput {
  private constructor(readonly kernel: Kernel, readonly tiles: DenseTiles) {}

  /** `prevAct`: activation producing this layer's input a; `hasV`: this layer's block of v is not zero. */
  static async create(ctx: GpuContext, o: { prevAct: Activation; hasV: boolean; shape?: { m: number; k: number; n: number }; tiles?: DenseTiles }): Promise<RGradInput> {
    const s = o.shape ?? { m: 64, k: 64, n: 64 };
    const tiles = o.tiles ?? chooseHvpTiles('grad_input', s.m, s.k, s.n);
    const kernel = await Kernel.create(ctx, {
      shader: 'hvp',
      entry: 'r_grad_input',
      label: `hvp.r_grad_input.${o.prevAct}${o.hasV ? '.v' : ''}.${tileKey(tiles)}`,
      template: { TM: tiles.TM, TN: tiles.TN },
      constants: { WG_X: tiles.WG_X, WG_Y: tiles.WG_Y, ACT: activationCode(o.prevAct), HAS_V: o.hasV },
    });
    return new RGradInput(kernel, tiles);
  }

  /** a (M, K); rzin (J, M, K) = Rz_{l−1}; w (K + b, N); v (J, stride); dz (M, N); rdz (J, M, N); rdx (J, M, K). */
  bind(b: { a: BufferResource; rzin: BufferResource; w: BufferResource; v: BufferResource; dz: BufferResource; rdz: BufferResource; rdx: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bg: GPUBindGroup, s: HvpShape, v: BlockPlace): void {
    checkVectors(this.kernel.label, s.vectors);
    const [x, y] = denseGrid(this.tiles, s.m, s.k);
    batch.dispatch(this.kernel, bg, uniforms(s, { vOffset: v.offset, vStride: v.stride }), [x, y, s.vectors]);
  }
}
