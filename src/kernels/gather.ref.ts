/** CPU reference (the spec) for shaders/gather.wgsl. */
export function gatherRef(data: ArrayLike<number>, labels: ArrayLike<number>, idx: ArrayLike<number>, offset: number, rows: number, dim: number): { xb: Float32Array; yb: Uint32Array } {
  const xb = new Float32Array(rows * dim);
  const yb = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) {
    const src = idx[offset + r];
    for (let c = 0; c < dim; c++) xb[r * dim + c] = data[src * dim + c];
    yb[r] = labels[src];
  }
  return { xb, yb };
}
