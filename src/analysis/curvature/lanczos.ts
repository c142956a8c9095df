/**
 * Lanczos with full re-orthogonalisation, in float64 on the CPU, for a symmetric operator known
 * through products (a BlockOperator: the GPU Hessian–vector products of hvp-gpu.ts, or a dense
 * matrix in tests).
 *
 *   q_1 = start/‖start‖;  for j = 1, 2, …:
 *     w = A·q_j;  α_j = q_jᵀw;  w −= α_j q_j + β_{j−1} q_{j−1}
 *     w −= Q_j (Q_jᵀ w), twice (classical Gram–Schmidt, "twice is enough")  — full re-orthogonalisation
 *     β_j = ‖w‖;  q_{j+1} = w/β_j
 *   T_m = tridiag(β, α, β) = Q_mᵀ A Q_m;  T_m = S Θ Sᵀ;  Ritz pairs (θ_i, Q_m s_i)
 *   ‖A u_i − θ_i u_i‖ = β_m·|S[m, i]|   (the residual estimate; exact in exact arithmetic)
 *
 * Full re-orthogonalisation keeps Q orthonormal to ~ε, so no spurious copies ("ghosts") of
 * converged eigenvalues appear and the estimate above is trustworthy down to the operator's own
 * error (~1e-7·‖A‖ for float32 GPU products). Cost: m products and O(n·m²) flops, memory n·m.
 *
 * lanczosTopK: the k largest (algebraic) eigenpairs; stops when every one of them has
 * β_m|S[m,i]| ≤ residualTol·max|θ|. lanczosTridiagonal runs several independent recurrences in
 * lockstep — one operator call multiplies all their current vectors (one GPU pass) — and
 * returns each T_m, the raw material of stochastic Lanczos quadrature (slq.ts).
 * On breakdown (β ≈ 0: the Krylov space is invariant) the recurrence of lanczosTopK continues
 * with a random vector orthogonal to Q (β = 0 decouples T); a quadrature recurrence just stops.
 */
import { Rng } from '../../util/rng.ts';
import { norm2 } from '../numerics/dense.ts';
import { symmetricEig } from '../numerics/symmetric-eig.ts';
import type { BlockOperator } from '../numerics/ritz.ts';

export interface LanczosOptions {
  /** Operator dimension. */
  n: number;
  /** Eigenpairs wanted (largest algebraic), 1 ≤ k ≤ n. */
  k: number;
  /** Largest Krylov dimension (default min(n, max(4k + 60, 150))). */
  maxIter?: number;
  /** Stop when β_m|S[m, i]| ≤ residualTol·max_i|θ_i| for the top k (default 1e-6). */
  residualTol?: number;
  /** Check convergence every this many steps (default 5). */
  checkEvery?: number;
  /** Start vector (default: seeded Gaussian). */
  start?: ArrayLike<number>;
  seed?: number;
  /** Called after each convergence check: Krylov dimension, current top Ritz values, max relative residual estimate. */
  onCheck?: (iteration: number, top: Float64Array, maxRelResidual: number) => void;
}

export interface LanczosResult {
  /** Top-k Ritz values, descending. */
  values: Float64Array;
  /** Column-major n×k Ritz vectors (orthonormal). */
  vectors: Float64Array;
  /** β_m·|S[m, i]|, the residual norm estimates ‖A u_i − θ_i u_i‖. */
  residualEstimates: Float64Array;
  /** Smallest Ritz value of T_m (an upper bound on λ_min, often close for the extreme end). */
  smallest: number;
  /** Krylov dimension m reached. */
  iterations: number;
  converged: boolean;
  /** Operator calls (each on one vector). */
  operatorCalls: number;
  alpha: Float64Array;
  beta: Float64Array;
  /** max_{i≠j} |q_iᵀ q_j| at the end (orthogonality check; ~1e-15 with full re-orthogonalisation). */
  orthogonalityLoss: number;
}

function checkOut(name: string, out: Float64Array, len: number): void {
  if (!(out instanceof Float64Array) || out.length !== len) throw new Error(`${name}: operator must return ${len} values, got ${out?.length}`);
  for (let i = 0; i < len; i++) if (!Number.isFinite(out[i])) throw new Error(`${name}: operator returned a non-finite value at ${i}`);
}

/** w −= Q_j (Q_jᵀ w) over the first `cols` columns of Q (column-major, n rows), twice. */
export function reorthogonalize(Q: Float64Array, cols: number, w: Float64Array, wOff: number, n: number): void {
  const c = new Float64Array(cols);
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < cols; i++) {
      let s = 0;
      const qo = i * n;
      for (let t = 0; t < n; t++) s += Q[qo + t] * w[wOff + t];
      c[i] = s;
    }
    for (let i = 0; i < cols; i++) {
      const ci = c[i];
      const qo = i * n;
      for (let t = 0; t < n; t++) w[wOff + t] -= ci * Q[qo + t];
    }
  }
}

