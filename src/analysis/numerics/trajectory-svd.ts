/**
 * Top-k PCA of a weight trajectory X (T steps × P weights, row-major: row t = the weights at
 * step t), for layers where the P×P covariance is too big to form (784×50 = 39,200 weights).
 *
 *   X_c = X − 1·x̄ᵀ (column means removed),  C = X_cᵀ·X_c / (T − 1)
 *   σ_i² = s_i² / (T − 1),  s_i the singular values of X_c;  p_i = right singular vectors.
 * The divisor is T − 1 (unbiased sample covariance, as sklearn's PCA.explained_variance_,
 * which the reference analysis used). Total variance = trace C = ‖X_c‖_F² / (T − 1).
 *
 * Three routes, same result:
 *  - covariance (small P, the dense reference): form C (P×P, O(T·P²)) and diagonalise.
 *  - Gram (small T): G = X_c·X_cᵀ (T×T, O(T²·P)), G·u_i = s_i²·u_i, then p_i = X_cᵀ·u_i / s_i.
 *    Its nonzero eigenvalues are those of X_cᵀX_c; centring makes rank ≤ T − 1.
 *  - randomised (large T and P; products only): subspace iteration (subspace-iteration.ts) on
 *    the P×P operator V ↦ Xᵀ·J·(X·V), J = I − 1·1ᵀ/T the centring projector, using callbacks
 *    X·V and Xᵀ·U (GPU). Since X_c = J·X and J² = J, X_cᵀX_c = Xᵀ·J·X: centring is one
 *    subtraction of column means in T-space, no mean vector needed. Randomised SVD with power
 *    iterations (Halko–Martinsson–Tropp) is this method; running it to a residual tolerance
 *    rather than a fixed number of passes makes the accuracy explicit.
 *
 * Precision warning for the randomised route: if the callbacks see the raw weights (not
 * centred) and compute in float32, X·V carries absolute errors ~1e-7·|w*|·‖V‖ while the
 * fluctuations are typically 1e-3–1e-2 of |w*|; subtract a reference (w* or the first step)
 * on the GPU before the products when that ratio is not comfortably above 1e-5.
 */
import { symmetricEig } from './symmetric-eig.ts';
import { subspaceIteration, type SubspaceIterationOptions } from './subspace-iteration.ts';

export type TrajectoryPcaMethod = 'covariance' | 'gram' | 'randomized';

export interface TrajectoryPca {
  method: TrajectoryPcaMethod;
  T: number;
  P: number;
  k: number;
  /** σ_i² = s_i²/(T − 1), descending, i = 0..k−1. */
  variances: Float64Array;
  /** Principal directions p_i, column-major P×k, unit norm (sign as returned by the solver). */
  components: Float64Array;
  /** trace C = Σ_p Var(x_p) (divisor T − 1); null if it cannot be known (randomised route
   * without `sumOfSquares`). */
  totalVariance: number | null;
  /** Column means x̄ (P) when they were computed, else null. */
  mean: Float64Array | null;
  /** Randomised route only: solver diagnostics. */
  solver?: { iterations: number; converged: boolean; relativeResiduals: Float64Array; operatorCalls: number };
}

function checkShape(name: string, traj: ArrayLike<number>, T: number, P: number, k: number): void {
  if (!(Number.isInteger(T) && T >= 2)) throw new Error(`${name}: T must be an integer >= 2, got ${T}`);
  if (!(Number.isInteger(P) && P >= 1)) throw new Error(`${name}: P must be an integer >= 1, got ${P}`);
  if (traj.length !== T * P) throw new Error(`${name}: trajectory must have T·P = ${T * P} entries, got ${traj.length}`);
  const kMax = Math.min(T - 1, P);
  if (!(Number.isInteger(k) && k >= 1 && k <= kMax)) {
    throw new Error(`${name}: k must be an integer in [1, min(T − 1, P) = ${kMax}], got ${k}`);
  }
}

/** Column means and the centred copy of a row-major T×P trajectory (float64). */
export function centerTrajectory(traj: ArrayLike<number>, T: number, P: number): { centred: Float64Array; mean: Float64Array } {
  if (traj.length !== T * P) throw new Error(`centerTrajectory: trajectory must have T·P = ${T * P} entries, got ${traj.length}`);
  const mean = new Float64Array(P);
  for (let t = 0; t < T; t++) {
    for (let p = 0; p < P; p++) {
      const v = traj[t * P + p];
      if (!Number.isFinite(v)) throw new Error(`centerTrajectory: entry (t=${t}, p=${p}) must be finite, got ${v}`);
      mean[p] += v;
    }
  }
  for (let p = 0; p < P; p++) mean[p] /= T;
  const centred = new Float64Array(T * P);
  for (let t = 0; t < T; t++) for (let p = 0; p < P; p++) centred[t * P + p] = traj[t * P + p] - mean[p];
  return { centred, mean };
}

