/**
 * shaders/dense_backward.wgsl: dW_aug = [X, 1]ᵀ·dZ (grad_weight) and dZprev = (dZ·Wᵀ) ⊙ act'(X)
 * (grad_input) for x (M, K), W (K + bias, N), dZ (M, N). One instance per tile shape.
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { activationCode, type Activation } from './activation.ts';
import type { DenseShape } from './dense_forward.ts';
import { chooseDenseTiles, denseGrid, tileKey, type DenseTiles } from './dense_tiles.ts';

export class DenseGradWeight {
  private constructor(readonly kernel: Kernel, readonly tiles: DenseTiles, readonly bias: boolean) {}

  static async create(ctx: GpuContext, opts: { bias: boolean; shape?: DenseShape; tiles?: DenseTiles; label?: string }): Promise<DenseGradWeight> {
    const s = opts.shape ?? { m: 64, k: 64, n: 64 };
    const tiles = opts.tiles ?? chooseDenseTiles('grad_weight', s.m, s.k, s.n, opts.bias);
    const kernel = await Kernel.create(ctx, {
      shader: 'dense_backward',
      entry: 'grad_weight',
      label: opts.label ?? `dense_backward.grad_weight${opts.bias ? '.bias' : ''}.${tileKey(tiles)}`,
      template: { TM: tiles.TM, TN: tiles.TN },
      constants: { WG_X: tiles.WG_X, WG_Y: tiles.WG_Y, HAS_BIAS: opts.bias },
    });
    return new DenseGradWeight(kernel, tiles, opts.bias);
  }

  bind(b: { x: BufferResource; dz: BufferResource; dw: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: DenseShape): void {
    const rows = s.k + (this.bias ? 1 : 0);
    batch.dispatch(this.kernel, bindGroup, { m: s.m, k: s.k, n: s.n }, denseGrid(this.tiles, rows, s.n));
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
      template: { TM: tiles.TM, TN: tiles.TN },
      constants: { WG_X: tiles.WG_X, WG_Y: tiles.WG_Y, ACT: activationCode(opts.prevAct) },
    });
    return new DenseGradInput(kernel, tiles);
  }

  bind(b: { x: BufferResource; w: BufferResource; dz: BufferResource; dx: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: DenseShape): void {
    batch.dispatch(this.kernel, bindGroup, { m: s.m, k: s.k, n: s.n }, denseGrid(this.tiles, s.m, s.k));
  }
}
