/**
 * The kernel lab's problems: what each binding means, the uniform values and override constants
 * the problem supplies, the sizes a dispatch grid may use, FLOP and byte counts, and the kernels to
 * start from (the whole matmul ladder of bench/ladder.ts for the matmul; the production kernel for
 * the others). Pure data and arithmetic: the page reads it to draw its forms, the engine
 * (src/kernel-lab/engine.ts) to bind, check and time.
 */
import { MATMUL_LADDER, type RungSetup } from '../../bench/ladder.ts';
import { chooseDenseTiles, type DenseTiles } from '../kernels/dense_tiles.ts';
import { ACTIVATIONS, activationCode, type Activation } from '../kernels/activation.ts';
import type { Constants } from '../gpu/kernel.ts';

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

export interface ParamField {
  name: string;
  label: string;
  kind: 'int' | 'choice' | 'bool';
  min?: number;
  max?: number;
  choices?: readonly string[];
  default: ParamValue;
}

export interface BufferDecl {
  name: string;
  role: 'input' | 'output';
  scalar: 'f32' | 'u32';
  /** '(M, K)' */
  shape: string;
  elements: number;
  /** Output columns (row length) for mismatch positions; 1 for vectors. */
  cols: number;
}

export interface StartKernel {
  id: string;
  label: string;
  idea: string;
  shader: string;
  entry: string;
  setup(p: Params): RungSetup;
  grid: readonly string[];
  /** The kernel sgdscope's training uses for this problem: compared with by default. */
  production?: boolean;
}

export type ProblemId = 'matmul' | 'grad_weight' | 'grad_input' | 'softmax_ce' | 'psg_project' | 'row_sum';

export interface Problem {
  id: ProblemId;
  title: string;
  /** The math and the shapes, shown above the editor. */
  math: string;
  /** The benchmark row's kernel column. */
  kernelName: string;
  params: readonly ParamField[];
  buffers(p: Params): BufferDecl[];
  /**
   * Bindings the production shaders declare for the training engine only (ensembles' vec4 and
   * indexed loads, the fused SGD update), unused with their overrides off: a kernel may declare
   * them and gets a small stub buffer. Any other binding the problem lacks is an error.
   */
  unused?: readonly string[];
  /** Uniform values by field name; a kernel's struct takes any subset of them. */
  uniforms(p: Params): Record<string, number>;
  /** Override constants fixed by the problem (applied when the kernel declares them). */
  fixed(p: Params): Constants;
  /** Names a grid expression may use besides overrides and template keys. */
  sizes(p: Params): Record<string, number>;
  cost(p: Params): { flops: number; bytes: number };
  costText: string;
  shapeLabel(p: Params): string;
  tolerance: { atol: number; rtol: number };
  starts: readonly StartKernel[];
}

const int = (name: string, def: number, max: number, label = name): ParamField => ({ name, label, kind: 'int', min: 1, max, default: def });
const act = (name: string, label: string, def: Activation): ParamField => ({ name, label, kind: 'choice', choices: ACTIVATIONS, default: def });
const bool = (name: string, label: string): ParamField => ({ name, label, kind: 'bool', default: false });

const n = (p: Params, k: string): number => Number(p[k]);
const b = (p: Params, k: string): boolean => p[k] === true;
const dense = (p: Params) => ({ m: n(p, 'M'), k: n(p, 'K'), n: n(p, 'N') });

function tiledSetup(t: DenseTiles, label: string): RungSetup {
  return { template: { TM: t.TM, TN: t.TN }, constants: { WG_X: t.WG_X, WG_Y: t.WG_Y }, label };
}

const DENSE_PARAMS = [int('M', 512, 4096), int('K', 784, 4096), int('N', 256, 4096)];

/** What the three dense problems share: the uniform struct { m, k, n }, the sizes, the shape label. */
const DENSE_COMMON = {
  unused: ['x4', 'rows', 'wu', 'vel', 'settings'],
  // One network: the replica strides and minibatch index offsets of the dense shaders are 0.
  uniforms: (p: Params) => ({ ...dense(p), x_stride: 0, w_stride: 0, y_stride: 0, dz_stride: 0, dx_stride: 0, idx_offset: 0, idx_stride: 0 }),
  sizes: (p: Params) => ({ M: n(p, 'M'), K: n(p, 'K'), N: n(p, 'N') }),
  shapeLabel: (p: Params) => `${n(p, 'M')}x${n(p, 'K')}x${n(p, 'N')}`,
  tolerance: { atol: 1e-4, rtol: 1e-4 },
};

