/** CPU reference (the spec) for shaders/sgd.wgsl. Updates w (and v) in place. */
export function sgdRef(w: Float64Array | Float32Array, g: ArrayLike<number>, lr: number, weightDecay: number, momentum: number, v?: Float64Array | Float32Array): void {
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] + weightDecay * w[i];
    if (v) {
      v[i] = momentum * v[i] + gi;
      w[i] = w[i] - lr * v[i];
    } else {
      w[i] = w[i] - lr * gi;
    }
  }
}
