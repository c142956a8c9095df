/**
 * Top-k eigenpairs of a symmetric operator A (n×n) by block Lanczos with full
 * re-orthogonalisation — the alternative to subspace-iteration.ts when operator calls are
 * the expensive part.
 *
 *   Q_0 = orth(Ω) (n×b Gaussian);  for j = 0, 1, …:
 *     W_j = A·Q_j                                (one operator call on b columns)
 *     basis Q = [Q_0 … Q_j],  AQ = [W_0 … W_j]  (both kept)
 *     Rayleigh–Ritz on (Q, AQ)  → top-k Ritz pairs and exact residuals (ritz.ts)
 *     Q_{j+1} = orth(W_j against Q)              (MGS twice; rank loss → random columns)
 *
 * span(Q) is the block Krylov space {Q_0, A·Q_0, …, A^j·Q_0}, which contains the power-method
 * iterates and more, so the top eigenvalues converge after far fewer products than subspace
 * iteration (Chebyshev-like rate, governed by √(gap) rather than the gap). Keeping AQ lets
 * Rayleigh–Ritz use H = Qᵀ·AQ exactly instead of the three-term block recurrence, and full
 * re-orthogonalisation removes the ghost eigenvalues of plain Lanczos; the price is memory
 * 2·n·maxBasis doubles and O(n·maxBasis²) orthogonalisation work, fine for maxBasis ≲ 400.
 *
 * Stops when converged (same criteria as subspace iteration) or when the basis would exceed
 * maxBasis (converged = false; raise maxBasis or use subspace iteration's restarts).
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

export interface BlockLanczosOptions extends TopEigenOptions {
  /** Columns per block (default min(k, 8), at least 1). */
  blockSize?: number;
  /** Largest basis (default min(n, max(4k + 40, 10·blockSize))). Must be >= k. */
  maxBasis?: number;
}

export async function blockLanczos(matmat: BlockOperator, options: BlockLanczosOptions): Promise<TopEigenResult> {
  const name = 'blockLanczos';
  const tols = resolveTolerances(name, options);
  const { n, k } = options;
  const b = options.blockSize ?? Math.max(1, Math.min(k, 8));
  if (!(Number.isInteger(b) && b >= 1 && b <= n)) throw new Error(`${name}: blockSize must be an integer in [1, n = ${n}], got ${b}`);
  const maxBasis = options.maxBasis ?? Math.min(n, Math.max(4 * k + 40, 10 * b));
  if (!(Number.isInteger(maxBasis) && maxBasis >= Math.max(k, b) && maxBasis <= n)) {
    throw new Error(`${name}: maxBasis must be an integer in [max(k, blockSize) = ${Math.max(k, b)}, n = ${n}], got ${maxBasis}`);
  }
  const rng = new Rng(options.seed ?? 12345);
  const op = new CountingOperator(matmat, n, name);

  const Q = new Float64Array(n * maxBasis);
  const AQ = new Float64Array(n * maxBasis);
  const first = Q.subarray(0, n * b);
  for (let i = 0; i < first.length; i++) first[i] = rng.normal();
  orthonormalizeColumns(first, n, b, rng);

  const history: IterationRecord[] = [];
  let previous: Float64Array | null = null;
  let cols = 0; // columns of Q whose images are in AQ
  let blockCols = b; // columns of the block just added to Q
  for (let it = 1; ; it++) {
    const block = Q.slice(cols * n, (cols + blockCols) * n);
    const W = await op.apply(block, blockCols);
    AQ.set(W, cols * n);
    cols += blockCols;

    const haveK = cols >= k;
    const nextCols = Math.min(b, maxBasis - cols);
    if (haveK) {
      const ritz = rayleighRitz(Q.subarray(0, cols * n), AQ.subarray(0, cols * n), n, cols, k);
      const rec = convergenceRecord(it, ritz.values, previous, ritz.residuals, k, tols.valueFloor);
      history.push(rec);
      const converged = isConverged(rec, tols) || cols === n; // the whole space: Ritz pairs are exact
      if (converged || nextCols === 0) return packResult(ritz, n, k, op, it, converged, history);
      previous = ritz.values.slice(0, k);
    } else if (nextCols === 0) {
      // Unreachable given maxBasis >= k; kept so a bad edit fails loudly instead of looping.
      throw new Error(`${name}: basis full before reaching k columns`);
    }

    // Next block: the new Krylov directions W_j, orthogonal to everything so far.
    const next = W.slice(0, nextCols * n);
    orthonormalizeColumns(next, n, nextCols, rng, { basis: Q, basisCols: cols });
    Q.set(next, cols * n);
    blockCols = nextCols;
  }
}

