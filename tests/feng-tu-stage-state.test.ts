/**
 * analysis-state.json (src/experiments/feng-tu/stage-state.ts): the finished stages of a Feng–Tu
 * run back bit for bit (typed arrays, NaN, −0), only finished stages kept, and a state refused when
 * it belongs to another window or is not one.
 */
import { describe, expect, it } from 'vitest';
import { applySavedStage, captureAnalysisState, decodeAnalysisState, encodeAnalysisState, windowKey } from '../src/experiments/feng-tu/stage-state.ts';
import type { FengTuResult } from '../src/experiments/feng-tu/result.ts';

function result(): FengTuResult {
  const r = {
    run: { status: 'target-reached', message: '', steps: 480, seconds: 1, stepsPerSecond: 1 },
    window: { firstStep: 181, lastStep: 480, T: 300, epochs: 3 },
    P: 4,
    options: { k: 3 },
    stages: {
      pca: { status: 'done', seconds: 2.5, detail: 'σ1² = …' },
      flatness: { status: 'failed', seconds: 0.1, error: 'boom' },
      fit: { status: 'skipped', seconds: 0, error: "needs stage 'flatness', which failed" },
    },
    timings: { pca: 2.5 },
    pca: { variances: Float64Array.of(3, 1e-300, -0), components: Float64Array.of(NaN, 1, 2, 3), total: 4, floor: { trustedUpTo: 2 } },
    scatter: { arithmetic: 'cpu-f64', reason: 'r', ms: 1 },
    flatness: null,
    L0: null,
  };
  return r as unknown as FengTuResult;
}

describe('analysis state', () => {
  it('keeps the finished stages exactly and puts them back marked resumed', () => {
    const r = result();
    const text = encodeAnalysisState(captureAnalysisState(r));
    const back = decodeAnalysisState(text, 'analysis-state.json', windowKey(r));
    expect(Object.keys(back.stages)).toEqual(['pca']);
    const fresh = { ...result(), pca: null, scatter: null, stages: {}, timings: {} } as unknown as FengTuResult;
    applySavedStage(fresh, 'pca', back.stages.pca!);
    const v = fresh.pca!.variances;
    expect(v).toBeInstanceOf(Float64Array);
    expect(Array.from(v)).toEqual([3, 1e-300, -0]);
    expect(Object.is(v[2], -0)).toBe(true);
    expect(Number.isNaN(fresh.pca!.components[0])).toBe(true);
    expect(fresh.scatter).toEqual(r.scatter);
    expect(fresh.stages.pca).toEqual({ status: 'done', seconds: 2.5, detail: 'σ1² = …', resumed: true });
    expect(fresh.timings.pca).toBe(2.5);
    // Captured again (after a later stage), a resumed stage is stored without the mark.
    expect(captureAnalysisState(fresh).stages.pca!.record.resumed).toBeUndefined();
  });

  it('refuses a state of another window, or one that is not a state', () => {
    const r = result();
    const text = encodeAnalysisState(captureAnalysisState(r));
    expect(() => decodeAnalysisState(text, 'a.json', { ...windowKey(r), steps: 481 })).toThrow(/a\.json: its stages belong to another window \(step 480, T 300, P 4, k 3; this run: step 481/);
    expect(() => decodeAnalysisState('{"x":1}', 'a.json', windowKey(r))).toThrow(/a\.json: not an analysis state/);
    expect(() => decodeAnalysisState('{', 'a.json', windowKey(r))).toThrow(/a\.json: not an analysis state/);
    const bad = JSON.parse(text);
    bad.stages.warp = bad.stages.pca;
    expect(() => decodeAnalysisState(JSON.stringify(bad), 'a.json', windowKey(r))).toThrow(/unknown stage 'warp'/);
  });
});