/** Eigen-decomposition of the m×m tridiagonal T (alpha on the diagonal, beta[0..m−2] off it). */
export function tridiagonalEig(alpha: ArrayLike<number>, beta: ArrayLike<number>, m: number): { values: Float64Array; vectors: Float64Array } {
  const T = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    T[i * m + i] = alpha[i];
    if (i + 1 < m) {
      T[i * m + i + 1] = beta[i];
      T[(i + 1) * m + i] = beta[i];
    }
  }
  const e = symmetricEig(T, m);
  return { values: e.values, vectors: e.vectors! };
}

function randomOrthogonal(Q: Float64Array, cols: number, n: number, rng: Rng): Float64Array | null {
  for (let attempt = 0; attempt < 5; attempt++) {
    const w = Float64Array.from({ length: n }, () => rng.normal());
    reorthogonalize(Q, cols, w, 0, n);
    const nw = norm2(w);
    if (nw > 1e-8 * Math.sqrt(n)) {
      for (let t = 0; t < n; t++) w[t] /= nw;
      return w;
    }
  }
  return null;
}

export async function lanczosTopK(op: BlockOperator, o: LanczosOptions): Promise<LanczosResult> {
  const name = 'lanczosTopK';
  const { n, k } = o;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`${name}: n must be an integer >= 1, got ${n}`);
  if (!(Number.isInteger(k) && k >= 1 && k <= n)) throw new Error(`${name}: k must be an integer in [1, n = ${n}], got ${k}`);
  const maxIter = o.maxIter ?? Math.min(n, Math.max(4 * k + 60, 150));
  if (!(Number.isInteger(maxIter) && maxIter >= k && maxIter <= n)) throw new Error(`${name}: maxIter must be an integer in [k, n] = [${k}, ${n}], got ${maxIter}`);
  const residualTol = o.residualTol ?? 1e-6;
  if (!(residualTol > 0 && residualTol < 1)) throw new Error(`${name}: residualTol must be in (0, 1), got ${residualTol}`);
  const checkEvery = o.checkEvery ?? 5;
  const rng = new Rng(o.seed ?? 12345);

  const Q = new Float64Array(n * maxIter);
  const alpha = new Float64Array(maxIter);
  const beta = new Float64Array(maxIter);
  const q0 = o.start ? Float64Array.from(o.start) : Float64Array.from({ length: n }, () => rng.normal());
  if (q0.length !== n) throw new Error(`${name}: start must have n = ${n} entries, got ${q0.length}`);
  const n0 = norm2(q0);
  if (!(n0 > 0)) throw new Error(`${name}: start vector is zero or not finite`);
  for (let t = 0; t < n; t++) Q[t] = q0[t] / n0;

  let m = 0;
  let calls = 0;
  let converged = false;
  let eig: { values: Float64Array; vectors: Float64Array } | null = null;
  const w = new Float64Array(n);
  for (let j = 0; j < maxIter; j++) {
    const qj = Q.subarray(j * n, (j + 1) * n);
    const out = await op(Float64Array.from(qj), 1);
    calls++;
    checkOut(name, out, n);
    w.set(out);
    let a = 0;
    for (let t = 0; t < n; t++) a += qj[t] * w[t];
    alpha[j] = a;
    for (let t = 0; t < n; t++) w[t] -= a * qj[t];
    if (j > 0) {
      const b = beta[j - 1];
      const qp = (j - 1) * n;
      for (let t = 0; t < n; t++) w[t] -= b * Q[qp + t];
    }
    reorthogonalize(Q, j + 1, w, 0, n);
    m = j + 1;
    const bj = norm2(w);
    beta[j] = bj;
    const last = m === maxIter || m === n;
    if ((m >= k && (m % checkEvery === 0 || last)) || last) {
      eig = tridiagonalEig(alpha, beta, m);
      const scale = Math.max(Math.abs(eig.values[0]), Math.abs(eig.values[m - 1]));
      let worst = 0;
      for (let i = 0; i < Math.min(k, m); i++) worst = Math.max(worst, (bj * Math.abs(eig.vectors[i * m + m - 1])) / (scale || 1));
      o.onCheck?.(m, eig.values.slice(0, Math.min(k, m)), worst);
      if (m >= k && worst <= residualTol) {
        converged = true;
        break;
      }
      if (m === n) {
        converged = true; // the whole space: T_n is similar to A
        break;
      }
    }
    if (last) break;
    // Next basis vector; on breakdown a fresh direction orthogonal to everything so far.
    let next: Float64Array | null = null;
    const scaleNow = Math.max(...Array.from(alpha.subarray(0, m), Math.abs), ...Array.from(beta.subarray(0, m)));
    if (bj > 1e-12 * (scaleNow || 1)) {
      next = new Float64Array(n);
      for (let t = 0; t < n; t++) next[t] = w[t] / bj;
    } else {
      beta[j] = 0;
      next = randomOrthogonal(Q, m, n, rng);
      if (!next) break;
    }
    Q.set(next, m * n);
  }
  if (!eig || eig.values.length !== m) eig = tridiagonalEig(alpha, beta, m);
  const kk = Math.min(k, m);
  const vectors = new Float64Array(n * kk);
  const residualEstimates = new Float64Array(kk);
  for (let i = 0; i < kk; i++) {
    const s = eig.vectors.subarray(i * m, (i + 1) * m);
    const u = vectors.subarray(i * n, (i + 1) * n);
    for (let r = 0; r < m; r++) {
      const c = s[r];
      const qo = r * n;
      for (let t = 0; t < n; t++) u[t] += c * Q[qo + t];
    }
    residualEstimates[i] = beta[m - 1] * Math.abs(s[m - 1]);
  }
  let orth = 0;
  for (let i = 0; i < Math.min(m, 40); i++) {
    for (let j = i + 1; j < Math.min(m, 40); j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += Q[i * n + t] * Q[j * n + t];
      orth = Math.max(orth, Math.abs(s));
    }
  }
  return {
    values: eig.values.slice(0, kk),
    vectors,
    residualEstimates,
    smallest: eig.values[m - 1],
    iterations: m,
    converged,
    operatorCalls: calls,
    alpha: alpha.slice(0, m),
    beta: beta.slice(0, m),
    orthogonalityLoss: orth,
  };
}