function sumSquares(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/** Dense reference: C = X_cᵀX_c/(T − 1), P×P, diagonalised. Use for P up to ~2,500. */
export function trajectoryPcaCovariance(traj: ArrayLike<number>, T: number, P: number, k: number): TrajectoryPca {
  checkShape('trajectoryPcaCovariance', traj, T, P, k);
  const { centred, mean } = centerTrajectory(traj, T, P);
  const C = new Float64Array(P * P);
  for (let t = 0; t < T; t++) {
    const o = t * P;
    for (let a = 0; a < P; a++) {
      const xa = centred[o + a];
      if (xa === 0) continue;
      const row = a * P;
      for (let b = a; b < P; b++) C[row + b] += xa * centred[o + b];
    }
  }
  const inv = 1 / (T - 1);
  for (let a = 0; a < P; a++) {
    for (let b = a; b < P; b++) {
      const v = C[a * P + b] * inv;
      C[a * P + b] = v;
      C[b * P + a] = v;
    }
  }
  const eig = symmetricEig(C, P);
  return {
    method: 'covariance',
    T,
    P,
    k,
    variances: eig.values.slice(0, k),
    components: (eig.vectors as Float64Array).slice(0, P * k),
    totalVariance: sumSquares(centred) * inv,
    mean,
  };
}

/** Gram route: T×T eigenproblem, for windows of up to ~1,500 steps whatever P is. */
export function trajectoryPcaGram(traj: ArrayLike<number>, T: number, P: number, k: number): TrajectoryPca {
  checkShape('trajectoryPcaGram', traj, T, P, k);
  const { centred, mean } = centerTrajectory(traj, T, P);
  const G = new Float64Array(T * T);
  for (let s = 0; s < T; s++) {
    for (let t = 0; t <= s; t++) {
      let acc = 0;
      const os = s * P;
      const ot = t * P;
      for (let p = 0; p < P; p++) acc += centred[os + p] * centred[ot + p];
      G[s * T + t] = acc;
      G[t * T + s] = acc;
    }
  }
  const eig = symmetricEig(G, T);
  const U = eig.vectors as Float64Array;
  const components = new Float64Array(P * k);
  for (let i = 0; i < k; i++) {
    const lam = eig.values[i];
    // Below this the direction X_cᵀu/s is round-off, not a principal component.
    if (!(lam > 1e-13 * eig.values[0])) {
      throw new Error(`trajectoryPcaGram: k = ${k} exceeds the numerical rank of the centred trajectory (component ${i} has s² = ${lam})`);
    }
    const inv = 1 / Math.sqrt(lam);
    const dst = i * P;
    for (let t = 0; t < T; t++) {
      const c = U[i * T + t] * inv;
      if (c === 0) continue;
      const o = t * P;
      for (let p = 0; p < P; p++) components[dst + p] += c * centred[o + p];
    }
  }
  const variances = new Float64Array(k);
  for (let i = 0; i < k; i++) variances[i] = eig.values[i] / (T - 1);
  return { method: 'gram', T, P, k, variances, components, totalVariance: sumSquares(centred) / (T - 1), mean };
}

/** Products with a T×P trajectory matrix X (raw or centred), e.g. on the GPU. */
export interface TrajectoryOperator {
  T: number;
  P: number;
  /** X·V: V column-major P×b → column-major T×b. */
  mulX(V: Float64Array, b: number): Promise<Float64Array>;
  /** Xᵀ·U: U column-major T×b → column-major P×b. */
  mulXt(U: Float64Array, b: number): Promise<Float64Array>;
  /** True if X's columns already have zero mean; otherwise centring is done implicitly (J). */
  centred: boolean;
  /** Σ_{t,p} X[t,p]² of X as the callbacks see it; enables totalVariance. */
  sumOfSquares?: number;
}

export type RandomizedPcaOptions = Omit<SubspaceIterationOptions, 'n' | 'k'>;

export async function trajectoryPcaRandomized(
  op: TrajectoryOperator,
  k: number,
  options: RandomizedPcaOptions = {},
): Promise<TrajectoryPca> {
  const name = 'trajectoryPcaRandomized';
  const { T, P } = op;
  if (!(Number.isInteger(T) && T >= 2)) throw new Error(`${name}: op.T must be an integer >= 2, got ${T}`);
  if (!(Number.isInteger(P) && P >= 1)) throw new Error(`${name}: op.P must be an integer >= 1, got ${P}`);
  const kMax = Math.min(T - 1, P);
  if (!(Number.isInteger(k) && k >= 1 && k <= kMax)) {
    throw new Error(`${name}: k must be an integer in [1, min(T − 1, P) = ${kMax}], got ${k}`);
  }
  const checked = (out: Float64Array, rows: number, b: number, what: string): Float64Array => {
    if (!(out instanceof Float64Array) || out.length !== rows * b) {
      throw new Error(`${name}: ${what} must return a Float64Array of ${rows}·${b} = ${rows * b} entries, got ${out?.length}`);
    }
    return out;
  };

  // C·V = Xᵀ·J·(X·V): centre the T-vectors X·V column by column (skipped if X is centred).
  const gramOp = async (V: Float64Array, b: number): Promise<Float64Array> => {
    const Y = Float64Array.from(checked(await op.mulX(V, b), T, b, 'mulX'));
    if (!op.centred) {
      for (let j = 0; j < b; j++) {
        let s = 0;
        for (let t = 0; t < T; t++) s += Y[j * T + t];
        const m = s / T;
        for (let t = 0; t < T; t++) Y[j * T + t] -= m;
      }
    }
    return checked(await op.mulXt(Y, b), P, b, 'mulXt');
  };
  const res = await subspaceIteration(gramOp, { ...options, n: P, k });

  let mean: Float64Array | null = null;
  let totalVariance: number | null = null;
  if (op.sumOfSquares !== undefined) {
    if (!(Number.isFinite(op.sumOfSquares) && op.sumOfSquares >= 0)) {
      throw new Error(`${name}: op.sumOfSquares must be finite and >= 0, got ${op.sumOfSquares}`);
    }
    let ss = op.sumOfSquares;
    if (!op.centred) {
      // ‖X_c‖² = ‖X‖² − T·‖x̄‖², x̄ = Xᵀ·1/T. Cancels badly when |x̄| ≫ the fluctuations:
      // prefer centred data (see the header).
      const ones = new Float64Array(T).fill(1);
      mean = Float64Array.from(checked(await op.mulXt(ones, 1), P, 1, 'mulXt'));
      let mm = 0;
      for (let p = 0; p < P; p++) {
        mean[p] /= T;
        mm += mean[p] * mean[p];
      }
      ss = Math.max(0, ss - T * mm);
    }
    totalVariance = ss / (T - 1);
  }
  const variances = new Float64Array(k);
  for (let i = 0; i < k; i++) variances[i] = res.values[i] / (T - 1);
  return {
    method: 'randomized',
    T,
    P,
    k,
    variances,
    components: res.vectors,
    totalVariance,
    mean,
    solver: {
      iterations: res.iterations,
      converged: res.converged,
      relativeResiduals: res.relativeResiduals,
      operatorCalls: res.operatorCalls,
    },
  };
}

/** CPU float64 TrajectoryOperator over an in-memory row-major T×P trajectory. */
export function denseTrajectoryOperator(traj: ArrayLike<number>, T: number, P: number, centred = false): TrajectoryOperator {
  if (traj.length !== T * P) throw new Error(`denseTrajectoryOperator: trajectory must have T·P = ${T * P} entries, got ${traj.length}`);
  const X = Float64Array.from(traj);
  return {
    T,
    P,
    centred,
    sumOfSquares: sumSquares(X),
    async mulX(V: Float64Array, b: number): Promise<Float64Array> {
      const out = new Float64Array(T * b);
      for (let j = 0; j < b; j++) {
        for (let t = 0; t < T; t++) {
          let s = 0;
          const o = t * P;
          for (let p = 0; p < P; p++) s += X[o + p] * V[j * P + p];
          out[j * T + t] = s;
        }
      }
      return out;
    },
    async mulXt(U: Float64Array, b: number): Promise<Float64Array> {
      const out = new Float64Array(P * b);
      for (let j = 0; j < b; j++) {
        for (let t = 0; t < T; t++) {
          const c = U[j * T + t];
          if (c === 0) continue;
          const o = t * P;
          for (let p = 0; p < P; p++) out[j * P + p] += c * X[o + p];
        }
      }
      return out;
    },
  };
}

