/**
 * The dashboard's curvature-and-generalisation experiments (issue 6), without a browser:
 *  - the forms: defaults valid, bad values refused with the field and the allowed range, ranges
 *    narrowed by the model and the data, cross-field rules (lr·λ_max < 2, B ≤ train-size);
 *  - charts.json of a run folder parsed back (and malformed files refused by name);
 *  - how a sweep run ended: slow-to-start runs are not "collapsed";
 *  - each experiment run end to end at tiny sizes on the GPU through the same runner the worker
 *    uses, against an independent computation where one exists (the Hessian's λ1 against a
 *    float64 power iteration on the CPU Hessian–vector product).
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { loadDataset, gaussianMixture, stratifiedSplit, subset, type Dataset } from '../src/data/index.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { initParams } from '../src/nn/init.ts';
import { Rng } from '../src/util/rng.ts';
import { mlpHvpCpu } from '../src/nn/hvp-cpu.ts';
import { paramLayout } from '../src/nn/params.ts';
import { classifyRun } from '../src/experiments/sweep/run.ts';
import { phaseDiagram, phaseHeatmap } from '../src/experiments/sweep/charts.ts';
import { defaultValues, EXPERIMENT_KINDS, validateExperiment, parseExperimentField, type ExperimentRequest } from '../src/experiments/dashboard-settings.ts';
import { runExperiment, type ExperimentEnv, type NetworkState } from '../src/experiments/dashboard-runner.ts';
import { parseChartsJson } from '../src/ui/experiment-panels.ts';

const ctx = useGpu();
const SEED_CTX = { layers: 3, trainN: 8000 };

describe('experiment forms', () => {
  it('accepts every default for the seed network on MNIST-10k', () => {
    for (const kind of EXPERIMENT_KINDS) expect(validateExperiment({ kind, values: defaultValues(kind) }, SEED_CTX)).toEqual({});
  });

  it('refuses bad values naming the field and the allowed range', () => {
    const bad = (kind: ExperimentRequest['kind'], key: string, raw: string, ctx = SEED_CTX): string => {
      try {
        parseExperimentField(kind, key, raw, ctx);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error(`${kind}.${key} = '${raw}' was accepted`);
    };
    expect(bad('sweep', 'lrs', '0.1,0')).toBe('sweep.lrs must be a list (at most 10) of numbers, each in (0, 10], got 0');
    expect(bad('sweep', 'batches', '25,2.5')).toMatch(/^sweep\.batches must be a list .* of integers, each in \[1, 10000000\], got 2\.5$/);
    expect(bad('sweep', 'lrs', '0.1,0.1')).toMatch(/got a repeated value/);
    expect(bad('sweep', 'lrs', '')).toMatch(/got nothing/);
    expect(bad('toy', 'delta', '0.1 0.2')).toMatch(/^toy\.delta must be a number in \(0, 1\], got '0\.1 0\.2'$/);
    // The layer range follows the model: a 784-50-10 network has weight layers 0 and 1.
    expect(bad('hessian', 'layers', '2', { layers: 2, trainN: 8000 })).toBe('hessian.layers must be a list (at most 8) of integers, each in [0, 1], got 2');
    expect(bad('hessian', 'samples', '9000')).toBe('hessian.samples must be an integer in [50, 8000], got 9000');
    expect(parseExperimentField('sweep', 'lrs', ' 0.2, 0.05 ', SEED_CTX)).toEqual([0.05, 0.2]);
  });

  it('applies the cross-field rules', () => {
    const toy = { kind: 'toy' as const, values: { ...defaultValues('toy'), lr: 0.3, 'lam-max': 8 } };
    expect(validateExperiment(toy, SEED_CTX).lr).toBe('toy.lr must be below 2/λ_max = 0.250 (the sharp end of the valley is unstable otherwise), got 0.3');
    const sweep = { kind: 'sweep' as const, values: { ...defaultValues('sweep'), batches: [50, 2000], 'train-size': 1000 } };
    expect(validateExperiment(sweep, SEED_CTX).batches).toBe('sweep.batches must each be at most train-size = 1000, got 2000');
    expect(validateExperiment({ kind: 'awd', values: { ...defaultValues('awd'), extra: 1 } }, SEED_CTX).extra).toMatch(/unknown field 'extra'/);
    const big = { kind: 'sweep' as const, values: { ...defaultValues('sweep'), lrs: [0.1, 0.2, 0.4, 0.8], batches: [25, 50], dropouts: [0, 0.1, 0.2], seeds: [1, 2, 3] } };
    expect(validateExperiment(big, SEED_CTX).lrs).toMatch(/^sweep: the grid has 72 runs .*; at most 64 here/);
    const bi = { kind: 'batch-increase' as const, values: { ...defaultValues('batch-increase'), milestones: [2, 6] } };
    expect(validateExperiment(bi, SEED_CTX).milestones).toBe('batch-increase.milestones must be strictly increasing integers in [1, epochs − 1 = 5], got 2,6');
    const whole = { kind: 'batch-increase' as const, values: { ...defaultValues('batch-increase'), factor: 1.5 } };
    expect(validateExperiment(whole, SEED_CTX).factor).toMatch(/^batch-increase\.factor: B₀·factor\^1 = 25·1\.5\^1 = 37\.5 is not a whole batch/);
  });
});

describe('charts.json of a run folder', () => {
  it('reads charts and heat maps back, and names the file and entry of a broken one', () => {
    const runs = [0.1, 1].flatMap((lr) => [25, 50].map((B) => ({ point: { lr, batchSize: B, weightDecay: 0, dropout: 0, seed: 1 }, outcome: lr === 1 && B === 25 ? 'collapsed' : 'trained', testAccuracy: 0.9, noiseScale: lr, divergedStep: null, spikeStep: 3 })));
    const heat = phaseHeatmap(phaseDiagram(runs as never));
    expect(heat.z).toEqual([[0.9, null], [0.9, 0.9]]);
    const chart = { id: 'c', title: 't', xLabel: 'x', yLabel: 'y', xLog: false, yLog: true, x: [1, 2], series: [{ label: 's', style: 'line', y: [1, null] }] };
    const back = parseChartsJson(JSON.stringify([chart, heat]), 'charts.json');
    expect(back.charts).toEqual([chart]);
    expect(back.heatmaps[0].id).toBe('phase-heatmap');
    expect(() => parseChartsJson('{"a":1}', 'x.json')).toThrow('x.json: expected a list of charts');
    expect(() => parseChartsJson('[{"id":"c","x":[1,2],"series":[{"y":[1]}]}]', 'y.json')).toThrow('y.json[0] (c): each series needs a y column as long as x');
    expect(() => parseChartsJson('nope', 'z.json')).toThrow(/^z\.json: not JSON/);
  });
});

describe('how a sweep run ended', () => {
  it('is collapsed only near the untrained loss at chance accuracy or after a loss spike', () => {
    // Slow to leave the plateau (lr 0.05, B 100, 3 epochs): loss near ln 10, no spike, above chance.
    const slow = Array.from({ length: 60 }, () => 2.25);
    expect(classifyRun(false, { loss: 2.2, accuracy: 0.27 }, slow, 10)).toEqual({ outcome: 'trained', spikeStep: null });
    expect(classifyRun(false, { loss: 2.1, accuracy: 0.19 }, slow, 10)).toEqual({ outcome: 'trained', spikeStep: null });
    // lr 0.8, B 20 of the CLI's default sweep: a spike at step 32, then 2.094 at 19% accuracy.
    expect(classifyRun(false, { loss: 2.094, accuracy: 0.192 }, [2.3, ...Array(30).fill(1.5), 5.1, 2.2], 10)).toEqual({ outcome: 'collapsed', spikeStep: 32 });
    // lr 1.6, B 100: a spike, but it recovered to 1.61 (31%): damaged, not collapsed.
    expect(classifyRun(false, { loss: 1.61, accuracy: 0.31 }, [2.3, 9, 1.6], 10)).toEqual({ outcome: 'trained', spikeStep: 2 });
    // Past the edge (lr 1.6): a burst to 3.9 (below 2 ln C), then ln C at 10%.
    expect(classifyRun(false, { loss: 2.302582, accuracy: 0.1 }, [2.3, 2.05, 3.86, 2.3026], 10)).toEqual({ outcome: 'collapsed', spikeStep: null });
    expect(classifyRun(false, { loss: 2.3, accuracy: 0.12 }, [2.3, 0.8, 9, 2.3], 10)).toEqual({ outcome: 'collapsed', spikeStep: 3 });
    expect(classifyRun(false, { loss: 0.3, accuracy: 0.9 }, [2.3, 9, 0.3], 10)).toEqual({ outcome: 'trained', spikeStep: 2 });
    expect(classifyRun(true, null, [2.3, NaN], 10)).toEqual({ outcome: 'diverged', spikeStep: 2 });
  });
});

describe('the experiments end to end (tiny)', () => {
  const MODEL: MlpConfig = { widths: [8, 6, 5, 4], activation: 'relu', bias: false, init: { kind: 'pytorch' } };
  const all = gaussianMixture({ classes: 4, d: 8, n: 400, sep: 2.5, seed: 3 });
  const split = stratifiedSplit(all.y, all.classes, { seed: 0, testFraction: 0.25 });
  const train: Dataset = subset(all, split.train, 'mix/train');
  const test: Dataset = subset(all, split.test, 'mix/test');
  const params = initParams(MODEL, new Rng(4));
  const progress: string[] = [];
  const env = (): ExperimentEnv => ({
    ctx: ctx(),
    model: MODEL,
    train: { lr: 0.1, batchSize: 20, seed: 1 },
    progress: (t) => progress.push(t),
    network: async (): Promise<NetworkState> => ({ model: MODEL, params, step: 0, train, data: { kind: 'synthetic', generator: 'mixture' } as never }),
    data: async (n) => ({ train: subset(train, Array.from({ length: Math.min(n, train.n) }, (_, i) => i)), test, spec: { kind: 'synthetic' } as never }),
  });

  it('hessian: λ1 of the block equals a float64 power iteration on the CPU Hessian', async () => {
    const values = { ...defaultValues('hessian'), layers: [1], k: 3, samples: 300, probes: 2, steps: 10 };
    const r = await runExperiment({ kind: 'hessian', values }, env());
    // CPU: H restricted to layer 1 (6×5 = 30 weights), by power iteration with exact float64 HVPs.
    const lay = paramLayout(MODEL).layers[1];
    let v = Float64Array.from({ length: lay.size }, () => 1 / Math.sqrt(lay.size));
    let lam = 0;
    const x64 = Float64Array.from(train.x);
    for (let it = 0; it < 500; it++) {
      const flat = new Float64Array(paramLayout(MODEL).total);
      flat.set(v, lay.offset);
      const hv = mlpHvpCpu(MODEL, params, x64, train.y, train.n, flat, [1]).hv.subarray(lay.offset, lay.offset + lay.size);
      lam = v.reduce((s, vi, i) => s + vi * hv[i], 0); // Rayleigh quotient (|v| = 1)
      const nrm = Math.hypot(...hv);
      v = Float64Array.from(hv, (h) => h / nrm);
    }
    expect(r.outcome.numbers.lambda1!).toBeCloseTo(lam, 4);
    expect(r.outcome.charts.map((c) => c.id)).toEqual(expect.arrayContaining(['top', 'density', 'eig', 'diag']));
    expect(r.outcome.summary[0]).toMatch(/block of layers 1 \(30 parameters\)/);
    expect(progress.some((t) => t.startsWith('lanczos'))).toBe(true);
  });

  it('hessian: without a run, says what to do', async () => {
    const e = { ...env(), network: async (): Promise<NetworkState> => { throw new Error('start a run first'); } };
    await expect(runExperiment({ kind: 'hessian', values: defaultValues('hessian') }, e)).rejects.toThrow('start a run first');
  });

  it('sweep: one run per grid point, the phase heat map and the CLI run folder', async () => {
    const values = { ...defaultValues('sweep'), lrs: [0.05, 0.2], batches: [20], epochs: 2, 'train-size': 200, 'sharpness-k': 1 };
    const r = await runExperiment({ kind: 'sweep', values }, env());
    expect(Object.keys(r.outcome.numbers)).toEqual(['test@lr=0.05,B=20,seed=1', 'test@lr=0.2,B=20,seed=1']);
    for (const v of Object.values(r.outcome.numbers)) expect(v).toBeGreaterThan(0.25);
    expect(r.outcome.heatmaps[0].z).toHaveLength(1);
    const files = r.files({ uplotJs: '', uplotCss: '' }, { name: 'test', description: '', runtime: 'node' });
    expect([...files.keys()]).toEqual(expect.arrayContaining(['charts.json', 'report.html']));
  });

  it('awd: the duality analysis of each run and the trends summary', async () => {
    const values = { lrs: [0.1], batches: [25], 'weight-decays': [0], 'train-size': 200, 'max-epochs': 3 };
    const e = { ...env(), data: async () => ({ train: subset(train, Array.from({ length: 200 }, (_, i) => i)), test, spec: { kind: 'synthetic' } as never }) };
    const r = await runExperiment({ kind: 'awd', values }, e);
    expect(r.outcome.summary[0]).toMatch(/^1 runs of 8-30-30-4 on 200 train/);
    expect(r.outcome.numbers['sharpness@lr=0.1,B=25,wd=0']).toBeGreaterThan(0);
    expect(r.outcome.charts.length).toBeGreaterThan(2);
  });

  it('toy: walkers drift toward the flat end as the adiabatic theory predicts', async () => {
    const values = { ...defaultValues('toy'), walkers: 1024, steps: 3000 };
    const r = await runExperiment({ kind: 'toy', values }, env());
    const { meanX, meanXPredicted } = r.outcome.numbers as Record<string, number>;
    expect(meanX).toBeLessThan(0.35); // 0.5 would be no preference for the flat end
    expect(Math.abs(meanX - meanXPredicted)).toBeLessThan(0.04);
    expect(r.outcome.charts.map((c) => c.id)).toEqual(expect.arrayContaining(['density-constant', 'drift', 'escape']));
  });
});

describe('the default data', () => {
  it('the dashboard sweep loads the stratified MNIST-10k subsample it asks for', async () => {
    const l = await loadDataset({ kind: 'mnist10k', trainSize: 1000 });
    expect(l.train.n).toBe(1000);
    expect(l.test.n).toBe(2000);
  });
});
