/**
 * The dashboard's DOM-free parts: settings ⇄ URL, inline validation messages (the engine's own
 * wording with the allowed range), the live lab's choice of directions, and the ZIP writer of the
 * run-folder export.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, runSpecOf, settingsFromQuery, settingsToQuery, validateSettings, type DashSettings } from '../src/experiments/dashboard/run-settings.ts';
import { spreadDirections } from '../src/instruments/window-model.ts';
import { crc32, zipFiles } from '../src/util/zip.ts';

const withChange = (c: Partial<DashSettings>): DashSettings => ({ ...DEFAULT_SETTINGS, ...c });

describe('dashboard settings', () => {
  it('defaults are valid, reproduce the CLI reference run and leave the URL empty', () => {
    expect(validateSettings(DEFAULT_SETTINGS)).toEqual({});
    expect(settingsToQuery(DEFAULT_SETTINGS)).toBe('');
    const spec = runSpecOf(DEFAULT_SETTINGS);
    expect(spec.model).toEqual({ widths: [784, 50, 50, 10], activation: 'relu', bias: false, init: { kind: 'pytorch' } });
    expect(spec.train).toMatchObject({ lr: 0.1, batchSize: 50, weightDecay: 0, seed: 1, epochs: 30 });
    expect(spec.data).toEqual({ kind: 'mnist10k' });
  });

  it('round-trips through the URL with the CLI flag names', () => {
    const s = withChange({ lr: 0.05, batch: 100, seed: 7, widths: [784, 100, 100, 10], activation: 'tanh', bias: true, init: 'normal', 'sigma-w': 1.5, 'sigma-b': 0.05, 'flat-k': Math.E, layer: 2, k: 20 });
    const q = settingsToQuery(s);
    expect(q).toContain('widths=784%2C100%2C100%2C10');
    expect(q).toContain('flat-k=e');
    const back = settingsFromQuery(`?${q}&autostart=1`);
    expect(back.problems).toEqual([]);
    expect(back.settings).toEqual(s);
    const bad = settingsFromQuery('?lr=abc&nope=1');
    expect(bad.settings.lr).toBe(DEFAULT_SETTINGS.lr);
    expect(bad.problems.join('\n')).toMatch(/lr: 'abc' is not a number/);
    expect(bad.problems.join('\n')).toMatch(/unknown URL setting 'nope'/);
  });

  it('refuses invalid values field by field with the allowed range', () => {
    expect(validateSettings(withChange({ lr: 0 })).lr).toBe('train.lr must be (0, 100], got 0');
    expect(validateSettings(withChange({ batch: 9000 })).batch).toBe('train.batchSize must be in [1, 8000] (the training set size), got 9000');
    expect(validateSettings(withChange({ seed: -1 })).seed).toMatch(/train\.seed must be an integer in \[0, 4294967295\], got -1/);
    expect(validateSettings(withChange({ widths: [784, 0, 10] })).widths).toBe('model.widths[1] must be an integer in [1, 65536], got 0');
    expect(validateSettings(withChange({ init: 'normal', 'sigma-w': -1 }))['sigma-w']).toBe('model.init.sigmaW must be in [0, 100], got -1');
    expect(validateSettings(withChange({ layer: 3 })).layer).toBe('lab.layer must be an integer in [0, 2], got 3');
    expect(validateSettings(withChange({ epochs: 5, 'window-epochs': 10 }))['window-epochs']).toBe('lab.windowEpochs must be an integer in [1, 5], got 10');
    // k ≤ min(P, T − 1): a 1-epoch window of 160 steps allows 159.
    expect(validateSettings(withChange({ 'window-epochs': 1, k: 400 })).k).toBe('lab.k must be an integer in [2, 159], got 400');
    expect(validateSettings(withChange({ 'flat-k': 1 }))['flat-k']).toBe('lab.flatK must be (1, 1000000], got 1');
    expect(validateSettings(withChange({ 'live-dirs': 50 }))['live-dirs']).toBe('lab.liveDirs must be an integer in [2, 40], got 50');
    expect(validateSettings(withChange({ 'train-size': 100 }))['train-size']).toMatch(/applies to the file datasets/);
    expect(validateSettings(withChange({ dataset: 'fashion', 'train-size': 6000, batch: 50 }))).toEqual({});
    expect(validateSettings(withChange({ dataset: 'fashion', 'train-size': 70000 }))['train-size']).toBe('dataset.trainSize must be an integer in [1, 60000], got 70000');
    // The batch is checked against the subsample trained on.
    expect(validateSettings(withChange({ dataset: 'fashion', 'train-size': 100, batch: 200 })).batch).toBe('train.batchSize must be in [1, 100] (the training set size), got 200');
  });
});

describe('live lab directions', () => {
  it('keeps PC1 and spreads the rest over 2…k', () => {
    expect(spreadDirections(40, 8)).toEqual([0, 1, 7, 14, 20, 26, 33, 39]);
    expect(spreadDirections(3, 8)).toEqual([0, 1, 2]);
    expect(spreadDirections(10, 2)).toEqual([0, 1]);
    for (const [k, n] of [[5, 5], [12, 4], [100, 10], [2, 2]]) {
      const d = spreadDirections(k, n);
      expect(d.length).toBe(Math.min(k, n));
      expect(new Set(d).size).toBe(d.length);
      expect(d.every((i, j) => i >= 0 && i < k && (j === 0 || i > d[j - 1]))).toBe(true);
    }
  });
});

describe('zip', () => {
  it('CRC-32 of the check string', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('writes an archive that Python’s zipfile reads back byte for byte', () => {
    const bin = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 255);
    const zip = zipFiles(new Map<string, Uint8Array | string>([['a.json', '{"x": 1}\n'], ['w.npy', bin], ['ünïcode.csv', 'i,σ²\n1,2\n']]), 'run');
    const dir = mkdtempSync(join(tmpdir(), 'sgdscope-zip-'));
    const file = join(dir, 'run.zip');
    writeFileSync(file, zip);
    let out: string;
    try {
      out = execFileSync('python3', ['-c', 'import sys, zipfile, hashlib\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nfor i in z.infolist(): print(i.filename, i.file_size, hashlib.sha256(z.read(i)).hexdigest()[:12])', file], { encoding: 'utf8' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // no python3 here: the e2e test still unpacks names
      throw e;
    }
    const lines = out.trim().split('\n');
    expect(lines.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['run/a.json 9', 'run/w.npy 1000', 'run/ünïcode.csv 11']);
  });
});
