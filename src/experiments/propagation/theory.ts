/**
 * Mean-field predictions for exactly the quantities gpu-propagation.ts measures, for the actual
 * inputs (not only the fixed points): the NNGP recursion from the inputs' Gram matrix gives
 * q^l_a = K^l_aa and c^l_ab = K^l_ab/√(K^l_aa K^l_bb) layer by layer (meanfield/nngp.ts), and
 * the gradient lengths follow the χ1 factors at each layer's length:
 *   D^{L−1} = D^top,   D^l = D^{l+1}·χ1(q^l_a),   χ1(q) = σ_w² E_z[φ'(√q z)²]
 * (Schoenholz et al. 2017 §4: q̃^l = q̃^{l+1} χ1 with N_l = N_{l+1}; at the fixed point the ratio
 * is χ1^{L−1−l} = e^{−(L−1−l)/ξ_∇}).
 */
import type { Activation } from '../../analysis/meanfield/activation.ts';
import { meanDphiSq } from '../../analysis/meanfield/gaussian-expectations.ts';
import { nngpKernels } from '../../analysis/meanfield/nngp.ts';

export interface PropagationTheory {
  depth: number;
  m: number;
  /** q^l_a, (L, M). */
  q: Float64Array;
  /** c^l_ab, (L, M, M) (1 on the diagonal). */
  c: Float64Array;
  /** χ1(q^l_a) = σ_w² E[φ'(h^l_a)²], (L, M). */
  chi: Float64Array;
  /** Predicted D^l_a / D^{L−1}_a, (L, M) (1 at the top). */
  gradRatio: Float64Array;
}

/** Rows of a flat (M, d) input block as views. */
export function inputRows(inputs: Float32Array, d: number): Float32Array[] {
  return Array.from({ length: inputs.length / d }, (_, a) => inputs.subarray(a * d, (a + 1) * d));
}

export function propagationTheory(act: Activation, sw2: number, sb2: number, inputs: Float32Array, inputDim: number, depth: number): PropagationTheory {
  const rows = inputRows(inputs, inputDim);
  const m = rows.length;
  const Ks = nngpKernels(act, sw2, sb2, rows, depth - 1);
  const q = new Float64Array(depth * m);
  const c = new Float64Array(depth * m * m);
  const chi = new Float64Array(depth * m);
  const gradRatio = new Float64Array(depth * m);
  Ks.forEach((K, l) => {
    for (let a = 0; a < m; a++) {
      q[l * m + a] = K[a][a];
      chi[l * m + a] = sw2 * meanDphiSq(act, K[a][a]);
      for (let b = 0; b < m; b++) c[(l * m + a) * m + b] = a === b ? 1 : K[a][b] / Math.sqrt(K[a][a] * K[b][b]);
    }
  });
  for (let a = 0; a < m; a++) {
    gradRatio[(depth - 1) * m + a] = 1;
    for (let l = depth - 2; l >= 0; l--) gradRatio[l * m + a] = gradRatio[(l + 1) * m + a] * chi[l * m + a];
  }
  return { depth, m, q, c, chi, gradRatio };
}
