/** CPU reference (the spec) for shaders/dense_backward.wgsl. Plain loops, float64 sums. */
import { activationDerivFromOutput, type Activation } from './activation.ts';

/** dW_aug (K + bias, N) = [X, 1]ᵀ · dZ for x (M, K), dz (M, N). */
export function gradWeightRef(x: ArrayLike<number>, dz: ArrayLike<number>, m: number, k: number, n: number, bias: boolean): Float64Array {
  const rows = k + (bias ? 1 : 0);
  const dw = new Float64Array(rows * n);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < n; c++) {
      let s = 0;
      for (let r = 0; r < m; r++) s += (i < k ? x[r * k + i] : 1) * dz[r * n + c];
      dw[i * n + c] = s;
    }
  }
  return dw;
}

/** dZprev (M, K) = (dZ · Wᵀ) ⊙ act'(X), with act' taken from the previous layer's output X. */
export function gradInputRef(
  x: ArrayLike<number>, w: ArrayLike<number>, dz: ArrayLike<number>, m: number, k: number, n: number, prevAct: Activation,
): Float64Array {
  const dx = new Float64Array(m * k);
  for (let r = 0; r < m; r++) {
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += dz[r * n + c] * w[i * n + c];
      dx[r * k + i] = s * activationDerivFromOutput(prevAct, x[r * k + i]);
    }
  }
  return dx;
}
