/**
 * Top-k eigenpairs of a symmetric positive semi-definite operator A (n×n) known only through
 * block products A·V: randomised block subspace iteration with Rayleigh–Ritz.
 *
 *   Q_0 = orth(Ω),  Ω an n×m Gaussian block, m = k + p (p = oversampling)
 *   repeat:  W = A·Q  (one operator call on m columns — the GPU's S·V)
 *            H = Qᵀ·W,  H = Y·Θ·Yᵀ         (Rayleigh–Ritz, symmetric-eig.ts)
 *            U = Q·Y,  A·U = W·Y,  r_j = ‖A·u_j − θ_j·u_j‖
 *            stop if converged (ritz.ts), else Q = orth(A·U)   (MGS twice, orthonormalize.ts)
 *
 * The angle between span(Q) and the top-k eigenvectors shrinks like (λ_{m+1}/λ_k)^t and the
 * Ritz values converge at the square of that rate; oversampling p is what keeps the rate
 * away from 1 when λ_k ≈ λ_{k+1}. Orthonormalising every iteration (rather than powering
 * several times and orthonormalising once) keeps the small eigenvectors from drowning in
 * the large ones in finite precision, which matters for covariance spectra spanning decades.
 *
 * A must be PSD (a covariance, a Gram matrix): the method converges to the eigenvalues of
 * largest magnitude, which are the largest ones only when none is negative.
 */
import { Rng } from '../../util/rng.ts';
import { orthonormalizeColumns } from './orthonormalize.ts';
import {
  type BlockOperator,
  CountingOperator,
  convergenceRecord,
  type IterationRecord,
  isConverged,
  packResult,
  rayleighRitz,
  resolveTolerances,
  type TopEigenOptions,
  type TopEigenResult,
} from './ritz.ts';

export interface SubspaceIterationOptions extends TopEigenOptions {
  /** Extra columns beyond k (default max(5, ceil(k/2))), clipped so that k + p <= n. */
  oversample?: number;
  /** Maximum number of operator calls (default 300). */
  maxIterations?: number;
  /** Optional warm start: column-major n×(k+p) block (e.g. last window's eigenvectors). */
  start?: Float64Array;
}

export async function subspaceIteration(
  matmat: BlockOperator,
  options: SubspaceIterationOptions,
): Promise<TopEigenResult> {
  const name = 'subspaceIteration';
  const tols = resolveTolerances(name, options);
  const { n, k } = options;
  const p = options.oversample ?? Math.max(5, Math.ceil(k / 2));
  const maxIterations = options.maxIterations ?? 300;
  if (!(Number.isInteger(p) && p >= 0)) throw new Error(`${name}: oversample must be an integer >= 0, got ${p}`);
  if (!(Number.isInteger(maxIterations) && maxIterations >= 1)) {
    throw new Error(`${name}: maxIterations must be an integer >= 1, got ${maxIterations}`);
  }
  const m = Math.min(n, k + p);
  const rng = new Rng(options.seed ?? 12345);

  let Q: Float64Array;
  if (options.start) {
    if (options.start.length !== n * m) {
      throw new Error(`${name}: start must be n×(k+p) = ${n}×${m} = ${n * m} entries, got ${options.start.length}`);
    }
    Q = Float64Array.from(options.start);
  } else {
    Q = new Float64Array(n * m);
    for (let i = 0; i < Q.length; i++) Q[i] = rng.normal();
  }
  orthonormalizeColumns(Q, n, m, rng);

  const op = new CountingOperator(matmat, n, name);
  const history: IterationRecord[] = [];
  let previous: Float64Array | null = null;
  for (let it = 1; ; it++) {
    const W = await op.apply(Q, m);
    const ritz = rayleighRitz(Q, W, n, m, m);
    const rec = convergenceRecord(it, ritz.values, previous, ritz.residuals, k, tols.valueFloor);
    history.push(rec);
    const converged = isConverged(rec, tols);
    if (converged || it >= maxIterations) {
      return packResult(ritz, n, k, op, it, converged, history);
    }
    previous = ritz.values;
    // Next basis: A·U (the power step), already ordered by Ritz value, re-orthonormalised.
    Q = ritz.AU;
    orthonormalizeColumns(Q, n, m, rng);
  }
}
