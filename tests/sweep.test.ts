/**
 * The sweep runner (src/experiments/sweep/) and `sgdscope sweep`:
 *  - grid expansion, validation naming the axis and value, the noise scale g = lr(N/B − 1);
 *  - chart functions on hand-made run records (2/lr reference, one series per B, the divergence
 *    boundary of the phase diagram);
 *  - a real sweep on a tiny synthetic problem: a run at a huge lr reports "diverged at step N";
 *    the converged runs' top Hessian eigenvalue equals that of a float64 finite-difference Hessian
 *    and ‖w‖ the norm of their weights; two runs at a time give the same numbers as one at a time;
 *  - the CLI writes its run folder (CSV, npy, JSON, report.html) and rejects bad grids.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from './helpers/gpu.ts';
import { gaussianMixture, stratifiedSplit, subset } from '../src/data/index.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { mlpGradCpu } from '../src/nn/mlp-cpu.ts';
import { paramLayout } from '../src/nn/params.ts';
import { initParams } from '../src/nn/init.ts';
import { Rng } from '../src/util/rng.ts';
import { symmetricEig } from '../src/analysis/numerics/symmetric-eig.ts';
import { decodeNpy } from '../src/util/npy.ts';
import { DEFAULT_SHARPNESS, expandGrid, noiseScale, validateSweepSpec, type SweepSpec } from '../src/experiments/sweep/grid.ts';
import { runSweep, type SweepRun } from '../src/experiments/sweep/run.ts';
import { accuracyVsNoiseScale, phaseDiagram, sharpnessVsLr } from '../src/experiments/sweep/charts.ts';
import { SharpnessProbe } from '../src/experiments/sweep/sharpness.ts';
import { uploadDataset } from '../src/train/gpu-dataset.ts';

const ctx = useGpu();
const ROOT = join(import.meta.dirname, '..');

const MODEL: MlpConfig = { widths: [8, 6, 4], activation: 'relu', bias: true, init: { kind: 'pytorch' } };

function data() {
  const all = gaussianMixture({ classes: 4, d: 8, n: 300, sep: 2, seed: 5 });
  const s = stratifiedSplit(all.y, all.classes, { seed: 0, testFraction: 0.2 });
  return { train: subset(all, s.train), test: subset(all, s.test) };
}

function spec(over: Partial<SweepSpec> = {}): SweepSpec {
  return {
    model: MODEL,
    train: { epochs: 6, chunkSteps: 50 },
    data: { kind: 'synthetic', generator: 'mixture', classes: 4, d: 8, n: 300, seed: 5 },
    grid: { lr: [0.1, 60], batchSize: [10, 40], weightDecay: [0], dropout: [0], seed: [1] },
    sharpness: { ...DEFAULT_SHARPNESS, k: 3, samples: null, residualTol: 1e-6, maxIter: 60 },
    concurrency: 1,
    ...over,
  };
}

function fakeRun(lr: number, B: number, o: Partial<SweepRun> = {}): SweepRun {
  return {
    point: { index: 0, lr, batchSize: B, weightDecay: 0, dropout: 0, seed: 1 },
    status: 'completed', outcome: 'trained', message: '', divergedStep: null, spikeStep: null, steps: 10, epochs: 1, seconds: 1, stepsPerSecond: 10,
    trainLoss: 0.1, trainAccuracy: 0.99, testLoss: 0.2, testAccuracy: 0.9, gapLoss: 0.1, gapAccuracy: 0.09,
    weightNorm: 5, layerNorms: [3, 4], noiseScale: noiseScale(lr, 1000, B), sharpness: [10 / lr, 5 / lr], sharpnessRelResiduals: [0, 0],
    sharpnessConverged: true, sharpnessSeconds: 0, evals: [], ...o,
  };
}

describe('sweep grid and charts', () => {
  it('expands the grid, validates axes and computes g', () => {
    const pts = expandGrid({ lr: [0.1, 0.2], batchSize: [10, 20, 30], weightDecay: [0], dropout: [0, 0.5], seed: [1, 2] });
    expect(pts).toHaveLength(24);
    expect(pts[0]).toEqual({ index: 0, lr: 0.1, batchSize: 10, weightDecay: 0, dropout: 0, seed: 1 });
    expect(pts[23]).toMatchObject({ lr: 0.2, batchSize: 30, dropout: 0.5, seed: 2 });
    expect(() => validateSweepSpec(spec({ grid: { ...spec().grid, lr: [0.1, -1] } }))).toThrow(/sweep\.grid\.lr\.lr must be \(0, 100\], got -1/);
    expect(() => validateSweepSpec(spec({ grid: { ...spec().grid, dropout: [0.99] } }))).toThrow(/sweep\.grid\.dropout\.dropout/);
    expect(() => validateSweepSpec(spec({ grid: { ...spec().grid, batchSize: [] } }))).toThrow(/non-empty/);
    expect(() => validateSweepSpec(spec({ grid: { ...spec().grid, batchSize: [500] } }), 240)).toThrow(/batchSize must be in \[1, 240\]/);
    expect(noiseScale(0.1, 1000, 50)).toBeCloseTo(1.9, 12);
    expect(noiseScale(0.1, 1000, 50, 0.9)).toBeCloseTo(19, 10);
  });

  it('builds chart-ready columns: sharpness vs lr with 2/lr, accuracy vs g per B, the divergence boundary', () => {
    const runs = [
      fakeRun(0.1, 10), fakeRun(0.2, 10), fakeRun(0.4, 10, { status: 'diverged', outcome: 'diverged', divergedStep: 7, spikeStep: 7, sharpness: null }),
      fakeRun(0.1, 50), fakeRun(0.2, 50), fakeRun(0.4, 50), fakeRun(0.8, 50, { outcome: 'collapsed', spikeStep: 12, sharpness: null, testAccuracy: 0.1 }),
    ];
    const s = sharpnessVsLr(runs, { batchSize: 10 });
    expect(s.x).toEqual([0.1, 0.2, 0.4]);
    expect(s.note).toMatch(/Diverged or collapsed at lr 0\.4/);
    expect(s.series.map((q) => q.label)).toEqual(['λ1', 'λ2', '2/lr (GD stability edge)']);
    expect(s.series[0].y).toEqual([100, 50, null]);
    expect(s.series[2].y).toEqual([20, 10, 5]);
    const a = accuracyVsNoiseScale(runs);
    expect(a.series.map((q) => q.label)).toEqual(['B 10', 'B 50']);
    expect(a.x).toHaveLength(5); // g of 5 converged runs, all distinct
    const p = phaseDiagram(runs);
    expect(p.boundary).toEqual([
      { batchSize: 10, maxStableLr: 0.2, minDivergedLr: 0.4 },
      { batchSize: 50, maxStableLr: 0.4, minDivergedLr: 0.8 },
    ]);
    expect(p.cells[0][2]).toMatchObject({ diverged: 1, collapsed: 0, divergedStep: 7 });
    expect(p.cells[1][3]).toMatchObject({ diverged: 0, collapsed: 1, spikeStep: 12 });
    expect(p.cells[0][3]).toBeNull(); // no run at (0.8, B 10)
  });
});

describe('sweep runs', () => {
  it('reports divergence, sharpness = finite-difference Hessian, ‖w‖; concurrency does not change the numbers', async () => {
    const d = data();
    const s1 = validateSweepSpec(spec(), d.train.n);
    const r1 = await runSweep(ctx(), s1, d);
    const r2 = await runSweep(ctx(), { ...s1, concurrency: 2 }, d);
    expect(r1.runs).toHaveLength(4);
    for (const r of r1.runs) console.log(`lr ${r.point.lr} B ${r.point.batchSize}: ${r.message}; test ${r.testAccuracy}; λ ${r.sharpness?.map((v) => v.toPrecision(5)).join(' ')}; ‖w‖ ${r.weightNorm.toFixed(4)}`);
    const diverged = r1.runs.filter((r) => r.point.lr === 60);
    for (const r of diverged) {
      expect(r.status).toBe('diverged');
      expect(r.outcome).toBe('diverged');
      expect(r.message).toMatch(/^diverged at step \d+/);
      expect(r.divergedStep).toBe(r.steps);
      expect(r.sharpness).toBeNull();
    }
    const ok = r1.runs.filter((r) => r.point.lr === 0.1);
    for (const r of ok) {
      expect(r.status).toBe('completed');
      expect(r.testAccuracy).toBeGreaterThan(0.5);
      expect(r.sharpnessConverged).toBe(true);
    }
    // Same numbers with two runs at a time.
    r1.runs.forEach((r, i) => {
      expect(r2.runs[i].status).toBe(r.status);
      expect(r2.runs[i].weightNorm).toBe(r.weightNorm);
      expect(r2.runs[i].testAccuracy).toBe(r.testAccuracy);
      if (r.sharpness) r.sharpness.forEach((v, j) => expect(Math.abs(r2.runs[i].sharpness![j] - v)).toBeLessThan(1e-4 * Math.abs(v)));
    });
    console.log(`sequential ${r1.seconds.toFixed(1)} s, two at a time ${r2.seconds.toFixed(1)} s`);
  });

  it('the sharpness probe equals the top eigenvalues of a float64 finite-difference Hessian (whole network)', async () => {
    const d = data();
    const params = initParams(MODEL, new Rng(3));
    const classes = 4;
    const hess = uploadDataset(ctx(), 'test.hess', d.train.x, d.train.y, d.train.d, classes);
    const probe = await SharpnessProbe.create(ctx(), MODEL, hess, null);
    try {
      const r = await probe.measure(params, { k: 3, residualTol: 1e-6, maxIter: 60 });
      const layout = paramLayout(MODEL);
      const real: number[] = [];
      for (const L of layout.layers) for (let i = L.offset; i < L.offset + L.size; i++) real.push(i);
      const n = real.length;
      const H = new Float64Array(n * n);
      const w = Float64Array.from(params);
      const eps = 1e-5;
      real.forEach((pi, a) => {
        const w0 = w[pi];
        w[pi] = w0 + eps;
        const gp = mlpGradCpu(MODEL, w, d.train.x, d.train.y, d.train.n).grad;
        w[pi] = w0 - eps;
        const gm = mlpGradCpu(MODEL, w, d.train.x, d.train.y, d.train.n).grad;
        w[pi] = w0;
        real.forEach((pj, b) => (H[a * n + b] = (gp[pj] - gm[pj]) / (2 * eps)));
      });
      const ref = symmetricEig(H, n, { vectors: false, symmetryTol: 1e-4 }).values;
      console.log(`whole-network Hessian (P = ${n}): GPU Lanczos ${r.values.map((v) => v.toPrecision(6)).join(' ')} vs FD ${Array.from(ref.slice(0, 3), (v) => v.toPrecision(6)).join(' ')}; ${r.iterations} iterations, ${r.seconds.toFixed(2)} s`);
      r.values.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-3 * Math.abs(ref[0])));
      // A second measurement on the same probe (the sweep reuses it) gives the same spectrum.
      const again = await probe.measure(params, { k: 3, residualTol: 1e-6, maxIter: 60 });
      again.values.forEach((v, i) => expect(Math.abs(v - r.values[i])).toBeLessThan(1e-5 * Math.abs(r.values[0])));
    } finally {
      probe.destroy();
      hess.x.destroy();
      hess.y.destroy();
    }
  });
});

describe('sgdscope sweep', () => {
  function sgdscope(args: string[]): { code: number; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  it('writes runs.csv, sharpness.npy, curves.csv, charts.json, result.json and report.html', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgdscope-sweep-'));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ model: MODEL, data: { kind: 'synthetic', generator: 'mixture', classes: 4, d: 8, n: 300, seed: 5 } }));
    const out = join(dir, 'run');
    const r = sgdscope(['sweep', '--config', config, '--lr', '0.1,0.3', '--batch', '20', '--epochs', '3', '--sharpness-k', '2', '--sharpness-samples', '0', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 runs \(0 diverged, 0 collapsed\)/);
    expect(readdirSync(out).sort()).toEqual(['charts.json', 'config.json', 'curves.csv', 'report.html', 'result.json', 'runs', 'runs.csv', 'sharpness.npy']);
    const csv = readFileSync(join(out, 'runs.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    // Each run's own folder (as a queue worker writes it): its weights give its ‖w‖.
    expect(readdirSync(join(out, 'runs'))).toEqual(['0000', '0001']);
    const run1 = join(out, 'runs', '0001');
    expect(readdirSync(run1).sort()).toEqual(['bias_layer0.npy', 'bias_layer1.npy', 'config.json', 'metrics.csv', 'record.json', 'result.json', 'test_indices.npy', 'train_indices.npy', 'unit.json', 'weights_layer0.npy', 'weights_layer1.npy']);
    let sq = 0;
    for (const f of readdirSync(run1).filter((f) => /^(weights|bias)_layer/.test(f))) for (const v of decodeNpy(new Uint8Array(readFileSync(join(run1, f)))).data) sq += v * v;
    const cols = csv[0].split(',');
    expect(Math.sqrt(sq)).toBeCloseTo(Number(csv[2].split(',')[cols.indexOf('weight_norm')]), 10);
    expect(csv[0]).toMatch(/^run,lr,batch_size,weight_decay,dropout,seed,status,outcome,diverged_step,spike_step,.*,lambda_1,lambda_2,sharpness_converged,sharpness_seconds$/);
    // A copy: decodeNpy misreads a Node Buffer from the shared pool (Buffer.slice is a view).
    const sh = decodeNpy(new Uint8Array(readFileSync(join(out, 'sharpness.npy'))));
    expect(sh.shape).toEqual([2, 2]);
    expect(Array.from(sh.data).every((v) => v > 0)).toBe(true);
    const charts = JSON.parse(readFileSync(join(out, 'charts.json'), 'utf8'));
    expect(charts.map((c: { id: string }) => c.id)).toContain('sharpness-vs-lr-b20');
    expect(charts.at(-1)).toMatchObject({ id: 'phase-heatmap', x: [0.1, 0.3], y: [20] });
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/phase diagram/);
  }, 240_000);

  it('rejects bad grids naming the axis', () => {
    const r = sgdscope(['sweep', '--dropout', '0.99', '--out', join(mkdtempSync(join(tmpdir(), 'sgdscope-sweep-')), 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sweep\.grid\.dropout/);
    const g = sgdscope(['sweep', '--grid', '/nonexistent.json']);
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/--grid \/nonexistent\.json: cannot read/);
  });
});