export interface TridiagonalRun {
  alpha: Float64Array;
  /** beta[i] couples steps i and i + 1 (length = alpha.length − 1 used by T). */
  beta: Float64Array;
  /** Norm of the start vector. */
  startNorm: number;
}

export interface LockstepOptions {
  n: number;
  /** Lanczos steps per recurrence (Krylov dimension), ≤ n. */
  steps: number;
  /** Full re-orthogonalisation (default true; memory n·steps doubles per recurrence). */
  reorthogonalize?: boolean;
  /** Called after every step (1-based). */
  onStep?: (step: number) => void;
}

/**
 * Independent Lanczos recurrences from the columns of `starts` (column-major n×r), in lockstep:
 * every step is one operator call on all active recurrences. Returns each one's T.
 */
export async function lanczosTridiagonal(op: BlockOperator, starts: Float64Array, r: number, o: LockstepOptions): Promise<TridiagonalRun[]> {
  const name = 'lanczosTridiagonal';
  const { n, steps } = o;
  if (!(Number.isInteger(steps) && steps >= 1 && steps <= n)) throw new Error(`${name}: steps must be an integer in [1, n = ${n}], got ${steps}`);
  if (starts.length < n * r) throw new Error(`${name}: starts must hold n·r = ${n * r} values`);
  const full = o.reorthogonalize ?? true;
  const Qs = Array.from({ length: r }, () => new Float64Array(n * (full ? steps : 2)));
  const runs: TridiagonalRun[] = [];
  const active: number[] = [];
  const cur: Float64Array[] = [];
  const prev: (Float64Array | null)[] = [];
  for (let p = 0; p < r; p++) {
    const s = starts.subarray(p * n, (p + 1) * n);
    const nrm = norm2(s);
    if (!(nrm > 0)) throw new Error(`${name}: start ${p} is zero or not finite`);
    const q = Float64Array.from(s, (v) => v / nrm);
    cur.push(q);
    prev.push(null);
    Qs[p].set(q, 0);
    runs.push({ alpha: new Float64Array(0), beta: new Float64Array(0), startNorm: nrm });
    active.push(p);
  }
  const alphas = Array.from({ length: r }, () => [] as number[]);
  const betas = Array.from({ length: r }, () => [] as number[]);
  for (let j = 0; j < steps && active.length > 0; j++) {
    const V = new Float64Array(n * active.length);
    active.forEach((p, c) => V.set(cur[p], c * n));
    const W = await op(V, active.length);
    checkOut(name, W, n * active.length);
    const still: number[] = [];
    active.forEach((p, c) => {
      const w = W.subarray(c * n, (c + 1) * n);
      const q = cur[p];
      let a = 0;
      for (let t = 0; t < n; t++) a += q[t] * w[t];
      alphas[p].push(a);
      for (let t = 0; t < n; t++) w[t] -= a * q[t];
      const qp = prev[p];
      if (qp) {
        const b = betas[p][betas[p].length - 1];
        for (let t = 0; t < n; t++) w[t] -= b * qp[t];
      }
      if (full) reorthogonalize(Qs[p], j + 1, w, 0, n);
      if (j + 1 === steps) return;
      const bj = norm2(w);
      const scale = Math.max(...alphas[p].map(Math.abs), ...betas[p]);
      if (!(bj > 1e-10 * (scale || 1))) return; // invariant subspace: this quadrature is exact, stop
      betas[p].push(bj);
      const next = Float64Array.from(w, (v) => v / bj);
      prev[p] = q;
      cur[p] = next;
      if (full) Qs[p].set(next, (j + 1) * n);
      still.push(p);
    });
    active.length = 0;
    active.push(...still);
    o.onStep?.(j + 1);
  }
  for (let p = 0; p < r; p++) {
    runs[p].alpha = Float64Array.from(alphas[p]);
    runs[p].beta = Float64Array.from(betas[p].slice(0, Math.max(0, alphas[p].length - 1)));
  }
  return runs;
}
