// Seeded synthetic generators (src/data/synthetic.ts).
import { describe, expect, it } from 'vitest';
import { classCounts, subset, type Dataset } from '../src/data/dataset.ts';
import { stratifiedSplit } from '../src/data/split.ts';
import { gaussianMixture, teacherNetwork } from '../src/data/synthetic.ts';

/** Accuracy on `test` of the classifier "nearest class mean of `train`". */
function nearestMeanAccuracy(train: Dataset, test: Dataset): number {
  const { d, classes: C } = train;
  const means = new Float64Array(C * d);
  const counts = classCounts(train.y, C);
  for (let i = 0; i < train.n; i++) for (let j = 0; j < d; j++) means[train.y[i] * d + j] += train.x[i * d + j] / counts[train.y[i]];
  let right = 0;
  for (let i = 0; i < test.n; i++) {
    let best = -1;
    let bestDist = Infinity;
    for (let c = 0; c < C; c++) {
      let dist = 0;
      for (let j = 0; j < d; j++) dist += (test.x[i * d + j] - means[c * d + j]) ** 2;
      if (dist < bestDist) [best, bestDist] = [c, dist];
    }
    if (best === test.y[i]) right++;
  }
  return right / test.n;
}

function splitAccuracy(ds: Dataset): number {
  const s = stratifiedSplit(ds.y, ds.classes, { seed: 0 });
  return nearestMeanAccuracy(subset(ds, s.train), subset(ds, s.test));
}

describe('gaussianMixture', () => {
  const opts = { classes: 10, d: 20, n: 2000, sep: 3, seed: 11 };

  it('is deterministic per seed and differs across seeds', () => {
    const a = gaussianMixture(opts);
    expect(gaussianMixture(opts).x).toEqual(a.x);
    expect(gaussianMixture(opts).y).toEqual(a.y);
    expect(gaussianMixture({ ...opts, seed: 12 }).x).not.toEqual(a.x);
  });

  it('is balanced and, at sep 3, nearest-class-mean gets > 90% (chance-level at sep 0)', () => {
    const ds = gaussianMixture(opts);
    expect(classCounts(ds.y, 10)).toEqual(Array(10).fill(200));
    const acc = splitAccuracy(ds);
    const control = splitAccuracy(gaussianMixture({ ...opts, sep: 0 }));
    console.log(`mixture nearest-mean accuracy: sep 3 → ${acc.toFixed(3)}, sep 0 → ${control.toFixed(3)}`);
    expect(acc).toBeGreaterThan(0.9);
    expect(control).toBeLessThan(0.25);
  });

  it('validates its options', () => {
    expect(() => gaussianMixture({ ...opts, sep: -1 })).toThrow('mixture.sep must be a finite number >= 0, got -1');
    expect(() => gaussianMixture({ ...opts, n: 0 })).toThrow('mixture.n must be an integer in [1, 16777216], got 0');
  });
});

describe('teacherNetwork', () => {
  const opts = { classes: 10, d: 30, n: 3000, hidden: 16, seed: 4 };

  it('is deterministic per seed and differs across seeds', () => {
    const a = teacherNetwork(opts);
    const b = teacherNetwork(opts);
    expect(b.x).toEqual(a.x);
    expect(b.y).toEqual(a.y);
    const c = teacherNetwork({ ...opts, seed: 5 });
    expect(c.y).not.toEqual(a.y);
  });

  it('uses every class (logit centring), none with less than a quarter of its fair share', () => {
    for (const seed of [0, 1, 2]) {
      const counts = classCounts(teacherNetwork({ ...opts, seed }).y, 10);
      console.log(`teacher class counts (seed ${seed}):`, counts.join(' '));
      for (const k of counts) expect(k).toBeGreaterThan(3000 / 10 / 4);
    }
  });

  it('labels depend on the inputs, not just their order: nearest-mean beats chance', () => {
    // A 2-layer ReLU teacher is not linearly separable, but its labels are correlated with x.
    expect(splitAccuracy(teacherNetwork(opts))).toBeGreaterThan(0.2);
  });

  it('validates its options', () => {
    expect(() => teacherNetwork({ ...opts, hidden: 0 })).toThrow('teacher.hidden must be an integer in [1, 4096], got 0');
    expect(() => teacherNetwork({ ...opts, classes: 300 })).toThrow('teacher.classes must be an integer in [2, 256], got 300');
  });
});