/** A dense backward problem's one start: dense_backward.wgsl's entry with the production tile. */
function backwardStart(entry: 'grad_weight' | 'grad_input', idea: string, grid: string[]): StartKernel {
  return {
    id: 'production',
    label: `sgdscope dense_backward.${entry}`,
    idea,
    shader: 'dense_backward',
    entry,
    setup: (p) => {
      const { m, k, n: N } = dense(p);
      const setup = tiledSetup(chooseDenseTiles(entry, m, k, N, b(p, 'bias')), `${entry} (production)`);
      // dense_backward.wgsl's grad_weight reads X as rows of vec4s: TM4 = TM / 4 (src/kernels/dense_backward.ts).
      return { ...setup, template: { ...setup.template, TM4: Number(setup.template!.TM) / 4 } };
    },
    grid,
    production: true,
  };
}

const matmul: Problem = {
  id: 'matmul',
  title: 'matmul + bias + activation',
  math: 'Y = act(X·W + b)    x (M, K), w (K + HAS_BIAS, N) with the bias as its last row, y (M, N)',
  kernelName: 'dense_forward',
  ...DENSE_COMMON,
  params: [...DENSE_PARAMS, act('act', 'activation', 'relu'), bool('bias', 'bias row')],
  buffers: (p) => {
    const { m, k, n: N } = dense(p);
    const rows = k + (b(p, 'bias') ? 1 : 0);
    return [
      { name: 'x', role: 'input', scalar: 'f32', shape: '(M, K)', elements: m * k, cols: k },
      { name: 'w', role: 'input', scalar: 'f32', shape: '(K + HAS_BIAS, N)', elements: rows * N, cols: N },
      { name: 'y', role: 'output', scalar: 'f32', shape: '(M, N)', elements: m * N, cols: N },
    ];
  },
  fixed: (p) => ({ ACT: activationCode(p.act as Activation), HAS_BIAS: b(p, 'bias') }),
  cost: (p) => {
    const { m, k, n: N } = dense(p);
    return { flops: 2 * m * k * N, bytes: 4 * (m * k + k * N + m * N) };
  },
  costText: 'FLOP 2·M·K·N, bytes 4·(MK + KN + MN)',
  starts: MATMUL_LADDER.map((r, i) => ({
    id: `rung${i}`,
    label: `${i}: ${r.name}`,
    idea: r.idea,
    shader: r.shader,
    entry: r.entry,
    setup: (p: Params) => r.setup(dense(p)),
    grid: r.grid,
    production: r.production,
  })),
};

const gradWeight: Problem = {
  id: 'grad_weight',
  title: 'dense backward: grad weight',
  math: 'dW = [X, 1]ᵀ·dZ    x (M, K), dz (M, N), dw (K + HAS_BIAS, N) (the bias gradient is row K)',
  kernelName: 'dense_grad_weight',
  ...DENSE_COMMON,
  params: [...DENSE_PARAMS, bool('bias', 'bias row')],
  buffers: (p) => {
    const { m, k, n: N } = dense(p);
    const rows = k + (b(p, 'bias') ? 1 : 0);
    return [
      { name: 'x', role: 'input', scalar: 'f32', shape: '(M, K)', elements: m * k, cols: k },
      { name: 'dz', role: 'input', scalar: 'f32', shape: '(M, N)', elements: m * N, cols: N },
      { name: 'dw', role: 'output', scalar: 'f32', shape: '(K + HAS_BIAS, N)', elements: rows * N, cols: N },
    ];
  },
  fixed: (p) => ({ HAS_BIAS: b(p, 'bias') }),
  cost: (p) => {
    const { m, k, n: N } = dense(p);
    return { flops: 2 * m * k * N, bytes: 4 * (m * k + m * N + k * N) };
  },
  costText: 'FLOP 2·M·K·N, bytes 4·(MK + MN + KN)',
  starts: [backwardStart('grad_weight', 'register-blocked tile chosen per shape (src/kernels/dense_tiles.ts)', ['ceil(N / (TN * WG_X))', 'ceil((K + HAS_BIAS) / (TM * WG_Y))'])],
};

const gradInput: Problem = {
  id: 'grad_input',
  title: 'dense backward: grad input',
  math: "dX = (dZ·Wᵀ) ⊙ act'(X)    x (M, K) = the previous layer's output, w (K, N), dz (M, N), dx (M, K)",
  kernelName: 'dense_grad_input',
  ...DENSE_COMMON,
  params: [...DENSE_PARAMS, act('act', "previous layer's activation", 'relu')],
  buffers: (p) => {
    const { m, k, n: N } = dense(p);
    return [
      { name: 'x', role: 'input', scalar: 'f32', shape: '(M, K)', elements: m * k, cols: k },
      { name: 'w', role: 'input', scalar: 'f32', shape: '(K, N)', elements: k * N, cols: N },
      { name: 'dz', role: 'input', scalar: 'f32', shape: '(M, N)', elements: m * N, cols: N },
      { name: 'dx', role: 'output', scalar: 'f32', shape: '(M, K)', elements: m * k, cols: k },
    ];
  },
  fixed: (p) => ({ ACT: activationCode(p.act as Activation) }),
  cost: (p) => {
    const { m, k, n: N } = dense(p);
    return { flops: 2 * m * k * N, bytes: 4 * (m * N + k * N + 2 * m * k) };
  },
  costText: 'FLOP 2·M·K·N, bytes 4·(MN + KN + 2·MK)',
  starts: [backwardStart('grad_input', 'register-blocked tile chosen per shape, act′ fused in the store', ['ceil(K / (TN * WG_X))', 'ceil(M / (TM * WG_Y))'])],
};

