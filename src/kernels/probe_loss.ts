/**
 * shaders/probe_loss.wgsl: perturbed-layer outputs Y = act(Z0 + θ_q·U_dir) for Q stacked probes
 * (perturb), the same fused into the next layer's matmul (perturb_forward), and per-row
 * cross-entropy with per-probe chunked sums (loss).
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, groups, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { activationCode, type Activation } from './activation.ts';
import { denseGrid, tileKey, type DenseTiles } from './dense_tiles.ts';

/** Template keys every entry of the file needs (only perturb_forward uses them). */
const NO_TILE = { TM: 4, TN: 4 };

const ZERO = { m: 0, n: 0, dirs: 0, probes: 0, chunks: 0, c: 0 };

export class ProbePerturb {
  private constructor(readonly kernel: Kernel) {}

  static async create(ctx: GpuContext, opts: { act: Activation; label?: string }): Promise<ProbePerturb> {
    const kernel = await Kernel.create(ctx, {
      shader: 'probe_loss',
      entry: 'perturb',
      label: opts.label ?? `probe_loss.perturb.${opts.act}`,
      template: NO_TILE,
      constants: { ACT: activationCode(opts.act) },
    });
    return new ProbePerturb(kernel);
  }

  /** z0 (M, N), u (M, D·N), probe (Q, 2) [dir, θ], y (Q·M, N). */
  bind(b: { z0: BufferResource; u: BufferResource; probe: BufferResource; y: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bg: GPUBindGroup, s: { m: number; n: number; dirs: number; probes: number }): void {
    const wg = this.kernel.workgroupSize[0];
    const x = Math.min(groups(s.m * s.n, wg), 1024);
    batch.dispatch(this.kernel, bg, { ...ZERO, m: s.m, n: s.n, dirs: s.dirs, probes: s.probes }, [x, s.probes]);
  }
}

/**
 * Tiles of perturb_forward. Every column tile recomputes the perturbed activations of its rows, so
 * one tile should span all (or many) of the next layer's outputs. Measured on SwiftShader for
 * 16 probes × 8000 rows, N = 50 → C2 = 10: 4×10 tiles, 1×16 threads 265 ms; 8×10: 326 ms;
 * 4×4 (the dense chooser's pick): 1483 ms; unfused perturb + dense_forward: 758 ms.
 */
export function perturbForwardTiles(c2: number): DenseTiles {
  const TN = c2 <= 16 ? c2 : c2 % 10 === 0 ? 10 : 8;
  return { TM: 4, TN, WG_X: 1, WG_Y: 16 };
}

/** Y2 = act2(act(Z0 + θ_q·U_dir)·W2 (+ b2)) for Q stacked probes: perturb fused into the next layer. */
export class ProbePerturbForward {
  private constructor(readonly kernel: Kernel, readonly tiles: DenseTiles) {}

  /** `shape`: stacked rows Q·M, perturbed-layer width n and next-layer width c (for the tile choice). */
  static async create(
    ctx: GpuContext,
    opts: { act: Activation; act2: Activation; bias2: boolean; shape: { rows: number; n: number; c: number }; tiles?: DenseTiles; label?: string },
  ): Promise<ProbePerturbForward> {
    const tiles = opts.tiles ?? perturbForwardTiles(opts.shape.c);
    const kernel = await Kernel.create(ctx, {
      shader: 'probe_loss',
      entry: 'perturb_forward',
      label: opts.label ?? `probe_loss.perturb_forward.${opts.act}.${opts.act2}.${tileKey(tiles)}`,
      template: { TM: tiles.TM, TN: tiles.TN },
      constants: { WG_X: tiles.WG_X, WG_Y: tiles.WG_Y, ACT: activationCode(opts.act), ACT2: activationCode(opts.act2), HAS_BIAS: opts.bias2 },
    });
    return new ProbePerturbForward(kernel, tiles);
  }

  /** z0 (M, N), u (M, D·N), probe (Q, 2), w2 (N + bias, C2), y2 (Q·M, C2). */
  bind(b: { z0: BufferResource; u: BufferResource; probe: BufferResource; w2: BufferResource; y2: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bg: GPUBindGroup, s: { m: number; n: number; c: number; dirs: number; probes: number }): void {
    batch.dispatch(this.kernel, bg, { ...ZERO, m: s.m, n: s.n, c: s.c, dirs: s.dirs, probes: s.probes }, denseGrid(this.tiles, s.probes * s.m, s.c));
  }
}

export class ProbeLoss {
  private constructor(readonly kernel: Kernel, readonly rowsPerThread: number) {}

  static async create(ctx: GpuContext, opts: { rowsPerThread?: number; label?: string } = {}): Promise<ProbeLoss> {
    const rpt = opts.rowsPerThread ?? 32;
    const kernel = await Kernel.create(ctx, { shader: 'probe_loss', entry: 'loss', label: opts.label ?? 'probe_loss.loss', template: NO_TILE, constants: { RPT: rpt } });
    return new ProbeLoss(kernel, rpt);
  }

  /** Chunks (partial sums) per probe for M rows. */
  chunks(m: number): number {
    return groups(m, this.rowsPerThread);
  }

  /** logits (Q·M, C), labels (M,), rows (Q·M,), partial (Q·chunks(M),). */
  bind(b: { logits: BufferResource; labels: BufferResource; rows: BufferResource; partial: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bg: GPUBindGroup, s: { m: number; classes: number; probes: number }): void {
    const g = this.chunks(s.m);
    batch.dispatch(this.kernel, bg, { ...ZERO, m: s.m, n: s.classes, probes: s.probes, chunks: g }, [groups(g, this.kernel.workgroupSize[0]), s.probes]);
  }
}
