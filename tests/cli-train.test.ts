/**
 * `sgdscope train` as a user runs it: a short run writes a complete run folder whose .npy weights
 * an independent numpy forward pass evaluates to the same test accuracy; bad flags exit non-zero
 * naming the flag and the allowed range; an existing run folder is never overwritten silently.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy } from '../src/util/npy.ts';
import { pythonWithNumpy } from './helpers/python.ts';

const ROOT = join(import.meta.dirname, '..');

function sgdscope(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('sgdscope train', () => {
  it('writes a run folder that numpy evaluates to the reported test accuracy', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sgdscope-cli-')), 'run');
    const r = sgdscope(['train', '--epochs', '2', '--seed', '5', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/completed 320 steps/);
    const files = readdirSync(out).sort();
    expect(files).toEqual(['config.json', 'metrics.csv', 'result.json', 'test_indices.npy', 'train_indices.npy', 'weights_layer0.npy', 'weights_layer1.npy', 'weights_layer2.npy']);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result.status).toBe('completed');
    expect(result.final.test.accuracy).toBeGreaterThan(0.8);
    const w0 = decodeNpy(readFileSync(join(out, 'weights_layer0.npy')));
    expect(w0.shape).toEqual([784, 50]);
    const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(321);
    expect(csv[0]).toBe('step,epoch,batch_loss,batch_accuracy,train_loss,train_accuracy,test_loss,test_accuracy');

    const py = pythonWithNumpy();
    if (!py) throw new Error('no python3 with numpy: apt-get install python3-numpy (scripts/ensure-deps.sh does this)');
    const check = spawnSync(py, [join(ROOT, 'scripts/check_run_numpy.py'), out], { encoding: 'utf8' });
    console.log(check.stdout.trim());
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/agree/);
  }, 300_000);

  it('--replicas 3: stacked (R, fan_in, fan_out) weights and per-replica metrics; replica 1 = the run of its seed alone; numpy agrees', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgdscope-ens-'));
    const ens = sgdscope(['train', '--replicas', '3', '--seed', '5', '--steps', '40', '--eval-every', '20', '--out', join(dir, 'ens'), '--quiet']);
    expect(ens.code, ens.stderr).toBe(0);
    expect(ens.stdout).toMatch(/× 3 replicas/);
    const one = sgdscope(['train', '--seed', '6', '--steps', '40', '--eval-every', '20', '--out', join(dir, 'one'), '--quiet']);
    expect(one.code, one.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(dir, 'ens', 'result.json'), 'utf8'));
    expect(result.replicas.map((r: { seed: number }) => r.seed)).toEqual([5, 6, 7]);
    const config = JSON.parse(readFileSync(join(dir, 'ens', 'config.json'), 'utf8'));
    expect(config.replicas).toHaveLength(3);
    for (let l = 0; l < 3; l++) {
      const w = decodeNpy(readFileSync(join(dir, 'ens', `weights_layer${l}.npy`)));
      const alone = decodeNpy(readFileSync(join(dir, 'one', `weights_layer${l}.npy`)));
      expect(w.shape).toEqual([3, ...alone.shape]);
      const size = alone.data.length;
      expect(Buffer.from((w.data as Float32Array).slice(size, 2 * size).buffer).equals(Buffer.from((alone.data as Float32Array).slice().buffer)), `layer ${l}: replica 1 = seed 6 alone`).toBe(true);
    }
    const csv = readFileSync(join(dir, 'ens', 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('replica,step,epoch,batch_loss,batch_accuracy,train_loss,train_accuracy,test_loss,test_accuracy');
    expect(csv).toHaveLength(1 + 3 * 40);
    // Replica 1's rows are the single run's rows.
    const oneCsv = readFileSync(join(dir, 'one', 'metrics.csv'), 'utf8').trim().split('\n').slice(1);
    expect(csv.filter((l) => l.startsWith('1,')).map((l) => l.slice(2))).toEqual(oneCsv);
    const py = pythonWithNumpy();
    if (!py) throw new Error('no python3 with numpy: apt-get install python3-numpy (scripts/ensure-deps.sh does this)');
    const check = spawnSync(py, [join(ROOT, 'scripts/check_run_numpy.py'), join(dir, 'ens')], { encoding: 'utf8' });
    console.log(check.stdout.trim());
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout.match(/replica \d: numpy/g)).toHaveLength(3);
  }, 300_000);

  it('refuses out-of-range values and unknown flags, naming them', () => {
    const cases: [string[], RegExp][] = [
      [['train', '--lr', '-1'], /--lr must be in \(0, 100\], got -1/],
      [['train', '--batch', '0'], /--batch must be in \[1, 65536\], got 0/],
      [['train', '--momentum', '1'], /--momentum must be in \[0, 0.999\], got 1/],
      [['train', '--epochs', '1.5'], /--epochs must be an integer, got '1.5'/],
      [['train', '--learning-rate', '0.1'], /unknown flag --learning-rate/],
      [['train', '--activation', 'gelu'], /--activation must be one of relu, tanh, got 'gelu'/],
      [['train', '--widths', '784,0,10'], /widths\[1\] must be an integer in \[1, 65536\], got 0/],
      [['train', '--lr'], /--lr needs a value/],
      [['train', '--replicas', '0'], /--replicas must be in \[1, 1024\], got 0/],
      [['train', '--seeds', '1,1'], /--seeds lists a seed twice/],
      [['train', '--seeds', '1,2', '--replicas', '3'], /--seeds lists 2 seeds but --replicas is 3/],
      [['train', '--seeds', '1,2', '--seed', '4'], /--seed or --seeds, not both/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, re] of cases) {
      const r = sgdscope(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(re);
    }
  });

  it('never overwrites a non-empty run folder without --force', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgdscope-keep-'));
    mkdirSync(join(dir, 'run'));
    writeFileSync(join(dir, 'run', 'notes.txt'), 'mine');
    const r = sgdscope(['train', '--steps', '5', '--out', join(dir, 'run')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/exists and is not empty.*--force/);
    expect(readFileSync(join(dir, 'run', 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('reads --config files and rejects bad ones with the file and field named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgdscope-config-'));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ train: { learningRate: 0.1 } }));
    let r = sgdscope(['train', '--config', join(dir, 'bad.json')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown setting 'learningRate'/);
    writeFileSync(join(dir, 'broken.json'), '{ train: ');
    r = sgdscope(['train', '--config', join(dir, 'broken.json')]);
    expect(r.stderr).toMatch(/broken.json: not valid JSON/);
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ train: { steps: 7, epochs: null, chunkSteps: 3 }, model: { widths: [784, 20, 10] } }));
    r = sgdscope(['train', '--config', join(dir, 'ok.json'), '--out', join(dir, 'run'), '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/completed 7 steps/);
    const cfg = JSON.parse(readFileSync(join(dir, 'run', 'config.json'), 'utf8'));
    expect(cfg.model.widths).toEqual([784, 20, 10]);
  }, 120_000);
});
