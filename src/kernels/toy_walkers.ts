/**
 * shaders/toy_walkers.wgsl: W independent SGD walkers on the toy valley L(x, y) = λ(x)y²/2
 * (+ kx(x − x0)²/2), λ(x) = lam0·e^{c·x}, with anisotropic Gaussian gradient noise from a
 * counter-based generator, `steps` steps per dispatch, and an (x, u = y·√(λ/Δ)) histogram.
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type BufferResource } from '../gpu/kernel.ts';
import type { GpuBatch } from '../gpu/batch.ts';

/** Key word 1 of the walkers' noise stream (dropout uses 0x40000000 + layer, randnet 0.. and 0x80000000). */
export const TOY_STREAM = 0x20000000;

/** Physics and geometry of one walker ensemble (all that the shader's uniforms hold except bookkeeping). */
export interface ToyParams {
  /** Learning rate α. */
  lr: number;
  /** Noise strength Δ (diffusion constant along the sharp direction). */
  delta: number;
  /** Anisotropy κ: the flat direction gets Δ/κ. */
  kappa: number;
  /** λ(x) = lam0·exp(c·x). */
  lam0: number;
  c: number;
  /** Harmonic confinement along x (0: the valley). */
  kx: number;
  x0: number;
  /** Reflecting walls. */
  xLo: number;
  xHi: number;
  /** Noise variance ∝ (λ(x)/lamRef)^noisePow: 0 constant, 1 curvature-scaled. */
  noisePow: number;
  lamRef: number;
  /** L above which a walker has escaped the valley (Infinity: only NaN/Inf). */
  escLoss: number;
}

export interface ToyDispatch {
  walkers: number;
  steps: number;
  /** Global steps already done. */
  step0: number;
  seed: number;
  /** Histogram recording: first global step (null: none) and stride. */
  recordFrom: number | null;
  recordEvery: number;
  nx: number;
  nu: number;
  uMax: number;
}

export class ToyWalkers {
  private constructor(readonly kernel: Kernel) {}

  static async create(ctx: GpuContext, opts: { label?: string } = {}): Promise<ToyWalkers> {
    return new ToyWalkers(await Kernel.create(ctx, { shader: 'toy_walkers', label: opts.label ?? 'toy_walkers' }));
  }

  bind(b: { pos: BufferResource; status: BufferResource; hist: BufferResource }, label?: string): GPUBindGroup {
    return this.kernel.bindGroup(b, label);
  }

  encode(batch: GpuBatch, bg: GPUBindGroup, p: ToyParams, d: ToyDispatch): void {
    const wg = this.kernel.workgroupSize[0];
    const groups = Math.ceil(d.walkers / wg);
    const lim = this.kernel.ctx.device.limits.maxComputeWorkgroupsPerDimension;
    if (groups > lim) throw new Error(`toy_walkers: ${d.walkers} walkers need ${groups} workgroups (limit ${lim})`);
    if (d.step0 + d.steps > 0xffffffff) throw new Error('toy_walkers: the step counter would overflow u32');
    batch.dispatch(
      this.kernel,
      bg,
      {
        walkers: d.walkers,
        steps: d.steps,
        step0: d.step0,
        seed: d.seed >>> 0,
        stream: TOY_STREAM,
        lr: p.lr,
        delta: p.delta,
        kappa: p.kappa,
        lam0: p.lam0,
        c: p.c,
        kx: p.kx,
        x0: p.x0,
        x_lo: p.xLo,
        x_hi: p.xHi,
        noise_pow: p.noisePow,
        lam_ref: p.lamRef,
        esc_loss: Number.isFinite(p.escLoss) ? Math.min(p.escLoss, 3.4e38) : 3.4e38,
        record_from: d.recordFrom === null ? 0xffffffff : d.recordFrom,
        record_every: Math.max(1, d.recordEvery),
        nx: d.nx,
        nu: d.nu,
        u_max: d.uMax,
      },
      [Math.max(1, groups)],
    );
  }
}
