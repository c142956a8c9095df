import { describe, expect, it } from 'vitest';
import { powerLawFit } from '../src/analysis/numerics/power-law-fit.ts';
import { Rng } from '../src/util/rng.ts';
import { expectClose } from './analysis-compare.ts';

describe('powerLawFit', () => {
  const F = Array.from({ length: 40 }, (_, i) => 0.05 * 1.1 ** i);

  it('exact power law: ψ, intercept exact, SE ≈ 0, r = −1 (index 0 skipped by default)', () => {
    const sigma2 = F.map((f) => 3 * f ** -4);
    sigma2[0] = 1e6; // the drift: far off the relation, must not matter
    const fit = powerLawFit(sigma2, F);
    expectClose('ψ', fit.psi, 4, { rtol: 1e-12 });
    expectClose('intercept = ln 3', fit.intercept, Math.log(3), { atol: 1e-11 });
    expect(fit.psiSE).toBeLessThan(1e-12);
    expectClose('r', fit.r, -1, { atol: 1e-14 });
    expect(fit.n).toBe(39);
    expect(fit.used[0]).toBe(1);
    expect(fit.skipped).toEqual([]);
  });

  it('noisy power law: ψ recovered within 3 SE, and the SE is the right size', () => {
    // Over 20 seeds the estimate must fall within 3 SE each time, and the spread of the
    // estimates must match the reported SE (within a factor that 20 samples allow).
    const psis: number[] = [];
    const ses: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const rng = new Rng(seed);
      const sigma2 = F.map((f) => 0.7 * f ** -3.6 * Math.exp(0.3 * rng.normal()));
      const fit = powerLawFit(sigma2, F);
      expect(Math.abs(fit.psi - 3.6)).toBeLessThan(3 * fit.psiSE);
      psis.push(fit.psi);
      ses.push(fit.psiSE);
    }
    const m = psis.reduce((a, b) => a + b, 0) / psis.length;
    const sd = Math.sqrt(psis.reduce((a, b) => a + (b - m) ** 2, 0) / (psis.length - 1));
    const meanSE = ses.reduce((a, b) => a + b, 0) / ses.length;
    expect(sd / meanSE).toBeGreaterThan(0.5);
    expect(sd / meanSE).toBeLessThan(1.6);
  });

  it('skips null / non-finite / non-positive F and σ², honours from/to', () => {
    const sigma2 = F.map((f) => f ** -2);
    const flat: (number | null)[] = [...F];
    flat[3] = null;
    flat[4] = Infinity;
    flat[5] = 0;
    sigma2[6] = 0;
    sigma2[7] = NaN;
    const fit = powerLawFit(sigma2, flat, { from: 2, to: 12 });
    expect(fit.skipped).toEqual([3, 4, 5, 6, 7]);
    expect(fit.used).toEqual([2, 8, 9, 10, 11]);
    expectClose('ψ', fit.psi, 2, { rtol: 1e-12 });
    const withDrift = powerLawFit(sigma2.map((v, i) => (i === 0 ? 1 : v)), F, { from: 0, to: 3 });
    expect(withDrift.used).toEqual([0, 1, 2]);
  });

  it('rejects bad ranges and too few points', () => {
    expect(() => powerLawFit([1, 2], [1])).toThrow(/same length/);
    expect(() => powerLawFit([1, 2, 3], [1, 2, 3], { from: 3 })).toThrow(/from must be an integer in \[0, to = 3\)/);
    expect(() => powerLawFit([1, 2, 3], [1, 2, 3], { to: 4 })).toThrow(/to must be an integer in \[0, 3\]/);
    expect(() => powerLawFit([1, 2, 3], [1, null, 3])).toThrow(/at least 2 usable points/);
  });
});
