/**
 * Empirical check of the mean-field theory: push a batch of inputs through one random,
 * finite-width MLP (float64, seeded) and measure the empirical Gram matrix of the
 * pre-activations at every layer,
 *   Ĝ^l_ab = (1/N) Σ_i h_i^{l+1}(x_a) h_i^{l+1}(x_b),
 * indexed exactly like the NNGP K^l of nngp.ts (l = 0 is the first layer h^1 = W^1 x + b^1,
 * W^1 ~ N(0, σ_w²/d_in); deeper W ~ N(0, σ_w²/N); b ~ N(0, σ_b²)). Its diagonal is the
 * empirical length q^l, and Ĝ_ab/√(Ĝ_aa Ĝ_bb) the empirical correlation c^l. Given layer l,
 * Ĝ^{l+1} is an average of N iid terms, so it converges to the infinite-width recursion with
 * fluctuations O(1/√N) per layer (and an O(1/N) bias).
 *
 * Cost is dominated by drawing the N × fan-in weights (one Rng.normal() each); every draw is
 * applied to all inputs at once (they must see the same network), so extra inputs are cheap.
 */
import { Rng } from '../../util/rng.ts';
import type { Activation } from './activation.ts';
import type { Gram } from './nngp.ts';
import { checkDepth, checkParams } from './params.ts';

export interface PropagateOptions {
  act: Activation;
  sw2: number;
  sb2: number;
  /** Hidden width N, integer in [1, 100000]. */
  width: number;
  /** Number of layers measured, integer in [1, 100000]. */
  depth: number;
  /** Inputs, all of the same length d_in ≥ 1. */
  inputs: readonly ArrayLike<number>[];
  seed: number;
}

/** Empirical Gram matrices Ĝ^0 … Ĝ^{depth−1}. */
export function propagateCpu(o: PropagateOptions): Gram[] {
  checkParams(o.sw2, o.sb2);
  checkDepth(o.depth);
  if (o.depth < 1) throw new Error(`depth must be an integer in [1, 100000], got ${o.depth}`);
  if (!(Number.isInteger(o.width) && o.width >= 1 && o.width <= 100_000)) {
    throw new Error(`width must be an integer in [1, 100000], got ${o.width}`);
  }
  const P = o.inputs.length;
  if (P < 1) throw new Error('inputs must contain at least one input vector');
  const din = o.inputs[0].length;
  for (const [a, x] of o.inputs.entries()) {
    if (x.length !== din || din < 1) throw new Error(`inputs[${a}] has length ${x.length}; all inputs need the same length d_in >= 1 (${din})`);
  }
  const N = o.width;
  const rng = new Rng(o.seed);
  const sb = Math.sqrt(o.sb2);
  const phi = o.act.phi;

  // Layer inputs, input-major: A[a * fanIn + j] is unit j's activation for input a.
  let A = new Float64Array(din * P);
  for (let a = 0; a < P; a++) for (let j = 0; j < din; j++) A[a * din + j] = o.inputs[a][j];
  const H = new Float64Array(P * N); // H[a * N + i]
  const grams: Gram[] = [];
  let wRow = new Float64Array(din);

  for (let l = 0; l < o.depth; l++) {
    const fanIn = A.length / P;
    if (wRow.length !== fanIn) wRow = new Float64Array(fanIn);
    const sw = Math.sqrt(o.sw2 / fanIn); // W_ij ~ N(0, σ_w²/fan_in)
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < fanIn; j++) wRow[j] = rng.normal();
      const b = sb * rng.normal();
      for (let a = 0; a < P; a++) {
        const off = a * fanIn;
        let dot = 0;
        for (let j = 0; j < fanIn; j++) dot += wRow[j] * A[off + j];
        H[a * N + i] = sw * dot + b;
      }
    }
    const G: Gram = Array.from({ length: P }, () => new Array<number>(P).fill(0));
    for (let a = 0; a < P; a++) {
      for (let c = a; c < P; c++) {
        let s = 0;
        for (let i = 0; i < N; i++) s += H[a * N + i] * H[c * N + i];
        G[a][c] = G[c][a] = s / N;
      }
    }
    grams.push(G);
    if (l === 0) A = new Float64Array(P * N);
    for (let k = 0; k < P * N; k++) A[k] = phi(H[k]); // same input-major layout, fan-in N
  }
  return grams;
}

export interface PairPropagation {
  q1: Float64Array;
  q2: Float64Array;
  q12: Float64Array;
  c: Float64Array;
}

/** Layer-by-layer q1, q2, q12 and c = q12/√(q1 q2) for two inputs (index l as in propagateCpu). */
export function propagatePair(o: Omit<PropagateOptions, 'inputs'> & { x1: ArrayLike<number>; x2: ArrayLike<number> }): PairPropagation {
  const grams = propagateCpu({ ...o, inputs: [o.x1, o.x2] });
  const L = grams.length;
  const out: PairPropagation = { q1: new Float64Array(L), q2: new Float64Array(L), q12: new Float64Array(L), c: new Float64Array(L) };
  grams.forEach((G, l) => {
    out.q1[l] = G[0][0];
    out.q2[l] = G[1][1];
    out.q12[l] = G[0][1];
    out.c[l] = G[0][1] / Math.sqrt(G[0][0] * G[1][1]);
  });
  return out;
}
