/**
 * The NNGP kernel recursion (Lee et al. 2018; Matthews et al. 2018) for a set of inputs.
 *
 * Convention: the network is h^1 = W^1 x + b^1, h^{l+1} = W^{l+1} φ(h^l) + b^{l+1}, with
 * W^1_{ij} ~ N(0, σ_w²/d_in), W^{l+1}_{ij} ~ N(0, σ_w²/N), b ~ N(0, σ_b²). K^l is the covariance
 * of the pre-activations h^{l+1} over the weights (infinite width), so
 *   K^0(x, x')     = σ_b² + σ_w² x·x' / d_in
 *   K^{l+1}(x, x') = σ_b² + σ_w² E_{(u,v)~N(0, K^l restricted to x, x')}[φ(u)φ(v)].
 * The diagonal K^l(x, x) is the length q^l of the length map; K^l(x,x')/√(K^l(x,x)K^l(x',x'))
 * is c^l. Gram matrices are plain number[][] (symmetric, n × n).
 */
import type { Activation } from './activation.ts';
import { meanPhiPhi, meanPhiSq, type QuadratureOptions } from './gaussian-expectations.ts';
import { checkDepth, checkParams } from './params.ts';

export type Gram = number[][];

/** K^0 = σ_b² + σ_w² X Xᵀ / d_in for inputs X (one row per input, all of length d_in). */
export function inputGram(inputs: readonly ArrayLike<number>[], sw2: number, sb2: number): Gram {
  checkParams(sw2, sb2);
  const n = inputs.length;
  if (n === 0) throw new Error('inputGram: inputs must contain at least one input vector');
  const d = inputs[0].length;
  if (d === 0) throw new Error('inputGram: input dimension d_in must be >= 1');
  for (const [i, x] of inputs.entries()) {
    if (x.length !== d) throw new Error(`inputGram: input ${i} has length ${x.length}, expected d_in = ${d}`);
  }
  const K: Gram = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += inputs[a][k] * inputs[b][k];
      K[a][b] = K[b][a] = sb2 + (sw2 * dot) / d;
    }
  }
  return K;
}

function checkGram(K: Gram): void {
  const n = K.length;
  if (n === 0) throw new Error('Gram matrix must be non-empty');
  for (let a = 0; a < n; a++) {
    if (K[a].length !== n) throw new Error(`Gram matrix must be square: row ${a} has length ${K[a].length}, expected ${n}`);
    if (!(K[a][a] >= 0 && Number.isFinite(K[a][a]))) throw new Error(`Gram matrix diagonal K[${a}][${a}] must be finite and >= 0, got ${K[a][a]}`);
  }
}

/** One layer: K^{l+1} from K^l. */
export function nngpStep(act: Activation, sw2: number, sb2: number, K: Gram, opts?: QuadratureOptions): Gram {
  checkParams(sw2, sb2);
  checkGram(K);
  const n = K.length;
  const out: Gram = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let a = 0; a < n; a++) {
    out[a][a] = sb2 + sw2 * meanPhiSq(act, K[a][a], opts);
    for (let b = a + 1; b < n; b++) {
      out[a][b] = out[b][a] = sb2 + sw2 * meanPhiPhi(act, K[a][a], K[b][b], K[a][b], opts);
    }
  }
  return out;
}

/** [K^0, K^1, …, K^depth] for the given inputs. */
export function nngpKernels(
  act: Activation, sw2: number, sb2: number, inputs: readonly ArrayLike<number>[], depth: number, opts?: QuadratureOptions,
): Gram[] {
  checkDepth(depth);
  const Ks = [inputGram(inputs, sw2, sb2)];
  for (let l = 0; l < depth; l++) Ks.push(nngpStep(act, sw2, sb2, Ks[l], opts));
  return Ks;
}

/** Correlation matrix K_ab / √(K_aa K_bb) (0 where a variance vanishes). */
export function gramToCorrelation(K: Gram): Gram {
  checkGram(K);
  return K.map((row, a) => row.map((v, b) => (a === b ? 1 : K[a][a] > 0 && K[b][b] > 0 ? v / Math.sqrt(K[a][a] * K[b][b]) : 0)));
}
