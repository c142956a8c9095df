/**
 * The Hessian block built explicitly from products with the unit vectors, H·e_i for i < n, in
 * batches (one GPU pass per `batch` columns), then symmetrised and diagonalised densely in float64
 * (symmetric-eig.ts). The reference the Lanczos eigenvalues are checked against, and an exact
 * Hessian diagonal for any network.
 *
 * The float32 products make H·e_i and H·e_j disagree slightly in their (i, j) entries: the
 * asymmetry max|H − Hᵀ| / max|H| is reported, and H ← (H + Hᵀ)/2.
 */
import { symmetricEig } from '../numerics/symmetric-eig.ts';
import type { BlockOperator } from '../numerics/ritz.ts';

export interface ExplicitBlock {
  n: number;
  /** Symmetrised n×n matrix (symmetric, so row- and column-major alike). */
  H: Float64Array;
  /** max|H_ij − H_ji| / max|H_ij| before symmetrising. */
  asymmetry: number;
  /** Wall time of the products (ms). */
  ms: number;
}

export async function buildExplicitBlock(op: BlockOperator, n: number, o: { batch?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<ExplicitBlock> {
  const batch = o.batch ?? 32;
  if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`buildExplicitBlock: batch must be an integer >= 1, got ${batch}`);
  const t0 = performance.now();
  const H = new Float64Array(n * n);
  for (let j0 = 0; j0 < n; j0 += batch) {
    const b = Math.min(batch, n - j0);
    const E = new Float64Array(n * b);
    for (let c = 0; c < b; c++) E[c * n + j0 + c] = 1;
    const HE = await op(E, b);
    if (HE.length !== n * b) throw new Error(`buildExplicitBlock: operator returned ${HE.length} values, expected ${n * b}`);
    H.set(HE, j0 * n);
    o.onProgress?.(j0 + b, n);
  }
  const ms = performance.now() - t0;
  let maxAbs = 0;
  let maxAsym = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const a = H[i * n + j];
      const b = H[j * n + i];
      maxAbs = Math.max(maxAbs, Math.abs(a), Math.abs(b));
      maxAsym = Math.max(maxAsym, Math.abs(a - b));
      const s = 0.5 * (a + b);
      H[i * n + j] = s;
      H[j * n + i] = s;
    }
  }
  return { n, H, asymmetry: maxAbs > 0 ? maxAsym / maxAbs : 0, ms };
}

export interface DenseSpectrum {
  /** All eigenvalues, descending. */
  values: Float64Array;
  /** Column-major eigenvectors when requested. */
  vectors: Float64Array | null;
  ms: number;
}

/** Every eigenvalue of the (symmetrised) block, by the dense float64 solver. */
export function denseSpectrum(block: ExplicitBlock, o: { vectors?: boolean } = {}): DenseSpectrum {
  const t0 = performance.now();
  const e = symmetricEig(block.H, block.n, { vectors: o.vectors ?? false });
  return { values: e.values, vectors: e.vectors, ms: performance.now() - t0 };
}

/** The diagonal of the block. */
export function blockDiagonal(block: ExplicitBlock): Float64Array {
  return Float64Array.from({ length: block.n }, (_, i) => block.H[i * block.n + i]);
}
