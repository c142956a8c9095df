/**
 * The activity–weight duality analysis of one trained network (duality.ts has the math):
 *
 *   1. per-sample layer inputs, losses and dl/dz on the train and test sets (CPU, float64);
 *   2. same-class nearest-neighbour pairs in pixel space (pairing.ts);
 *   3. dual weights ΔW_k, per-pair loss changes Δl_k (two ways), first-order predictions;
 *   4. the layer's training-loss Hessian, built explicitly from exact GPU Hessian–vector products
 *      (src/analysis/curvature: HvpEngine on that layer's block, buildExplicitBlock) and fully
 *      diagonalised in float64 (P = 900 for the 30×30 layer: every direction, so the
 *      decomposition is complete);
 *   5. projections of ΔW_k and ∇l_k on all eigenvectors: two (M, P)·(P, P) matmuls on the GPU
 *      with the dense forward kernel (identity activation);
 *   6. per-direction means, spreads, correlations and the decomposition of the gap.
 *
 * AwdProbe keeps one analysis MlpGpu, HVP engine and matmul kernel for a model, so a sweep of
 * trained networks compiles them once.
 */
import type { GpuContext } from '../../gpu/device.ts';
import { GpuBatch } from '../../gpu/batch.ts';
import { createStorage, readF32 } from '../../gpu/buffers.ts';
import { DenseForward } from '../../kernels/dense_forward.ts';
import { MlpGpu } from '../../nn/mlp-gpu.ts';
import type { MlpConfig } from '../../nn/config.ts';
import type { Dataset } from '../../data/index.ts';
import { uploadDataset, type GpuDataset } from '../../train/gpu-dataset.ts';
import { HvpEngine } from '../../analysis/curvature/hvp-gpu.ts';
import { buildExplicitBlock, denseSpectrum } from '../../analysis/curvature/dense-block.ts';
import { pairSamples, type Pairing, type Pairs } from './pairing.ts';
import { recordLayer, type LayerRecord } from './network-cpu.ts';
import { directionStats, dualWeights, rss, sum, type DirectionStats, type DualWeights } from './duality.ts';

export interface AwdOptions {
  /** Analysed dense layer (default 1: the hidden→hidden layer). */
  layer: number;
  /** The pairing the factors and figures use; the other one is summarised alongside. */
  pairing: Pairing;
  /** Also analyse the other pairing direction (default true). */
  both: boolean;
  /** Directions (largest Hessian eigenvalues) summarised as "top" factors (default 10). */
  top: number;
}

export const DEFAULT_AWD: AwdOptions = { layer: 1, pairing: 'test-to-train', both: true, top: 10 };

/** The other pairing's numbers, for comparison. */
export interface AwdAlternate {
  pairing: Pairing;
  pairs: number;
  gapPairs: number;
  gapDecomposition: number;
  gapFirstOrder: number;
  factors: AwdFactors;
  meanPairDistance: number;
}

export interface AwdFactors {
  /** √Σ_n σ_g,n² over all directions (= √tr Cov G) and over the top directions. */
  sharpness: number;
  sharpnessTop: number;
  /** The same with the first-order gradient slopes ∇l_k. */
  sharpnessGrad: number;
  sharpnessGradTop: number;
  /** √Σ_n σ_w,n² (= √tr Cov ΔW) and over the top directions. */
  size: number;
  sizeTop: number;
}

export interface AwdAnalysis {
  layer: number;
  K: number;
  N: number;
  P: number;
  pairing: Pairing;
  pairs: number;
  skipped: number;
  meanPairDistance: number;
  trainLoss: number;
  testLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Test loss − train loss over the full sets. */
  gapMeasured: number;
  /** Mean over pairs of Δl_k = l_test(t(k)) − l_train(k). */
  gapPairs: number;
  /** Σ_n (μ_g,n μ_w,n + c_n σ_g,n σ_w,n) over all P directions (= gapPairs up to round-off). */
  gapDecomposition: number;
  /** Over the top directions only. */
  gapDecompositionTop: number;
  /** Mean of the first-order predictions ∇l_k·ΔW_k, and its decomposition Σ_n (μ_∇ μ_w + c σ_∇ σ_w). */
  gapFirstOrder: number;
  gapFirstOrderDecomposition: number;
  residual64: number;
  residual32: number;
  lossMismatch: number;
  hessianAsymmetry: number;
  hessianTrace: number;
  stats: DirectionStats;
  factors: AwdFactors;
  alternate: AwdAlternate | null;
  perPair: { train: Uint32Array; test: Uint32Array; distance: Float64Array; deltaLoss: Float64Array; firstOrder: Float64Array; dwNorm: Float64Array };
  timings: Record<string, number>;
}

