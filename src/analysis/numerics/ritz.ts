/**
 * Shared pieces of the top-k eigensolvers for a symmetric operator A known only through
 * block products A·V (subspace-iteration.ts, block-lanczos.ts).
 *
 * Rayleigh–Ritz: given an orthonormal basis Q (n×m) and AQ, the projected matrix
 * H = Qᵀ(AQ) (m×m) is diagonalised, H = Y·Θ·Yᵀ; the Ritz pairs are (θ_j, u_j = Q·y_j) with
 * A·u_j = (AQ)·y_j available without another operator call, so the residuals
 * r_j = ‖A·u_j − θ_j·u_j‖ come for free. For symmetric A, |λ − θ_j| ≤ r_j for some
 * eigenvalue λ, and the eigenvalue error is O(r_j²/gap): the residual is the honest measure.
 *
 * Convergence (both must hold for all j < k):
 *   |θ_j(now) − θ_j(previous)| ≤ tol · max(|θ_j|, valueFloor·|θ_0|)
 *   r_j ≤ residualTol · |θ_0|
 * Both are on the scale of the largest Ritz value (≈ ‖A‖₂ for PSD A) at the bottom end: the
 * products carry errors ~ε_op·‖A‖ whatever θ_j is (ε_op ≈ 1e-16 on the CPU, ≈ 1e-7 for a
 * float32 GPU operator), so the Ritz values of eigenvalues near zero jitter by ~ε_op·|θ_0|
 * from one iteration to the next and a purely relative test on them could never pass.
 * Defaults (tol 1e-8, residualTol 1e-6, valueFloor 1e-6) suit a float64 operator. For a
 * float32 operator the attainable levels are ~1e-6–1e-5 for residualTol and, for the value
 * test, tol·valueFloor must exceed ~1e-7: e.g. tol 1e-5, residualTol 1e-4, valueFloor 1e-2.
 * An iteration that cannot reach its tolerances ends at its limit with converged = false;
 * `history` shows where it stalled.
 */
import { matMul, matTmat, norm2 } from './dense.ts';
import { symmetricEig } from './symmetric-eig.ts';

/**
 * Block product with a symmetric n×n operator. V is column-major n×b (column j at
 * V[j·n .. j·n + n)); the result must be A·V in the same layout (length n·b).
 */
export type BlockOperator = (V: Float64Array, b: number) => Promise<Float64Array>;

export interface TopEigenOptions {
  /** Operator dimension. */
  n: number;
  /** Number of eigenpairs wanted, 1 <= k <= n. */
  k: number;
  /** Relative change of the top-k Ritz values between iterations (default 1e-8). */
  tol?: number;
  /** Residual ‖Au − θu‖ relative to the largest Ritz value (default 1e-6). */
  residualTol?: number;
  /** Ritz values below valueFloor·|θ_0| are judged on that absolute scale (default 1e-6). */
  valueFloor?: number;
  /** Seed of the random start block and of rank-deficiency replacements (default 12345). */
  seed?: number;
}

export interface IterationRecord {
  iteration: number;
  /** max_j |Δθ_j| / max(|θ_j|, valueFloor·|θ_0|) over j < k (Infinity on the first iteration). */
  maxRelativeChange: number;
  /** max_j r_j / |θ_0| over j < k. */
  maxRelativeResidual: number;
}

export interface TopEigenResult {
  /** Top-k Ritz values, descending. */
  values: Float64Array;
  /** Column-major n×k Ritz vectors (orthonormal). */
  vectors: Float64Array;
  /** Absolute residual norms ‖A·u_j − θ_j·u_j‖. */
  residuals: Float64Array;
  /** residuals / |θ_0|. */
  relativeResiduals: Float64Array;
  /** Iterations (subspace iteration) or blocks added (block Lanczos). */
  iterations: number;
  /** Operator calls and the total number of columns they were given. */
  operatorCalls: number;
  operatorColumns: number;
  converged: boolean;
  history: IterationRecord[];
}

export interface ResolvedTolerances {
  tol: number;
  residualTol: number;
  valueFloor: number;
}

export function resolveTolerances(name: string, o: TopEigenOptions): ResolvedTolerances {
  const tol = o.tol ?? 1e-8;
  const residualTol = o.residualTol ?? 1e-6;
  const valueFloor = o.valueFloor ?? 1e-6;
  if (!(Number.isInteger(o.n) && o.n >= 1)) throw new Error(`${name}: n must be an integer >= 1, got ${o.n}`);
  if (!(Number.isInteger(o.k) && o.k >= 1 && o.k <= o.n)) {
    throw new Error(`${name}: k must be an integer in [1, n = ${o.n}], got ${o.k}`);
  }
  if (!(tol > 0 && tol < 1)) throw new Error(`${name}: tol must be in (0, 1), got ${tol}`);
  if (!(residualTol > 0 && residualTol < 1)) throw new Error(`${name}: residualTol must be in (0, 1), got ${residualTol}`);
  if (!(valueFloor >= 0 && valueFloor <= 1)) throw new Error(`${name}: valueFloor must be in [0, 1], got ${valueFloor}`);
  return { tol, residualTol, valueFloor };
}

