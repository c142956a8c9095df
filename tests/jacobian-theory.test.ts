/**
 * The free-probability Jacobian spectrum (src/analysis/meanfield/jacobian-spectrum.ts) against
 * independent routes: the closed-form Fuss–Catalan density for a linear Gaussian network, the
 * exact first two free cumulants (mean χ1^L, normalised variance L(v_W + v_D)) for every
 * activation and ensemble, the atom of a linear orthogonal network; the law of φ'² against direct
 * quadrature; the KS helpers.
 */
import { describe, expect, it } from 'vitest';
import { jacobianSpectrumTheory, theoryCdf, type JacobianSpectrumTheory } from '../src/analysis/meanfield/jacobian-spectrum.ts';
import { fussCatalanDensity, fussCatalanEdge, fussCatalanMoment } from '../src/analysis/meanfield/fuss-catalan.ts';
import { d2Law } from '../src/analysis/meanfield/d2-law.ts';
import { criticalSigmaW2 } from '../src/analysis/meanfield/critical-line.ts';
import { tanh } from '../src/analysis/meanfield/activations.ts';
import { ksCritical, ksDistance } from '../src/analysis/numerics/ks.ts';

/** ∫ λ^k ρ(λ) dλ over the grid (trapezoid in ln λ). */
function gridMoment(t: JacobianSpectrumTheory, k: number): number {
  let acc = 0;
  for (let i = 1; i < t.lambda.length; i++) {
    const a = t.densityLn[i - 1] * t.lambda[i - 1] ** k;
    const b = t.densityLn[i] * t.lambda[i] ** k;
    acc += 0.5 * (a + b) * Math.log(t.lambda[i] / t.lambda[i - 1]);
  }
  return acc;
}

/** ln-density of the theory at λ (linear interpolation in ln λ). */
function densityAt(t: JacobianSpectrumTheory, lam: number): number {
  let k = 0;
  while (k < t.lambda.length - 2 && t.lambda[k + 1] < lam) k++;
  const f = Math.log(lam / t.lambda[k]) / Math.log(t.lambda[k + 1] / t.lambda[k]);
  return t.densityLn[k] + f * (t.densityLn[k + 1] - t.densityLn[k]);
}

describe('Fuss–Catalan closed form', () => {
  it('has the Fuss–Catalan moments and support edge', () => {
    for (const s of [1, 2, 4, 7]) {
      // ∫ x^k f(x) dx by the substitution x(φ): trapezoid in φ on a fine grid
      const { x, density } = fussCatalanDensity(s, 200_000);
      const m = [0, 1, 2].map((k) => {
        let acc = 0;
        for (let i = 1; i < x.length; i++) acc += 0.5 * (density[i] * x[i] ** k + density[i - 1] * x[i - 1] ** k) * (x[i - 1] - x[i]);
        return acc;
      });
      expect(m[1]).toBeCloseTo(fussCatalanMoment(s, 1), 3);
      expect(m[2] / fussCatalanMoment(s, 2)).toBeCloseTo(1, 3);
      expect(fussCatalanMoment(s, 2)).toBe(s + 1);
      expect(x[0] / fussCatalanEdge(s)).toBeCloseTo(1, 6);
    }
  });
});

