/**
 * ASHA in a real sweep (src/experiments/sweep/asha.ts through runSweep, in process, one run at a
 * time so the arrival order at every rung is the grid order): the rung table — each run's test
 * loss at each rung it reached — is recomputed here by hand with the stopping rule, and must give
 * exactly the runs that were stopped, where, and that they carry no sharpness; the runs that went
 * on end with the same numbers as in a sweep without ASHA (stopping at a rung and going on changes
 * nothing); runs.csv and the report mark the early stops.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { gaussianMixture, stratifiedSplit, subset } from '../src/data/index.ts';
import { DEFAULT_SHARPNESS, type SweepSpec } from '../src/experiments/sweep/grid.ts';
import { runSweep } from '../src/experiments/sweep/run.ts';
import { sweepFiles } from '../src/experiments/sweep/files.ts';
import { loadReportAssets } from '../src/analysis/report/assets.ts';

const ctx = useGpu();

function data() {
  const all = gaussianMixture({ classes: 4, d: 8, n: 300, sep: 2, seed: 5 });
  const s = stratifiedSplit(all.y, all.classes, { seed: 0, testFraction: 0.2 });
  return { train: subset(all, s.train), test: subset(all, s.test) };
}

// 240 training samples, B 40: 6 steps per epoch, 8 epochs; η = 2 from epoch 1: rungs at epochs 1, 2, 4.
const ETA = 2;
const SPEC: SweepSpec = {
  model: { widths: [8, 6, 4], activation: 'relu', bias: true, init: { kind: 'pytorch' } },
  train: { epochs: 8, chunkSteps: 4 },
  data: { kind: 'synthetic', generator: 'mixture', classes: 4, d: 8, n: 300, seed: 5 },
  grid: { lr: [0.3, 0.01, 0.1, 0.003, 1, 0.03], batchSize: [40], weightDecay: [0], dropout: [0], seed: [1] },
  sharpness: { ...DEFAULT_SHARPNESS, k: 2, samples: null },
  concurrency: 1,
  search: { sampler: 'grid', trials: 0, seed: 0, lrRange: null, weightDecayRange: null, dropoutRange: null, asha: { eta: ETA, minEpochs: 1, metric: 'test-loss' } },
};

describe('ASHA', () => {
  it('stops the runs the hand-computed rung table says, and only those', async () => {
    const d = data();
    const r = await runSweep(ctx(), SPEC, d);
    const plain = await runSweep(ctx(), { ...SPEC, search: undefined }, d);
    // The rung table, by hand: at each rung, the runs that reached it in grid order, their values,
    // and the rule (go on iff fewer than max(1, ⌊n/η⌋) earlier-or-equal arrivals are strictly better).
    const expectedStop = new Map<number, number>();
    for (const [k, epoch] of [1, 2, 4].entries()) {
      const arrived: number[] = [];
      for (const run of r.runs) {
        const at = run.asha!.rungs.find((x) => x.rung === k);
        if (!at) continue;
        expect(at.epoch).toBe(epoch);
        expect(at.value).toBe(run.evals.find((e) => e.step === epoch * 6)!.test!.loss);
        arrived.push(at.value);
        const better = arrived.filter((v) => v < at.value).length;
        const goesOn = better < Math.max(1, Math.floor(arrived.length / ETA));
        expect([at.of, at.rank, at.continues], `run ${run.point.index} at rung ${k}`).toEqual([arrived.length, better, goesOn]);
        if (!goesOn) expectedStop.set(run.point.index, epoch);
      }
    }
    expect(expectedStop.size).toBeGreaterThan(0);
    expect(expectedStop.size).toBeLessThan(6);
    for (const run of r.runs) {
      const stop = expectedStop.get(run.point.index) ?? null;
      expect(run.asha!.stoppedAtEpoch, `run ${run.point.index}`).toBe(stop);
      if (stop !== null) {
        expect([run.status, run.steps, run.sharpness]).toEqual(['stopped', stop * 6, null]);
        expect(run.message).toMatch(new RegExp(`stopped early by ASHA at epoch ${stop}`));
      } else {
        const p = plain.runs[run.point.index];
        expect([run.status, run.steps, run.trainLoss, run.testLoss, run.weightNorm, run.sharpness]).toEqual([p.status, p.steps, p.trainLoss, p.testLoss, p.weightNorm, p.sharpness]);
      }
    }
    const files = sweepFiles(r, await loadReportAssets(), { data: SPEC.data, adapter: { name: 'test', description: '', runtime: 'node' } });
    const [header, ...rows] = String(files.get('runs.csv')).trim().split('\n');
    const cols = header.split(',');
    expect(cols.slice(-4)).toEqual(['asha_stopped_epoch', 'asha_rung0_value', 'asha_rung1_value', 'asha_rung2_value']);
    rows.forEach((row, i) => expect(row.split(',')[cols.indexOf('asha_stopped_epoch')]).toBe(String(expectedStop.get(i) ?? '')));
    expect(String(files.get('report.html'))).toContain('stopped early</b> at epoch');
    expect(JSON.parse(String(files.get('result.json'))).earlyStopped).toBe(expectedStop.size);
  });
});
