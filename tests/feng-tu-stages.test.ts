/**
 * Feng–Tu stages that survive each other (issue 17, item 2) and the authors' protocol (item 3):
 *  - `reproduce feng-tu --protocol authors` on a tiny network ends by its stop rule, records the
 *    last T steps in a ring that wraps, and with one stage made to fail (SGDSCOPE_FAIL_STAGES) still
 *    writes every other stage's files, records the error in summary.json, skips what needed the
 *    failed stage, and exits with status 4 ("completed with failed stages"), keeping its checkpoint;
 *    `--resume` then runs only the failed stage and those that read it (flatness, fit, temperature,
 *    mlf), takes the others from analysis-state.json unchanged, and completes with status 0;
 *  - the ring's window, put back in time order, equals the window a fixed-length run of the same
 *    length records, and the analysis never writes into the trainer's parameters.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import { decodeNpy } from '../src/util/npy.ts';
import { gaussianMixture } from '../src/data/index.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { paramLayout } from '../src/nn/params.ts';
import { runFengTu } from '../src/experiments/feng-tu/run.ts';

const ctx = useGpu();
const ROOT = join(import.meta.dirname, '..');

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, ...env } });

describe('reproduce feng-tu with a failing stage', () => {
  it('writes the other stages, records the failure, exits 4; --resume runs only what is missing', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sgdscope-fengtu-')), 'run');
    // 400 samples, B 50: 8 steps per epoch. The stop rule (loss < 100 and the mean accuracy of
    // the last 2 epochs > 0) holds after the first epoch; the 6-step window's ring has wrapped.
    const args = ['reproduce', 'feng-tu', '--protocol', 'authors', '--train-size', '400', '--test-size', '100', '--widths', '784,12,12,10',
      '--stop-loss', '100', '--stop-accuracy', '0', '--stop-accuracy-epochs', '2', '--window-steps', '6', '--k', '5', '--dir-stride', '2', '--t-dirs', '1,2',
      '--mlf-batches', '3', '--mlf-points', '5', '--out', out, '--quiet'];
    const r = cli(args, { SGDSCOPE_FAIL_STAGES: 'flatness' });
    expect(r.status, r.stdout + r.stderr).toBe(4);
    expect(r.stdout).toMatch(/stop rule met at step 8 \(epoch 1\.00\)/);
    expect(r.stdout).toMatch(/window steps 3–8 \(T = 6\)/);
    expect(r.stdout).toMatch(/FAILED stage flatness: failure injected/);
    expect(r.stdout).toMatch(/completed with 1 failed stage \(flatness;.*run the missing ones with: sgdscope reproduce feng-tu --resume .*\(exit status 4\)/);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result).toMatchObject({ status: 'completed-with-failed-stages', failedStages: ['flatness'] });
    expect(existsSync(join(out, 'checkpoint.bin'))).toBe(true);
    expect(existsSync(join(out, 'analysis-state.json'))).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.protocol).toBe('authors');
    expect(summary.stopRule).toMatchObject({ stopLoss: 100, stopAccuracy: 0, stopAccuracyEpochs: 2, epochCap: 1000, met: true });
    expect(summary.stages.flatness).toMatchObject({ status: 'failed', error: expect.stringMatching(/failure injected/) });
    expect(summary.stages.fit).toMatchObject({ status: 'skipped', error: "needs stage 'flatness', which failed" });
    for (const name of ['train', 'pca', 'pca-detrended', 'temperature', 'temperature-vs-loss', 'mlf']) expect(summary.stages[name]?.status, name).toBe('done');
    expect(summary.pca.noiseFloor.trustedUpTo).toBeGreaterThan(0);
    expect(summary.flatness).toBeNull();
    // Every file the finished stages produce is there; the failed stage's are not.
    for (const f of ['trajectory.npy', 'weights_layer1.npy', 'metrics.csv', 'pca_variance.npy', 'pca_components.npy', 'pca_variance_detrended.npy', 'temperature_vs_loss.csv', 'mlf.csv', 'spectra.csv', 'report.html']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(existsSync(join(out, 'fit_ranges.csv'))).toBe(false);
    expect(decodeNpy(readFileSync(join(out, 'trajectory.npy'))).shape).toEqual([6, 144]);
    const spectra = readFileSync(join(out, 'spectra.csv'), 'utf8').trim().split('\n');
    expect(spectra).toHaveLength(6);
    expect(spectra[1].split(',')[3]).toBe(''); // F not measured
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('failure injected');
    // numpy recomputes the PCA of trajectory.npy and agrees (scripts/check_fengtu_numpy.py).
    const py = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0);
    if (!py) throw new Error('no python3 with numpy: apt-get install python3-numpy (scripts/ensure-deps.sh does this)');
    const check = spawnSync(py, [join(ROOT, 'scripts/check_fengtu_numpy.py'), out], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/agree/);

    // --resume (the failure no longer injected): the failed stage and those that read it run, the
    // others are taken from the earlier attempt, bit for bit.
    const before = new Map(['pca_variance.npy', 'pca_components.npy', 'pca_variance_detrended.npy', 'temperature_vs_loss.csv', 'trajectory.npy'].map((f) => [f, readFileSync(join(out, f))]));
    const again = cli(['reproduce', 'feng-tu', '--resume', out]);
    expect(again.status, again.stdout + again.stderr).toBe(0);
    const STAGES = ['pca', 'pca-detrended', 'flatness', 'fit', 'temperature', 'temperature-vs-loss', 'mlf'];
    // A stage that runs logs '<stage>: <what it does>' at its start; one taken back logs only its end.
    const ran = [...again.stderr.matchAll(/^([a-z-]+): (?!done in |failed in )/gm)].map((m) => m[1]).filter((n) => STAGES.includes(n));
    expect(ran.sort()).toEqual(['fit', 'flatness', 'mlf', 'temperature']);
    expect(again.stdout).toMatch(/taken from the earlier attempt: pca, pca-detrended, temperature-vs-loss/);
    const resumed = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    for (const name of STAGES) expect(resumed.stages[name]?.status, name).toBe('done');
    for (const name of ['pca', 'pca-detrended', 'temperature-vs-loss']) expect(resumed.stages[name].resumed, name).toBe(true);
    for (const name of ['flatness', 'fit', 'temperature', 'mlf']) expect(resumed.stages[name].resumed, name).toBeUndefined();
    for (const [f, bytes] of before) expect(Buffer.compare(readFileSync(join(out, f)), bytes), `${f} changed`).toBe(0);
    expect(existsSync(join(out, 'fit_ranges.csv'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).status).toBe('completed');
    for (const f of ['checkpoint.bin', 'analysis-state.json']) expect(existsSync(join(out, f)), f).toBe(false);
    // Resuming a completed run: nothing to do.
    expect(cli(['reproduce', 'feng-tu', '--resume', out, '--quiet']).status).toBe(0);
  }, 400_000);
});

describe('the ring recorder of a stop-rule run', () => {
  const MODEL: MlpConfig = { widths: [12, 10, 10, 4], activation: 'relu', bias: false, init: { kind: 'pytorch' } };
  const train = gaussianMixture({ classes: 4, d: 12, n: 200, sep: 1.2, seed: 3 });
  const skip = { flatness: true, temperature: true, mlf: true } as const;

  it('puts the window back in time order: the same rows as a fixed-length run of that length', async () => {
    const c = ctx();
    // 10 steps per epoch; the window (23 steps) wraps the ring several times before the rule fires.
    const stopped = await runFengTu(c, MODEL, { epochs: 40, batchSize: 20, seed: 4, chunkSteps: 7, stopLoss: 0.5 }, { train, test: null }, { windowSteps: 23, k: 6, tDirs: [1, 2], skip });
    expect(stopped.run.status).toBe('target-reached');
    const N = stopped.run.steps;
    expect(N).toBeGreaterThan(46);
    expect(stopped.window).toMatchObject({ firstStep: N - 22, lastStep: N, T: 23 });
    const fixed = await runFengTu(c, MODEL, { epochs: N / 10, batchSize: 20, seed: 4, chunkSteps: 7 }, { train, test: null }, { windowSteps: 23, k: 6, skip: { ...skip, temperatureVsLoss: true } });
    assertClose(stopped.trajectory, fixed.trajectory, { atol: 0, rtol: 0, label: 'ring vs fixed window' });
    assertClose(stopped.pca!.variances, fixed.pca!.variances, { atol: 0, rtol: 1e-12, label: 'σ²' });
    // The last row is the final weights; the analysis left the trainer's parameters untouched.
    const L = paramLayout(MODEL).layers[1];
    assertClose(stopped.trajectory.subarray(22 * L.size), stopped.finalParams.subarray(L.offset, L.offset + L.size), { atol: 0, rtol: 0, label: 'last row' });
    assertClose(await stopped.trainer.mlp.readParams(), stopped.finalParams, { atol: 0, rtol: 0, label: 'trainer parameters after the analysis' });
    // T(t) ran on the checkpoints (loaded into the analysis copy): step 0, every epoch up to the
    // stop, none planned past it.
    expect(stopped.temperatureVsLoss.map((row) => row.step)).toEqual(Array.from({ length: N / 10 + 1 }, (_, i) => 10 * i));
  }, 120_000);

  it("flatAt 'final' slices the loss at the final weights, 'mean' at w*", async () => {
    const c = ctx();
    const o = { windowSteps: 30, k: 4, skip: { temperature: true, temperatureVsLoss: true, mlf: true, detrended: true } };
    const fin = await runFengTu(c, MODEL, { epochs: 5, batchSize: 20, seed: 6 }, { train, test: null }, { ...o, flatAt: 'final' });
    const mean = await runFengTu(c, MODEL, { epochs: 5, batchSize: 20, seed: 6 }, { train, test: null }, o);
    const finalLoss = fin.trainer.history.evals.at(-1)!.train.loss;
    expect(Math.abs(fin.L0! - finalLoss) / finalLoss).toBeLessThan(1e-5);
    expect(Math.abs(mean.L0! - finalLoss) / finalLoss).toBeGreaterThan(1e-4);
  }, 120_000);
});
