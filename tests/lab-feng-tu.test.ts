/**
 * The Feng–Tu pipeline end to end on a tiny network and a synthetic dataset (fast): every stage
 * runs, the recorder's trajectory, scatter and checkpoints agree with what they record, and the
 * run folder holds every file with the documented shapes. Plus the CLI's flag validation.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import { gaussianMixture } from '../src/data/index.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { paramLayout } from '../src/nn/params.ts';
import { runFengTu } from '../src/experiments/feng-tu/run.ts';
import { fengTuFiles } from '../src/experiments/feng-tu/files.ts';
import { scatterRef } from '../src/kernels/scatter.ref.ts';
import { decodeNpy } from '../src/util/npy.ts';
import { parseFlags, UsageError } from '../src/cli/args.ts';
import { FENG_TU_FLAGS, applyProtocolTraining, resolveFengTuOptions } from '../src/cli/reproduce.ts';

const ctx = useGpu();

const MODEL: MlpConfig = { widths: [12, 10, 10, 4], activation: 'relu', bias: false, init: { kind: 'pytorch' } };

describe('runFengTu on a tiny network', () => {
  it('runs every stage and writes a consistent run folder', async () => {
    const c = ctx();
    const train = gaussianMixture({ classes: 4, d: 12, n: 400, sep: 1.2, seed: 3 });
    const epochs = 6;
    const r = await runFengTu(c, MODEL, { epochs, batchSize: 20, lr: 0.1, seed: 2, chunkSteps: 37 }, { train, test: null }, {
      windowEpochs: 3,
      k: 8,
      tDirs: [1, 2, 5],
      mlfDirs: [2],
      mlfBatches: 5,
      mlfPoints: 9,
    });
    const spe = 20;
    expect(r.stepsPerEpoch).toBe(spe);
    expect(r.window).toEqual({ firstStep: 61, lastStep: 120, T: 60, epochs: 3 });
    const L = paramLayout(MODEL).layers[1];
    expect(r.P).toBe(100);
    // The last recorded row is the final weights of the layer.
    assertClose(r.trajectory.subarray(59 * 100, 60 * 100), r.finalParams.subarray(L.offset, L.offset + 100), { atol: 0, rtol: 0, label: 'last row = final' });
    // The precise scatter's trace = the two-pass float64 scatter's of the recorded window.
    const ref = scatterRef(r.trajectory, 60, 100);
    let trace = 0;
    for (let i = 0; i < 100; i++) trace += ref.scatter[i * 101];
    expect(Math.abs(r.pca!.total * 59 - trace) / trace).toBeLessThan(1e-12);
    for (let p = 0; p < 100; p++) expect(Math.abs(r.wStar[p] - ref.mean[p])).toBeLessThan(1e-6);
    // Stages.
    expect(r.pca!.variances.length).toBe(8);
    expect(r.pcaDetrended).not.toBeNull();
    expect(r.summary!.all.d90).not.toBeNull();
    for (const name of ['pca', 'pca-detrended', 'flatness', 'fit', 'temperature', 'temperature-vs-loss', 'mlf'] as const) expect(r.stages[name]?.status, name).toBe('done');
    expect(r.flatness!.directions.length).toBe(8);
    expect(r.temperatures!.T.length).toBe(8);
    expect(r.temperatureVsLoss.length).toBe(epochs + 1);
    expect(r.temperatureVsLoss[0].step).toBe(0);
    expect(r.temperatureVsLoss.at(-1)!.step).toBe(120);
    expect(r.mlf[0].mini.length).toBe(5);
    for (const name of ['train', 'pca', 'pca-detrended', 'flatness', 'temperature', 'temperature-vs-loss', 'mlf']) expect(r.timings[name]).toBeGreaterThan(0);
    // Every stage ran on the analysis copy of the model: the trainer still holds the final weights.
    assertClose(await r.trainer.mlp.readParams(), r.finalParams, { atol: 0, rtol: 0, label: "trainer's parameters after every stage" });

    const files = fengTuFiles(r, { uplotJs: '/*uplot*/', uplotCss: '/*css*/' }, { data: 'synthetic' });
    const npy = (name: string) => decodeNpy(files.get(name) as Uint8Array);
    expect(npy('trajectory.npy').shape).toEqual([60, 100]);
    expect(npy('pca_components.npy').shape).toEqual([8, 100]);
    expect(npy('pca_variance.npy').shape).toEqual([8]);
    expect(npy('weights_layer1.npy').shape).toEqual([10, 10]);
    const spectra = (files.get('spectra.csv') as string).trim().split('\n');
    expect(spectra[0]).toBe('i,sigma2,trusted,F,theta_l,theta_r,T,cumulative,sigma2_detrended');
    expect(spectra.length).toBe(9);
    const summary = JSON.parse(files.get('summary.json') as string);
    expect(summary.D.all.d99).not.toBeUndefined();
    expect(summary.timingsSeconds.flatness).toBeGreaterThan(0);
    expect((files.get('temperature_vs_loss.csv') as string).split('\n')[0]).toBe('step,epoch,loss,T_pc1,T_pc2,T_pc5');
    expect((files.get('mlf.csv') as string).trim().split('\n').length).toBe(10);
    const html = files.get('report.html') as string;
    expect(html).toContain('/*uplot*/');
    expect(html).toContain('const DATA = ');
  });

  it('the trajectory route gives the same spectrum as the covariance route', async () => {
    const c = ctx();
    const train = gaussianMixture({ classes: 4, d: 12, n: 200, sep: 1.2, seed: 4 });
    const common = { windowSteps: 40, k: 6, skip: { flatness: true, temperature: true, temperatureVsLoss: true, mlf: true } } as const;
    const a = await runFengTu(c, MODEL, { epochs: 4, batchSize: 20, seed: 5 }, { train, test: null }, { ...common, route: 'covariance' });
    const b = await runFengTu(c, MODEL, { epochs: 4, batchSize: 20, seed: 5 }, { train, test: null }, { ...common, route: 'trajectory' });
    assertClose(b.trajectory, a.trajectory, { atol: 0, rtol: 0, label: 'same training' });
    assertClose(b.pca!.variances, a.pca!.variances, { atol: 0, rtol: 1e-3, label: 'σ² routes' });
    assertClose(b.pcaDetrended!.variances, a.pcaDetrended!.variances, { atol: 0, rtol: 1e-3, label: 'detrended σ² routes' });
  });

  it('refuses a window longer than the run and a k beyond the window', async () => {
    const c = ctx();
    const train = gaussianMixture({ classes: 4, d: 12, n: 200, sep: 1.2, seed: 4 });
    await expect(runFengTu(c, MODEL, { epochs: 2, batchSize: 20 }, { train, test: null }, { windowEpochs: 3 })).rejects.toThrow(/window must be between 3 and the 20/);
    await expect(runFengTu(c, MODEL, { epochs: 2, batchSize: 20 }, { train, test: null }, { windowSteps: 10, k: 12 })).rejects.toThrow(/k must be an integer in \[2, min/);
  });
});

