/** CPU reference (the spec) for shaders/softmax_ce.wgsl, in float64. */
export interface SoftmaxCeRef {
  losses: Float64Array;   // (B,)
  dz: Float64Array;       // (B, C) = (softmax − onehot) · gradScale
  lossSum: number;
  correct: number;
}

export function softmaxCeRef(z: ArrayLike<number>, y: ArrayLike<number>, rows: number, classes: number, gradScale: number): SoftmaxCeRef {
  const losses = new Float64Array(rows);
  const dz = new Float64Array(rows * classes);
  let lossSum = 0;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let m = z[base];
    let best = 0;
    for (let c = 1; c < classes; c++) if (z[base + c] > m) { m = z[base + c]; best = c; }
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(z[base + c] - m);
    const lse = m + Math.log(s);
    const label = y[r];
    losses[r] = lse - z[base + label];
    lossSum += losses[r];
    if (best === label) correct++;
    for (let c = 0; c < classes; c++) dz[base + c] = (Math.exp(z[base + c] - lse) - (c === label ? 1 : 0)) * gradScale;
  }
  return { losses, dz, lossSum, correct };
}
