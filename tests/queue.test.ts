/**
 * The job queue's pieces without Redis or a GPU (src/queue/, src/experiments/sweep/{search,asha}.ts):
 *  - the queue URL: good ones parsed, malformed ones refused naming what is wrong;
 *  - exact JSON: NaN, ±Infinity, -0 and typed arrays come back bit for bit;
 *  - ASHA: the rung schedule and the stopping rule against hand-computed tables;
 *  - random search: seeded, inside its ranges, log-uniform lr; the grid sampler is the grid;
 *  - the store: a run folder lands once (the second writer keeps the first), a store that is a
 *    file or cannot be created is refused; the worker's --checkpoint-every.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQueueUrl } from '../src/queue/url.ts';
import { decodeExactJson, encodeExactJson } from '../src/util/exact-json.ts';
import { ashaDecide, ashaRungs, MemoryRungBoard } from '../src/experiments/sweep/asha.ts';
import { searchPoints } from '../src/experiments/sweep/search.ts';
import { expandGrid, validateSweepSpec, DEFAULT_SHARPNESS, type SearchSpec, type SweepSpec } from '../src/experiments/sweep/grid.ts';
import { Store, writeFolderAtomic } from '../src/queue/store.ts';
import { parseCheckpointEvery } from '../src/cli/worker.ts';

describe('queue URL', () => {
  it('parses redis:// URLs and refuses malformed ones naming the part', () => {
    expect(parseQueueUrl('redis://127.0.0.1:6390/3')).toMatchObject({ host: '127.0.0.1', port: 6390, db: 3, tls: false });
    expect(parseQueueUrl('redis://cache.lab')).toMatchObject({ host: 'cache.lab', port: 6379, db: 0 });
    const secret = parseQueueUrl('rediss://user:s3cret@cache.lab:7000/2');
    expect(secret).toMatchObject({ username: 'user', password: 's3cret', tls: true, port: 7000, db: 2 });
    expect(secret.shown).not.toContain('s3cret');
    expect(() => parseQueueUrl('localhost:6379')).toThrow(/scheme must be redis:\/\/ or rediss:\/\/.*e\.g\. redis:\/\/127\.0\.0\.1:6379\/0/);
    expect(() => parseQueueUrl('http://h:6379/0')).toThrow(/scheme must be redis/);
    expect(() => parseQueueUrl('not a url')).toThrow(/--queue 'not a url': not a URL/);
    expect(() => parseQueueUrl('redis://h:99999/0')).toThrow(/not a URL|port/);
    expect(() => parseQueueUrl('redis://h:6379/queue')).toThrow(/database must be a number/);
    expect(() => parseQueueUrl('redis://h:6379/0?x=1')).toThrow(/no \?query/);
  });
});

describe('exact JSON', () => {
  it('round-trips non-finite numbers, -0 and typed arrays bit for bit', () => {
    const v = { a: [0.1 + 0.2, NaN, Infinity, -Infinity, -0, 1e-310], f: new Float32Array([1.5, NaN, 3e-40, -0]), d: new Float64Array([Math.PI, -1e300]), u: new Uint32Array([0, 4294967295]), b: new Uint8Array([1, 2, 3, 4, 5]), n: null };
    const r = decodeExactJson<typeof v>(encodeExactJson(v));
    expect(r.a.slice(0, 4)).toEqual([0.1 + 0.2, NaN, Infinity, -Infinity]);
    expect(Object.is(r.a[4], -0)).toBe(true);
    expect(r.a[5]).toBe(1e-310);
    for (const k of ['f', 'd', 'u', 'b'] as const) {
      expect(r[k].constructor).toBe(v[k].constructor);
      expect(Buffer.from(r[k].buffer).equals(Buffer.from(v[k].buffer))).toBe(true);
    }
    expect(r.n).toBeNull();
  });
});

describe('ASHA', () => {
  it('places rungs at minEpochs·η^k strictly before the end', () => {
    const a = { eta: 3, minEpochs: 1, metric: 'test-loss' as const };
    expect(ashaRungs(a, 10, 300).map((r) => [r.rung, r.epoch, r.step])).toEqual([[0, 1, 10], [1, 3, 30], [2, 9, 90], [3, 27, 270]]);
    expect(ashaRungs(a, 10, 270).map((r) => r.epoch)).toEqual([1, 3, 9]);
    expect(ashaRungs({ ...a, eta: 2, minEpochs: 2 }, 4, 64).map((r) => r.step)).toEqual([8, 16, 32]);
  });

  it('keeps the best max(1, ⌊n/η⌋) of the runs seen at a rung (hand-computed)', () => {
    const arrivals = [0.5, 0.7, 0.4, 0.6, 0.3, 0.9];
    const decide = (eta: number) => arrivals.map((_, i) => ashaDecide(arrivals.slice(0, i + 1), eta));
    // η = 3: n = 1…6 → keep 1,1,1,1,1,2; ranks 0,1,0,2,0,5.
    expect(decide(3).map((d) => [d.keep, d.rank, d.continues])).toEqual([[1, 0, true], [1, 1, false], [1, 0, true], [1, 2, false], [1, 0, true], [2, 5, false]]);
    // η = 2: keep 1,1,1,2,2,3.
    expect(decide(2).map((d) => [d.keep, d.rank, d.continues])).toEqual([[1, 0, true], [1, 1, false], [1, 0, true], [2, 2, false], [2, 0, true], [3, 5, false]]);
    // A tie goes to the run being decided.
    expect(ashaDecide([0.5, 0.5], 2).continues).toBe(true);
  });

  it('records a run once per rung (a restarted run gets its first place back)', async () => {
    const b = new MemoryRungBoard();
    expect(await b.record(0, 4, 0.5)).toEqual([0.5]);
    expect(await b.record(0, 7, 0.3)).toEqual([0.5, 0.3]);
    expect(await b.record(0, 4, 0.1)).toEqual([0.5]);
    expect(await b.record(1, 7, 0.2)).toEqual([0.2]);
  });
});

describe('random search', () => {
  const grid = { lr: [0.1], batchSize: [20, 50], weightDecay: [0, 1e-4], dropout: [0], seed: [1, 2, 3] };
  const search: SearchSpec = { sampler: 'random', trials: 40, seed: 9, lrRange: [0.001, 1], weightDecayRange: null, dropoutRange: [0, 0.5], asha: null };

  it('draws seeded points inside the ranges, lr log-uniform, other axes from their lists', () => {
    const p = searchPoints(grid, search);
    expect(p).toEqual(searchPoints(grid, search));
    expect(p.map((x) => x.index)).toEqual([...Array(40).keys()]);
    for (const x of p) {
      expect(x.lr).toBeGreaterThanOrEqual(0.001);
      expect(x.lr).toBeLessThanOrEqual(1);
      expect(x.dropout).toBeGreaterThanOrEqual(0);
      expect(x.dropout).toBeLessThanOrEqual(0.5);
      expect(grid.batchSize).toContain(x.batchSize);
      expect(grid.weightDecay).toContain(x.weightDecay);
      expect(grid.seed).toContain(x.seed);
    }
    // log-uniform over three decades: about a third of the draws in each.
    const decades = [0, 0, 0];
    for (const x of p) decades[Math.min(2, Math.floor(Math.log10(x.lr / 0.001)))]++;
    for (const n of decades) expect(n).toBeGreaterThan(5);
    expect(searchPoints(grid, { ...search, seed: 10 })).not.toEqual(p);
    expect(searchPoints(grid)).toEqual(expandGrid(grid));
  });

  it('validates the search with the sweep', () => {
    const spec: SweepSpec = { model: { widths: [8, 4], activation: 'relu', bias: false, init: { kind: 'pytorch' } }, train: { epochs: 4 }, data: { kind: 'mnist10k' }, grid, sharpness: DEFAULT_SHARPNESS, concurrency: 1 };
    expect(() => validateSweepSpec({ ...spec, search })).not.toThrow();
    expect(() => validateSweepSpec({ ...spec, search: { ...search, lrRange: [1, 0.1] } })).toThrow(/sweep\.search\.lrRange must be \[min, max\] with min < max/);
    expect(() => validateSweepSpec({ ...spec, search: { ...search, dropoutRange: [0, 0.99] } })).toThrow(/sweep\.search\.dropoutRange\.dropout must be/);
    expect(() => validateSweepSpec({ ...spec, search: { ...search, trials: 0 } })).toThrow(/trials must be an integer in \[1, 100000\]/);
    const asha = { eta: 3, minEpochs: 4, metric: 'test-loss' as const };
    expect(() => validateSweepSpec({ ...spec, search: { ...search, asha } })).toThrow(/minEpochs must be below the runs' 4 epochs/);
    expect(() => validateSweepSpec({ ...spec, train: { steps: 100, epochs: null }, search: { ...search, asha: { ...asha, minEpochs: 1 } } })).toThrow(/rungs are in epochs/);
  });
});

describe('store', () => {
  it('writes a run folder once: a second writer keeps the first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgdscope-store-'));
    expect(writeFolderAtomic(dir, '0003', new Map<string, string | Uint8Array>([['a.txt', 'first'], ['b.bin', new Uint8Array([1, 2])]]))).toBe(true);
    expect(writeFolderAtomic(dir, '0003', new Map([['a.txt', 'second']]))).toBe(false);
    expect(readFileSync(join(dir, '0003', 'a.txt'), 'utf8')).toBe('first');
    expect(readdirSync(dir)).toEqual(['0003']);
  });

  it('refuses a store that is a file or cannot be created', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgdscope-store-'));
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    expect(() => new Store(file)).toThrow(/--store .*file: is a file, not a folder/);
    expect(() => new Store(join(file, 'store'))).toThrow(/--store .*: not a writable folder \(ENOTDIR\)/);
    const s = new Store(join(dir, 'ok'));
    expect(existsSync(s.root)).toBe(true);
    expect(readdirSync(s.root)).toEqual([]);
  });

  it("parses the worker's --checkpoint-every", () => {
    expect(parseCheckpointEvery(undefined)).toEqual({ seconds: 60, steps: null });
    expect(parseCheckpointEvery('30s')).toEqual({ seconds: 30, steps: null });
    expect(parseCheckpointEvery('500')).toEqual({ seconds: null, steps: 500 });
    expect(parseCheckpointEvery('off')).toEqual({ seconds: null, steps: null });
    expect(() => parseCheckpointEvery('2.5')).toThrow(/--checkpoint-every takes seconds/);
    expect(() => parseCheckpointEvery('-3s')).toThrow(/--checkpoint-every/);
  });
});
