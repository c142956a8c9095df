import { describe, expect, it } from 'vitest';
import { symmetricEig } from '../src/analysis/numerics/symmetric-eig.ts';
import {
  temperatureAnisotropy,
  temperatureFromMinibatches,
  temperatureFromPerSample,
} from '../src/analysis/numerics/temperature.ts';
import { Rng } from '../src/util/rng.ts';
import { expectClose } from './analysis-compare.ts';

/** All B-subsets of 0..M−1. */
function subsets(M: number, B: number): number[][] {
  const out: number[][] = [];
  const cur: number[] = [];
  const rec = (start: number) => {
    if (cur.length === B) {
      out.push([...cur]);
      return;
    }
    for (let i = start; i < M; i++) {
      cur.push(i);
      rec(i + 1);
      cur.pop();
    }
  };
  rec(0);
  return out;
}

describe('temperature', () => {
  it('finite-population formula equals brute-force enumeration of all minibatches', () => {
    const rng = new Rng(1);
    const M = 7;
    const d = 3;
    const s = Float64Array.from({ length: M * d }, () => rng.normal() * 2 + 1);
    const lr = 0.1;
    for (const B of [1, 2, 3, 5, 7]) {
      const all = subsets(M, B);
      // Minibatch mean projections g_μ for every subset (the direct definition).
      const g = new Float64Array(all.length * d);
      all.forEach((mu, r) => {
        for (const n of mu) for (let i = 0; i < d; i++) g[r * d + i] += s[n * d + i] / B;
      });
      const full = new Float64Array(d);
      for (let n = 0; n < M; n++) for (let i = 0; i < d; i++) full[i] += s[n * d + i] / M;
      const brute = temperatureFromMinibatches(g, d, { lr, fullGradient: full });
      const formula = temperatureFromPerSample(s, d, { lr, batchSize: B });
      expectClose(`T (B = ${B})`, formula.T, brute.T, { atol: 1e-15, rtol: 1e-12 });
      expectClose(`mean gradient (B = ${B})`, formula.meanGradient, full, { rtol: 1e-14 });
      // Without the full gradient the minibatch estimator is the (n − 1) sample variance.
      if (all.length > 1) {
        const noFull = temperatureFromMinibatches(g, d, { lr });
        expectClose(`T without ∇L (B = ${B})`, noFull.T, brute.T.map((t) => (t * all.length) / (all.length - 1)), { atol: 1e-15, rtol: 1e-12 });
      }
    }
    // B = M: no noise; B = 1: per-sample population variance v.
    const v = temperatureFromPerSample(s, d, { lr: 2, batchSize: 1 });
    expectClose('B = 1 gives v', v.minibatchVariance, v.perSampleVariance as Float64Array, { rtol: 1e-14 });
    expectClose('B = M gives 0', temperatureFromPerSample(s, d, { lr, batchSize: M }).T, new Float64Array(d), { atol: 1e-16 });
  });

  it('linear regression: formula T_i matches Monte Carlo over random minibatches', () => {
    // L = 1/(2M) Σ_n (x_nᵀw − y_n)²: per-sample gradient ∇l_n = (x_nᵀw − y_n)·x_n.
    const rng = new Rng(2);
    const M = 60;
    const D = 4;
    const B = 8;
    const lr = 0.1;
    const X = Float64Array.from({ length: M * D }, (_, i) => rng.normal() * (1 + (i % D)));
    const wTrue = [1, -2, 0.5, 0.3];
    const y = Float64Array.from({ length: M }, (_, n) => {
      let s = 0;
      for (let j = 0; j < D; j++) s += X[n * D + j] * wTrue[j];
      return s + 0.5 * rng.normal();
    });
    const w = [0.9, -1.8, 0.7, 0.2]; // a point near (not at) the minimum
    const grad = (n: number): Float64Array => {
      let r = -y[n];
      for (let j = 0; j < D; j++) r += X[n * D + j] * w[j];
      return Float64Array.from({ length: D }, (_, j) => r * X[n * D + j]);
    };
    // Directions p_i: eigenvectors of XᵀX (a Hessian eigenbasis, as in the lab).
    const H = new Float64Array(D * D);
    for (let n = 0; n < M; n++) for (let a = 0; a < D; a++) for (let b = 0; b < D; b++) H[a * D + b] += X[n * D + a] * X[n * D + b];
    const P = symmetricEig(H, D).vectors as Float64Array;
    const project = (v: Float64Array): Float64Array =>
      Float64Array.from({ length: D }, (_, i) => {
        let s = 0;
        for (let j = 0; j < D; j++) s += v[j] * P[i * D + j];
        return s;
      });
    const perSample = new Float64Array(M * D);
    for (let n = 0; n < M; n++) perSample.set(project(grad(n)), n * D);
    const formula = temperatureFromPerSample(perSample, D, { lr, batchSize: B });

    // Monte Carlo: minibatch gradient computed from the model on B samples drawn without replacement.
    const nBatches = 40000;
    const g = new Float64Array(nBatches * D);
    const order = Uint32Array.from({ length: M }, (_, i) => i);
    for (let r = 0; r < nBatches; r++) {
      for (let i = 0; i < B; i++) {
        // Partial Fisher–Yates: the first B entries are a uniform B-subset.
        const j = i + rng.int(M - i);
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      const gb = new Float64Array(D);
      for (let i = 0; i < B; i++) {
        const gn = grad(order[i]);
        for (let j = 0; j < D; j++) gb[j] += gn[j] / B;
      }
      g.set(project(gb), r * D);
    }
    const fullW = new Float64Array(D);
    for (let n = 0; n < M; n++) {
      const gn = grad(n);
      for (let j = 0; j < D; j++) fullW[j] += gn[j] / M;
    }
    const mc = temperatureFromMinibatches(g, D, { lr, fullGradient: project(fullW) });
    // Relative standard error of a variance from 40,000 draws is ≈ sqrt((κ − 1)/n) ≲ 0.02.
    expectClose('T formula vs Monte Carlo', formula.T, mc.T, { rtol: 0.06 });
    // And the replacement-free factor matters: with-replacement v/B would be off by (M − 1)/(M − B) ≈ 1.16.
    const withReplacement = Float64Array.from(formula.perSampleVariance as Float64Array, (v) => (lr / 2) * (v / B));
    const ratio = withReplacement.map((t, i) => t / mc.T[i]);
    for (const r of ratio) expect(r).toBeGreaterThan(1.08);
  });

  it('a random subsample of N < M samples estimates the same temperature without bias', () => {
    const rng = new Rng(3);
    const M = 30;
    const N = 10;
    const B = 4;
    const s = Float64Array.from({ length: M }, () => rng.normal() ** 2);
    const exact = temperatureFromPerSample(s, 1, { lr: 1, batchSize: B }).T[0];
    let acc = 0;
    const reps = 20000;
    for (let r = 0; r < reps; r++) {
      const idx = rng.permutation(M).subarray(0, N);
      acc += temperatureFromPerSample(Float64Array.from(idx, (i) => s[i]), 1, { lr: 1, batchSize: B, populationSize: M }).T[0];
    }
    expectClose('mean over subsamples', acc / reps, exact, { rtol: 0.03 });
  });

  it('anisotropy summary', () => {
    const a = temperatureAnisotropy([4, 1, 2, 8], [1, 4, 3, 0.5]);
    expect(a.max).toBe(8);
    expect(a.min).toBe(1);
    expect(a.maxOverMin).toBe(8);
    expect(a.median).toBe(3);
    expectClose('T1/median', a.firstOverMedian, 4 / 3, { rtol: 1e-15 });
    expectClose('spearman', a.spearmanWithFlatness as number, -1, { atol: 1e-15 });
    expect(a.spearmanN).toBe(4);
    const partial = temperatureAnisotropy([4, 1, 2, 8], [1, null, 3, NaN]);
    expect(partial.spearmanN).toBe(2);
    expect(partial.spearmanWithFlatness).toBeNull();
    expect(temperatureAnisotropy([0, 1, 2]).maxOverMin).toBe(Infinity);
  });

  it('rejects bad parameters', () => {
    const s = [1, 2, 3, 4];
    expect(() => temperatureFromPerSample(s, 1, { lr: 0.1, batchSize: 5 })).toThrow(/batchSize must be an integer in \[1, M = 4\]/);
    expect(() => temperatureFromPerSample(s, 1, { lr: 0.1, batchSize: 2, populationSize: 3 })).toThrow(/populationSize must be an integer >= the 4 samples/);
    expect(() => temperatureFromPerSample(s, 3, { lr: 0.1, batchSize: 1 })).toThrow(/not a multiple of d = 3/);
    expect(() => temperatureFromPerSample(s, 1, { lr: -1, batchSize: 1 })).toThrow(/lr must be finite and > 0/);
    expect(() => temperatureFromPerSample([1, NaN], 1, { lr: 1, batchSize: 1 })).toThrow(/s\[1\] must be finite/);
    expect(() => temperatureFromMinibatches([1, 2], 2, { lr: 1 })).toThrow(/at least 2 rows/);
    expect(() => temperatureFromMinibatches([1, 2], 2, { lr: 1, fullGradient: [1] })).toThrow(/fullGradient length 1 is not a multiple|fullGradient must have d = 2/);
    expect(() => temperatureAnisotropy([1, -1])).toThrow(/T\[1\] must be finite and >= 0/);
  });
});
