/**
 * In-place orthonormalisation of a column-major n×b block (the Q of a thin QR), optionally
 * also orthogonal to an existing orthonormal basis.
 *
 * Modified Gram–Schmidt run twice ("twice is enough", Kahan–Parlett / Giraud et al.): one MGS
 * pass leaves a loss of orthogonality ~ ε·κ(V), which is large when the block is a power
 * of a matrix with eigenvalues spread over decades; a second pass brings it to ~ ε.
 *
 * Rank deficiency: if a column keeps less than `dropTol` of its norm after both passes it
 * lies numerically in the span of the others (e.g. S·V for a rank-r operator with r < b).
 * It is replaced by a seeded random vector, orthogonalised the same way, so the block
 * always comes back with b orthonormal columns; subspace methods need a full-rank block,
 * and the replacement only adds directions, it never removes information.
 */
import type { Rng } from '../../util/rng.ts';
import { dot, norm2 } from './dense.ts';

export interface OrthonormalizeOptions {
  /** Orthonormal basis (column-major n×basisCols) the block must also be orthogonal to. */
  basis?: Float64Array;
  basisCols?: number;
  /** A column is rank-deficient if its norm falls below dropTol × its norm on entry. */
  dropTol?: number;
}

/** Subtract from column v (at vOff) its components along the basis columns and along the
 * first `done` columns of V itself. Returns nothing; modifies V. */
function project(
  V: Float64Array,
  vOff: number,
  done: number,
  n: number,
  basis: Float64Array | undefined,
  basisCols: number,
): void {
  if (basis) {
    for (let i = 0; i < basisCols; i++) {
      const c = dot(basis, i * n, V, vOff, n);
      for (let t = 0; t < n; t++) V[vOff + t] -= c * basis[i * n + t];
    }
  }
  for (let i = 0; i < done; i++) {
    const c = dot(V, i * n, V, vOff, n);
    for (let t = 0; t < n; t++) V[vOff + t] -= c * V[i * n + t];
  }
}

/**
 * Orthonormalise the b columns of V (column-major n×b) in place.
 * Returns the number of columns that were replaced by random vectors (rank deficiency).
 */
export function orthonormalizeColumns(
  V: Float64Array,
  n: number,
  b: number,
  rng: Rng,
  options: OrthonormalizeOptions = {},
): number {
  const basis = options.basis;
  const basisCols = options.basisCols ?? 0;
  const dropTol = options.dropTol ?? 1e-10;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`orthonormalizeColumns: n must be an integer >= 1, got ${n}`);
  if (!(Number.isInteger(b) && b >= 0)) throw new Error(`orthonormalizeColumns: b must be an integer >= 0, got ${b}`);
  if (V.length !== n * b) throw new Error(`orthonormalizeColumns: V must have n·b = ${n * b} entries, got ${V.length}`);
  if (basisCols + b > n) {
    throw new Error(`orthonormalizeColumns: basisCols + b must be <= n = ${n}, got ${basisCols} + ${b}`);
  }
  if (basis && basis.length < basisCols * n) {
    throw new Error(`orthonormalizeColumns: basis must have basisCols·n = ${basisCols * n} entries, got ${basis.length}`);
  }
  if (!(dropTol > 0 && dropTol < 1)) throw new Error(`orthonormalizeColumns: dropTol must be in (0, 1), got ${dropTol}`);

  let replaced = 0;
  for (let j = 0; j < b; j++) {
    const off = j * n;
    let attempts = 0;
    for (;;) {
      const before = norm2(V, off, n);
      if (!Number.isFinite(before)) throw new Error(`orthonormalizeColumns: column ${j} has non-finite entries`);
      if (before > 0) {
        project(V, off, j, n, basis, basisCols);
        project(V, off, j, n, basis, basisCols);
        const after = norm2(V, off, n);
        if (after > dropTol * before) {
          const inv = 1 / after;
          for (let t = 0; t < n; t++) V[off + t] *= inv;
          break;
        }
      }
      // Numerically dependent (or zero): restart this column from a random vector.
      if (attempts === 0) replaced++;
      if (++attempts > 10) throw new Error(`orthonormalizeColumns: could not complete column ${j} to an orthonormal basis`);
      for (let t = 0; t < n; t++) V[off + t] = rng.normal();
    }
  }
  return replaced;
}
