/**
 * Top-k PCA of a recorded weight window on the GPU (the "PCA" stage of the Feng–Tu analysis):
 *
 *  - covariance route (P ≲ 10⁴): the scatter matrix S (P, P) is on the GPU (gpu-scatter.ts, built
 *    while training); the eigensolver (block Lanczos by default, or randomised subspace iteration)
 *    runs on the CPU in float64 with S·V products on the GPU; σ_i² = λ_i(S)/(T − 1). For many
 *    components (k ≳ P/10) 'dense' reads S back and diagonalises it whole (symmetric-eig.ts).
 *  - trajectory route (layers too big for P×P, e.g. 784×50): randomised subspace iteration on
 *    V ↦ Xᵀ·(X·V)/(T − 1) with X the centred (T, P) window on the GPU (trajectory-svd.ts).
 *
 * Both give σ_i² (descending), unit principal directions p_i (column-major P×k) and the total
 * variance (trace of the covariance, from S's diagonal or the window's column sums of squares),
 * which D90/D99 are measured against (pca-summary.ts).
 *
 * Tolerances: products are float32 (relative error ~1e-6 of ‖S‖), so the convergence tests are set
 * where ritz.ts says a float32 operator can reach them (tol 1e-5, residualTol 3e-5, valueFloor 1e-2).
 */
import type { GpuContext } from '../../gpu/device.ts';
import { blockLanczos } from '../numerics/block-lanczos.ts';
import { subspaceIteration } from '../numerics/subspace-iteration.ts';
import { trajectoryPcaRandomized } from '../numerics/trajectory-svd.ts';
import { symmetricEig } from '../numerics/symmetric-eig.ts';
import { symmetricEigTop } from '../numerics/symmetric-eig-top.ts';
import { loadLinalg } from '../numerics/wasm/linalg.ts';
import { readF32 } from '../../gpu/buffers.ts';
import type { BlockOperator, TopEigenResult } from '../numerics/ritz.ts';
import { scatterOperator, trajectoryOperator } from './gpu-linalg.ts';
import { noiseFloor, type Accumulation, type NoiseFloor } from '../numerics/noise-floor.ts';

export type PcaRoute = 'covariance' | 'trajectory';
export type EigMethod = 'auto' | 'lanczos' | 'subspace' | 'dense';

export interface GpuPca {
  route: PcaRoute;
  method: EigMethod;
  T: number;
  P: number;
  k: number;
  variances: Float64Array;
  /** Column-major P×k: component i at [i·P, (i+1)·P). */
  components: Float64Array;
  /** Trace of the covariance (divisor T − 1). */
  total: number;
  converged: boolean;
  iterations: number;
  operatorCalls: number;
  maxRelativeResidual: number;
  /** Time in GPU products (submit + read-back) and in total. */
  productMs: number;
  ms: number;
}

export const FLOAT32_TOLERANCES = { tol: 1e-5, residualTol: 3e-5, valueFloor: 1e-2 };

export interface PcaOptions {
  method?: EigMethod;
  seed?: number;
  /** Block Lanczos: columns per block (default 8) and the largest basis (default min(P, 6k + 40)). */
  blockSize?: number;
  maxBasis?: number;
  /** Subspace iteration: the iteration cap (default 300). */
  maxIterations?: number;
  /** Dense only: eigenvalues without eigenvectors (≈ 4× faster; components come back empty). */
  valuesOnly?: boolean;
}

/** The eigensolver 'auto' picks: dense for many components of a moderate P, else block Lanczos. */
export function autoEigMethod(P: number, k: number): Exclude<EigMethod, 'auto'> {
  return k > 100 && P <= 4096 ? 'dense' : 'lanczos';
}

function maxResidual(r: TopEigenResult): number {
  let m = 0;
  for (const x of r.relativeResiduals) m = Math.max(m, x);
  return m;
}

