/**
 * shaders/dense_backward.wgsl: dW_aug = [X, 1]ᵀ·dZ (grad_weight) and dZprev = (dZ·Wᵀ) ⊙ act'(X)
 * (grad_input) for x (M, K), W (K + bias, N), dZ (M, N).
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, groups, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { activationCode, type Activation } from './activation.ts';
import { DEFAULT_TILES, type DenseShape, type MatmulTiles } from './dense_forward.ts';

export class DenseGradWeight {
  private constructor(readonly kernel: Kernel, readonly tiles: MatmulTiles, readonly bias: boolean) {}

  static async create(ctx: GpuContext, opts: { bias: boolean; tiles?: MatmulTiles; label?: string }): Promise<DenseGradWeight> {
    const tiles = opts.tiles ?? DEFAULT_TILES;
    const kernel = await Kernel.create(ctx, {
      shader: 'dense_backward',
      entry: 'grad_weight',
      label: opts.label ?? `dense_backward.grad_weight${opts.bias ? '.bias' : ''}`,
      constants: { ...tiles, HAS_BIAS: opts.bias },
    });
    return new DenseGradWeight(kernel, tiles, opts.bias);
  }

  bind(b: { x: BufferResource; dz: BufferResource; dw: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: DenseShape): void {
    const rows = s.k + (this.bias ? 1 : 0);
    batch.dispatch(this.kernel, bindGroup, { m: s.m, k: s.k, n: s.n }, [groups(s.n, this.tiles.BN), groups(rows, this.tiles.BM)]);
  }
}

export class DenseGradInput {
  private constructor(readonly kernel: Kernel, readonly tiles: MatmulTiles) {}

  /** `prevAct` is the activation of the layer that produced this layer's input. */
  static async create(ctx: GpuContext, opts: { prevAct: Activation; tiles?: MatmulTiles; label?: string }): Promise<DenseGradInput> {
    const tiles = opts.tiles ?? DEFAULT_TILES;
    const kernel = await Kernel.create(ctx, {
      shader: 'dense_backward',
      entry: 'grad_input',
      label: opts.label ?? `dense_backward.grad_input.${opts.prevAct}`,
      constants: { ...tiles, ACT: activationCode(opts.prevAct) },
    });
    return new DenseGradInput(kernel, tiles);
  }

  bind(b: { x: BufferResource; w: BufferResource; dz: BufferResource; dx: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: DenseShape): void {
    batch.dispatch(this.kernel, bindGroup, { m: s.m, k: s.k, n: s.n }, [groups(s.k, this.tiles.BN), groups(s.m, this.tiles.BM)]);
  }
}
