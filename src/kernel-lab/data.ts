/**
 * The kernel lab's inputs (deterministic, the same on every machine and in every session) and the
 * expected outputs from the plain-loop CPU references of src/kernels/*.ref.ts. Where the reference
 * would cost more than ~3·10⁷ multiply-adds, it is computed on 64 rows spread over the output
 * (first and last included), as the benchmark does.
 */
import { randomArray } from '../../bench/core/check.ts';
import { denseForwardRef } from '../kernels/dense_forward.ref.ts';
import { gradInputRef, gradWeightRef } from '../kernels/dense_backward.ref.ts';
import { softmaxCeRef } from '../kernels/softmax_ce.ref.ts';
import { perSampleProjectRef } from '../kernels/per_sample_grad.ref.ts';
import { rowSumRef } from '../kernels/reduce.ref.ts';
import type { Activation } from '../kernels/activation.ts';
import type { Params, Problem } from './catalog.ts';

export type Inputs = Record<string, Float32Array | Uint32Array>;

/** Expected values of `rows` of one output (row length `cols`). */
export interface Expected {
  output: string;
  cols: number;
  rows: number[];
  values: Float64Array;
}

const SAMPLED_ROWS = 64;
const FULL_REFERENCE_MACS = 3e7;

/** All rows, or 64 spread over them when the reference would be too costly. */
export function checkedRows(total: number, macsPerRow: number): number[] {
  if (total * macsPerRow <= FULL_REFERENCE_MACS || total <= SAMPLED_ROWS) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: SAMPLED_ROWS }, (_, i) => Math.round((i * (total - 1)) / (SAMPLED_ROWS - 1)));
}

function pick(a: ArrayLike<number>, rows: number[], cols: number): Float32Array {
  const out = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => {
    for (let c = 0; c < cols; c++) out[i * cols + c] = a[r * cols + c];
  });
  return out;
}

/** Columns `cols` of an (R, C) matrix, as an (R, cols.length) matrix. */
function pickCols(a: ArrayLike<number>, R: number, C: number, cols: number[]): Float32Array {
  const out = new Float32Array(R * cols.length);
  for (let r = 0; r < R; r++) cols.forEach((c, j) => (out[r * cols.length + j] = a[r * C + c]));
  return out;
}

const num = (p: Params, k: string): number => Number(p[k]);

export function makeInputs(problem: Problem, p: Params): Inputs {
  switch (problem.id) {
    case 'matmul': {
      const [M, K, N] = [num(p, 'M'), num(p, 'K'), num(p, 'N')];
      const rows = K + (p.bias ? 1 : 0);
      return { x: randomArray(M * K, 11 + K, 1), w: randomArray(rows * N, 13 + N, 1 / Math.sqrt(K)) };
    }
    case 'grad_weight': {
      const [M, K, N] = [num(p, 'M'), num(p, 'K'), num(p, 'N')];
      return { x: randomArray(M * K, 17 + K, 1).map((v) => Math.max(v, 0)), dz: randomArray(M * N, 23 + M, 0.1) };
    }
    case 'grad_input': {
      const [M, K, N] = [num(p, 'M'), num(p, 'K'), num(p, 'N')];
      // x is the previous layer's output: in [0, 1) after ReLU, (−1, 1) after tanh.
      const x = randomArray(M * K, 17 + K, 1);
      if (p.act === 'relu') x.forEach((v, i) => (x[i] = Math.max(v, 0)));
      return { x, w: randomArray(K * N, 19 + N, 1 / Math.sqrt(K)), dz: randomArray(M * N, 23 + M, 0.1) };
    }
    case 'softmax_ce': {
      const [B, C] = [num(p, 'B'), num(p, 'C')];
      return { z: randomArray(B * C, 31 + B, 4), y: Uint32Array.from({ length: B }, (_, i) => (i * 7 + 3) % C) };
    }
    case 'psg_project': {
      const [M, K, N, J] = [num(p, 'M'), num(p, 'K'), num(p, 'N'), num(p, 'J')];
      const P = (K + (p.bias ? 1 : 0)) * N;
      return {
        a: randomArray(M * K, 29 + K, 1).map((v) => Math.max(v, 0)),
        delta: randomArray(M * N, 37 + N, 0.1),
        v: randomArray(J * P, 41 + J, 1 / Math.sqrt(P)),
      };
    }
    case 'row_sum':
      return { x: randomArray(num(p, 'M') * num(p, 'N'), 53, 1) };
  }
}

export function expectedOutputs(problem: Problem, p: Params, inp: Inputs): Expected[] {
  switch (problem.id) {
    case 'matmul': {
      const [M, K, N] = [num(p, 'M'), num(p, 'K'), num(p, 'N')];
      const rows = checkedRows(M, K * N);
      const values = denseForwardRef(pick(inp.x, rows, K), inp.w, rows.length, K, N, p.act as Activation, p.bias === true);
      return [{ output: 'y', cols: N, rows, values }];
    }
    case 'grad_weight': {
      const [M, K, N] = [num(p, 'M'), num(p, 'K'), num(p, 'N')];
      const bias = p.bias === true;
      // Rows of dW are input features (and the bias row K): the reference on the chosen features.
      const rows = checkedRows(K + (bias ? 1 : 0), M * N);
      const feats = rows.filter((r) => r < K);
      const ref = gradWeightRef(pickCols(inp.x, M, K, feats), inp.dz, M, feats.length, N, false);
      const values = new Float64Array(rows.length * N);
      rows.forEach((r, i) => {
        for (let c = 0; c < N; c++) {
          let s = 0;
          if (r === K) for (let m = 0; m < M; m++) s += inp.dz[m * N + c];
          else s = ref[feats.indexOf(r) * N + c];
          values[i * N + c] = s;
        }
      });
      return [{ output: 'dw', cols: N, rows, values }];
    }
    case 'grad_input': {
      const [M, K, N] = [num(p, 'M'), num(p, 'K'), num(p, 'N')];
      const rows = checkedRows(M, K * N);
      const values = gradInputRef(pick(inp.x, rows, K), inp.w, pick(inp.dz, rows, N), rows.length, K, N, p.act as Activation);
      return [{ output: 'dx', cols: K, rows, values }];
    }
    case 'softmax_ce': {
      const [B, C] = [num(p, 'B'), num(p, 'C')];
      const r = softmaxCeRef(inp.z, inp.y, B, C, 1 / B);
      const all = Array.from({ length: B }, (_, i) => i);
      return [
        { output: 'dz', cols: C, rows: all, values: r.dz },
        { output: 'losses', cols: 1, rows: all, values: r.losses },
        { output: 'metrics', cols: 1, rows: [0, 1], values: Float64Array.of(r.lossSum, r.correct) },
      ];
    }
    case 'psg_project': {
      const [M, K, N, J] = [num(p, 'M'), num(p, 'K'), num(p, 'N'), num(p, 'J')];
      const P = (K + (p.bias ? 1 : 0)) * N;
      const rows = checkedRows(M, P * J);
      const values = perSampleProjectRef(pick(inp.a, rows, K), pick(inp.delta, rows, N), inp.v, rows.length, K, N, J, p.bias === true);
      return [{ output: 's', cols: J, rows, values }];
    }
    case 'row_sum': {
      const [M, N] = [num(p, 'M'), num(p, 'N')];
      return [{ output: 'y', cols: 1, rows: Array.from({ length: M }, (_, i) => i), values: rowSumRef(inp.x, M, N) }];
    }
  }
}