/** Top-k eigenpairs of the covariance S/(T − 1), S (P, P) on the GPU with trace `traceS`. */
export async function pcaFromScatter(ctx: GpuContext, S: GPUBuffer, P: number, T: number, k: number, traceS: number, o: PcaOptions = {}): Promise<GpuPca> {
  const t0 = performance.now();
  if (!(Number.isInteger(k) && k >= 1 && k <= Math.min(P, T - 1))) throw new Error(`pcaFromScatter: k must be in [1, min(P, T − 1) = ${Math.min(P, T - 1)}], got ${k}`);
  const method = !o.method || o.method === 'auto' ? autoEigMethod(P, k) : o.method;
  const scale = 1 / (T - 1);
  let res: TopEigenResult;
  let productMs = 0;
  if (method === 'dense') {
    // Read S back and diagonalise it on the CPU in float64 (all P eigenpairs; O(P³), ~30 s at P = 2500).
    const t1 = performance.now();
    const Sh = await readF32(ctx, S, 0, P * P);
    productMs = performance.now() - t1;
    const eig = symmetricEig(Sh, P, { vectors: !o.valuesOnly, symmetryTol: 1e-4 });
    const values = new Float64Array(k);
    for (let i = 0; i < k; i++) values[i] = Math.max(0, eig.values[i]) * scale;
    return {
      route: 'covariance',
      method,
      T,
      P,
      k,
      variances: values,
      components: eig.vectors ? eig.vectors.slice(0, P * k) : new Float64Array(0),
      total: traceS * scale,
      converged: true,
      iterations: 1,
      operatorCalls: 0,
      maxRelativeResidual: 0,
      productMs,
      ms: performance.now() - t0,
    };
  }
  if (method === 'lanczos') {
    const blockSize = Math.min(o.blockSize ?? 8, P);
    const maxBasis = Math.min(P, o.maxBasis ?? Math.max(6 * k + 40, 10 * blockSize));
    const { op, stats } = await scatterOperator(ctx, S, P, blockSize, scale);
    res = await blockLanczos(op, { n: P, k, blockSize, maxBasis, seed: o.seed, ...FLOAT32_TOLERANCES });
    productMs = stats.ms;
  } else {
    const m = Math.min(P, k + Math.max(5, Math.ceil(k / 2)));
    const { op, stats } = await scatterOperator(ctx, S, P, m, scale);
    res = await subspaceIteration(op, { n: P, k, seed: o.seed, maxIterations: o.maxIterations, ...FLOAT32_TOLERANCES });
    productMs = stats.ms;
  }
  return {
    route: 'covariance',
    method,
    T,
    P,
    k,
    variances: res.values,
    components: res.vectors,
    total: traceS * scale,
    converged: res.converged,
    iterations: res.iterations,
    operatorCalls: res.operatorCalls,
    maxRelativeResidual: maxResidual(res),
    productMs,
    ms: performance.now() - t0,
  };
}

/** Tolerances for an operator with float64 products (the precise scatter on the CPU). */
export const FLOAT64_TOLERANCES = { tol: 1e-11, residualTol: 1e-11, valueFloor: 1e-11 };

/** C·V for the covariance C = scale·S of a float64 S (P, P) row-major, V column-major (P × b). */
function float64ScatterOperator(S: Float64Array, P: number, scale: number): BlockOperator {
  return async (V, b) => {
    const out = new Float64Array(P * b);
    for (let j = 0; j < b; j++) {
      const v = j * P;
      for (let i = 0; i < P; i++) {
        const o = i * P;
        let s = 0;
        for (let q = 0; q < P; q++) s += S[o + q] * V[v + q];
        out[v + i] = s * scale;
      }
    }
    return out;
  };
}

/**
 * Top-k PCA of a window from its float64 scatter S (precise-scatter.ts), with the noise floor of
 * the result: `accumulation` says how S was summed. Dense (all eigenpairs, float64) or block
 * Lanczos / subspace iteration with float64 products on the CPU.
 */
