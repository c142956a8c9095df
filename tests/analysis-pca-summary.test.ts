import { describe, expect, it } from 'vitest';
import { detrendLinear, summarizePca, varianceProfile } from '../src/analysis/numerics/pca-summary.ts';
import { linearRegression } from '../src/analysis/numerics/stats.ts';
import { trajectoryPcaCovariance } from '../src/analysis/numerics/trajectory-svd.ts';
import { Rng } from '../src/util/rng.ts';
import { expectClose } from './analysis-compare.ts';

describe('varianceProfile / summarizePca', () => {
  it('D90 and D99 of a hand-made spectrum, with and without PC1', () => {
    const s = summarizePca({ eigenvalues: [50, 20, 10, 10, 5, 5] });
    expect(s.all.variant).toBe('all');
    expectClose('ratio', s.all.ratio, [0.5, 0.2, 0.1, 0.1, 0.05, 0.05], { rtol: 1e-15 });
    expectClose('cumulative', s.all.cumulative, [0.5, 0.7, 0.8, 0.9, 0.95, 1], { rtol: 1e-15 });
    expect(s.all.d90).toBe(4);
    expect(s.all.d99).toBe(6);
    // Without PC1: [20, 10, 10, 5, 5] over 50 → 0.4, 0.6, 0.8, 0.9, 1.0.
    const r = s.pc1Removed;
    expect(r?.variant).toBe('pc1-removed');
    expect(r?.firstComponent).toBe(2);
    expectClose('pc1-removed total', r?.total as number, 50, { rtol: 0 });
    expectClose('pc1-removed cumulative', r?.cumulative as Float64Array, [0.4, 0.6, 0.8, 0.9, 1], { rtol: 1e-15 });
    expect(r?.d90).toBe(4);
    expect(r?.d99).toBe(5);
    expect(s.all.label).toMatch(/total variance/);
    expect(r?.label).toMatch(/PC1 \(drift\) left out/);
    expect(s.detrended).toBeNull();
  });

  it('exact ties at the threshold count despite rounding of the cumulative sum', () => {
    const p = varianceProfile(new Array(10).fill(0.1));
    expect(p.d90).toBe(9);
    expect(p.d99).toBe(10);
    // Here the first five sum to exactly 90% (0.72 of 0.8), but the float sum gives 0.8999999999999999.
    expect(varianceProfile([0.2, 0.18, 0.14, 0.12, 0.08, 0.05, 0.03]).d90).toBe(5);
  });

  it('top-k plus the total: fractions of the total, D null when k components do not reach it', () => {
    const p = varianceProfile([40, 30, 15], 100);
    expectClose('cumulative', p.cumulative, [0.4, 0.7, 0.85], { rtol: 1e-15 });
    expect(p.d90).toBeNull();
    expect(p.d99).toBeNull();
    expectClose('unresolved', p.unresolved, 15, { rtol: 1e-15 });
  });

  it('rejects unsorted and non-finite spectra; warns and clamps negatives and a total below the sum', () => {
    expect(() => varianceProfile([1, 2])).toThrow(/decreasing order/);
    expect(() => varianceProfile([NaN])).toThrow(/must be finite/);
    const neg = varianceProfile([1, -0.1]);
    expectClose('clamped negative', neg.variances, [1, 0], { atol: 0 });
    expect(neg.warnings.join()).toMatch(/1 negative variances beyond round-off .* clamped to 0/);
    const low = varianceProfile([3, 2], 4);
    expect(low.total).toBe(5);
    expect(low.unresolved).toBe(0);
    expect(low.warnings.join()).toMatch(/smaller than the sum .* raised to the sum/);
    const quiet = varianceProfile([1, -1e-9]);
    expectClose('clamped round-off', quiet.variances, [1, 0], { atol: 0 });
    expect(quiet.warnings).toEqual([]);
    expect(() => summarizePca({ eigenvalues: [1, 0.5], meanWeight: [1, 0] })).toThrow(/pc1 is required/);
  });
});

