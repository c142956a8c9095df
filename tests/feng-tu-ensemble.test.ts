/**
 * Feng–Tu over seeds trained as one ensemble (src/experiments/feng-tu/ensemble.ts): each seed's
 * record and files equal those of the seed run alone (runFengTuSeed) — the training is bit for bit
 * the same and the analysis the same code on the same weights — and the across-seeds summary gives
 * mean ± standard error.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { gaussianMixture } from '../src/data/synthetic.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { loadReportAssets } from '../src/analysis/report/assets.ts';
import { runFengTuEnsemble } from '../src/experiments/feng-tu/ensemble.ts';
import { fengTuSeedsFiles, runFengTuSeed, seedGroups, type FengTuSeedsSpec } from '../src/experiments/feng-tu/seeds.ts';

const ctx = useGpu();
const MODEL: MlpConfig = { widths: [12, 10, 10, 4], activation: 'relu', bias: false, init: { kind: 'pytorch' } };

describe('Feng–Tu across seeds as one ensemble', () => {
  it('3 seeds in lockstep: every record and run folder equals the seed run alone', async () => {
    const c = ctx();
    const train = gaussianMixture({ classes: 4, d: 12, n: 400, sep: 1.2, seed: 3 });
    const spec: FengTuSeedsSpec = {
      model: MODEL, train: { epochs: 5, batchSize: 20, lr: 0.1, chunkSteps: 23, momentum: 0.5 }, data: { kind: 'test' },
      options: { windowEpochs: 2, k: 6, tDirs: [1, 2], mlfDirs: [2], mlfBatches: 3, mlfPoints: 5 }, seeds: [4, 9, 11], replicas: 3,
    };
    expect(seedGroups(spec)).toEqual([{ indices: [0, 1, 2], seeds: [4, 9, 11] }]);
    expect(seedGroups({ ...spec, replicas: 2 })).toEqual([{ indices: [0, 1], seeds: [4, 9] }, { indices: [2], seeds: [11] }]);
    const assets = await loadReportAssets();
    const adapter = { name: 'test', description: '', runtime: 'node' } as never;
    const meta = { data: spec.data, adapter };
    const ens = await runFengTuEnsemble(c, spec, spec.seeds, { train, test: null }, assets, meta);
    expect(ens.map((e) => e.record.seed)).toEqual(spec.seeds);
    for (const [i, seed] of spec.seeds.entries()) {
      const alone = await runFengTuSeed(c, spec, seed, { train, test: null }, assets, meta);
      const strip = (r: typeof alone.record) => ({ ...r, seconds: 0 });
      expect(strip(ens[i].record), `seed ${seed}`).toEqual(strip(alone.record));
      expect(ens[i].record.psi).not.toBeNull();
      for (const f of ['trajectory.npy', 'pca_variance.npy', 'pca_components.npy', 'spectra.csv', 'temperature_vs_loss.csv', 'mlf.csv', 'metrics.csv', 'weights_layer1.npy']) {
        const a = ens[i].files.get(f);
        const b = alone.files.get(f);
        expect(a, `${f} written`).toBeDefined();
        expect(Buffer.from(a as Uint8Array | string).equals(Buffer.from(b as Uint8Array | string)), `seed ${seed}: ${f}`).toBe(true);
      }
    }
    const summary = JSON.parse(fengTuSeedsFiles(spec, ens.map((e) => e.record), [], assets, adapter, 1).get('summary.json') as string);
    const psi = ens.map((e) => e.record.psi!);
    const mean = psi.reduce((a, b) => a + b, 0) / 3;
    const sd = Math.sqrt(psi.reduce((a, b) => a + (b - mean) ** 2, 0) / 2);
    expect(summary.spread.psi.mean).toBeCloseTo(mean, 12);
    expect(summary.spread.psi.se).toBeCloseTo(sd / Math.sqrt(3), 12);
    console.log(`ψ over seeds ${spec.seeds.join(', ')}: ${psi.map((p) => p.toFixed(3)).join(', ')} → ${mean.toFixed(3)} ± ${(sd / Math.sqrt(3)).toFixed(3)} (SE)`);
  });
});
