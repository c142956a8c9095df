/**
 * `sgdscope hessian` as a user runs it, on a small run folder (784-8-8-10 on 300 MNIST digits,
 * written here in the format of `sgdscope train`): the run folder it writes is complete and
 * consistent (eigenvalues.npy = summary, the dense check passes, the density integrates to 1);
 * bad flags exit with status 2 naming the flag.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy } from '../src/util/npy.ts';
import { loadDataset } from '../src/data/index.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { initParams } from '../src/nn/init.ts';
import { layerWeights, paramLayout } from '../src/nn/params.ts';
import { DEFAULT_TRAIN } from '../src/train/config.ts';
import { Rng } from '../src/util/rng.ts';

const ROOT = join(import.meta.dirname, '..');

function sgdscope(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function smallRunFolder(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'sgdscope-hess-')), 'run');
  mkdirSync(dir);
  const model: MlpConfig = { widths: [784, 8, 8, 10], activation: 'relu', bias: false, init: { kind: 'normal', sigmaW: 1.5, sigmaB: 0 } };
  const spec = { kind: 'mnist10k' as const, seed: 0, trainSize: 300, testSize: 100 };
  const loaded = await loadDataset(spec);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model, train: DEFAULT_TRAIN, data: loaded.spec }));
  const params = initParams(model, new Rng(4));
  for (const L of paramLayout(model).layers) writeFileSync(join(dir, `weights_layer${L.index}.npy`), encodeNpy(layerWeights(params, L), [L.fanIn, L.fanOut]));
  writeFileSync(join(dir, 'train_indices.npy'), encodeNpy(loaded.trainIndices, [loaded.trainIndices.length]));
  writeFileSync(join(dir, 'test_indices.npy'), encodeNpy(loaded.testIndices, [loaded.testIndices.length]));
  return dir;
}

describe('sgdscope hessian', () => {
  it('writes a complete, consistent run folder (with the dense check)', async () => {
    const run = await smallRunFolder();
    const out = join(run, '..', 'hess');
    const r = sgdscope(['hessian', '--run', run, '--layer', '1', '--k', '6', '--probes', '3', '--steps', '12', '--hutchinson', '8', '--verify-dense', '--verify-top', '5', '--out', out, '--quiet']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/dense check: top 5 max relative error .* \(within 1e-3\)/);
    const files = readdirSync(out).sort();
    expect(files).toEqual([
      'charts.json', 'dense_check.csv', 'dense_spectrum.npy', 'diagonal.csv', 'eigenvalues.npy', 'eigenvectors.npy', 'fisher_vs_hessian.csv',
      'report.html', 'result.json', 'slq_density.csv', 'slq_nodes.csv', 'summary.json', 'test_indices.npy', 'train_indices.npy',
      ...readdirSync(run).filter((f) => /^(weights|bias)_layer/.test(f)).sort(),
    ].sort());
    // The weights analysed are the run's, byte for byte.
    for (const f of readdirSync(run).filter((n) => /^weights_layer/.test(n))) expect(Buffer.compare(readFileSync(join(out, f)), readFileSync(join(run, f)))).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).status).toBe('completed');
    const charts = JSON.parse(readFileSync(join(out, 'charts.json'), 'utf8')) as { id: string; x: number[] }[];
    expect(charts.map((c) => c.id)).toEqual(['top', 'density', 'eig', 'diag', 'dense']);
    expect(charts[0].x).toHaveLength(6);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.block).toMatchObject({ layers: [1], dim: 64 });
    expect(s.rows).toBe(300);
    expect(s.dense.passes1e3).toBe(true);
    expect(s.density.integral).toBeCloseTo(1, 3);
    expect(s.noise.diagonal.gamma).toBeGreaterThan(0);
    const ev = decodeNpy(new Uint8Array(readFileSync(join(out, 'eigenvalues.npy'))));
    expect(ev.shape).toEqual([6]);
    expect(Array.from(ev.data)).toEqual(s.lanczos.values);
    expect(decodeNpy(new Uint8Array(readFileSync(join(out, 'eigenvectors.npy')))).shape).toEqual([6, 64]);
    const dense = decodeNpy(new Uint8Array(readFileSync(join(out, 'dense_spectrum.npy'))));
    expect(dense.shape).toEqual([64]);
    // The exact trace of the block against Hutchinson's estimate.
    expect(Math.abs(s.trace.exact - s.trace.hutchinson)).toBeLessThan(5 * s.trace.hutchinsonStdErr);
    expect(readFileSync(join(out, 'diagonal.csv'), 'utf8').trim().split('\n')).toHaveLength(65);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/uPlot/);
  }, 240_000);

  it('refuses bad flags, naming them', async () => {
    const run = await smallRunFolder();
    const cases: [string[], RegExp][] = [
      [['hessian', '--run', run, '--layer', '3'], /--layer must be 'all' or layer indices in \[0, 2\]/],
      [['hessian', '--run', run, '--k', '0'], /--k must be in \[1, 1000\], got 0/],
      [['hessian', '--run', run, '--chunk', '100'], /--chunk must be a multiple of 64/],
      [['hessian', '--run', run, '--epochs', '3'], /--epochs only applies without --run/],
      [['hessian', '--run', run, '--layer', '0', '--verify-dense', '--max-dense', '100'], /exceeds --max-dense 100/],
      [['hessian', '--sigma', '0'], /--sigma must be in \(0, 1\]/],
      [['hessian', '--frobnicate'], /unknown flag --frobnicate/],
    ];
    for (const [args, re] of cases) {
      const r = sgdscope([...args, '--out', join(run, '..', `bad${Math.random()}`)]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    const r = sgdscope(['hessian', '--run', join(run, 'nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no such run folder|not a run folder/);
  }, 240_000);
});