export async function pcaFromScatter64(S: Float64Array, P: number, T: number, k: number, traceS: number, o: PcaOptions & { accumulation: Accumulation }): Promise<GpuPca & { floor: NoiseFloor }> {
  const t0 = performance.now();
  if (!(Number.isInteger(k) && k >= 1 && k <= Math.min(P, T - 1))) throw new Error(`pcaFromScatter64: k must be in [1, min(P, T − 1) = ${Math.min(P, T - 1)}], got ${k}`);
  if (S.length !== P * P) throw new Error(`pcaFromScatter64: S must have P² = ${P * P} entries, got ${S.length}`);
  const method = !o.method || o.method === 'auto' ? autoEigMethod(P, k) : o.method;
  const scale = 1 / (T - 1);
  const total = traceS * scale;
  let values: Float64Array;
  let components: Float64Array;
  let res: TopEigenResult | null = null;
  if (method === 'dense') {
    // All eigenvalues (D90/D99 need them), vectors for the top k only (symmetric-eig-top.ts), in
    // WebAssembly SIMD where available.
    await loadLinalg();
    const eig = symmetricEigTop(S, P, o.valuesOnly ? 0 : k);
    values = Float64Array.from(eig.values.subarray(0, k), (v) => v * scale);
    components = eig.vectors;
  } else {
    const op = float64ScatterOperator(S, P, scale);
    if (method === 'lanczos') {
      const blockSize = Math.min(o.blockSize ?? 8, P);
      const maxBasis = Math.min(P, o.maxBasis ?? Math.max(6 * k + 40, 10 * blockSize));
      res = await blockLanczos(op, { n: P, k, blockSize, maxBasis, seed: o.seed, ...FLOAT64_TOLERANCES });
    } else {
      res = await subspaceIteration(op, { n: P, k, seed: o.seed, maxIterations: o.maxIterations, ...FLOAT64_TOLERANCES });
    }
    values = res.values;
    components = res.vectors;
  }
  // Round-off can leave the smallest of a PSD spectrum a hair below zero: clamp (the floor says how much).
  for (let i = 0; i < values.length; i++) values[i] = Math.max(0, values[i]);
  const maxRes = res ? maxResidual(res) : 0;
  const floor = noiseFloor({ variances: values, total, T, P, accumulation: o.accumulation, eigensolver: 'float64', eigensolverResidual: maxRes });
  return {
    route: 'covariance',
    method,
    T,
    P,
    k,
    variances: values,
    components,
    total,
    converged: res ? res.converged : true,
    iterations: res ? res.iterations : 1,
    operatorCalls: res ? res.operatorCalls : 0,
    maxRelativeResidual: maxRes,
    productMs: 0,
    ms: performance.now() - t0,
    floor,
  };
}

/** Top-k PCA from the centred (T, P) window X on the GPU, ‖X‖_F² = sumOfSquares. */
export async function pcaFromTrajectory(ctx: GpuContext, X: GPUBuffer, T: number, P: number, k: number, sumOfSquares: number, o: PcaOptions = {}): Promise<GpuPca> {
  const t0 = performance.now();
  const m = Math.min(P, k + Math.max(5, Math.ceil(k / 2)));
  const { op, stats } = await trajectoryOperator(ctx, X, T, P, m, sumOfSquares);
  const r = await trajectoryPcaRandomized(op, k, { seed: o.seed, maxIterations: o.maxIterations, ...FLOAT32_TOLERANCES });
  let maxRes = 0;
  for (const x of r.solver?.relativeResiduals ?? []) maxRes = Math.max(maxRes, x);
  return {
    route: 'trajectory',
    method: 'subspace',
    T,
    P,
    k,
    variances: r.variances,
    components: r.components,
    total: r.totalVariance ?? NaN,
    converged: r.solver?.converged ?? false,
    iterations: r.solver?.iterations ?? 0,
    operatorCalls: r.solver?.operatorCalls ?? 0,
    maxRelativeResidual: maxRes,
    productMs: stats.ms,
    ms: performance.now() - t0,
  };
}