describe('free-probability Jacobian spectrum', () => {
  it('linear + Gaussian weights: the Fuss–Catalan law of order L, scaled by σ_w^{2L}', () => {
    for (const [L, sw2] of [[3, 1], [6, 1.3]] as const) {
      const t = jacobianSpectrumTheory({ activation: 'linear', ensemble: 'gaussian', sw2, sb2: 0, depth: L });
      const fc = fussCatalanDensity(L, 3000);
      const scale = sw2 ** L;
      let worst = 0;
      for (let i = 0; i < fc.x.length; i += 7) {
        const lam = fc.x[i] * scale;
        // (the last 0.1% below the square-root edge: the grid's linear interpolation, not the law)
        if (lam < t.lambda[0] || lam > 0.999 * fussCatalanEdge(L) * scale) continue;
        worst = Math.max(worst, Math.abs(densityAt(t, lam) - fc.x[i] * fc.density[i]));
      }
      expect(worst, `L = ${L}: largest |ρ_ln − x f_FC(x)|`).toBeLessThan(2e-4);
      expect(t.edge / (fussCatalanEdge(L) * scale)).toBeGreaterThan(0.97);
      expect(t.edge / (fussCatalanEdge(L) * scale)).toBeLessThan(1.03);
    }
  });

  const crit = criticalSigmaW2(tanh, 0.05);
  const cases = [
    ['tanh', 'gaussian', crit, 0.05, 8], ['tanh', 'gaussian', 3, 0.05, 8], ['tanh', 'orthogonal', crit, 0.05, 8], ['tanh', 'orthogonal', 3, 0.05, 8],
    ['tanh', 'orthogonal', 1.05, 0.001, 32], ['relu', 'gaussian', 2, 0, 8], ['relu', 'orthogonal', 2, 0, 8], ['relu', 'orthogonal', 1.5, 0.1, 5], ['linear', 'gaussian', 1.2, 0, 8],
  ] as const;
  it.each(cases)('%s, %s, σ_w² = %f, σ_b² = %f, L = %i: mean χ1^L and normalised variance L(v_W + v_D)', (activation, ensemble, sw2, sb2, depth) => {
    const t = jacobianSpectrumTheory({ activation, ensemble, sw2, sb2, depth, floor: 1e-14 });
    const law = d2Law(activation, t.qStar);
    expect(t.chi1).toBeCloseTo(sw2 * law.mean, 12);
    expect(t.meanSq).toBeCloseTo(t.chi1 ** depth, 12);
    const m1 = gridMoment(t, 1);
    const m2 = gridMoment(t, 2);
    expect(m1 / t.meanSq).toBeCloseTo(1, 2);
    expect(m2 / m1 ** 2 - 1).toBeCloseTo(depth * ((ensemble === 'gaussian' ? 1 : 0) + law.normVariance), 1);
    // the CDF runs from the mass below the grid (ReLU: the atom ½ at 0) to 1
    expect(t.cdf[t.cdf.length - 1]).toBe(1);
    expect(t.cdf[0]).toBeGreaterThanOrEqual(activation === 'relu' ? 0.49 : -1e-3);
    for (let i = 1; i < t.cdf.length; i++) expect(t.cdf[i]).toBeGreaterThanOrEqual(t.cdf[i - 1] - 1e-12);
  });

  it('orthogonal weights and a constant D (linear): every squared singular value is σ_w^{2L}', () => {
    const t = jacobianSpectrumTheory({ activation: 'linear', ensemble: 'orthogonal', sw2: 1.2, sb2: 0, depth: 7 });
    expect(t.atom).toBeCloseTo(1.2 ** 7, 12);
    expect(theoryCdf(t, 1.2 ** 7 * 0.999)).toBe(0);
    expect(theoryCdf(t, 1.2 ** 7)).toBe(1);
  });

  it('refuses bad settings, naming them', () => {
    expect(() => jacobianSpectrumTheory({ activation: 'tanh', ensemble: 'gaussian', sw2: -1, sb2: 0, depth: 3 })).toThrow(/sw2/);
    expect(() => jacobianSpectrumTheory({ activation: 'tanh', ensemble: 'gaussian', sw2: 1, sb2: 0, depth: 0 })).toThrow(/depth must be an integer in \[1, 10000\]/);
  });
});

describe('law of φ′(h)², h ~ N(0, q)', () => {
  it('tanh: M(x) = E[d/(x − d)] and M′ against a fine direct quadrature, near and far from the support', () => {
    const q = 0.8;
    const law = d2Law('tanh', q);
    // direct: trapezoid over z with many nodes (fine where Im x is not tiny)
    const direct = (xr: number, xi: number): [number, number] => {
      let mr = 0, mi = 0;
      const h = 2e-4;
      for (let z = -10; z <= 10; z += h) {
        const d = 1 / Math.cosh(Math.sqrt(q) * z) ** 4;
        const w = (Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI)) * h;
        const ur = xr - d;
        const m2 = ur * ur + xi * xi;
        mr += (w * d * ur) / m2;
        mi += (-w * d * xi) / m2;
      }
      return [mr, mi];
    };
    for (const [xr, xi] of [[0.5, 0.3], [1.2, 0.05], [-0.4, 0.2], [3, 1], [6, 0.1], [-5, 2]] as const) {
      const [mr, mi, dr, di] = law.moment(xr, xi);
      const [er, ei] = direct(xr, xi);
      // the piecewise-linear model of d(z) on 1200 segments: O(h²) ≈ 5e-5 relative
      expect(Math.hypot(mr - er, mi - ei)).toBeLessThan(1e-4 * Math.hypot(er, ei));
      // M′ by a central difference of the method itself
      const hh = 1e-5;
      const [pr, pi] = law.moment(xr + hh, xi);
      const [nr, ni] = law.moment(xr - hh, xi);
      expect(Math.hypot(dr - (pr - nr) / (2 * hh), di - (pi - ni) / (2 * hh))).toBeLessThan(1e-5 * Math.hypot(dr, di) + 1e-6);
    }
    expect(law.mean).toBeCloseTo(direct(1e9, 0)[0] * 1e9, 5);
  });
});

describe('Kolmogorov–Smirnov helpers', () => {
  it('distance of uniform quantiles to the uniform CDF, above a floor; the critical value', () => {
    const n = 1000;
    const u = Float64Array.from({ length: n }, (_, i) => (i + 0.5) / n);
    const cdf = (x: number): number => Math.min(1, Math.max(0, x));
    expect(ksDistance(u, cdf).d).toBeCloseTo(0.5 / n, 12);
    const shifted = ksDistance(u, (x) => cdf(x - 0.05), 0.5);
    expect(shifted.d).toBeCloseTo(0.05, 2);
    expect(shifted.compared).toBe(500);
    expect(ksCritical(n, 1e-3) * Math.sqrt(n)).toBeCloseTo(1.9495, 3);
    expect(() => ksCritical(10, 2)).toThrow(/alpha/);
  });
});