const softmaxCe: Problem = {
  id: 'softmax_ce',
  title: 'softmax cross-entropy',
  math: 'loss_r = lse(z_r) − z[r, y_r];  dz = (softmax(z) − onehot(y))·grad_scale;  metrics = [Σ loss, Σ correct]    z (B, C), y (B,) u32, dz (B, C), losses (B,), metrics (2,)',
  kernelName: 'softmax_ce',
  params: [int('B', 1000, 65536, 'B (rows)'), int('C', 10, 1024, 'C (classes)')],
  buffers: (p) => {
    const B = n(p, 'B');
    const C = n(p, 'C');
    return [
      { name: 'z', role: 'input', scalar: 'f32', shape: '(B, C)', elements: B * C, cols: C },
      { name: 'y', role: 'input', scalar: 'u32', shape: '(B,)', elements: B, cols: 1 },
      { name: 'dz', role: 'output', scalar: 'f32', shape: '(B, C)', elements: B * C, cols: C },
      { name: 'losses', role: 'output', scalar: 'f32', shape: '(B,)', elements: B, cols: 1 },
      { name: 'metrics', role: 'output', scalar: 'f32', shape: '(2,)', elements: 2, cols: 1 },
    ];
  },
  unused: ['rows'],
  // One network: one replica block of B rows, its own labels.
  uniforms: (p) => ({ rows: n(p, 'B'), classes: n(p, 'C'), grad_scale: 1 / n(p, 'B'), slot: 0, replicas: 1, block_rows: n(p, 'B'), y_stride: n(p, 'B'), idx_offset: 0, idx_stride: n(p, 'B') }),
  fixed: () => ({ WRITE_GRAD: true }),
  sizes: (p) => ({ B: n(p, 'B'), C: n(p, 'C') }),
  cost: (p) => ({ flops: 8 * n(p, 'B') * n(p, 'C'), bytes: 4 * (2 * n(p, 'B') * n(p, 'C') + 2 * n(p, 'B') + 2) }),
  costText: 'FLOP ≈ 8·B·C (exp counted as one), bytes 4·(2·B·C + 2·B + 2)',
  shapeLabel: (p) => `${n(p, 'B')}x${n(p, 'C')}`,
  tolerance: { atol: 1e-5, rtol: 1e-4 },
  starts: [{
    id: 'production',
    label: 'sgdscope softmax_ce',
    idea: 'one workgroup, a row per thread, the sums reduced as a tree in workgroup memory',
    shader: 'softmax_ce',
    entry: 'main',
    setup: () => ({ constants: { WG: 128 }, label: 'softmax_ce (production)' }),
    grid: ['1'],
    production: true,
  }],
};

