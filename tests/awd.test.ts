/**
 * Activity–weight duality (src/experiments/awd/):
 *  - same-class nearest-neighbour pairing against brute force, both directions;
 *  - dual weights satisfy their defining equation a·(W + ΔW*) = a'·W to float64 round-off (and
 *    to float32 precision with ΔW stored in float32), ‖ΔW*‖ = ‖Δa·W‖/‖a‖, and the training
 *    sample's loss at W + ΔW* is the test sample's loss;
 *  - the layer Hessian from the GPU HVP engine matches central differences of the float64 CPU
 *    gradient, and the projections on all its eigenvectors decompose the pairs' mean loss change
 *    exactly: Σ_n (μ_g μ_w + c σ_g σ_w) = mean Δl; likewise the first-order version.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { gaussianMixture, stratifiedSplit, subset, type Dataset } from '../src/data/index.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { paramLayout } from '../src/nn/params.ts';
import { mlpGradCpu } from '../src/nn/mlp-cpu.ts';
import { Trainer } from '../src/train/trainer.ts';
import { pairSamples } from '../src/experiments/awd/pairing.ts';
import { recordLayer } from '../src/experiments/awd/network-cpu.ts';
import { dualWeights } from '../src/experiments/awd/duality.ts';
import { AwdProbe } from '../src/experiments/awd/analyze.ts';
import { symmetricEig } from '../src/analysis/numerics/symmetric-eig.ts';
import { awdPoints, onAxis, runAwdExperiment, AWD_SCALED, type AwdExperimentSpec } from '../src/experiments/awd/run.ts';
import { awdFiles, trends } from '../src/experiments/awd/files.ts';
import { decodeNpy } from '../src/util/npy.ts';

const ctx = useGpu();

function data(): { train: Dataset; test: Dataset } {
  const all = gaussianMixture({ classes: 3, d: 10, n: 420, sep: 1.2, seed: 4 });
  const split = stratifiedSplit(all.y, all.classes, { seed: 1, testFraction: 0.3 });
  // Non-negative inputs, like pixels.
  const abs = (ds: Dataset): Dataset => ({ ...ds, x: ds.x.map(Math.abs) });
  return { train: abs(subset(all, split.train)), test: abs(subset(all, split.test)) };
}

const MODEL: MlpConfig = { widths: [10, 8, 6, 3], activation: 'relu', bias: false, init: { kind: 'pytorch' } };

let trainedOnce: Promise<Float32Array> | null = null;

/** The network every analysis test uses, trained once per file. */
function trained(d: { train: Dataset; test: Dataset }): Promise<Float32Array> {
  trainedOnce ??= (async () => {
    const t = await Trainer.create(ctx(), MODEL, { lr: 0.1, batchSize: 16, epochs: 20, seed: 2 }, d);
    const r = await t.run();
    expect(r.status).toBe('completed');
    return t.mlp.readParams();
  })();
  return trainedOnce;
}

