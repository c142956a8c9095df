/**
 * The dashboard's ensemble option, DOM-free: the `replicas` setting through the URL and the form's
 * validation (its range, and the refusal of what analyses one network: the instruments and the
 * Feng–Tu window), and the band the worker sends per chunk (mean and min–max across the replicas
 * still training; a stopped replica leaves the band after its stop).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, runSpecOf, settingsFromQuery, settingsToQuery, validateSettings, type DashSettings } from '../src/experiments/dashboard/run-settings.ts';
import { ensembleChunk } from '../src/experiments/dashboard/ensemble-band.ts';
import { instruments } from '../src/instruments/all.ts';
import type { ChunkProgress, EvalRecord } from '../src/train/trainer.ts';

const allOff = (): Partial<DashSettings> => Object.fromEntries(instruments().map((d) => [d.id, false]));

describe('dashboard ensemble settings', () => {
  it('replicas: default 1 (not in the URL), round-trips, range-checked, refused with instruments on', () => {
    expect(DEFAULT_SETTINGS.replicas).toBe(1);
    expect(runSpecOf(DEFAULT_SETTINGS).replicas).toBe(1);
    const s: DashSettings = { ...DEFAULT_SETTINGS, ...allOff(), replicas: 3 };
    expect(validateSettings(s)).toEqual({});
    const q = settingsToQuery(s);
    expect(q).toContain('replicas=3');
    expect(settingsFromQuery(`?${q}`).settings).toEqual(s);
    expect(validateSettings({ ...s, replicas: 0 }).replicas).toBe('train.replicas must be an integer in [1, 1024], got 0');
    expect(validateSettings({ ...s, replicas: 2.5 }).replicas).toMatch(/train\.replicas must be an integer/);
    expect(settingsFromQuery('?replicas=x').problems.join()).toMatch(/replicas: 'x' is not a number/);
    // The defaults switch instruments on: each is named, on `replicas` and on its own box.
    const on = instruments().filter((d) => DEFAULT_SETTINGS[d.id] === true);
    expect(on.length).toBeGreaterThan(0);
    const e = validateSettings({ ...DEFAULT_SETTINGS, replicas: 3 });
    expect(e.replicas).toMatch(/an ensemble \(R = 3\) trains without instruments and without the Feng–Tu window/);
    for (const d of on) {
      expect(e.replicas).toContain(d.id);
      expect(e[d.id]).toBe(`${d.id} analyses one network: switch it off for an ensemble (replicas 3), or set replicas to 1`);
    }
    // R = 1 with the same instruments is the ordinary run.
    expect(validateSettings({ ...DEFAULT_SETTINGS, replicas: 1 })).toEqual({});
  });
});

const ev = (step: number, testAccuracy: number, loss: number): EvalRecord => ({ step, epoch: 1, train: { loss, accuracy: testAccuracy + 0.01, n: 8000 }, test: { loss: loss + 0.1, accuracy: testAccuracy, n: 2000 } });

describe('ensemble chunk band', () => {
  it('means and min–max across replicas; a diverged replica leaves the band from its bad step on', () => {
    const rep = (losses: number[], e: EvalRecord | null) => ({ losses: Float32Array.from(losses), accuracies: Float32Array.from(losses.map((l) => 1 - l)), eval: e });
    const replicas = [rep([0.5, 0.4, 0.3], ev(13, 0.9, 0.3)), rep([0.7, 0.6, 0.5], ev(13, 0.8, 0.5)), rep([0.6, NaN, NaN], null)];
    const p: ChunkProgress = { step: 13, epoch: 1, totalSteps: 100, firstStep: 11, losses: replicas[0].losses, accuracies: replicas[0].accuracies, eval: replicas[0].eval, stepsPerSecond: 1, replicas };
    const out = ensembleChunk(p, [
      { status: 'running', message: '', step: 13 },
      { status: 'running', message: '', step: 13 },
      { status: 'diverged', message: 'diverged at step 12', step: 12 },
    ]);
    expect(Array.from(out.losses)).toEqual([0.6, 0.5, 0.4].map(Math.fround));
    expect(Array.from(out.band.lossMin)).toEqual([0.5, 0.4, 0.3].map(Math.fround));
    expect(Array.from(out.band.lossMax)).toEqual([0.7, 0.6, 0.5].map(Math.fround));
    expect(out.band.accuracyMin[0]).toBeCloseTo(0.3, 6);
    expect(out.eval?.testAccuracy).toBeCloseTo(0.85, 12);
    expect(out.band.eval?.min.testAccuracy).toBe(0.8);
    expect(out.band.eval?.max.testAccuracy).toBe(0.9);
    expect(out.band.eval?.replicas.map((e) => e?.testAccuracy ?? null)).toEqual([0.9, 0.8, null]);
    expect(out.band.replicas).toBe(3);
  });
});
