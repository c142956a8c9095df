/**
 * shaders/dense_forward.wgsl: Y = act(X·W + b) for x (M, K), W (K + bias, N), over R replicas (grid z).
 * One instance per tile shape and load variant.
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { stubBuffer } from '../gpu/buffers.ts';
import { activationCode, type Activation } from './activation.ts';
import { chooseDenseTiles, denseGrid, tileKey, type DenseTiles } from './dense_tiles.ts';
import { replicaCount, requiredStride, type ReplicaSpan } from './replicas.ts';

export interface DenseShape {
  m: number;
  k: number;
  n: number;
}

/**
 * Where replica r's operands start (floats) and, for INDEXED kernels, its row indices. Defaults for
 * R = 1: x_stride m·k, y_stride m·n (contiguous activations); w_stride must be given for R > 1.
 */
export interface DenseForwardSpan extends ReplicaSpan {
  xStride?: number;
  wStride?: number;
  yStride?: number;
  /** INDEXED: first entry of the row indices of replica 0, and entries between replicas. */
  idxOffset?: number;
  idxStride?: number;
}

export interface DenseLoadOptions {
  /** Read X as vec4 along K (needs K % 4 == 0; offsets and strides multiples of 4). */
  x4?: boolean;
  /** X rows through a row-index buffer (a minibatch read straight from a dataset). */
  indexed?: boolean;
}

export class DenseForward {
  private constructor(readonly kernel: Kernel, readonly tiles: DenseTiles, readonly x4: boolean, readonly indexed: boolean) {}

  /** `tiles` default: the measured best for `shape` (src/kernels/dense_tiles.ts). */
  static async create(ctx: GpuContext, opts: { act: Activation; bias: boolean; shape?: DenseShape; tiles?: DenseTiles; label?: string } & DenseLoadOptions): Promise<DenseForward> {
    const s = opts.shape ?? { m: 64, k: 64, n: 64 };
    const tiles = opts.tiles ?? chooseDenseTiles('forward', s.m, s.k, s.n, opts.bias);
    const x4 = opts.x4 ?? false;
    const indexed = opts.indexed ?? false;
    const kernel = await Kernel.create(ctx, {
      shader: 'dense_forward',
      label: opts.label ?? `dense_forward.${opts.act}${opts.bias ? '.bias' : ''}${x4 ? '.x4' : ''}${indexed ? '.indexed' : ''}.${tileKey(tiles)}`,
      template: { TM: tiles.TM, TN: tiles.TN },
      constants: { WG_X: tiles.WG_X, WG_Y: tiles.WG_Y, ACT: activationCode(opts.act), HAS_BIAS: opts.bias, X4: x4, INDEXED: indexed },
    });
    return new DenseForward(kernel, tiles, x4, indexed);
  }

  /** `rows`: the row indices of an indexed kernel (a dataset's minibatch rows); not given otherwise. */
  bind(b: { x: BufferResource; w: BufferResource; y: BufferResource; rows?: BufferResource }, label?: string): GPUBindGroup {
    const ctx = this.kernel.ctx;
    return this.kernel.bindGroup({ x: b.x, w: b.w, y: b.y, x4: vec4View(ctx, b.x, this.x4, this.kernel.label), rows: indexRows(ctx, b.rows, this.indexed, this.kernel.label) }, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: DenseShape & DenseForwardSpan): void {
    const who = this.kernel.label;
    const R = replicaCount(s, who);
    if (this.x4 && s.k % 4 !== 0) throw new Error(`${who}: the vec4 load needs K % 4 == 0, got K = ${s.k}`);
    const xStride = s.xStride ?? s.m * s.k;
    if (this.x4 && xStride % 4 !== 0) throw new Error(`${who}: the vec4 load needs x_stride % 4 == 0, got ${xStride}`);
    batch.dispatch(
      this.kernel,
      bindGroup,
      {
        m: s.m, k: s.k, n: s.n,
        x_stride: xStride,
        w_stride: requiredStride(s.wStride, R, who, 'wStride'),
        y_stride: s.yStride ?? s.m * s.n,
        idx_offset: s.idxOffset ?? 0,
        idx_stride: s.idxStride ?? s.m,
      },
      [...denseGrid(this.tiles, s.m, s.n), R],
    );
  }
}

/**
 * The x4 binding: X itself when the kernel reads vec4s (whose offset is 256-byte aligned, so a
 * multiple of 16), else the device's stub (declared by the shader, never read; binding X's whole
 * buffer instead could overlap a range the same dispatch writes).
 */
export function vec4View(ctx: GpuContext, x: BufferResource, x4: boolean, who: string): BufferResource {
  if (!x4) return stubBuffer(ctx);
  const b: GPUBufferBinding = 'buffer' in x ? x : { buffer: x };
  const size = b.size ?? b.buffer.size - (b.offset ?? 0);
  if (size % 16 !== 0) throw new Error(`${who}: the vec4 view of X needs a binding size that is a multiple of 16 bytes, got ${size}`);
  return b;
}

/** The row-index binding: the given buffer for an indexed kernel, the device's stub otherwise. */
export function indexRows(ctx: GpuContext, rows: BufferResource | undefined, indexed: boolean, who: string): BufferResource {
  if (indexed && !rows) throw new Error(`${who}: an indexed kernel needs its row indices ('rows')`);
  if (!indexed && rows) throw new Error(`${who}: 'rows' given to a kernel created without { indexed: true }`);
  return rows ?? stubBuffer(ctx);
}