/** Calls the operator, checking the shape and finiteness of what comes back. */
export class CountingOperator {
  calls = 0;
  columns = 0;
  constructor(
    private readonly op: BlockOperator,
    private readonly n: number,
    private readonly name: string,
  ) {}

  async apply(V: Float64Array, b: number): Promise<Float64Array> {
    const out = await this.op(V, b);
    this.calls++;
    this.columns += b;
    if (!(out instanceof Float64Array) || out.length !== this.n * b) {
      throw new Error(`${this.name}: operator must return a Float64Array of n·b = ${this.n * b} entries, got ${out?.length}`);
    }
    for (let i = 0; i < out.length; i++) {
      if (!Number.isFinite(out[i])) throw new Error(`${this.name}: operator returned a non-finite entry at ${i}`);
    }
    return out;
  }
}

export interface RitzPairs {
  /** All m Ritz values, descending. */
  values: Float64Array;
  /** Top-k Ritz vectors u = Q·y and their images A·u = (AQ)·y, column-major n×k. */
  U: Float64Array;
  AU: Float64Array;
  residuals: Float64Array;
}

/** Rayleigh–Ritz on the first m columns of Q and AQ (column-major, n rows). */
export function rayleighRitz(Q: Float64Array, AQ: Float64Array, n: number, m: number, k: number): RitzPairs {
  const H = matTmat(Q, m, AQ, m, n);
  // Symmetry of H is only as good as the operator's (float32 on the GPU): allow 1e-4.
  const eig = symmetricEig(H, m, { symmetryTol: 1e-4 });
  const Y = eig.vectors as Float64Array;
  const Yk = Y.subarray(0, m * k);
  const U = matMul(Q, n, m, Yk, k);
  const AU = matMul(AQ, n, m, Yk, k);
  const residuals = new Float64Array(k);
  const r = new Float64Array(n);
  for (let j = 0; j < k; j++) {
    const th = eig.values[j];
    for (let t = 0; t < n; t++) r[t] = AU[j * n + t] - th * U[j * n + t];
    residuals[j] = norm2(r);
  }
  return { values: eig.values, U, AU, residuals };
}

/** Evaluates the two convergence criteria; `previous` is null on the first iteration. */
export function convergenceRecord(
  iteration: number,
  values: Float64Array,
  previous: Float64Array | null,
  residuals: Float64Array,
  k: number,
  valueFloor: number,
): IterationRecord {
  const scale = Math.abs(values[0]);
  let maxRelativeChange = previous ? 0 : Infinity;
  let maxRelativeResidual = 0;
  for (let j = 0; j < k; j++) {
    if (previous) {
      const denom = Math.max(Math.abs(values[j]), valueFloor * scale);
      const change = Math.abs(values[j] - previous[j]);
      maxRelativeChange = Math.max(maxRelativeChange, denom > 0 ? change / denom : change === 0 ? 0 : Infinity);
    }
    maxRelativeResidual = Math.max(maxRelativeResidual, scale > 0 ? residuals[j] / scale : residuals[j] === 0 ? 0 : Infinity);
  }
  return { iteration, maxRelativeChange, maxRelativeResidual };
}

export function isConverged(rec: IterationRecord, t: ResolvedTolerances): boolean {
  return rec.maxRelativeChange <= t.tol && rec.maxRelativeResidual <= t.residualTol;
}

export function packResult(
  ritz: RitzPairs,
  n: number,
  k: number,
  op: CountingOperator,
  iterations: number,
  converged: boolean,
  history: IterationRecord[],
): TopEigenResult {
  const scale = Math.abs(ritz.values[0]);
  const relativeResiduals = new Float64Array(k);
  for (let j = 0; j < k; j++) relativeResiduals[j] = scale > 0 ? ritz.residuals[j] / scale : ritz.residuals[j] === 0 ? 0 : Infinity;
  return {
    values: ritz.values.slice(0, k),
    vectors: ritz.U.slice(0, n * k),
    residuals: ritz.residuals.slice(0, k),
    relativeResiduals,
    iterations,
    operatorCalls: op.calls,
    operatorColumns: op.columns,
    converged,
    history,
  };
}
