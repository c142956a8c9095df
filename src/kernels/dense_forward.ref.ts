/** CPU reference (the spec) for shaders/dense_forward.wgsl: Y = act(X·W + b). Plain loops, float64 sums. */
import { activate, type Activation } from './activation.ts';

/**
 * x is (M, K), w is (K + bias, N) with the bias as the last row, returns Y (M, N).
 */
export function denseForwardRef(
  x: ArrayLike<number>, w: ArrayLike<number>, m: number, k: number, n: number, act: Activation, bias: boolean,
): Float64Array {
  const y = new Float64Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      let s = bias ? w[k * n + c] : 0;
      for (let i = 0; i < k; i++) s += x[r * k + i] * w[i * n + c];
      y[r * n + c] = activate(act, s);
    }
  }
  return y;
}
