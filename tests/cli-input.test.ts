/**
 * Bad input exits 2 with a message naming the field and the range — before the GPU starts. The
 * processes run with VK_ICD_FILENAMES pointing at nothing, so a command that reached the GPU would
 * fail with "No WebGPU adapter" (exit 1) instead: each case proves its check comes first. And the
 * launcher runs commands in the caller's working directory (relative paths mean what they say).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runFiles } from '../src/train/run-files.ts';
import { SEED_MLP } from '../src/nn/config.ts';
import { paramLayout } from '../src/nn/params.ts';
import { DEFAULT_TRAIN } from '../src/train/config.ts';
import { History } from '../src/train/trainer.ts';
import { ROOT, sgdscopeDone } from './helpers/cli-process.ts';

const NO_GPU = { VK_ICD_FILENAMES: '/nonexistent/sgdscope-test-icd.json' };

/** A train run folder with the given weights (no training needed), written like `sgdscope train` does. */
function runFolder(dir: string, fill: (params: Float32Array) => void): string {
  const params = new Float32Array(paramLayout(SEED_MLP).total).fill(0.01);
  fill(params);
  const files = runFiles({
    model: SEED_MLP, train: DEFAULT_TRAIN, data: { kind: 'mnist10k', seed: 0, testFraction: 0.2 }, adapter: { name: 'x', description: '', runtime: 'node' },
    result: { status: 'completed', message: 'ok', steps: 1, seconds: 1, stepsPerSecond: 1 }, finalEval: null, history: new History(), stepsPerEpoch: 160,
    params, paramsStep: 1, trainIndices: new Uint32Array(0), testIndices: new Uint32Array(0),
  });
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of files) if (!name.endsWith('indices.npy')) writeFileSync(join(dir, name), content);
  return dir;
}

describe('bad input: exit 2 before the GPU starts', () => {
  it('flags, config, data files, run folders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgdscope-input-'));
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ model: { Widths: [784, 10] } }));
    const idx = join(dir, 'idx');
    mkdirSync(idx);
    const header = (dims: number[]): Buffer => Buffer.from([0, 0, 8, dims.length, ...dims.flatMap((d) => [d >>> 24, (d >>> 16) & 255, (d >>> 8) & 255, d & 255])]);
    writeFileSync(join(idx, 'train-images-idx3-ubyte'), Buffer.concat([header([4, 28, 28]), Buffer.alloc(4 * 784 - 5)]));
    writeFileSync(join(idx, 'train-labels-idx1-ubyte'), Buffer.concat([header([4]), Buffer.from([0, 1, 2, 3])]));
    // A gzip bomb: the header declares 4 images, the stream inflates to 64 MB.
    writeFileSync(join(idx, 't10k-images-idx3-ubyte.gz'), gzipSync(Buffer.concat([header([4, 28, 28]), Buffer.alloc(64 << 20)])));
    writeFileSync(join(idx, 't10k-labels-idx1-ubyte'), Buffer.concat([header([4]), Buffer.from([0, 1, 2, 3])]));
    const nan = runFolder(join(dir, 'nan'), (p) => (p[5000] = NaN));
    const cut = runFolder(join(dir, 'cut'), () => undefined);
    writeFileSync(join(cut, 'weights_layer1.npy'), readFileSync(join(cut, 'weights_layer1.npy')).subarray(0, 300));
    const cases: [string[], RegExp][] = [
      [['train', '--widths', '784,0,10'], /model\.widths\[1\] must be an integer in \[1, 65536\], got 0/],
      [['train', '--batch', '9000'], /train\.batchSize must be in \[1, 8000\] \(the training set size\), got 9000/],
      [['train', '--widths', '20,10'], /model\.widths\[0\] is 20 but the dataset has 784 features/],
      [['train', '--lr', '0x10'], /--lr must be a decimal number, got '0x10'/],
      [['train', '--config', join(dir, 'typo.json')], /model: unknown key 'Widths' — did you mean 'widths'\?/],
      [['train', '--dataset', `idx:${idx}`], /IDX file .*train-images-idx3-ubyte.*truncated data/],
      [['sweep', '--dataset', `idx:${idx}`, '--train-size', '4'], /IDX file|decompresses to more than/],
      [['train', '--out', '/proc/sgdscope-test/run'], /cannot create \/proc\/sgdscope-test/],
      [['train', '--resume', join(dir, 'none')], /cannot resume: no checkpoint was found/],
      [['hessian', '--run', nan], /1 of 42200 parameters are not finite \(first: weights_layer0\[\d+, \d+\] = NaN\)/],
      [['hessian', '--run', cut], /weights_layer1\.npy: truncated/],
      [['reproduce', 'feng-tu', '--k', '5000'], /k must be an integer in \[2, min\(P = 2500/],
    ];
    for (const [args, re] of cases) {
      const r = await sgdscopeDone(args, ROOT, NO_GPU);
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at |No WebGPU adapter/);
    }
    // The control: input that is fine reaches the GPU, which this environment does not have.
    const ok = await sgdscopeDone(['train', '--steps', '1', '--out', join(dir, 'ok')], ROOT, NO_GPU);
    expect(ok.code).toBe(1);
    expect(ok.stderr).toMatch(/No WebGPU adapter/);
  }, 300_000);
});

describe('the launcher', () => {
  it('resolves relative --out and --config against the caller\'s working directory', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sgdscope-cwd-'));
    writeFileSync(join(cwd, 'run.json'), JSON.stringify({ model: { widths: [784, 8, 10] }, train: { steps: 3, epochs: null } }));
    const r = spawnSync(join(ROOT, 'sgdscope'), ['train', '--config', 'run.json', '--out', 'runs/rel', '--quiet'], { cwd, encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(cwd, 'runs', 'rel', 'weights_layer1.npy'))).toBe(true);
    expect(JSON.parse(readFileSync(join(cwd, 'runs', 'rel', 'config.json'), 'utf8')).model.widths).toEqual([784, 8, 10]);
    expect(existsSync(join(ROOT, 'runs', 'rel'))).toBe(false);
  }, 300_000);
});
