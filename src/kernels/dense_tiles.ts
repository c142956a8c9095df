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

export interface TileContext {
  /** The table as of git 6a09fc6 (the benchmark's baseline rung). */
  baseline?: boolean;
  /** The adapter emulates a GPU on the CPU (SwiftShader): tiles tuned for it (below). */
  software?: boolean;
  /** The kernel reads X as vec4 (forward; K % 4 == 0). */
  x4?: boolean;
}

/**
 * Tiles never change a result's bits (every output is one sequential fma chain), so any choice
 * here is safe for the bit-identity of ensembles and single runs.
 *
 * Software adapters with the vec4 X load (measured on SwiftShader, 2 cores; bench/ ladder rungs
 * 7–8): the forward wants few, big register tiles — the vec4 load makes each K step of a big
 * tile cheap, and edge waste costs more than parallelism gains on 2 cores. Outputs of at most
 * 64×64 (the seed shapes) get one SIMD group of 4 threads per workgroup covering all columns
 * (TN = ⌈cols/4⌉) and ⌈rows/4⌉ rows while TM·TN·4 ≤ MAX_UNROLLED_FMAS
 * (50×784×50: 13×13 tiles, 4 workgroups, 2× the 8×8 tile).
 * Larger outputs (evaluation passes, wide layers) keep the 8×8 / 16×8 table below: a bigger
 * vec4 tile runs faster (32×16 with 4 threads: ~2× the 16×8 tile at 1024³) but its unrolled body
 * (TM·TN·4 = 2,048 FMAs) takes SwiftShader 21 s to compile, against 3.3 s for 13×13 and 0.9 s for
 * 8×8 (scratch measurement, one pipeline alone, 2 cores) — paid at every start, for an
 * evaluation pass of ~16 ms (1000×784×50). Compile cost grows faster than the tile, so the
 * training path never asks for more than ~700 unrolled FMAs per thread.
 */
/** The most FMAs one thread's unrolled vec4 tile may hold on the training path (13×13×4 = 676; see above). */
export const MAX_UNROLLED_FMAS = 700;

export function chooseDenseTiles(op: DenseOp, m: number, k: number, n: number, bias = false, o: TileContext = {}): DenseTiles {
  const [rows, cols] = outputShape(op, m, k, n, bias);
  if (!o.baseline && o.software && o.x4 && op === 'forward') {
    const TM = Math.ceil(rows / 4);
    const TN = Math.ceil(cols / 4);
    if (rows <= 64 && cols <= 64 && TM * TN * 4 <= MAX_UNROLLED_FMAS) return { TM, TN, WG_X: 4, WG_Y: 1 };
  }
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