describe('activity–weight duality', () => {
  it('pairs each sample with the nearest same-class sample of the other set (both directions)', () => {
    const d = data();
    for (const pairing of ['train-to-test', 'test-to-train'] as const) {
      const p = pairSamples(d.train, d.test, pairing);
      const [from, to] = pairing === 'train-to-test' ? [d.train, d.test] : [d.test, d.train];
      expect(p.train.length).toBe(from.n);
      for (let q = 0; q < p.train.length; q++) {
        const i = pairing === 'train-to-test' ? p.train[q] : p.test[q];
        const j = pairing === 'train-to-test' ? p.test[q] : p.train[q];
        expect(to.y[j]).toBe(from.y[i]);
        let best = Infinity;
        for (let b = 0; b < to.n; b++) {
          if (to.y[b] !== from.y[i]) continue;
          let s = 0;
          for (let t = 0; t < from.d; t++) s += (from.x[i * from.d + t] - to.x[b * to.d + t]) ** 2;
          best = Math.min(best, s);
        }
        expect(Math.abs(p.distance[q] - Math.sqrt(best))).toBeLessThan(1e-5);
      }
    }
  });

  it('dual weights satisfy a·(W + ΔW*) = a′·W, have norm ‖Δa·W‖/‖a‖, and carry the test loss', async () => {
    const d = data();
    const params = await trained(d);
    for (const layer of [0, 1, 2]) {
      const tr = recordLayer(MODEL, params, d.train, layer);
      const te = recordLayer(MODEL, params, d.test, layer);
      const pairs = pairSamples(d.train, d.test, 'train-to-test');
      const dual = dualWeights(MODEL, params, layer, tr, te, d.train.y, pairs);
      console.log(`layer ${layer}: ${dual.used.length} pairs (${dual.skipped} with a = 0), residual float64 ${dual.residual64.toExponential(2)}, float32 ΔW ${dual.residual32.toExponential(2)}, |l(W+ΔW) − l_test| ≤ ${dual.lossMismatch.toExponential(2)}`);
      expect(dual.residual64).toBeLessThan(1e-13);
      expect(dual.residual32).toBeLessThan(3e-6);
      expect(dual.lossMismatch).toBeLessThan(1e-12);
      // ‖ΔW*‖_F = ‖u‖/‖a‖ (rank one) for a few pairs.
      const L = paramLayout(MODEL).layers[layer];
      for (const m of [0, 7, dual.used.length - 1]) {
        const p = dual.used[m];
        const k = pairs.train[p];
        const t = pairs.test[p];
        let a2 = 0;
        for (let i = 0; i < L.fanIn; i++) a2 += tr.a[k * L.fanIn + i] ** 2;
        let u2 = 0;
        for (let j = 0; j < L.fanOut; j++) {
          let u = 0;
          for (let i = 0; i < L.fanIn; i++) u += (te.a[t * L.fanIn + i] - tr.a[k * L.fanIn + i]) * params[L.offset + i * L.fanOut + j];
          u2 += u * u;
        }
        expect(Math.abs(dual.dwNorm[m] - Math.sqrt(u2 / a2))).toBeLessThan(1e-12 + 1e-9 * dual.dwNorm[m]);
      }
    }
  });

  it('GPU layer Hessian = finite differences of the CPU gradient; the decomposition over all eigenvectors is exact', async () => {
    const d = data();
    const params = await trained(d);
    const layer = 1;
    const probe = await AwdProbe.create(ctx(), MODEL, d.train, layer);
    try {
      const h = await probe.hessian(params);
      // Reference: central differences of the float64 mean-loss gradient, block of layer 1.
      const L = paramLayout(MODEL).layers[layer];
      const P = L.size;
      const H = new Float64Array(P * P);
      const w = Float64Array.from(params);
      const eps = 1e-5;
      for (let i = 0; i < P; i++) {
        const w0 = w[L.offset + i];
        w[L.offset + i] = w0 + eps;
        const gp = mlpGradCpu(MODEL, w, d.train.x, d.train.y, d.train.n).grad;
        w[L.offset + i] = w0 - eps;
        const gm = mlpGradCpu(MODEL, w, d.train.x, d.train.y, d.train.n).grad;
        w[L.offset + i] = w0;
        for (let j = 0; j < P; j++) H[i * P + j] = (gp[L.offset + j] - gm[L.offset + j]) / (2 * eps);
      }
      const ref = symmetricEig(H, P, { vectors: false, symmetryTol: 1e-4 }).values;
      const top = Math.abs(ref[0]);
      const maxErr = Math.max(...Array.from(ref, (v, i) => Math.abs(v - h.values[i])));
      console.log(`layer-1 Hessian (P = ${P}): top eigenvalues GPU ${Array.from(h.values.slice(0, 4), (v) => v.toPrecision(5)).join(' ')} vs FD ${Array.from(ref.slice(0, 4), (v) => v.toPrecision(5)).join(' ')}; max |Δλ| ${maxErr.toExponential(2)} (λ1 ${top.toPrecision(4)})`);
      expect(maxErr).toBeLessThan(1e-3 * top);

      for (const pairing of ['train-to-test', 'test-to-train'] as const) {
        const a = await probe.analyze(params, d, { pairing, both: pairing === 'test-to-train', top: 5 });
        console.log(
          `${pairing}: ${a.pairs} pairs, gap measured ${a.gapMeasured.toFixed(5)}, pairs ${a.gapPairs.toFixed(5)}, decomposition ${a.gapDecomposition.toFixed(5)} (top 5: ${a.gapDecompositionTop.toFixed(5)}), ` +
            `first order ${a.gapFirstOrder.toFixed(5)} = Σ ${a.gapFirstOrderDecomposition.toFixed(5)}; factors S_g ${a.factors.sharpness.toExponential(3)} S_w ${a.factors.size.toExponential(3)}`,
        );
        expect(Math.abs(a.gapDecomposition - a.gapPairs)).toBeLessThan(1e-4 * Math.max(1e-3, Math.abs(a.gapPairs)) + 1e-6);
        expect(Math.abs(a.gapFirstOrderDecomposition - a.gapFirstOrder)).toBeLessThan(1e-4 * Math.max(1e-3, Math.abs(a.gapFirstOrder)) + 1e-6);
        if (pairing === 'test-to-train') {
          expect(a.pairs).toBe(d.test.n); // every test sample once
          expect(a.alternate?.pairing).toBe('train-to-test');
          expect(Math.abs(a.alternate!.gapDecomposition - a.alternate!.gapPairs)).toBeLessThan(1e-4 * Math.max(1e-3, Math.abs(a.alternate!.gapPairs)) + 1e-6);
        }
      }
    } finally {
      probe.destroy();
    }
  });
});

