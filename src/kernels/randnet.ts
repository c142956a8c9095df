/**
 * shaders/randnet.wgsl: dense layers of random networks whose Gaussian weights are regenerated on
 * the fly (src/kernels/threefry.ts), S networks per dispatch. `forward` h = a·W + b, `backward`
 * g = d·Wᵀ, `fill_normal` a random readout vector. One instance per register tile (TM rows,
 * TW weight lines per thread).
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';

export interface RandnetTiles {
  /** Rows m per thread. */
  TM: number;
  /** Weight lines per thread: column pairs (forward) or rows of W (backward). */
  TW: number;
  /** Threads per workgroup along the weight lines. */
  WG_X: number;
}

/** A thread covers all M rows up to 8 (each weight is then generated once per pass), 2 lines. */
export function chooseRandnetTiles(m: number): RandnetTiles {
  return { TM: Math.max(1, Math.min(m, 8)), TW: 2, WG_X: 64 };
}

export interface RandnetLayer {
  /** M: rows (inputs) per network. */
  m: number;
  /** K: fan-in. */
  k: number;
  /** N: fan-out. */
  n: number;
  /** S: networks; network s uses key (seed + s, layer). */
  nets: number;
  seed: number;
  /** Key word 1: the layer index (or READOUT_STREAM for fill_normal). */
  layer: number;
  /** σ_w/√K (forward, backward) or the readout's standard deviation (fill_normal). */
  scaleW: number;
  /** σ_b (forward; ignored otherwise). */
  scaleB: number;
}

type Entry = 'forward' | 'backward' | 'fill_normal';

export class Randnet {
  private constructor(
    readonly forwardKernel: Kernel,
    readonly backwardKernel: Kernel,
    readonly fillKernel: Kernel,
    readonly tiles: RandnetTiles,
  ) {}

  static async create(ctx: GpuContext, opts: { tiles: RandnetTiles; label?: string }): Promise<Randnet> {
    const t = opts.tiles;
    if (!(Number.isInteger(t.TM) && t.TM >= 1 && t.TM <= 16 && Number.isInteger(t.TW) && t.TW >= 1 && t.TW <= 8)) {
      throw new Error(`randnet: tiles TM must be an integer in [1, 16] and TW in [1, 8], got TM=${t.TM}, TW=${t.TW}`);
    }
    const make = (entry: Entry): Promise<Kernel> =>
      Kernel.create(ctx, {
        shader: 'randnet',
        entry,
        label: `${opts.label ?? 'randnet'}.${entry}.${t.TM}x${t.TW}`,
        template: { TM: t.TM, TW: t.TW },
        constants: { WG_X: t.WG_X, WG_Y: 1 },
      });
    const [f, b, r] = await Promise.all([make('forward'), make('backward'), make('fill_normal')]);
    return new Randnet(f, b, r, t);
  }

  bindForward(b: { a: BufferResource; h: BufferResource }, label?: string): GPUBindGroup {
    return this.forwardKernel.bindGroup(b, label);
  }

  bindBackward(b: { d: BufferResource; g: BufferResource }, label?: string): GPUBindGroup {
    return this.backwardKernel.bindGroup(b, label);
  }

  bindFill(b: { g: BufferResource }, label?: string): GPUBindGroup {
    return this.fillKernel.bindGroup(b, label);
  }

  private static uniforms(s: RandnetLayer, aStride: number, hOffset: number) {
    return {
      m: s.m, k: s.k, n: s.n, nets: s.nets, a_stride: aStride, h_offset: hOffset,
      seed: s.seed >>> 0, layer: s.layer >>> 0, scale_w: s.scaleW, scale_b: s.scaleB,
    };
  }

  /** h[hOffset + (s, m, n)] = a·W + b; aStride 0 shares one (M, K) input block across networks. */
  encodeForward(batch: GpuBatch, bg: GPUBindGroup, s: RandnetLayer, aStride: number, hOffset: number): void {
    const t = this.tiles;
    const x = Math.ceil(Math.ceil(s.n / 2) / (t.TW * t.WG_X));
    batch.dispatch(this.forwardKernel, bg, Randnet.uniforms(s, aStride, hOffset), [Math.max(1, x), Math.ceil(s.m / t.TM), s.nets]);
  }

  /** g (S, M, K) = d (S, M, N) · Wᵀ. */
  encodeBackward(batch: GpuBatch, bg: GPUBindGroup, s: RandnetLayer): void {
    const t = this.tiles;
    const x = Math.ceil(s.k / (t.TW * t.WG_X));
    batch.dispatch(this.backwardKernel, bg, Randnet.uniforms(s, 0, 0), [Math.max(1, x), Math.ceil(s.m / t.TM), s.nets]);
  }

  /** g (S, M, N) = scaleW · z under key (seed + s, layer). */
  encodeFill(batch: GpuBatch, bg: GPUBindGroup, s: RandnetLayer): void {
    const x = Math.ceil(Math.ceil(s.n / 2) / this.tiles.WG_X);
    batch.dispatch(this.fillKernel, bg, Randnet.uniforms(s, 0, 0), [Math.max(1, x), s.m, s.nets]);
  }
}
