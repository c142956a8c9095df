/**
 * Dense float64 kernels on column-major blocks, the layout shared by the noise-lab drivers.
 *
 * Layout: an n×b block V stores column j (one n-vector) contiguously at V[j·n .. j·n + n).
 * Columns are the vectors the algorithms orthogonalise, so keeping each one contiguous
 * makes every inner loop unit-stride; it is also the layout the GPU callbacks exchange.
 *
 *   matTmat(A, B)  C = Aᵀ·B   (A n×a, B n×b → C a×b),  C[i, j] = ⟨A_i, B_j⟩
 *   matMul(Q, Y)   Z = Q·Y    (Q n×m, Y m×k → Z n×k),  Z_j = Σ_i Y[i, j]·Q_i
 */

export function dot(x: Float64Array, xOff: number, y: Float64Array, yOff: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[xOff + i] * y[yOff + i];
  return s;
}

/** Euclidean norm of n entries from offset, scaled so that huge or tiny entries do not overflow. */
export function norm2(x: ArrayLike<number>, off = 0, n = x.length - off): number {
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(x[off + i]));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const v = x[off + i] / scale;
    s += v * v;
  }
  return scale * Math.sqrt(s);
}

/** C = Aᵀ·B for column-major A (n×a) and B (n×b); C is a×b column-major. */
export function matTmat(A: Float64Array, a: number, B: Float64Array, b: number, n: number): Float64Array {
  const C = new Float64Array(a * b);
  for (let j = 0; j < b; j++) {
    for (let i = 0; i < a; i++) C[j * a + i] = dot(A, i * n, B, j * n, n);
  }
  return C;
}

/** Z = Q·Y for column-major Q (n×m) and Y (m×k); Z is n×k column-major. */
export function matMul(Q: Float64Array, n: number, m: number, Y: Float64Array, k: number): Float64Array {
  const Z = new Float64Array(n * k);
  for (let j = 0; j < k; j++) {
    const zo = j * n;
    for (let i = 0; i < m; i++) {
      const c = Y[j * m + i];
      if (c === 0) continue;
      const qo = i * n;
      for (let t = 0; t < n; t++) Z[zo + t] += c * Q[qo + t];
    }
  }
  return Z;
}

/** |cos| of the angle between two vectors (sign-free: principal directions have no sign). */
export function absCos(u: ArrayLike<number>, v: ArrayLike<number>): number {
  if (u.length !== v.length) {
    throw new Error(`absCos: vectors must have the same length, got ${u.length} and ${v.length}`);
  }
  const nu = norm2(u);
  const nv = norm2(v);
  if (!(nu > 0) || !(nv > 0)) throw new Error('absCos: both vectors must be non-zero and finite');
  let s = 0;
  for (let i = 0; i < u.length; i++) s += (u[i] / nu) * (v[i] / nv);
  return Math.min(1, Math.abs(s));
}