describe('the round-off that ended a k = 1000 run (issue 17)', () => {
  it('a float32 tail whose sum exceeds the trace by 5.8e-4 warns and completes', () => {
    // `reproduce feng-tu --epochs 679 --window-steps 12000 --k 1000` died with: "varianceProfile:
    // total = 2.336102555565466e-7 is smaller than the sum of the supplied variances
    // 2.3374465746422838e-7" (PC1 left out; the float32 scatter's clamped negative tail).
    const total = 2.336102555565466e-7;
    const sum = 2.3374465746422838e-7;
    const head = [1e-7, 5e-8, 2e-8];
    const tail = (sum - head.reduce((a, b) => a + b, 0)) / 996;
    const variances = [...head, ...new Array(996).fill(tail), -3e-15, -4e-15];
    const p = varianceProfile(variances, total, 'pc1-removed', 2);
    expect(Math.abs(p.total - sum) / sum).toBeLessThan(1e-12);
    expect(p.d90).not.toBeNull();
    expect(p.warnings.length).toBe(1);
    expect(p.warnings[0]).toMatch(/smaller than the sum/);
    const s = summarizePca({ eigenvalues: [1e-4, ...variances], total: 1e-4 + total });
    expect(s.all.warnings.join()).toMatch(/smaller than the sum/);
    expect(s.pc1Removed!.d99).not.toBeNull();
  });
});

describe('detrendLinear', () => {
  it('removes exact lines and matches a generic least-squares fit on noisy data', () => {
    const rng = new Rng(1);
    const T = 17;
    const P = 4;
    const X = new Float64Array(T * P);
    const a = [1, -2, 0.5, 100];
    const b = [0.3, 0, -1, 1e-3];
    for (let t = 0; t < T; t++) for (let p = 0; p < P; p++) X[t * P + p] = a[p] + b[p] * t + (p === 3 ? 0 : rng.normal());
    const d = detrendLinear(X, T, P);
    const ts = Array.from({ length: T }, (_, t) => t);
    for (let p = 0; p < P; p++) {
      const col = ts.map((t) => X[t * P + p]);
      const fit = linearRegression(ts, col);
      expectClose(`slope ${p}`, d.slope[p], fit.slope, { atol: 1e-14, rtol: 1e-12 });
      expectClose(`intercept ${p}`, d.intercept[p], fit.intercept, { atol: 1e-12, rtol: 1e-12 });
      // Residual is orthogonal to 1 and t.
      let s0 = 0;
      let s1 = 0;
      for (let t = 0; t < T; t++) {
        s0 += d.residual[t * P + p];
        s1 += t * d.residual[t * P + p];
      }
      expectClose(`Σ r ${p}`, s0, 0, { atol: 1e-11 });
      expectClose(`Σ t·r ${p}`, s1, 0, { atol: 1e-10 });
    }
    // Column 3 was an exact line: nothing left.
    expectClose('exact line residual', Array.from({ length: T }, (_, t) => d.residual[t * P + 3]), new Float64Array(T), { atol: 1e-12 });
    expectClose('exact slope', d.slope[3], 1e-3, { rtol: 1e-10 });
    expect(() => detrendLinear([1, 2], 2, 1)).toThrow(/T must be an integer >= 3/);
  });

  it('end to end: PC1 of a drifting window aligns with w* and the drift; detrending removes it', () => {
    // w_t = w*·(1 + c·t) + isotropic noise along 20 coordinates: the drift is along w*.
    const rng = new Rng(2);
    const T = 200;
    const P = 20;
    const wStar = Float64Array.from({ length: P }, () => 1 + rng.uniform());
    const X = new Float64Array(T * P);
    for (let t = 0; t < T; t++) for (let p = 0; p < P; p++) X[t * P + p] = wStar[p] * (1 + 0.01 * t) + 0.1 * rng.normal();
    const pca = trajectoryPcaCovariance(X, T, P, P);
    const det = detrendLinear(X, T, P);
    const detPca = trajectoryPcaCovariance(det.residual, T, P, P);
    const s = summarizePca({
      eigenvalues: pca.variances,
      total: pca.totalVariance as number,
      pc1: pca.components.subarray(0, P),
      meanWeight: pca.mean as Float64Array,
      drift: det.slope,
      detrended: { eigenvalues: detPca.variances, total: detPca.totalVariance as number },
    });
    expect(s.pc1VsMeanWeight as number).toBeGreaterThan(0.999);
    expect(s.pc1VsDrift as number).toBeGreaterThan(0.999);
    expect(s.all.d90).toBe(1); // the drift dominates
    expect(s.detrended?.variant).toBe('detrended');
    // Isotropic noise after detrending: ≈ 18 of 20 directions for 90% (exact value depends on sampling).
    expect(s.detrended?.d90 as number).toBeGreaterThanOrEqual(15);
    expect(s.pc1Removed?.d90 as number).toBeGreaterThanOrEqual(15);
    // Sign of PC1 does not matter for |cos|.
    const flipped = Float64Array.from(pca.components.subarray(0, P), (v) => -v);
    expect(summarizePca({ eigenvalues: pca.variances, pc1: flipped, meanWeight: wStar }).pc1VsMeanWeight).toBeGreaterThan(0.999);
  });
});
