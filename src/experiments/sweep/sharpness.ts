/**
 * The sharpness spectrum of a trained network: the top-k eigenvalues of the Hessian of the mean
 * training loss (whole network or a block of layers), from exact GPU Hessian–vector products
 * (src/analysis/curvature/hvp-gpu.ts, Pearlmutter's R-operator) and Lanczos with full
 * re-orthogonalisation (src/analysis/curvature/lanczos.ts). The weights are those in mlp.params.
 */
import type { GpuContext } from '../../gpu/device.ts';
import type { MlpConfig } from '../../nn/config.ts';
import { MlpGpu } from '../../nn/mlp-gpu.ts';
import { checkFiniteParams } from '../../nn/params.ts';
import type { GpuDataset } from '../../train/gpu-dataset.ts';
import { HvpEngine } from '../../analysis/curvature/hvp-gpu.ts';
import { lanczosTopK } from '../../analysis/curvature/lanczos.ts';

export interface SharpnessResult {
  /** Top-k eigenvalues, descending. */
  values: number[];
  /** Column-major dim×k eigenvectors in the engine's compact layout (when asked for). */
  vectors: Float64Array | null;
  dim: number;
  /** β_m|s_mi|/|λ_1|, the Lanczos residual estimates relative to the top eigenvalue. */
  relResiduals: number[];
  converged: boolean;
  iterations: number;
  /** Mean loss over the Hessian's data at these weights. */
  loss: number;
  seconds: number;
}

type SharpnessOptions = { k: number; residualTol?: number; maxIter?: number; vectors?: boolean; seed?: number };

/** Lanczos on a ready engine (weights already in its MlpGpu), packed as a SharpnessResult; t0: when the measurement began. */
async function lanczosSharpness(engine: HvpEngine, o: SharpnessOptions, t0: number): Promise<SharpnessResult> {
  const n = engine.dim;
  const k = Math.min(o.k, n);
  const maxIter = Math.min(n, Math.max(o.maxIter ?? 80, k + 5));
  const r = await lanczosTopK(engine.operator, { n, k, maxIter, residualTol: o.residualTol ?? 1e-4, seed: o.seed ?? 1 });
  const top = Math.abs(r.values[0]) || 1;
  return {
    values: Array.from(r.values),
    vectors: o.vectors ? r.vectors : null,
    dim: n,
    relResiduals: Array.from(r.residualEstimates, (v) => v / top),
    converged: r.converged,
    iterations: r.iterations,
    loss: engine.loss,
    seconds: (performance.now() - t0) / 1000,
  };
}

export async function topHessianEigen(mlp: MlpGpu, data: GpuDataset, o: SharpnessOptions & { layers?: number[] | null }): Promise<SharpnessResult> {
  const t0 = performance.now();
  const engine = await HvpEngine.create(mlp, data, { layers: o.layers ?? undefined, label: 'sharpness.hvp' });
  try {
    return await lanczosSharpness(engine, o, t0);
  } finally {
    engine.destroy();
  }
}

/**
 * One HVP engine for many weight vectors of the same model (a sweep's runs): its own MlpGpu holds
 * the weights being analysed, so the R-operator kernels are compiled once (compiling them is
 * seconds on SwiftShader, more than a Lanczos run). measure() calls are serialised.
 */
export class SharpnessProbe {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly mlp: MlpGpu, readonly engine: HvpEngine) {}

  static async create(ctx: GpuContext, model: MlpConfig, data: GpuDataset, layers: number[] | null): Promise<SharpnessProbe> {
    const mlp = await MlpGpu.create(ctx, model, { momentum: false });
    const engine = await HvpEngine.create(mlp, data, { layers: layers ?? undefined, label: 'sharpness.hvp' });
    return new SharpnessProbe(mlp, engine);
  }

  /** Top-k eigenpairs of the Hessian at `params` (flat layout). */
  measure(params: Float32Array, o: SharpnessOptions): Promise<SharpnessResult> {
    const run = async (): Promise<SharpnessResult> => {
      const t0 = performance.now();
      checkFiniteParams(params, this.mlp.layout, 'sharpness');
      this.mlp.uploadParams(params);
      await this.engine.refresh();
      return lanczosSharpness(this.engine, o, t0);
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  destroy(): void {
    this.engine.destroy();
    for (const b of [this.mlp.params, this.mlp.grads, this.mlp.velocity]) b.destroy();
  }
}
