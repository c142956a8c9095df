/**
 * shaders/dense_backward.wgsl: dW_aug = [X, 1]ᵀ·dZ (grad_weight) and dZprev = (dZ·Wᵀ) ⊙ act'(X)
 * (grad_input) for x (M, K), W (K + bias, N), dZ (M, N), over R replicas (grid z). One instance
 * per tile shape and load variant.
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { stubBuffer } from '../gpu/buffers.ts';
import { activationCode, type Activation } from './activation.ts';
import { indexRows, vec4View, type DenseLoadOptions, type DenseShape } from './dense_forward.ts';
import { chooseDenseTiles, denseGrid, tileKey, type DenseTiles } from './dense_tiles.ts';
import { replicaCount, requiredStride, type ReplicaSpan } from './replicas.ts';

/** Per-replica strides (floats); defaults for R = 1 are the contiguous (M, ·) blocks. */
export interface DenseBackwardSpan extends ReplicaSpan {
  xStride?: number;
  /** Weight blocks (grad_input) and gradient blocks (grad_weight): the parameter layout's total. */
  wStride?: number;
  dzStride?: number;
  dxStride?: number;
  idxOffset?: number;
  idxStride?: number;
}

/** The template keys of dense_backward.wgsl for a tile: TM4 = TM/4 rows of vec4s (grad_weight). */
function templateOf(t: DenseTiles): { TM: number; TN: number; TM4: number } {
  if (t.TM % 4 !== 0) throw new Error(`dense_backward: TM must be a multiple of 4, got ${t.TM}`);
  return { TM: t.TM, TN: t.TN, TM4: t.TM / 4 };
}

function uniforms(s: DenseShape & DenseBackwardSpan, R: number, who: string) {
  return {
    m: s.m, k: s.k, n: s.n,
    x_stride: s.xStride ?? s.m * s.k,
    w_stride: requiredStride(s.wStride, R, who, 'wStride'),
    dz_stride: s.dzStride ?? s.m * s.n,
    dx_stride: s.dxStride ?? s.m * s.k,
    idx_offset: s.idxOffset ?? 0,
    idx_stride: s.idxStride ?? s.m,
  };
}

/** grad_weight's fused SGD step (UPDATE): the weights it updates, and whether it keeps a velocity. */
export interface FusedUpdate {
  momentum: boolean;
}

export class DenseGradWeight {
  private constructor(readonly kernel: Kernel, readonly tiles: DenseTiles, readonly bias: boolean, readonly x4: boolean, readonly indexed: boolean, readonly update: FusedUpdate | null) {}

  /** `update`: apply the SGD step to the weights instead of storing dW (shaders/dense_backward.wgsl). */
  static async create(ctx: GpuContext, opts: { bias: boolean; shape?: DenseShape; tiles?: DenseTiles; label?: string; update?: FusedUpdate } & DenseLoadOptions): Promise<DenseGradWeight> {
    const s = opts.shape ?? { m: 64, k: 64, n: 64 };
    const tiles = opts.tiles ?? chooseDenseTiles('grad_weight', s.m, s.k, s.n, opts.bias);
    const x4 = opts.x4 ?? false;
    const indexed = opts.indexed ?? false;
    const update = opts.update ?? null;
    const kernel = await Kernel.create(ctx, {
      shader: 'dense_backward',
      entry: 'grad_weight',
      label: opts.label ?? `dense_backward.grad_weight${opts.bias ? '.bias' : ''}${x4 ? '.x4' : ''}${indexed ? '.indexed' : ''}${update ? `.sgd${update.momentum ? '.momentum' : ''}` : ''}.${tileKey(tiles)}`,
      template: templateOf(tiles),
      constants: { WG_X: tiles.WG_X, WG_Y: tiles.WG_Y, HAS_BIAS: opts.bias, X4: x4, INDEXED: indexed, UPDATE: update !== null, MOMENTUM: update?.momentum ?? false },
    });
    return new DenseGradWeight(kernel, tiles, opts.bias, x4, indexed, update);
  }

  /**
   * `dw` is written unless the kernel fuses the update; then `wu` (the weights, laid out as dw),
   * `settings` (the replicas' settings records) and, with momentum, `vel` are needed.
   */
  bind(b: { x: BufferResource; dz: BufferResource; dw: BufferResource; rows?: BufferResource; wu?: BufferResource; vel?: BufferResource; settings?: BufferResource }, label?: string): GPUBindGroup {
    const ctx = this.kernel.ctx;
    const who = this.kernel.label;
    const u = this.update;
    if (u && (!b.wu || !b.settings || (u.momentum && !b.vel))) throw new Error(`${who}: a fused update needs wu, settings${u.momentum ? ' and vel' : ''}`);
    return this.kernel.bindGroup({
      x: b.x, dz: b.dz, dw: b.dw,
      x4: vec4View(ctx, b.x, this.x4, who),
      rows: indexRows(ctx, b.rows, this.indexed, who),
      wu: b.wu ?? stubBuffer(ctx, 1),
      vel: u?.momentum ? b.vel! : stubBuffer(ctx, 2),
      settings: b.settings ?? stubBuffer(ctx),
    }, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: DenseShape & DenseBackwardSpan): void {
    const who = this.kernel.label;
    const R = replicaCount(s, who);
    const u = uniforms(s, R, who);
    if (this.x4 && (s.k % 4 !== 0 || u.x_stride % 4 !== 0)) throw new Error(`${who}: the vec4 load needs K and x_stride multiples of 4, got K = ${s.k}, x_stride = ${u.x_stride}`);
    const rows = s.k + (this.bias ? 1 : 0);
    batch.dispatch(this.kernel, bindGroup, u, [...denseGrid(this.tiles, rows, s.n), R]);
  }
}

export class DenseGradInput {
  private constructor(readonly kernel: Kernel, readonly tiles: DenseTiles) {}

  /** `prevAct` is the activation of the layer that produced this layer's input. */
  static async create(ctx: GpuContext, opts: { prevAct: Activation; shape?: DenseShape; tiles?: DenseTiles; label?: string }): Promise<DenseGradInput> {
    const s = opts.shape ?? { m: 64, k: 64, n: 64 };
    const tiles = opts.tiles ?? chooseDenseTiles('grad_input', s.m, s.k, s.n);
    const kernel = await Kernel.create(ctx, {
      shader: 'dense_backward',
      entry: 'grad_input',
      label: opts.label ?? `dense_backward.grad_input.${opts.prevAct}.${tileKey(tiles)}`,
      template: templateOf(tiles),
      constants: { WG_X: tiles.WG_X, WG_Y: tiles.WG_Y, ACT: activationCode(opts.prevAct) },
    });
    return new DenseGradInput(kernel, tiles);
  }

  /** `x` is the previous layer's output (R, M, K), laid out like `dx`. */
  bind(b: { x: BufferResource; w: BufferResource; dz: BufferResource; dx: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: DenseShape & DenseBackwardSpan): void {
    const who = this.kernel.label;
    const R = replicaCount(s, who);
    batch.dispatch(this.kernel, bindGroup, uniforms(s, R, who), [...denseGrid(this.tiles, s.m, s.k), R]);
  }
}