export class AwdProbe {
  private matmul: DenseForward | null = null;

  private constructor(readonly ctx: GpuContext, readonly model: MlpConfig, readonly mlp: MlpGpu, readonly engine: HvpEngine, readonly trainGpu: GpuDataset, readonly layer: number) {}

  /** The Hessian is that of the mean loss over `train` (uploaded here once). */
  static async create(ctx: GpuContext, model: MlpConfig, train: Dataset, layer: number): Promise<AwdProbe> {
    const n = model.widths.length - 1;
    if (!(Number.isInteger(layer) && layer >= 0 && layer < n)) throw new Error(`awd: layer must be an integer in [0, ${n - 1}], got ${layer}`);
    const mlp = await MlpGpu.create(ctx, model, { momentum: false });
    const classes = model.widths[model.widths.length - 1];
    const trainGpu = uploadDataset(ctx, 'awd.train', train.x, train.y, train.d, classes);
    const engine = await HvpEngine.create(mlp, trainGpu, { layers: [layer], maxVectors: 64, label: 'awd.hvp' });
    return new AwdProbe(ctx, model, mlp, engine, trainGpu, layer);
  }

  /** Eigen-decomposition of the layer's Hessian block at `params`: all P eigenpairs, descending. */
  async hessian(params: Float32Array): Promise<{ values: Float64Array; vectors: Float64Array; asymmetry: number; seconds: number }> {
    const t0 = performance.now();
    this.mlp.uploadParams(params);
    await this.engine.refresh();
    const block = await buildExplicitBlock(this.engine.operator, this.engine.dim, { batch: this.engine.maxVectors });
    const spec = denseSpectrum(block, { vectors: true });
    return { values: spec.values, vectors: spec.vectors!, asymmetry: block.asymmetry, seconds: (performance.now() - t0) / 1000 };
  }

  /** Y (M, P) = X (M, P)·E (P, P) on the GPU, E given column-major (column j = eigenvector j). */
  async project(X: Float32Array, M: number, Ecol: Float64Array, P: number): Promise<Float32Array> {
    // Compiled once; the kernel is correct for any shape (the tile choice only affects speed).
    this.matmul ??= await DenseForward.create(this.ctx, { act: 'identity', bias: false, shape: { m: Math.max(M, 512), k: P, n: P }, label: 'awd.project' });
    // Row-major E[i, j] = v_j[i] = Ecol[j·P + i].
    const E = new Float32Array(P * P);
    for (let j = 0; j < P; j++) for (let i = 0; i < P; i++) E[i * P + j] = Ecol[j * P + i];
    const xb = createStorage(this.ctx, 'awd.project.x', X.subarray(0, M * P));
    const wb = createStorage(this.ctx, 'awd.project.w', E);
    const yb = createStorage(this.ctx, 'awd.project.y', M * P * 4);
    try {
      const batch = new GpuBatch(this.ctx, 'awd.project');
      this.matmul.encode(batch, this.matmul.bind({ x: xb, w: wb, y: yb }), { m: M, k: P, n: P });
      batch.submit();
      return await readF32(this.ctx, yb, 0, M * P);
    } finally {
      xb.destroy();
      wb.destroy();
      yb.destroy();
    }
  }

  /** Dual weights, projections on the Hessian eigenvectors and per-direction statistics for one pairing. */
  private async pairingStats(params: Float32Array, trainRec: LayerRecord, testRec: LayerRecord, train: Dataset, pr: Pairs, h: { values: Float64Array; vectors: Float64Array }, timings: Record<string, number>, gradients = true) {
    let t = performance.now();
    const dual: DualWeights = dualWeights(this.model, params, this.layer, trainRec, testRec, train.y, pr);
    timings[`dual weights (${pr.pairing})`] = (performance.now() - t) / 1000;
    t = performance.now();
    const M = dual.used.length;
    const P = dual.P;
    if (P !== this.engine.dim) throw new Error(`awd: dual weights have ${P} entries but the Hessian block ${this.engine.dim}`);
    const thetaW = await this.project(dual.dW, M, h.vectors, P);
    const thetaD = gradients ? await this.project(dual.grad, M, h.vectors, P) : null;
    timings[`projections (${pr.pairing})`] = (performance.now() - t) / 1000;
    t = performance.now();
    const secant = Float64Array.from(dual.deltaLoss, (dl, m) => (dual.dwNorm[m] > 0 ? dl / dual.dwNorm[m] ** 2 : 0));
    const stats = directionStats(thetaW, thetaD, secant, h.values, M, P);
    timings[`statistics (${pr.pairing})`] = (performance.now() - t) / 1000;
    return { dual, stats };
  }

