// Stratified, seeded splits (src/data/split.ts), on the real MNIST-10k labels.
import { beforeAll, describe, expect, it } from 'vitest';
import { classCounts } from '../src/data/dataset.ts';
import { loadMnist10k } from '../src/data/mnist10k.ts';
import { checkSplit, stratifiedSample, stratifiedSplit } from '../src/data/split.ts';

let y: Uint8Array;
let counts: number[];
beforeAll(async () => {
  y = (await loadMnist10k()).y;
  counts = classCounts(y, 10);
});

const labelsOf = (idx: Uint32Array): Uint8Array => Uint8Array.from(idx, (i) => y[i]);

describe('stratifiedSplit', () => {
  it('default is 8,000 / 2,000, disjoint, covering, sorted, 20% of each class to within one', () => {
    const s = stratifiedSplit(y, 10, { seed: 1 });
    expect([s.train.length, s.test.length]).toEqual([8000, 2000]);
    const seen = new Uint8Array(10_000);
    for (const i of s.train) seen[i]++;
    for (const i of s.test) seen[i]++;
    expect(seen.every((v) => v === 1)).toBe(true);
    for (const idx of [s.train, s.test]) for (let k = 1; k < idx.length; k++) expect(idx[k]).toBeGreaterThan(idx[k - 1]);
    const testCounts = classCounts(labelsOf(s.test), 10);
    console.log('test class counts (seed 1):', testCounts.join(' '));
    testCounts.forEach((t, c) => expect(Math.abs(t - 0.2 * counts[c])).toBeLessThan(1));
    // Largest remainder: 200.2 225.4 198.2 206.4 196 172.6 202.8 214 188.8 195.6 → the four largest fractions round up.
    expect(testCounts).toEqual([200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
    expect(checkSplit(s, 10_000)).toBe(s);
  });

  it('is deterministic per seed, different across seeds, and pinned (saved index files rely on it)', () => {
    const a = stratifiedSplit(y, 10, { seed: 42 });
    const b = stratifiedSplit(y, 10, { seed: 42 });
    const c = stratifiedSplit(y, 10, { seed: 43 });
    expect(b.test).toEqual(a.test);
    expect(b.train).toEqual(a.train);
    const overlap = a.test.filter((i) => c.test.includes(i)).length;
    expect(overlap).toBeLessThan(700); // chance level is 400 (20% of 2,000)
    // Pin of the algorithm + Rng (same numbers in the browser): change only on purpose.
    expect(Array.from(stratifiedSplit(y, 10, { seed: 0 }).test.slice(0, 8))).toEqual([6, 33, 34, 38, 44, 46, 55, 59]);
  });

  it('testSize / trainSize give exact totals; a smaller trainSize is a stratified subsample of the rest', () => {
    const s = stratifiedSplit(y, 10, { seed: 5, testSize: 1234, trainSize: 1000 });
    expect([s.train.length, s.test.length]).toEqual([1000, 1234]);
    checkSplit(s, 10_000);
    classCounts(labelsOf(s.train), 10).forEach((t, c) => expect(Math.abs(t - (1000 * counts[c]) / 10_000)).toBeLessThan(1));
    const f = stratifiedSplit(y, 10, { seed: 5, testFraction: 0.1 });
    expect([f.train.length, f.test.length]).toEqual([9000, 1000]);
  });

  it('rejects bad options, naming the field', () => {
    expect(() => stratifiedSplit(y, 10, { seed: 1, testFraction: 1.5 })).toThrow('split.testFraction must be in (0, 1), got 1.5');
    expect(() => stratifiedSplit(y, 10, { seed: 1, testFraction: 0 })).toThrow('split.testFraction must be in (0, 1), got 0');
    expect(() => stratifiedSplit(y, 10, { seed: 1, testSize: 0 })).toThrow('split.testSize must be an integer in [1, 9999], got 0');
    expect(() => stratifiedSplit(y, 10, { seed: 1, testSize: 2.5 })).toThrow('split.testSize must be an integer in [1, 9999], got 2.5');
    expect(() => stratifiedSplit(y, 10, { seed: 1, trainSize: 8001 })).toThrow('split.trainSize must be an integer in [1, 8000], got 8001');
    expect(() => stratifiedSplit(y, 10, { seed: 0.5 })).toThrow('split.seed must be an integer in [0, 2^32-1], got 0.5');
    expect(() => stratifiedSplit(y, 9, { seed: 1 })).toThrow('split: label 9 at index 9022 is out of range [0, 9)');
    expect(() => stratifiedSplit(new Uint8Array(1), 1, { seed: 1 })).toThrow(/testFraction 0\.2 of 1 samples gives 0 test samples/);
  });
});

describe('stratifiedSample', () => {
  it('draws an exact-size, class-proportional, deterministic sample', () => {
    const s = stratifiedSample(y, 10, 500, 7);
    expect(s.length).toBe(500);
    expect(new Set(s).size).toBe(500);
    classCounts(labelsOf(s), 10).forEach((t, c) => expect(Math.abs(t - (500 * counts[c]) / 10_000)).toBeLessThan(1));
    expect(stratifiedSample(y, 10, 500, 7)).toEqual(s);
    expect(stratifiedSample(y, 10, 500, 8)).not.toEqual(s);
    expect(() => stratifiedSample(y, 10, 10_001, 7)).toThrow('sample.size must be an integer in [1, 10000], got 10001');
  });
});

describe('checkSplit', () => {
  it('catches overlap, duplicates and out-of-range indices', () => {
    expect(() => checkSplit({ train: Uint32Array.of(0, 1), test: Uint32Array.of(1) }, 3)).toThrow('split.test[0] = 1 appears twice');
    expect(() => checkSplit({ train: Uint32Array.of(2, 2), test: Uint32Array.of() }, 3)).toThrow('split.train[1] = 2 appears twice');
    expect(() => checkSplit({ train: Uint32Array.of(0), test: Uint32Array.of(3) }, 3)).toThrow('split.test[0] = 3 is out of range [0, 3)');
  });
});
