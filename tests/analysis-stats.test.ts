import { describe, expect, it } from 'vitest';
import { linearRegression, mean, median, pearson, ranks, spearman, variance } from '../src/analysis/numerics/stats.ts';
import { expectClose } from './analysis-compare.ts';

describe('stats', () => {
  it('mean, variance (both divisors) and median on hand-computed data', () => {
    const x = [2, 4, 4, 4, 5, 5, 7, 9];
    expectClose('mean', mean(x), 5, { rtol: 1e-15 });
    expectClose('population variance', variance(x), 4, { rtol: 1e-15 });
    expectClose('sample variance', variance(x, 1), 32 / 7, { rtol: 1e-15 });
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('variance is not ruined by a large offset (two-pass)', () => {
    const x = [1e9 + 1, 1e9 + 2, 1e9 + 3];
    expectClose('variance with offset', variance(x, 1), 1, { rtol: 1e-12 });
  });

  it('pearson and linear regression match a hand-worked example', () => {
    const x = [1, 2, 3, 4, 5];
    const y = [2, 4, 5, 4, 5];
    // x̄ = 3, ȳ = 4, Sxx = 10, Syy = 6, Sxy = 6; residuals −0.8, 0.6, 1, −0.6, −0.2 → SSE 2.4.
    expectClose('pearson', pearson(x, y), 6 / Math.sqrt(60), { rtol: 1e-14 });
    const fit = linearRegression(x, y);
    expectClose('slope', fit.slope, 0.6, { rtol: 1e-14 });
    expectClose('intercept', fit.intercept, 2.2, { rtol: 1e-14 });
    expectClose('sse', fit.sse, 2.4, { rtol: 1e-12 });
    expectClose('slopeSE', fit.slopeSE, Math.sqrt(0.8 / 10), { rtol: 1e-12 });
    expectClose('interceptSE', fit.interceptSE, Math.sqrt(0.8 * (1 / 5 + 9 / 10)), { rtol: 1e-12 });
    expectClose('r', fit.r, 6 / Math.sqrt(60), { rtol: 1e-14 });
    expect(fit.n).toBe(5);
  });

  it('ranks average ties; spearman sees monotone relations as ±1', () => {
    expectClose('ranks', ranks([10, 20, 20, 30, 5]), [2, 3.5, 3.5, 5, 1], { atol: 0 });
    const x = [0.1, 0.5, 2, 3, 10];
    expectClose('spearman exp', spearman(x, x.map(Math.exp)), 1, { atol: 1e-15 });
    expectClose('spearman decreasing', spearman(x, x.map((v) => 1 / v)), -1, { atol: 1e-15 });
    // Hand value: ranks x = 1..5, ranks y = [2, 1, 4, 3, 5]: Σd² = 4 → ρ = 1 − 6·4/(5·24) = 0.8.
    expectClose('spearman hand', spearman([1, 2, 3, 4, 5], [20, 10, 40, 30, 50]), 0.8, { rtol: 1e-14 });
  });

  it('constant inputs give NaN correlations; bad inputs throw with the parameter named', () => {
    expect(pearson([1, 2, 3], [5, 5, 5])).toBeNaN();
    expect(() => mean([])).toThrow(/at least 1/);
    expect(() => variance([1, NaN])).toThrow(/entry 1 must be finite/);
    expect(() => variance([1, 2], 2)).toThrow(/ddof must be 0 or 1/);
    expect(() => pearson([1, 2], [1, 2, 3])).toThrow(/same length/);
    expect(() => linearRegression([1, 1, 1], [1, 2, 3])).toThrow(/x must not be constant/);
  });
});
