/**
 * shaders/per_sample_grad.wgsl: per-sample gradients g_n = a_aug,n ⊗ δ_n of one dense layer,
 * materialised (G, M×P) or projected on J directions (S = G·Vᵀ, M×J) without forming G, for R
 * replicas per dispatch (grid z).
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, groups, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { chooseDenseTiles, denseGrid, tileKey, type DenseTiles } from './dense_tiles.ts';
import { replicaCount, requiredStride, type ReplicaSpan } from './replicas.ts';

/** The template keys the shader file needs for every entry (materialize does not use them). */
const NO_TILE = { TM: 4, TN: 4 };

export interface PerSampleShape extends ReplicaSpan {
  /** Samples in this dispatch (rows row0 .. row0 + m − 1 of a and δ). */
  m: number;
  /** Layer inputs K and outputs N. */
  k: number;
  n: number;
  /** First sample row (default 0). */
  row0?: number;
  /** Floats between replicas' a, δ, V (project; 0: shared) and G or S (needed for R > 1). */
  aStride?: number;
  deltaStride?: number;
  vStride?: number;
  outStride?: number;
}

function uniforms(s: PerSampleShape, j: number, who: string) {
  const R = replicaCount(s, who);
  return {
    R,
    u: {
      m: s.m, k: s.k, n: s.n, j, row0: s.row0 ?? 0,
      a_stride: requiredStride(s.aStride, R, who, 'aStride'),
      delta_stride: requiredStride(s.deltaStride, R, who, 'deltaStride'),
      v_stride: s.vStride ?? 0,
      out_stride: requiredStride(s.outStride, R, who, 'outStride'),
    },
  };
}

/** Parameters of the layer block: (K + bias)·N. */
export function layerBlockSize(k: number, n: number, bias: boolean): number {
  return (k + (bias ? 1 : 0)) * n;
}

export class PerSampleMaterialize {
  private constructor(readonly kernel: Kernel, readonly bias: boolean) {}

  static async create(ctx: GpuContext, opts: { bias: boolean; label?: string }): Promise<PerSampleMaterialize> {
    const kernel = await Kernel.create(ctx, {
      shader: 'per_sample_grad',
      entry: 'materialize',
      label: opts.label ?? `per_sample_grad.materialize${opts.bias ? '.bias' : ''}`,
      template: NO_TILE,
      constants: { HAS_BIAS: opts.bias },
    });
    return new PerSampleMaterialize(kernel, opts.bias);
  }

  bind(b: { a: BufferResource; delta: BufferResource; g: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: PerSampleShape): void {
    const P = layerBlockSize(s.k, s.n, this.bias);
    const wg = this.kernel.workgroupSize[0];
    const { R, u } = uniforms(s, 0, this.kernel.label);
    batch.dispatch(this.kernel, bindGroup, u, [groups(P, wg), s.m, R]);
  }
}

export class PerSampleProject {
  private constructor(readonly kernel: Kernel, readonly tiles: DenseTiles, readonly bias: boolean) {}

  /** `shape`: typical samples m and directions j, for the tile choice (src/kernels/dense_tiles.ts). */
  static async create(ctx: GpuContext, opts: { bias: boolean; shape?: { m: number; j: number }; tiles?: DenseTiles; label?: string }): Promise<PerSampleProject> {
    const s = opts.shape ?? { m: 64, j: 64 };
    const tiles = opts.tiles ?? chooseDenseTiles('forward', s.m, 64, s.j);
    const kernel = await Kernel.create(ctx, {
      shader: 'per_sample_grad',
      entry: 'project',
      label: opts.label ?? `per_sample_grad.project${opts.bias ? '.bias' : ''}.${tileKey(tiles)}`,
      template: { TM: tiles.TM, TN: tiles.TN },
      constants: { WG_X: tiles.WG_X, WG_Y: tiles.WG_Y, HAS_BIAS: opts.bias },
    });
    return new PerSampleProject(kernel, tiles, opts.bias);
  }

  /** v: (J, P) directions in the layer layout; s: (M, J) output. */
  bind(b: { a: BufferResource; delta: BufferResource; v: BufferResource; s: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bindGroup: GPUBindGroup, s: PerSampleShape & { j: number }): void {
    const { R, u } = uniforms(s, s.j, this.kernel.label);
    batch.dispatch(this.kernel, bindGroup, u, [...denseGrid(this.tiles, s.m, s.j), R]);
  }
}
