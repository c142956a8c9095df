/**
 * The minibatch gradient-noise covariance of one layer from per-sample gradients, on the GPU:
 *
 *   S_g = Σ_n (g_n − ḡ)(g_n − ḡ)ᵀ  (P, P)     g_n = a_aug,n ⊗ δ_n over all M training samples
 *   Σ_μ = Cov_μ[∇L_μ] = S_g/(M − 1) · (1/B − 1/M)     (minibatches of B drawn without replacement)
 *
 * so that p·Σ_μ·p = Var_μ[(∇L_μ − ∇L)·p] and T_p = (α/2)·p·Σ_μ·p (temperature.ts). The per-sample
 * gradients are materialised in row chunks (shaders/per_sample_grad.wgsl, materialize) and merged
 * into the scatter matrix with the same centred, Chan-merged accumulation as the weight snapshots
 * (shaders/scatter.wgsl), centred on the first sample's gradient. Cost O(M·P²); P ≲ 5,000.
 */
import { GpuBatch } from '../../gpu/batch.ts';
import { createStorage } from '../../gpu/buffers.ts';
import { PerSampleMaterialize } from '../../kernels/per_sample_grad.ts';
import { ScatterKernels } from '../../kernels/scatter.ts';
import type { FullSetPass } from './full-pass.ts';
import { GpuScatter } from './gpu-scatter.ts';

export interface GradientNoiseCovariance {
  /** S_g on the GPU (scatter.s, P×P row-major) with its mean and diagonal helpers. */
  scatter: GpuScatter;
  M: number;
  P: number;
  /** Σ_μ = factor(B)·S_g. */
  factor(batchSize: number): number;
}

/** Run at the weights in the model's parameter buffer; `chunkRows` samples materialised at a time. */
export async function gradientNoiseCovariance(pass: FullSetPass, opts: { chunkRows?: number } = {}): Promise<GradientNoiseCovariance> {
  const ctx = pass.mlp.ctx;
  const { P } = pass;
  const M = pass.rows;
  const chunk = Math.max(1, Math.min(M, opts.chunkRows ?? Math.max(1, Math.floor((64 << 20) / (4 * P)))));
  const mat = await PerSampleMaterialize.create(ctx, { bias: pass.mlp.config.bias });
  const G = createStorage(ctx, 'lab.noise.G', chunk * P * 4);
  const ref = createStorage(ctx, 'lab.noise.ref', P * 4);
  const scatter = new GpuScatter(ctx, await ScatterKernels.create(ctx), G, ref, P, chunk, 'lab.noise.scatter');
  const bg = mat.bind({ a: pass.a, delta: pass.delta, g: G });
  const batch = new GpuBatch(ctx, 'lab.noise');
  pass.encodeBackward(batch);
  for (let r0 = 0; r0 < M; r0 += chunk) {
    const rows = Math.min(chunk, M - r0);
    mat.encode(batch, bg, { m: rows, k: pass.L.fanIn, n: pass.L.fanOut, row0: r0 });
    if (r0 === 0) batch.copy(G, 0, ref, 0, P * 4);
    scatter.encodeBlock(batch, 0, rows);
  }
  scatter.encodeDiagonal(batch);
  batch.submit();
  await ctx.device.queue.onSubmittedWorkDone();
  return {
    scatter,
    M,
    P,
    factor(B: number): number {
      if (!(Number.isInteger(B) && B >= 1 && B <= M)) throw new Error(`gradientNoiseCovariance: batch size must be in [1, ${M}], got ${B}`);
      return (1 / B - 1 / M) / (M - 1);
    },
  };
}