const psgProject: Problem = {
  id: 'psg_project',
  title: 'per-sample gradients projected on directions',
  math: 'S[n, j] = Σ_k Σ_m a_aug[n, k]·δ[n, m]·V[j, k·N + m]    a (M, K), delta (M, N), v (J, (K + HAS_BIAS)·N), s (M, J)',
  kernelName: 'per_sample_grad',
  params: [int('M', 1000, 8192, 'M (samples)'), int('K', 50, 1024), int('N', 50, 1024), int('J', 32, 1024, 'J (directions)'), bool('bias', 'bias row')],
  buffers: (p) => {
    const [M, K, N, J] = ['M', 'K', 'N', 'J'].map((k) => n(p, k));
    const P = (K + (b(p, 'bias') ? 1 : 0)) * N;
    return [
      { name: 'a', role: 'input', scalar: 'f32', shape: '(M, K)', elements: M * K, cols: K },
      { name: 'delta', role: 'input', scalar: 'f32', shape: '(M, N)', elements: M * N, cols: N },
      { name: 'v', role: 'input', scalar: 'f32', shape: '(J, P)', elements: J * P, cols: P },
      { name: 's', role: 'output', scalar: 'f32', shape: '(M, J)', elements: M * J, cols: J },
    ];
  },
  // One network: the replica strides are 0.
  uniforms: (p) => ({ m: n(p, 'M'), k: n(p, 'K'), n: n(p, 'N'), j: n(p, 'J'), row0: 0, a_stride: 0, delta_stride: 0, v_stride: 0, out_stride: 0 }),
  fixed: (p) => ({ HAS_BIAS: b(p, 'bias') }),
  sizes: (p) => ({ M: n(p, 'M'), K: n(p, 'K'), N: n(p, 'N'), J: n(p, 'J') }),
  cost: (p) => {
    const [M, K, N, J] = ['M', 'K', 'N', 'J'].map((k) => n(p, k));
    const P = (K + (b(p, 'bias') ? 1 : 0)) * N;
    return { flops: 2 * M * P * J, bytes: 4 * (M * K + M * N + J * P + M * J) };
  },
  costText: 'FLOP 2·M·P·J with P = (K + HAS_BIAS)·N, bytes 4·(MK + MN + JP + MJ)',
  shapeLabel: (p) => `${n(p, 'M')}x${(n(p, 'K') + (b(p, 'bias') ? 1 : 0)) * n(p, 'N')}x${n(p, 'J')}`,
  tolerance: { atol: 1e-4, rtol: 1e-4 },
  starts: [{
    id: 'production',
    label: 'sgdscope per_sample_grad.project',
    idea: 'S = G·Vᵀ with the tile of G built on the fly from a and δ, register-blocked',
    shader: 'per_sample_grad',
    entry: 'project',
    setup: (p) => tiledSetup(chooseDenseTiles('forward', n(p, 'M'), 64, n(p, 'J')), 'project (production)'),
    grid: ['ceil(J / (TN * WG_X))', 'ceil(M / (TM * WG_Y))'],
    production: true,
  }],
};

const rowSum: Problem = {
  id: 'row_sum',
  title: 'reduction: row sums',
  math: 'y[r] = Σ_c x[r, c]    x (M, N), y (M,)',
  kernelName: 'row_sum',
  params: [int('M', 1024, 65535, 'M (rows)'), int('N', 4096, 1 << 20, 'N (summed)')],
  buffers: (p) => [
    { name: 'x', role: 'input', scalar: 'f32', shape: '(M, N)', elements: n(p, 'M') * n(p, 'N'), cols: n(p, 'N') },
    { name: 'y', role: 'output', scalar: 'f32', shape: '(M,)', elements: n(p, 'M'), cols: 1 },
  ],
  uniforms: (p) => ({ m: n(p, 'M'), n: n(p, 'N') }),
  fixed: () => ({}),
  sizes: (p) => ({ M: n(p, 'M'), N: n(p, 'N') }),
  cost: (p) => ({ flops: n(p, 'M') * n(p, 'N'), bytes: 4 * (n(p, 'M') * n(p, 'N') + n(p, 'M')) }),
  costText: 'FLOP M·N, bytes 4·(M·N + M)',
  shapeLabel: (p) => `${n(p, 'M')}x${n(p, 'N')}`,
  tolerance: { atol: 1e-4, rtol: 1e-5 },
  starts: [{
    id: 'production',
    label: 'sgdscope bench_reduce.row_sum',
    idea: 'a workgroup per row: strided partial sums, then a tree in workgroup memory',
    shader: 'bench_reduce',
    entry: 'row_sum',
    setup: () => ({ constants: { WG: 256 }, label: 'row_sum (workgroup per row)' }),
    grid: ['M'],
    production: true,
  }],
};

export const PROBLEMS: Record<ProblemId, Problem> = {
  matmul, grad_weight: gradWeight, grad_input: gradInput, softmax_ce: softmaxCe, psg_project: psgProject, row_sum: rowSum,
};

export const PROBLEM_IDS = Object.keys(PROBLEMS) as ProblemId[];

export function defaultParams(p: Problem): Params {
  return Object.fromEntries(p.params.map((f) => [f.name, f.default]));
}

/** Params checked against their fields: a clear error naming the field and its range. */
export function checkParams(p: Problem, given: Params): Params {
  const out: Params = {};
  for (const f of p.params) {
    const v = given[f.name] ?? f.default;
    if (f.kind === 'int') {
      const x = Number(v);
      if (!Number.isInteger(x) || x < (f.min ?? 1) || x > (f.max ?? Infinity)) {
        throw new Error(`${p.id}.${f.name} must be an integer in [${f.min}, ${f.max}], got ${String(v)}`);
      }
      out[f.name] = x;
    } else if (f.kind === 'choice') {
      if (!f.choices!.includes(String(v))) throw new Error(`${p.id}.${f.name} must be one of ${f.choices!.join(', ')}, got ${String(v)}`);
      out[f.name] = String(v);
    } else {
      out[f.name] = v === true || v === 'true';
    }
  }
  return out;
}
