/**
 * Trapezoidal (sinc) rule for the standard Gaussian measure Dz = e^{-z²/2} dz / √(2π):
 *   E[f(z)] ≈ Σ_{|k h| ≤ L} w_k f(k h),   w_k ∝ e^{-(k h)²/2},  Σ w_k = 1.
 *
 * Why not Gauss–Hermite for everything: if f is analytic in the strip |Im z| < d, the
 * trapezoidal error is ≈ 2 e^{d²/2} e^{−2π d / h} (Trefethen & Weideman, SIAM Rev. 2014), i.e.
 * geometric in the number of nodes, whereas GH converges only like e^{−c d √n}. For tanh(√q z)
 * (poles at z = ±iπ/(2√q)) this is the difference between 1e-16 and 1e-8 at ~200 nodes.
 * Truncating at |z| ≤ L costs ≈ e^{−L²/2}·|f(L)|: L = 10 gives e^{−50} ≈ 2e-22 times the
 * integrand's growth (≤ quadratic for every mean-field integrand).
 *
 * The weights are normalised to sum to 1; the normalisation differs from the exact one by
 * O(e^{−2π²/h²}) (< 1e-130 for h ≤ 1/4), so this only removes rounding.
 */
import type { GaussRule } from './gauss-hermite.ts';

/** Half-width of the node range, in standard deviations. */
export const TRAPEZOID_HALF_WIDTH = 10;
/** Node spacing is 1/m with m in [MIN_DENSITY, MAX_DENSITY] (nodes per unit z). */
export const MIN_DENSITY = 4;
export const MAX_DENSITY = 100;

const cache = new Map<number, GaussRule>();

/**
 * The trapezoidal rule with spacing h = 1/m on [−L, L], L = TRAPEZOID_HALF_WIDTH
 * (2·m·L + 1 nodes). m must be an integer in [MIN_DENSITY, MAX_DENSITY]; cached by m.
 */
export function gaussTrapezoid(m: number): GaussRule {
  if (!Number.isInteger(m) || m < MIN_DENSITY || m > MAX_DENSITY) {
    throw new Error(`gaussTrapezoid: density m (nodes per unit z) must be an integer in [${MIN_DENSITY}, ${MAX_DENSITY}], got ${m}`);
  }
  const hit = cache.get(m);
  if (hit) return hit;
  const K = m * TRAPEZOID_HALF_WIDTH;
  const n = 2 * K + 1;
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const z = (i - K) / m;
    nodes[i] = z;
    weights[i] = Math.exp(-0.5 * z * z);
    total += weights[i];
  }
  for (let i = 0; i < n; i++) weights[i] /= total;
  const rule: GaussRule = { n, nodes, weights };
  cache.set(m, rule);
  return rule;
}

/**
 * Target of the step choice: e^{−2π d/h} = e^{−TARGET_EXPONENT} ≈ 8e-20. The margin below
 * 1e-16 pays for the prefactor of higher-order poles: sech⁴ (in χ1) has a 4th-order pole whose
 * aliasing error carries ~(2π/h)³/3! ≈ 1e3; with e^{−36} E[sech⁴(√q z)] was off by 6e-12.
 */
const TARGET_EXPONENT = 44;
/** Density used when the integrand is not analytic: only O(h²) accurate for kinks, O(h) for jumps. */
export const KINK_DENSITY = 40;

/**
 * A trapezoidal rule accurate to ~1e-15 relative for E[g(√q z)] (and for the 2-D tensor
 * product with both arguments of variance ≤ q), where g is a product of two of φ, φ', φ''.
 *
 * Two things limit the step h (error ≈ e^{−E} with E ≥ 44 required for each):
 *  - poles at |Im u| = strip: the z-strip is d = strip/√q and E = 2π d / h, so
 *      m ≥ 44 √q / (2π · strip);
 *  - growth off the real axis: if |φ(x+iy)| ≲ e^{γ y²} (erf: γ = π/4), the integrand on
 *    Im z = d grows like e^{d²(1/2 + 2γq)} (the 1/2 is the Gaussian weight's own), and the
 *    best d gives E = π² / (h² (1/2 + 2γq)), so
 *      m ≥ √(44 (1/2 + 2γq)) / π.
 * strip = Infinity with γ = 0 (polynomials) gives the coarsest rule, h = 1/MIN_DENSITY.
 * strip = 0 (kinks) gives KINK_DENSITY, which converges only algebraically (O(h) for a
 * jump, O(h²) for a kink): use closed forms there.
 */
export function trapezoidRuleFor(q: number, strip: number, growth = 0): GaussRule {
  if (!(q >= 0)) throw new Error(`trapezoidRuleFor: variance q must be >= 0, got ${q}`);
  if (!(strip >= 0)) throw new Error(`trapezoidRuleFor: strip must be >= 0 (or Infinity), got ${strip}`);
  if (!(growth >= 0 && Number.isFinite(growth))) throw new Error(`trapezoidRuleFor: growth must be a finite number >= 0, got ${growth}`);
  if (strip === 0) return gaussTrapezoid(KINK_DENSITY);
  const mPole = Math.ceil((TARGET_EXPONENT * Math.sqrt(q)) / (2 * Math.PI * strip));
  const mGrowth = Math.ceil(Math.sqrt(TARGET_EXPONENT * (0.5 + 2 * growth * q)) / Math.PI);
  const m = Math.max(MIN_DENSITY, mPole, mGrowth);
  if (!Number.isFinite(m) || m > MAX_DENSITY) {
    throw new Error(
      `trapezoidRuleFor: variance q = ${q} is too large for an accurate rule (strip ${strip}, growth ${growth}): ` +
        `it needs ${m} > ${MAX_DENSITY} nodes per unit z`,
    );
  }
  return gaussTrapezoid(m);
}
