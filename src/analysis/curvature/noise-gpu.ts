/**
 * Per-sample gradient statistics of a block of layers over a whole dataset on the GPU, for the
 * gradient-noise covariance C (fisher.ts): projections s_nj = g_n·v_j on given directions and the
 * diagonal C_ii. Built on the noise lab's per-sample machinery (src/analysis/noise/full-pass.ts:
 * one forward/backward pass over all M samples keeping each layer's input a and per-sample
 * δ = dl_n/dz; shaders/per_sample_grad.wgsl projects g_n = a_aug,n ⊗ δ_n without forming it).
 * A block of several layers sums the layers' projections (g_n·v = Σ_l g_n^(l)·v^(l)).
 */
import { GpuBatch } from '../../gpu/batch.ts';
import { readF32 } from '../../gpu/buffers.ts';
import type { BufferResource } from '../../gpu/kernel.ts';
import type { MlpGpu } from '../../nn/mlp-gpu.ts';
import type { GpuDataset } from '../../train/gpu-dataset.ts';
import { FullSetPass, PerSampleProjector } from '../noise/full-pass.ts';
import { layerCovarianceDiagonal, projectedCovariance, type DiagonalCovariance, type ProjectedCovariance } from './fisher.ts';
import type { BlockPart } from './hvp-gpu.ts';

export interface BlockGradientNoise {
  /** Along the given directions (compact vectors, column-major dim×J). */
  projected: ProjectedCovariance;
  /** Per parameter of the block (compact order). */
  diagonal: DiagonalCovariance;
  /** Mean loss of the pass. */
  loss: number;
  ms: number;
}

async function readResource(mlp: MlpGpu, r: BufferResource, floats: number): Promise<Float32Array> {
  if ('buffer' in r) return readF32(mlp.ctx, r.buffer, r.offset ?? 0, floats);
  return readF32(mlp.ctx, r, 0, floats);
}

/**
 * Uses the weights in mlp.params. `directions`: J compact vectors of the block described by
 * `parts` (HvpEngine.parts), column-major dim×J.
 */
export async function blockGradientNoise(mlp: MlpGpu, data: GpuDataset, parts: BlockPart[], directions: Float64Array, J: number): Promise<BlockGradientNoise> {
  const t0 = performance.now();
  const dim = parts.reduce((s, p) => s + p.size, 0);
  if (directions.length < dim * J) throw new Error(`blockGradientNoise: directions must hold dim·J = ${dim}·${J} values, got ${directions.length}`);
  const M = data.n;
  const S = new Float64Array(M * J);
  const diagonal: DiagonalCovariance = { mean: new Float64Array(dim), centred: new Float64Array(dim), uncentred: new Float64Array(dim) };
  let loss = NaN;
  for (const part of parts) {
    const pass = await FullSetPass.create(mlp, data, part.layer, `curvature.noise${part.layer}`);
    const L = pass.L;
    if (pass.P !== part.size) throw new Error(`blockGradientNoise: layer ${part.layer} block has ${pass.P} parameters, expected ${part.size}`);
    if (J > 0) {
      const projector = await PerSampleProjector.create(pass, J);
      const dirs = new Float32Array(J * part.size);
      for (let j = 0; j < J; j++) for (let i = 0; i < part.size; i++) dirs[j * part.size + i] = directions[j * dim + part.offset + i];
      projector.setDirections(dirs);
      const r = await projector.run();
      loss = r.loss;
      for (let i = 0; i < M * J; i++) S[i] += r.s[i];
      projector.v.destroy();
      projector.s.destroy();
    }
    // a and δ of this layer (valid after the projector's pass; run one if J = 0).
    if (J === 0) {
      const batch = new GpuBatch(mlp.ctx, 'curvature.noise.pass');
      pass.encodeBackward(batch);
      batch.submit();
      loss = await pass.readLoss();
    }
    const a = await readResource(mlp, pass.a, M * L.fanIn);
    const delta = await readF32(mlp.ctx, pass.delta, 0, M * L.fanOut);
    const d = layerCovarianceDiagonal(a, delta, M, L.fanIn, L.fanOut, mlp.config.bias);
    diagonal.mean.set(d.mean, part.offset);
    diagonal.centred.set(d.centred, part.offset);
    diagonal.uncentred.set(d.uncentred, part.offset);
    for (const b of [...pass.acts.outs, ...pass.acts.dz, pass.acts.losses, pass.metrics]) b.destroy();
  }
  return { projected: projectedCovariance(S, M, J), diagonal, loss, ms: performance.now() - t0 };
}