describe('reproduce awd: design, experiment, run folder', () => {
  it('builds the base-centred design without duplicates', () => {
    const spec = { ...AWD_SCALED, model: MODEL, data: { kind: 'mnist10k' } } as AwdExperimentSpec;
    const pts = awdPoints(spec);
    expect(pts.map((p) => [p.axis, p.lr, p.batchSize, p.weightDecay])).toEqual([
      ['base', 0.1, 25, 0], ['lr', 0.05, 25, 0], ['lr', 0.2, 25, 0], ['batchSize', 0.1, 50, 0], ['batchSize', 0.1, 100, 0], ['weightDecay', 0.1, 25, 0.001], ['weightDecay', 0.1, 25, 0.003],
    ]);
    expect(pts.filter((p) => onAxis(p, 'lr', spec.base)).map((p) => p.lr)).toEqual([0.1, 0.05, 0.2]);
  });

  it('trains, analyses and writes spectra.npy, runs.csv, charts and the trend verdicts', async () => {
    const d = data();
    const spec: AwdExperimentSpec = {
      model: MODEL,
      data: { kind: 'synthetic', generator: 'mixture', classes: 3, d: 10, n: 420, seed: 4 },
      base: { lr: 0.1, batchSize: 16, weightDecay: 0 },
      lrs: [0.05, 0.1],
      batchSizes: [16],
      weightDecays: [0, 0.02],
      seeds: [1],
      targetLoss: 0.2,
      maxEpochs: 6,
      weightDecayEpochs: 2,
      awd: { layer: 1, pairing: 'test-to-train', both: true, top: 5 },
    };
    const r = await runAwdExperiment(ctx(), spec, d);
    expect(r.runs).toHaveLength(3);
    for (const x of r.runs) {
      expect(x.analysis).not.toBeNull();
      const a = x.analysis!;
      expect(Math.abs(a.gapDecomposition - a.gapPairs)).toBeLessThan(1e-4 * Math.max(1e-3, Math.abs(a.gapPairs)) + 1e-6);
      console.log(`lr ${x.point.lr} wd ${x.point.weightDecay}: ${x.message}; gap ${a.gapMeasured.toFixed(4)} ≈ Σ ${a.gapDecomposition.toFixed(4)}; S_g ${a.factors.sharpness.toFixed(4)} S_w ${a.factors.size.toFixed(4)}`);
    }
    expect(r.runs[2].message).toMatch(/^phase 2:/); // weight decay for 2 epochs, then without
    const t = trends(r);
    expect(t.find((x) => x.axis === 'lr' && x.factor === 'sharpness')!.values).toHaveLength(2);
    const files = awdFiles(r, { uplotJs: '', uplotCss: '' }, { data: spec.data, adapter: { name: 'test', description: '', runtime: 'node' } });
    expect([...files.keys()].sort()).toEqual(['charts.json', 'config.json', 'pair_loss_change.npy', 'pairs.npy', 'report.html', 'result.json', 'runs.csv', 'spectra.npy']);
    const sp = decodeNpy(files.get('spectra.npy') as Uint8Array);
    expect(sp.shape).toEqual([3, 7, 48]);
    const csv = (files.get('runs.csv') as string).trim().split('\n');
    expect(csv).toHaveLength(4);
    expect(files.get('report.html')).toMatch(/Activity–weight duality/);
  });
});
