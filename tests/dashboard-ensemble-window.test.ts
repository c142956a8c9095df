/**
 * The Feng–Tu window of a dashboard ensemble (issue 13): the window its memory budget allows
 * (ensemble-window.ts), the form's rules (pca-window and flatness are taken, the other instruments
 * still refused, k above the cut window refused), the figures across seeds (ensemble-figures.ts:
 * mean ± SE bars equal to spread() of the per-seed numbers). The run itself (worker, page, bars,
 * per-seed ψ against the CLI's ensemble path): tests/browser-ensemble-window.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ENSEMBLE_WINDOW_BUDGET, ensembleLabOptions, ensembleWindowPlan } from '../src/experiments/dashboard/ensemble-window.ts';
import { ensembleWindowResult, type ReplicaWindow } from '../src/experiments/dashboard/ensemble-figures.ts';
import { ensembleWindowFiles } from '../src/experiments/dashboard/ensemble-analysis.ts';
import { loadReportAssets } from '../src/analysis/report/assets.ts';
import { DEFAULT_SETTINGS, runSpecOf, validateSettings, type DashSettings } from '../src/experiments/dashboard/run-settings.ts';
import { spread, type FengTuSeedRecord } from '../src/experiments/feng-tu/seeds.ts';
import { instruments } from '../src/instruments/all.ts';

const windowOnly = (): Partial<DashSettings> => Object.fromEntries(instruments().map((d) => [d.id, d.id === 'pca-window' || d.id === 'flatness']));

describe('an ensemble\'s Feng–Tu window', () => {
  it('fits the budget: the last T_R steps, every step, and says so', () => {
    const P = 2500;
    const full = ensembleWindowPlan(2, P, 1600);
    expect([full.T, full.bytes]).toEqual([1600, 2 * 1600 * P * 4]);
    expect(full.note).toContain('the last 1600 steps, every step');
    const cut = ensembleWindowPlan(8, P, 12000);
    expect(cut.T).toBe(Math.floor(ENSEMBLE_WINDOW_BUDGET / (8 * P * 4)));
    expect(cut.bytes).toBeLessThanOrEqual(ENSEMBLE_WINDOW_BUDGET);
    expect(cut.note).toMatch(/cut from the 12000 asked .* budget of 256 MiB/);
    expect(ensembleLabOptions({ layer: 1, k: 40, flatK: 2 }, cut)).toMatchObject({ layer: 1, windowSteps: cut.T, k: 40, flatK: 2, checkpointEvery: 0 });
  });

  it('the form takes pca-window and flatness with replicas, refuses the others and a k above the cut window', () => {
    const s: DashSettings = { ...DEFAULT_SETTINGS, ...windowOnly(), replicas: 3 };
    expect(validateSettings(s)).toEqual({});
    expect(runSpecOf(s).instruments.active).toEqual(['pca-window', 'flatness']);
    const e = validateSettings({ ...s, fdr: true });
    expect(e.replicas).toMatch(/switch off fdr, or set replicas to 1/);
    expect(e['pca-window']).toBeUndefined();
    // 1000 replicas of the 2,500-weight layer leave 26 steps in 256 MiB: k = 40 cannot be.
    const many = validateSettings({ ...s, replicas: 1000, epochs: 20 });
    expect(many.k).toBe('lab.k must be at most T − 1 = 25 for the ensemble\'s window of 26 steps (the 256 MiB budget of 1000 replicas), got 40');
  });

  it('figures: mean ± SE bars across seeds equal spread() of the per-seed numbers; the exported files', async () => {
    const rec = (seed: number, psi: number, d99: number): FengTuSeedRecord => ({
      seed, message: '', testAccuracy: 0.9, finalTrainLoss: 0.1, P: 4, T: 10, d90: 2, d99, d90Pc1Removed: 2, d99Pc1Removed: 3, psi, psiSE: 0.1, r: -0.9, fitN: 3, temperatureMaxOverMin: null, temperatureSpearmanFlatness: null, seconds: 1,
    });
    const reps: ReplicaWindow[] = [
      { record: rec(3, 4, 3), variances: Float64Array.from([8, 4, 2, 1]), dirs: [0, 1, 2, 3], F: [1, 2, 3, 4] },
      { record: rec(4, 5, 4), variances: Float64Array.from([10, 6, 2.5, 0.5]), dirs: [0, 1, 2, 3], F: [1.5, 2.5, 2.8, 5] },
    ];
    const out = ensembleWindowResult(ensembleWindowPlan(2, 4, 10), { first: 11, last: 20, T: 10 }, [3, 4], reps, []);
    expect(out.spread.psi).toEqual(spread([4, 5]));
    expect(out.spread.psi!.se).toBeCloseTo(0.5, 12);
    const [spec, vf, psi] = out.charts;
    const s2 = spread([4, 6])!;
    expect([spec.series[0].y[1], spec.errorBars![0].yLo[1], spec.errorBars![0].yHi[1]]).toEqual([s2.mean, s2.mean - s2.se, s2.mean + s2.se]);
    // PC1 left out; sorted by mean F (2.25, 2.9, 4.5).
    expect(vf.x).toEqual([2.25, 2.9, 4.5]);
    expect(vf.series[0].y).toEqual([5, 2.25, 0.75]);
    const sF = spread([3, 2.8])!;
    expect([vf.errorBars![0].xLo![1], vf.errorBars![0].xHi![1]]).toEqual([sF.mean - sF.se, sF.mean + sF.se]);
    expect(psi.x).toEqual([3, 4]);
    expect(psi.errorBars![0].yLo).toEqual([3.9, 4.9]);

    // The export's feng-tu/ files: the CLI's seeds.csv and summary.json, each seed's σ² and F.
    const rs = runSpecOf({ ...DEFAULT_SETTINGS, ...windowOnly(), replicas: 2, seed: 3 });
    const parts = { ensemble: { options: { windowSteps: 10, k: 4 } } } as never;
    const files = ensembleWindowFiles(parts, rs, { result: out, reps }, await loadReportAssets(), { name: 'test' } as never);
    expect((files.get('seeds.csv') as string).trim().split('\n').map((l) => l.split(',')[0])).toEqual(['seed', '3', '4']);
    expect(JSON.parse(files.get('summary.json') as string).spread.psi).toEqual(out.spread.psi);
    const spectra = (files.get('spectra.csv') as string).trim().split('\n');
    expect(spectra.slice(0, 3)).toEqual(['seed,pc,sigma2,F', '3,1,8,1', '3,2,4,2']);
    expect(spectra).toHaveLength(9);
    expect(JSON.parse(files.get('figures.json') as string).charts).toHaveLength(3);
  });
});