  async analyze(params: Float32Array, data: { train: Dataset; test: Dataset }, o: Omit<AwdOptions, 'layer'>, pairs?: Partial<Record<Pairing, Pairs>>): Promise<AwdAnalysis> {
    const timings: Record<string, number> = {};
    let t = performance.now();
    const trainRec = recordLayer(this.model, params, data.train, this.layer);
    const testRec = recordLayer(this.model, params, data.test, this.layer);
    timings.forward = (performance.now() - t) / 1000;
    t = performance.now();
    const other: Pairing = o.pairing === 'train-to-test' ? 'test-to-train' : 'train-to-test';
    const pr = pairs?.[o.pairing] ?? pairSamples(data.train, data.test, o.pairing);
    const prAlt = o.both ? (pairs?.[other] ?? pairSamples(data.train, data.test, other)) : null;
    timings.pairing = (performance.now() - t) / 1000;
    t = performance.now();
    const h = await this.hessian(params);
    timings.hessian = (performance.now() - t) / 1000;
    const top = Math.min(o.top, this.engine.dim);
    const { dual, stats } = await this.pairingStats(params, trainRec, testRec, data.train, pr, h, timings);
    const mean = (v: ArrayLike<number>): number => sum(v) / Math.max(1, v.length);
    const factorsOf = (st: DirectionStats): AwdFactors => ({
      sharpness: rss(st.sigmaG),
      sharpnessTop: rss(st.sigmaG, top),
      sharpnessGrad: rss(st.sigmaD),
      sharpnessGradTop: rss(st.sigmaD, top),
      size: rss(st.sigmaW),
      sizeTop: rss(st.sigmaW, top),
    });
    let alternate: AwdAlternate | null = null;
    if (prAlt) {
      const alt = await this.pairingStats(params, trainRec, testRec, data.train, prAlt, h, timings, false);
      alternate = {
        pairing: prAlt.pairing,
        pairs: alt.dual.used.length,
        gapPairs: mean(alt.dual.deltaLoss),
        gapDecomposition: sum(alt.stats.term),
        gapFirstOrder: mean(alt.dual.firstOrder),
        factors: { ...factorsOf(alt.stats), sharpnessGrad: NaN, sharpnessGradTop: NaN },
        meanPairDistance: mean(prAlt.distance),
      };
    }
    const trainLoss = mean(trainRec.loss);
    const testLoss = mean(testRec.loss);
    return {
      layer: this.layer,
      K: trainRec.K,
      N: trainRec.N,
      P: dual.P,
      pairing: pr.pairing,
      pairs: dual.used.length,
      skipped: dual.skipped,
      meanPairDistance: mean(pr.distance),
      trainLoss,
      testLoss,
      trainAccuracy: trainRec.correct / trainRec.n,
      testAccuracy: testRec.correct / testRec.n,
      gapMeasured: testLoss - trainLoss,
      gapPairs: mean(dual.deltaLoss),
      gapDecomposition: sum(stats.term),
      gapDecompositionTop: stats.cumulative[top - 1],
      gapFirstOrder: mean(dual.firstOrder),
      gapFirstOrderDecomposition: sum(stats.termD),
      residual64: dual.residual64,
      residual32: dual.residual32,
      lossMismatch: dual.lossMismatch,
      hessianAsymmetry: h.asymmetry,
      hessianTrace: sum(h.values),
      stats,
      factors: factorsOf(stats),
      alternate,
      perPair: {
        train: Uint32Array.from(dual.used, (p) => pr.train[p]),
        test: Uint32Array.from(dual.used, (p) => pr.test[p]),
        distance: Float64Array.from(dual.used, (p) => pr.distance[p]),
        deltaLoss: dual.deltaLoss,
        firstOrder: dual.firstOrder,
        dwNorm: dual.dwNorm,
      },
      timings,
    };
  }

  destroy(): void {
    this.engine.destroy();
    for (const b of [this.mlp.params, this.mlp.grads, this.mlp.velocity, this.trainGpu.x, this.trainGpu.y]) b.destroy();
  }
}
