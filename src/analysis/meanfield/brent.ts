/**
 * Brent's method (Brent 1973, "Algorithms for Minimization without Derivatives", ch. 4):
 * bracketed root finding that combines bisection's guarantee with inverse quadratic
 * interpolation's speed. Requires f(a), f(b) of opposite sign (or one of them zero).
 */
export interface BrentOptions {
  /** Absolute tolerance on x (default 0: rely on relTol). */
  absTol?: number;
  /** Relative tolerance on x (default 4ε). */
  relTol?: number;
  maxIter?: number;
}

export function brentRoot(f: (x: number) => number, a: number, b: number, opts: BrentOptions = {}): number {
  const absTol = opts.absTol ?? 0;
  const relTol = opts.relTol ?? 4 * Number.EPSILON;
  const maxIter = opts.maxIter ?? 200;
  let fa = f(a);
  let fb = f(b);
  if (Number.isNaN(fa) || Number.isNaN(fb)) throw new Error(`brentRoot: f is NaN at a bracket end (a=${a}, b=${b})`);
  if (fa === 0) return a;
  if (fb === 0) return b;
  if ((fa > 0) === (fb > 0)) {
    throw new Error(`brentRoot: [a, b] = [${a}, ${b}] must bracket a root (f(a)=${fa}, f(b)=${fb} have the same sign)`);
  }
  let c = a;
  let fc = fa;
  let d = b - a;
  let e = d;
  for (let iter = 0; iter < maxIter; iter++) {
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      // b and c on the same side: restore the bracket [b, c] from the previous iterate a.
      c = a;
      fc = fa;
      d = b - a;
      e = d;
    }
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tol = 2 * relTol * Math.abs(b) + 0.5 * absTol + Number.MIN_VALUE;
    const m = 0.5 * (c - b);
    if (Math.abs(m) <= tol || fb === 0) return b;
    if (Math.abs(e) >= tol && Math.abs(fa) > Math.abs(fb)) {
      // Interpolate: secant if only two distinct points, inverse quadratic otherwise.
      const s = fb / fa;
      let p: number;
      let q: number;
      if (a === c) {
        p = 2 * m * s;
        q = 1 - s;
      } else {
        const qa = fa / fc;
        const r = fb / fc;
        p = s * (2 * m * qa * (qa - r) - (b - a) * (r - 1));
        q = (qa - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (2 * p < Math.min(3 * m * q - Math.abs(tol * q), Math.abs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = m;
        e = m;
      }
    } else {
      d = m;
      e = m;
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > tol ? d : m > 0 ? tol : -tol;
    fb = f(b);
    if (Number.isNaN(fb)) throw new Error(`brentRoot: f is NaN at x=${b}`);
  }
  throw new Error(`brentRoot: no convergence in ${maxIter} iterations`);
}
