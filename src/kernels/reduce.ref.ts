/** CPU reference (the spec) for shaders/bench_reduce.wgsl: row sums y[r] = Σ_c x[r, c], float64. */
export function rowSumRef(x: ArrayLike<number>, m: number, n: number): Float64Array {
  const y = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    let s = 0;
    for (let c = 0; c < n; c++) s += x[r * n + c];
    y[r] = s;
  }
  return y;
}
