/** CPU reference (the spec) for shaders/per_sample_grad.wgsl. Plain loops, float64 sums. */

/** G (M, P), G[n, k·N + m] = a_aug[n, k]·δ[n, m], a_aug = [a, 1] with a bias. */
export function perSampleGradRef(a: ArrayLike<number>, delta: ArrayLike<number>, M: number, K: number, N: number, bias: boolean): Float64Array {
  const rows = K + (bias ? 1 : 0);
  const P = rows * N;
  const g = new Float64Array(M * P);
  for (let r = 0; r < M; r++) {
    for (let k = 0; k < rows; k++) {
      const av = k < K ? a[r * K + k] : 1;
      for (let m = 0; m < N; m++) g[r * P + k * N + m] = av * delta[r * N + m];
    }
  }
  return g;
}

/** S (M, J), S[n, j] = Σ_p G[n, p]·V[j, p] for V (J, P). */
export function perSampleProjectRef(
  a: ArrayLike<number>, delta: ArrayLike<number>, v: ArrayLike<number>, M: number, K: number, N: number, J: number, bias: boolean,
): Float64Array {
  const rows = K + (bias ? 1 : 0);
  const P = rows * N;
  const s = new Float64Array(M * J);
  for (let r = 0; r < M; r++) {
    for (let j = 0; j < J; j++) {
      let acc = 0;
      for (let k = 0; k < rows; k++) {
        const av = k < K ? a[r * K + k] : 1;
        let inner = 0;
        for (let m = 0; m < N; m++) inner += v[j * P + k * N + m] * delta[r * N + m];
        acc += av * inner;
      }
      s[r * J + j] = acc;
    }
  }
  return s;
}
