/**
 * Eigenvalues of a real symmetric tridiagonal matrix by the implicit QL algorithm with
 * Wilkinson-type shifts (the classic `tqli`, eigenvalues only).
 *
 * Used for Golub–Welsch: the Gauss nodes of a measure are the eigenvalues of its Jacobi
 * matrix. Each eigenvalue comes out with absolute error ~ ε·‖T‖, which the caller
 * polishes further by Newton steps on the orthogonal polynomial.
 */
export function symTridiagEigenvalues(diag: ArrayLike<number>, off: ArrayLike<number>): Float64Array {
  const n = diag.length;
  if (n < 1) throw new Error(`symTridiagEigenvalues: diag must have length >= 1, got ${n}`);
  if (off.length !== n - 1) {
    throw new Error(`symTridiagEigenvalues: off must have length diag.length - 1 = ${n - 1}, got ${off.length}`);
  }
  const d = Float64Array.from(diag);
  const e = new Float64Array(n); // e[i] couples rows i and i+1; e[n-1] = 0 is a sentinel
  for (let i = 0; i < n - 1; i++) e[i] = off[i];
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(d[i]) || !Number.isFinite(e[i])) {
      throw new Error('symTridiagEigenvalues: entries must be finite numbers');
    }
  }

  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      // Look for a negligible off-diagonal element that splits the matrix at m.
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m === l) break; // d[l] has converged
      if (++iter > 100) throw new Error(`symTridiagEigenvalues: QL did not converge for eigenvalue ${l}`);

      // Shift from the leading 2x2 block, then chase the bulge from m up to l with Givens rotations.
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let deflated = false;
      for (let i = m - 1; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // Underflow: the rotation is the identity; recover and restart the sweep.
          d[i + 1] -= p;
          e[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (deflated) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return d.sort();
}
