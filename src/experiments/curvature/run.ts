/**
 * The curvature analysis of a trained MLP end to end, as `sgdscope hessian` runs it:
 *
 *   1. hvp        HvpEngine over the whole training set (mean loss), for a block of layers
 *   2. lanczos    top-k eigenpairs (lanczos.ts, full re-orthogonalisation), true residuals
 *   3. trace      Hutchinson (slq.ts), Rademacher probes, batched
 *   4. slq        spectral density (probes in lockstep, one GPU pass per Lanczos step)
 *   5. outliers   the largest-gap rule on the top k (outliers.ts), and the SLQ count above its edge
 *   6. noise      gradient-noise covariance C from per-sample gradients (noise-gpu.ts): v_iᵀCv_i
 *                 against λ_i, and C_ii against H_ii with C_ii ∝ H_ii^γ (fisher.ts)
 *   7. dense      optional (verifyDense): the block built from dim products with unit vectors,
 *                 symmetrised, all eigenvalues by the dense float64 solver; top-10 compared
 * Every stage's wall time is in `timings` (seconds).
 *
 * H_ii: the explicit block's diagonal when it was built; else, for ReLU/identity networks, the
 * Gauss–Newton diagonal in float64 on the CPU (equal to the Hessian diagonal there, fisher.ts);
 * else (tanh) Hutchinson's diagonal estimate, which is noisy — the summary says which was used.
 */
import { checkFiniteParams } from '../../nn/params.ts';
import type { MlpGpu } from '../../nn/mlp-gpu.ts';
import type { GpuDataset } from '../../train/gpu-dataset.ts';
import { HvpEngine } from '../../analysis/curvature/hvp-gpu.ts';
import { lanczosTopK, type LanczosResult } from '../../analysis/curvature/lanczos.ts';
import { countAbove, hutchinson, slq, spectralDensity, type HutchinsonResult, type SlqResult, type SpectralDensity } from '../../analysis/curvature/slq.ts';
import { splitOutliers, type OutlierSplit } from '../../analysis/curvature/outliers.ts';
import { blockGradientNoise, type BlockGradientNoise } from '../../analysis/curvature/noise-gpu.ts';
import { compareInEigenbasis, gaussNewtonDiagonalCpu, powerLawRelation, type EigenbasisComparison, type PowerLawRelation } from '../../analysis/curvature/fisher.ts';
import { blockDiagonal, buildExplicitBlock, denseSpectrum } from '../../analysis/curvature/dense-block.ts';
import { norm2 } from '../../analysis/numerics/dense.ts';

export interface HessianAnalysisOptions {
  /** Layers of the block (default all). */
  layers?: number[];
  /** Top eigenpairs (default 20). */
  k: number;
  lanczosMaxIter?: number;
  /** Lanczos residual tolerance relative to |λ_max| (default 1e-6). */
  residualTol: number;
  slqProbes: number;
  slqSteps: number;
  /** Gaussian width of the density relative to the node range (default 0.005). */
  sigmaRel: number;
  densityPoints: number;
  hutchinsonProbes: number;
  /** Gradient-noise covariance against the Hessian (default true). */
  noise: boolean;
  /** Build the explicit block and compare with a dense eigensolver (default false). */
  verifyDense: boolean;
  /** Eigenvalues compared in verifyDense (default 10). */
  verifyTop: number;
  chunkRows?: number;
  maxVectors?: number;
  seed: number;
  onStage?: (stage: string, detail: string) => void;
}

export const DEFAULT_HESSIAN_OPTIONS: HessianAnalysisOptions = {
  k: 20,
  residualTol: 1e-6,
  slqProbes: 8,
  slqSteps: 60,
  sigmaRel: 0.005,
  densityPoints: 1200,
  hutchinsonProbes: 64,
  noise: true,
  verifyDense: false,
  verifyTop: 10,
  seed: 1,
};

export interface DenseCheck {
  /** Top eigenvalues from the dense solver, from Lanczos, and |Δ|/|λ_dense|. */
  dense: Float64Array;
  lanczos: Float64Array;
  relErr: Float64Array;
  maxRelErr: number;
  /** Asymmetry of the built block before symmetrising. */
  asymmetry: number;
  /** Exact trace of the block. */
  trace: number;
  /** Build (dim products) and dense-solve wall times, seconds. */
  buildSeconds: number;
  solveSeconds: number;
  /** All eigenvalues of the block (descending). */
  spectrum: Float64Array;
  /** max |H_ii(Gauss–Newton, CPU) − H_ii(block)| / max H_ii, when both exist. */
  diagonalCheck: number | null;
}

