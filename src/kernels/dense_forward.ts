/** shaders/dense_forward.wgsl: Y = act(X·W + b) for x (M, K), W (K + bias, N). */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, groups, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { activationCode, type Activation } from './activation.ts';

export interface MatmulTiles {
  BM: number;
  BN: number;
  BK: number;
}

export const DEFAULT_TILES: MatmulTiles = { BM: 32, BN: 32, BK: 16 };

export interface DenseShape {
  m: number;
  k: number;
  n: number;
}

export class DenseForward {
  private constructor(readonly kernel: Kernel, readonly tiles: MatmulTiles) {}

  static async create(ctx: GpuContext, opts: { act: Activation; bias: boolean; tiles?: MatmulTiles; label?: string }): Promise<DenseForward> {
    const tiles = opts.tiles ?? DEFAULT_TILES;
    const kernel = await Kernel.create(ctx, {
      shader: 'dense_forward',
      label: opts.label ?? `dense_forward.${opts.act}${opts.bias ? '.bias' : ''}`,
      constants: { ...tiles, ACT: activationCode(opts.act), HAS_BIAS: opts.bias },
    });
    return new DenseForward(kernel, tiles);
  }

  bind(b: { x: BufferResource; w: BufferResource; y: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: DenseShape): void {
    batch.dispatch(this.kernel, bindGroup, { m: s.m, k: s.k, n: s.n }, [groups(s.n, this.tiles.BN), groups(s.m, this.tiles.BM)]);
  }
}
