/**
 * Curvature of the training loss: exact Hessian–vector products on the GPU and the spectral tools
 * built on them. Import from here.
 *
 * ── Products ────────────────────────────────────────────────────────────────────────────────────
 *   const engine = await HvpEngine.create(mlp, gpuData, { layers: [1] })   // block of layer 1
 *   const HV = await engine.apply(V, b)       // V column-major dim×b, float64 → H·V, same layout
 *   engine.operator                           // the same as a BlockOperator for the solvers
 *   engine.dim, engine.parts                  // block size, where each layer sits (compact ↔ flat)
 *   engine.toFlat(v) / engine.fromFlat(flat)  // compact vector ↔ flat parameter layout
 *   await engine.refresh()                    // after changing mlp.params (returns the mean loss)
 *   engine.destroy()
 * H = ∇² of the MEAN loss over all rows of `gpuData` (uploadDataset; a minibatch is a dataset of
 * B rows). `layers` omitted = whole network; a block returns H_SS·v_S. Exact (R-operator,
 * shaders/hvp.wgsl), float32 on the GPU: relative error ~1e-6. Directions are batched
 * `maxVectors` (32) per GPU pass: batching pays for block methods, SLQ probes, building blocks.
 * CPU reference: mlpHvpCpu (src/nn/hvp-cpu.ts), float64, same signature idea.
 *
 * ── Spectra (float64 on the CPU, any BlockOperator) ─────────────────────────────────────────────
 *   lanczosTopK(op, { n, k, residualTol?, maxIter? })        top-k (algebraic) eigenpairs, full
 *                                                            re-orthogonalisation; .values desc,
 *                                                            .vectors column-major n×k
 *   lanczosTridiagonal(op, starts, r, { n, steps })          r recurrences in lockstep → T's
 *   slq(op, { n, probes, steps, batch }) → SlqResult         quadrature nodes/weights per probe,
 *                                                            .mean = trace/n, .trace ± .traceStdErr
 *   spectralDensity(slqResult, { sigmaRel | sigma, points }) Gaussian-broadened density on a grid
 *                                                            (integrates to 1)
 *   countAbove(slqResult, t)                                 expected eigenvalue count above t
 *   hutchinson(op, { n, probes, batch }) → trace ± stdErr, diagonal estimate
 *   splitOutliers(topValues) → { count, bulkEdge, gapRatio } the largest-gap rule (outliers.ts)
 *   buildExplicitBlock(op, n, { batch }) + denseSpectrum     the explicit block (n products with
 *                                                            unit vectors) and all eigenvalues
 *   blockLanczos / subspaceIteration (../block-lanczos.ts, ../subspace-iteration.ts) take the same
 *   operator when a block method suits better (more columns per GPU pass).
 *
 * ── Noise against curvature ─────────────────────────────────────────────────────────────────────
 *   blockGradientNoise(mlp, gpuData, engine.parts, vectors, J)  per-sample gradient statistics
 *       over the whole set (noise lab's FullSetPass + per_sample_grad): .projected (v_jᵀCv_j,
 *       v_jᵀFv_j, ḡ·v_j) and .diagonal (C_ii, F_ii, ḡ_i) in compact order
 *   compareInEigenbasis(λ, projected), powerLawRelation(x, y) (C_ii ∝ H_ii^γ)
 *   gaussNewtonDiagonalCpu(config, params, x, y, rows, layers)  exact H_ii for ReLU networks
 *
 * The whole analysis of `sgdscope hessian` (analyseHessian, its run folder and report) is an
 * experiment built on this library: src/experiments/curvature/.
 */
export { HvpEngine, type HvpEngineOptions, type BlockPart } from './hvp-gpu.ts';
export { lanczosTopK, lanczosTridiagonal, tridiagonalEig, reorthogonalize, type LanczosOptions, type LanczosResult, type TridiagonalRun, type LockstepOptions } from './lanczos.ts';
export {
  slq,
  quadrature,
  spectralDensity,
  countAbove,
  hutchinson,
  rademacherProbes,
  type SlqOptions,
  type SlqProbe,
  type SlqResult,
  type DensityOptions,
  type SpectralDensity,
  type HutchinsonOptions,
  type HutchinsonResult,
} from './slq.ts';
export { splitOutliers, type OutlierSplit } from './outliers.ts';
export { buildExplicitBlock, denseSpectrum, blockDiagonal, type ExplicitBlock, type DenseSpectrum } from './dense-block.ts';
export {
  projectedCovariance,
  layerCovarianceDiagonal,
  gaussNewtonDiagonalCpu,
  powerLawRelation,
  compareInEigenbasis,
  type ProjectedCovariance,
  type DiagonalCovariance,
  type PowerLawRelation,
  type EigenbasisComparison,
} from './fisher.ts';
export { blockGradientNoise, type BlockGradientNoise } from './noise-gpu.ts';
export { mlpHvpCpu } from '../../nn/hvp-cpu.ts';
