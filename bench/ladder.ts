/**
 * The matmul ladder: every rung of the fused dense forward Y = act(X·W (+ b)) that the benchmark
 * times, in one list. bench/suites/dense.ts times each rung at the ladder's shapes; the kernel lab
 * (lab.html, src/kernel-lab/) offers each as a starting point and as a comparison. A rung added
 * here appears in both, with nothing else to edit.
 *
 * A rung is one dispatch of one entry point of a shader in shaders/ that binds the forward's
 * buffers by name — x (M, K), w (K + HAS_BIAS, N), y (M, N) — and takes the uniform struct
 * { m, k, n }. Its `setup` gives, for a shape, the template keys (register tiles) and the free
 * override constants (sizes); ACT and HAS_BIAS are the problem's and are added by the caller when
 * the shader declares them. Its `grid` is text (bench/core/grid.ts) over M, K, N, the template
 * keys and the overrides, so the lab can show and edit it.
 *
 * Pure data: no GPU, no shader text (the page imports it to list the rungs).
 */
import { chooseDenseTiles, tileKey, type DenseTiles } from '../src/kernels/dense_tiles.ts';
import type { DenseShape } from '../src/kernels/dense_forward.ts';
import type { Constants } from '../src/gpu/kernel.ts';
import type { TemplateKeys } from '../src/gpu/template.ts';

export interface RungSetup {
  template?: TemplateKeys;
  /** Override constants other than the problem's ACT and HAS_BIAS. */
  constants: Constants;
  /** The benchmark row's variant text after 'N: ', e.g. 'reg 8x8 (4x4 thr)'. */
  label: string;
}

export interface MatmulRung {
  /** Short name (bench --variant listing). */
  name: string;
  /** What this rung tries, one line. */
  idea: string;
  /** File in shaders/ without .wgsl, and the entry point. */
  shader: string;
  entry: string;
  setup(s: DenseShape): RungSetup;
  /** Workgroups along x, y as expressions (bench/core/grid.ts). */
  grid: string[];
  /** The kernel training uses (the lab compares every kernel with it by default). */
  production?: boolean;
}

/** dense_forward.wgsl and bench_matmul_unroll.wgsl: a TM × TN register tile per thread. */
const TILE_GRID = ['ceil(N / (TN * WG_X))', 'ceil(M / (TM * WG_Y))'];

function tiled(t: DenseTiles, label: string): RungSetup {
  return { template: { TM: t.TM, TN: t.TN }, constants: { WG_X: t.WG_X, WG_Y: t.WG_Y }, label };
}

/** 16×16 threads of 16×8 tiles only where the output gives several such workgroups. */
function bigTile(s: DenseShape): DenseTiles {
  return s.m >= 512 && s.n >= 128 ? { TM: 16, TN: 8, WG_X: 16, WG_Y: 16 } : { TM: 16, TN: 8, WG_X: 4, WG_Y: 4 };
}

export const MATMUL_LADDER: readonly MatmulRung[] = [
  {
    name: 'naive',
    idea: 'one output per thread: 2 loads per FMA',
    shader: 'bench_matmul_naive',
    entry: 'main',
    setup: () => ({ constants: { WG_X: 16, WG_Y: 16 }, label: 'naive (16x16 thr)' }),
    grid: ['ceil(N / WG_X)', 'ceil(M / WG_Y)'],
  },
  {
    name: 'smem tiled',
    idea: '32×32 tiles staged in workgroup memory, 4×4 micro-tiles (the project’s first kernel)',
    shader: 'bench_matmul_smem',
    entry: 'main',
    setup: () => ({ constants: { BM: 32, BN: 32, BK: 16, WG_X: 8, WG_Y: 8 }, label: 'smem tiled 32x32x16' }),
    grid: ['ceil(N / BN)', 'ceil(M / BM)'],
  },
  {
    name: 'reg 4x4',
    idea: 'register-blocked 4×4 tile of unrolled scalars, no workgroup memory',
    shader: 'dense_forward',
    entry: 'main',
    setup: () => tiled({ TM: 4, TN: 4, WG_X: 8, WG_Y: 8 }, 'reg 4x4 (8x8 thr)'),
    grid: TILE_GRID,
  },
  {
    name: 'reg 8x8',
    idea: 'the same with an 8×8 tile: 16 loads per 64 FMAs',
    shader: 'dense_forward',
    entry: 'main',
    setup: () => tiled({ TM: 8, TN: 8, WG_X: 4, WG_Y: 4 }, 'reg 8x8 (4x4 thr)'),
    grid: TILE_GRID,
  },
  {
    name: 'reg 16x8',
    idea: '16×8 tile (16×16 threads for outputs ≥ 512×128, else 4×4)',
    shader: 'dense_forward',
    entry: 'main',
    setup: (s) => {
      const t = bigTile(s);
      return tiled(t, `reg 16x8 (${t.WG_X}x${t.WG_Y} thr)`);
    },
    grid: TILE_GRID,
  },
  {
    name: 'auto',
    idea: 'what training uses: the tile chosen per shape (src/kernels/dense_tiles.ts)',
    shader: 'dense_forward',
    entry: 'main',
    setup: (s) => {
      const t = chooseDenseTiles('forward', s.m, s.k, s.n, false);
      return tiled(t, `auto ${tileKey(t)}`);
    },
    grid: TILE_GRID,
    production: true,
  },
  {
    name: 'k-unroll 4',
    idea: 'register tile with K unrolled by 4, products summed before the accumulator (jax-js’s form)',
    shader: 'bench_matmul_unroll',
    entry: 'main',
    setup: (s) => {
      const t: DenseTiles = s.m >= 512 && s.n >= 128 ? bigTile(s) : { TM: 4, TN: 8, WG_X: 8, WG_Y: 4 };
      return tiled(t, `k-unroll 4, ${tileKey(t)}`);
    },
    grid: TILE_GRID,
  },
];

/** Index of the production rung. */
export const PRODUCTION_RUNG = MATMUL_LADDER.findIndex((r) => r.production);

/** The row label of rung `i` at shape `s`, as the bench tables print it ('3: reg 8x8 (4x4 thr)'). */
export function rungLabel(i: number, s: DenseShape): string {
  return `${i}: ${MATMUL_LADDER[i].setup(s).label}`;
}

/** ACT and HAS_BIAS for the overrides a shader declares (the problem's, not the rung's). */
export function problemConstants(declared: readonly string[], act: number, bias: boolean): Constants {
  const out: Constants = {};
  if (declared.includes('ACT')) out.ACT = act;
  if (declared.includes('HAS_BIAS')) out.HAS_BIAS = bias;
  return out;
}

/** `--variant` help: '0 naive, 1 smem tiled, …'. */
export function ladderListing(): string {
  return MATMUL_LADDER.map((r, i) => `${i} ${r.name}${r.production ? ' (what training uses)' : ''}`).join(', ');
}
