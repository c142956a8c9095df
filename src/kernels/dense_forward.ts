/** shaders/dense_forward.wgsl: Y = act(X·W + b) for x (M, K), W (K + bias, N). One instance per tile shape. */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { activationCode, type Activation } from './activation.ts';
import { chooseDenseTiles, denseGrid, tileKey, type DenseTiles } from './dense_tiles.ts';

export interface DenseShape {
  m: number;
  k: number;
  n: number;
}

export class DenseForward {
  private constructor(readonly kernel: Kernel, readonly tiles: DenseTiles) {}

  /** `tiles` default: the measured best for `shape` (src/kernels/dense_tiles.ts). */
  static async create(ctx: GpuContext, opts: { act: Activation; bias: boolean; shape?: DenseShape; tiles?: DenseTiles; label?: string }): Promise<DenseForward> {
    const s = opts.shape ?? { m: 64, k: 64, n: 64 };
    const tiles = opts.tiles ?? chooseDenseTiles('forward', s.m, s.k, s.n, opts.bias);
    const kernel = await Kernel.create(ctx, {
      shader: 'dense_forward',
      label: opts.label ?? `dense_forward.${opts.act}${opts.bias ? '.bias' : ''}.${tileKey(tiles)}`,
      template: { TM: tiles.TM, TN: tiles.TN },
      constants: { WG_X: tiles.WG_X, WG_Y: tiles.WG_Y, ACT: activationCode(opts.act), HAS_BIAS: opts.bias },
    });
    return new DenseForward(kernel, tiles);
  }

  bind(b: { x: BufferResource; w: BufferResource; y: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: DenseShape): void {
    batch.dispatch(this.kernel, bindGroup, { m: s.m, k: s.k, n: s.n }, denseGrid(this.tiles, s.m, s.n));
  }
}
