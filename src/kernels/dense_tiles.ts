/**
 * Register-tile and workgroup sizes for the dense kernels, by operation and shape.
 *
 * Measured on SwiftShader (2 cores, Dawn, robustness off; /bench reproduces it):
 *   50×784×50 forward    8×8 tile, 4×4 threads   ~5 GFLOP/s   (4×4 tile ~1.6, 16×16 slower: spills)
 *   50×50×10             4×4 tile, 4×8 threads   dispatch-overhead bound
 *   512×784×256, 1024³   16×8 tile, 16×16 threads ~9 GFLOP/s
 *   dW = Xᵀ·dZ (784×50×50)  16×8 tile, 4×4 threads;  dX = dZ·Wᵀ (50×50×784) 8×8 tile, 8×4 threads
 * The guiding rule: the bigger the tile the fewer loads per FMA, until registers spill (16×8);
 * but a small problem must still be split into ≥ 4 workgroups so every core gets work.
 */
export type DenseOp = 'forward' | 'grad_weight' | 'grad_input';

export interface DenseTiles {
  TM: number;
  TN: number;
  WG_X: number;
  WG_Y: number;
}

/** Output shape (rows × cols) of each op for a layer with batch m, inputs k, outputs n. */
export function outputShape(op: DenseOp, m: number, k: number, n: number, bias = false): [number, number] {
  return op === 'forward' ? [m, n] : op === 'grad_weight' ? [k + (bias ? 1 : 0), n] : [m, k];
}

export function chooseDenseTiles(op: DenseOp, m: number, k: number, n: number, bias = false): DenseTiles {
  const [rows, cols] = outputShape(op, m, k, n, bias);
  if (cols <= 16 || rows <= 16) return { TM: 4, TN: 4, WG_X: 4, WG_Y: 8 };
  // 16×16 threads of 16×8 tiles cover 256×128 outputs per workgroup: only for outputs that give
  // several such workgroups (784×50 dW would give 4 workgroups of mostly idle threads: 15× slower).
  if (rows >= 512 && cols >= 128) return { TM: 16, TN: 8, WG_X: 16, WG_Y: 16 };
  if (op === 'grad_weight') return { TM: 16, TN: 8, WG_X: 4, WG_Y: 4 };
  if (op === 'grad_input') return { TM: 8, TN: 8, WG_X: 8, WG_Y: 4 };
  return { TM: 8, TN: 8, WG_X: 4, WG_Y: 4 };
}

export function tileKey(t: DenseTiles): string {
  return `${t.TM}x${t.TN}.${t.WG_X}x${t.WG_Y}`;
}

/** Workgroup grid covering a rows × cols output. */
export function denseGrid(t: DenseTiles, rows: number, cols: number): [number, number] {
  return [Math.max(1, Math.ceil(cols / (t.TN * t.WG_X))), Math.max(1, Math.ceil(rows / (t.TM * t.WG_Y)))];
}