export interface HessianAnalysis {
  layers: number[];
  dim: number;
  rows: number;
  loss: number;
  lanczos: LanczosResult;
  /** ‖H u_i − θ_i u_i‖ recomputed with one more product per vector. */
  trueResiduals: Float64Array;
  hutchinson: HutchinsonResult;
  slq: SlqResult;
  density: SpectralDensity;
  outliers: OutlierSplit & { slqCountAbove: number };
  noise: (BlockGradientNoise & { eigenbasis: EigenbasisComparison }) | null;
  /** H_ii of the block (compact order) and where it came from. */
  hessianDiagonal: Float64Array | null;
  diagonalSource: 'explicit-block' | 'gauss-newton (= Hessian for piecewise-linear units)' | 'gauss-newton (tanh: Gauss–Newton part only)' | 'hutchinson-estimate' | null;
  diagonalFit: PowerLawRelation | null;
  diagonalFitError: string | null;
  dense: DenseCheck | null;
  timings: Record<string, number>;
  hvp: { calls: number; columns: number; seconds: number; maxVectors: number; chunkRows: number };
}

/**
 * `cpu`: the training set and weights on the CPU, for the Gauss–Newton diagonal (pass null to
 * use the Hutchinson diagonal). The weights analysed are those in mlp.params.
 */