describe('sgdscope reproduce feng-tu flags', () => {
  const parse = (argv: string[]) => resolveFengTuOptions(parseFlags(argv, FENG_TU_FLAGS, 'sgdscope reproduce feng-tu').flags);
  it('maps flags to options', () => {
    const o = parse(['--k', '100', '--flat-k', 'e', '--dir-stride', '10', '--eig', 'dense', '--t-dirs', '1,3', '--window-epochs', '5']);
    expect(o).toMatchObject({ k: 100, flatK: Math.E, dirStride: 10, eig: 'dense', tDirs: [1, 3], windowEpochs: 5 });
  });
  it('--protocol authors sets their analysis, and their stop rule unless given', () => {
    expect(parse(['--protocol', 'authors'])).toMatchObject({ windowSteps: 12000, k: 1000, flatK: Math.E, dirStride: 10, flatThetaMax: 1000, flatAt: 'final' });
    expect(parse(['--protocol', 'authors', '--window-epochs', '20', '--k', '300'])).toMatchObject({ windowEpochs: 20, k: 300 });
    expect(parse(['--protocol', 'authors', '--window-epochs', '20']).windowSteps).toBeUndefined();
    const flags = parseFlags(['--protocol', 'authors'], FENG_TU_FLAGS, 'x').flags;
    applyProtocolTraining(flags);
    expect(flags).toMatchObject({ epochs: 1000, 'stop-loss': 5e-5, 'stop-accuracy': 0.99, 'stop-accuracy-epochs': 9 });
    const mine = parseFlags(['--protocol', 'authors', '--stop-loss', '1e-3', '--epochs', '50'], FENG_TU_FLAGS, 'x').flags;
    applyProtocolTraining(mine);
    expect(mine).toMatchObject({ epochs: 50, 'stop-loss': 1e-3 });
    expect(mine['stop-accuracy']).toBeUndefined();
    expect(() => parse(['--protocol', 'theirs'])).toThrow(/--protocol must be one of sgdscope, authors/);
  });
  it('rejects bad values with the flag named', () => {
    expect(() => parse(['--flat-k', '1'])).toThrow(/--flat-k must be a number in \(1, 1e6\] or 'e'/);
    expect(() => parse(['--eig', 'qr'])).toThrow(UsageError);
    expect(() => parse(['--t-dirs', '0,2'])).toThrow(/--t-dirs takes 1-based PC indices/);
    expect(() => parse(['--k', '1'])).toThrow(/--k must be in \[2, 100000\]/);
    expect(() => parse(['--momentum', '0.9'])).toThrow(/unknown flag --momentum/);
  });
});