export async function analyseHessian(
  mlp: MlpGpu,
  data: GpuDataset,
  cpu: { params: Float32Array; x: Float32Array; y: ArrayLike<number> } | null,
  options: Partial<HessianAnalysisOptions> = {},
): Promise<HessianAnalysis> {
  const o = { ...DEFAULT_HESSIAN_OPTIONS, ...options };
  const say = (stage: string, detail: string): void => o.onStage?.(stage, detail);
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const r = await f();
    timings[name] = (performance.now() - t0) / 1000;
    return r;
  };

  // NaN or infinite weights would give λ = 0 and a trace of 0: refuse them (the message names them).
  if (cpu) checkFiniteParams(cpu.params, mlp.layout, 'hessian: the weights analysed');
  const engine = await timed('hvp setup', () => HvpEngine.create(mlp, data, { layers: o.layers, chunkRows: o.chunkRows, maxVectors: o.maxVectors }));
  if (!Number.isFinite(engine.loss)) throw new Error(`hessian: the training loss at the weights analysed is ${engine.loss}; nothing to analyse`);
  const n = engine.dim;
  const op = engine.operator;
  say('hvp', `block of layers ${engine.layers.join(',')}: ${n} parameters, ${data.n} rows, loss ${engine.loss.toPrecision(6)}`);

  const k = Math.min(o.k, n);
  const lanczos = await timed('lanczos', () =>
    lanczosTopK(op, {
      n,
      k,
      maxIter: o.lanczosMaxIter,
      residualTol: o.residualTol,
      seed: o.seed,
      onCheck: (m, top, res) => say('lanczos', `m = ${m}: λ1 = ${top[0].toPrecision(6)}, max rel. residual ${res.toExponential(2)}`),
    }),
  );
  const kk = lanczos.values.length;
  const HU = await timed('lanczos residuals', () => op(lanczos.vectors, kk));
  const trueResiduals = new Float64Array(kk);
  for (let i = 0; i < kk; i++) {
    const r = new Float64Array(n);
    for (let t = 0; t < n; t++) r[t] = HU[i * n + t] - lanczos.values[i] * lanczos.vectors[i * n + t];
    trueResiduals[i] = norm2(r);
  }

  const hutch = await timed('hutchinson', () => hutchinson(op, { n, probes: o.hutchinsonProbes, batch: engine.maxVectors, seed: o.seed + 100 }));
  say('trace', `Hutchinson trace ${hutch.trace.toPrecision(6)} ± ${hutch.stdErr.toPrecision(2)}`);

  const steps = Math.min(o.slqSteps, n);
  const slqRes = await timed('slq', () =>
    slq(op, {
      n,
      probes: o.slqProbes,
      steps,
      batch: Math.min(o.slqProbes, engine.maxVectors),
      seed: o.seed + 200,
      onStep: (d, t) => {
        if (d % 10 === 0 || d === t) say('slq', `step ${d}/${t}`);
      },
    }),
  );
  const density = spectralDensity(slqRes, { sigmaRel: o.sigmaRel, points: o.densityPoints });
  const split = splitOutliers(lanczos.values);
  const outliers = { ...split, slqCountAbove: countAbove(slqRes, split.bulkEdge) };
  say('outliers', `${split.count} above the bulk edge ${split.bulkEdge.toPrecision(4)} (gap ×${split.gapRatio.toFixed(2)})`);

  let dense: DenseCheck | null = null;
  let blockDiag: Float64Array | null = null;
  if (o.verifyDense) {
    const block = await timed('dense build', () =>
      buildExplicitBlock(op, n, {
        batch: engine.maxVectors,
        onProgress: (d, t) => {
          if (d % (engine.maxVectors * 10) === 0 || d === t) say('dense', `built ${d}/${t} columns`);
        },
      }),
    );
    const spec = await timed('dense solve', () => denseSpectrum(block));
    blockDiag = blockDiagonal(block);
    const top = Math.min(o.verifyTop, kk);
    const relErr = new Float64Array(top);
    for (let i = 0; i < top; i++) relErr[i] = Math.abs(lanczos.values[i] - spec.values[i]) / Math.abs(spec.values[i]);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += blockDiag[i];
    dense = {
      dense: spec.values.slice(0, top),
      lanczos: lanczos.values.slice(0, top),
      relErr,
      maxRelErr: Math.max(...relErr),
      asymmetry: block.asymmetry,
      trace,
      buildSeconds: block.ms / 1000,
      solveSeconds: spec.ms / 1000,
      spectrum: spec.values,
      diagonalCheck: null,
    };
    say('dense', `max rel. error of the top ${top}: ${dense.maxRelErr.toExponential(2)}; build ${dense.buildSeconds.toFixed(1)} s, solve ${dense.solveSeconds.toFixed(1)} s`);
  }

  let hessianDiagonal: Float64Array | null = null;
  let diagonalSource: HessianAnalysis['diagonalSource'] = null;
  let gnDiag: Float64Array | null = null;
  if (cpu) {
    gnDiag = await timed('gauss-newton diagonal', () => gaussNewtonDiagonalCpu(mlp.config, cpu.params, cpu.x, cpu.y, data.n, engine.layers));
  }
  if (blockDiag) {
    hessianDiagonal = blockDiag;
    diagonalSource = 'explicit-block';
    if (gnDiag && dense && mlp.config.activation !== 'tanh') {
      let md = 0;
      let mx = 0;
      for (let i = 0; i < n; i++) {
        md = Math.max(md, Math.abs(gnDiag[i] - blockDiag[i]));
        mx = Math.max(mx, Math.abs(blockDiag[i]));
      }
      dense.diagonalCheck = mx > 0 ? md / mx : 0;
    }
  } else if (gnDiag) {
    hessianDiagonal = gnDiag;
    diagonalSource = mlp.config.activation === 'tanh' ? 'gauss-newton (tanh: Gauss–Newton part only)' : 'gauss-newton (= Hessian for piecewise-linear units)';
  } else {
    hessianDiagonal = hutch.diagonal;
    diagonalSource = 'hutchinson-estimate';
  }

  let noise: HessianAnalysis['noise'] = null;
  let diagonalFit: PowerLawRelation | null = null;
  let diagonalFitError: string | null = null;
  if (o.noise) {
    const bn = await timed('noise', () => blockGradientNoise(mlp, data, engine.parts, lanczos.vectors, kk));
    noise = { ...bn, eigenbasis: compareInEigenbasis(lanczos.values, bn.projected) };
    try {
      diagonalFit = powerLawRelation(hessianDiagonal, bn.diagonal.centred);
      say('noise', `C_ii ∝ H_ii^γ: γ = ${diagonalFit.gamma.toFixed(3)} ± ${diagonalFit.gammaSE.toFixed(3)} (r = ${diagonalFit.r.toFixed(3)}, n = ${diagonalFit.n})`);
    } catch (e) {
      diagonalFitError = (e as Error).message;
    }
  }

  const result: HessianAnalysis = {
    layers: engine.layers,
    dim: n,
    rows: data.n,
    loss: engine.loss,
    lanczos,
    trueResiduals,
    hutchinson: hutch,
    slq: slqRes,
    density,
    outliers,
    noise,
    hessianDiagonal,
    diagonalSource,
    diagonalFit,
    diagonalFitError,
    dense,
    timings,
    hvp: { calls: engine.calls, columns: engine.columns, seconds: engine.ms / 1000, maxVectors: engine.maxVectors, chunkRows: engine.chunkRows },
  };
  engine.destroy();
  return result;
}
