/**
 * The dashboard's ensemble option, DOM-free: the `replicas` setting through the URL and the form's
 * validation (its range, and the refusal of what analyses one network while it trains: the live
 * instruments), and the band the worker sends per chunk (mean and min–max across the replicas
 * still training; a stopped replica leaves the band after its stop), and the engine's training
 * session run in Node with 2 replicas: its messages (seeds, no window, bands that hold the
 * replicas' own histories), the ensemble run folder, and the refusals (Hessian card, resume after
 * a lost device).
 */
import { describe, expect, it } from 'vitest';
import { TrainingSession, type SessionEnv } from '../src/experiments/dashboard/session.ts';
import type { FromWorker } from '../src/experiments/dashboard/protocol.ts';
import { acquireGpu } from '../src/gpu/device.ts';
import { loadDataset } from '../src/data/index.ts';
import { loadReportAssets } from '../src/analysis/report/assets.ts';
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
    // The defaults switch instruments on: each live one is named, on `replicas` and on its own box
    // (the Feng–Tu window's, pca-window and flatness, are analysed per replica: tests/dashboard-ensemble-window).
    const on = instruments().filter((d) => DEFAULT_SETTINGS[d.id] === true && d.id !== 'pca-window' && d.id !== 'flatness');
    expect(on.length).toBeGreaterThan(0);
    const e = validateSettings({ ...DEFAULT_SETTINGS, replicas: 3 });
    expect(e.replicas).toMatch(/an ensemble \(R = 3\) trains without live instruments/);
    expect([e['pca-window'], e.flatness]).toEqual([undefined, undefined]);
    for (const d of on) {
      expect(e.replicas).toContain(d.id);
      expect(e[d.id]).toBe(`${d.id} analyses one network: switch it off for an ensemble (replicas 3), or set replicas to 1`);
    }
    // The settings of switched-off instruments do not apply to an ensemble (a 10-epoch window in a 1-epoch run); they do to a single run.
    expect(validateSettings({ ...s, epochs: 1 })).toEqual({});
    expect(validateSettings({ ...s, epochs: 1, replicas: 1 })['window-epochs']).toBe('lab.windowEpochs must be an integer in [1, 1], got 10');
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

describe('dashboard training session with an ensemble (Node)', () => {
  const spec = runSpecOf({ ...DEFAULT_SETTINGS, ...allOff(), replicas: 2, seed: 5, epochs: 1, batch: 100 });
  const envOf = (messages: FromWorker[], onPost: (m: FromWorker) => void = () => {}): SessionEnv => ({
    post: (m) => {
      messages.push(m);
      onPost(m);
    },
    acquire: () => acquireGpu(),
    reportAssets: loadReportAssets,
    log: (level, text) => console[level](text),
  });

  it('posts the mean and band of the replicas, exports the ensemble folder, refuses the Hessian card and a resume', async () => {
    const data = await loadDataset({ kind: 'mnist10k' });
    const messages: FromWorker[] = [];
    const session = await TrainingSession.create(envOf(messages), spec, data, undefined);
    await session.drive();
    const ready = messages.find((m) => m.type === 'ready');
    expect(ready?.type === 'ready' && [ready.seeds, ready.window, ready.instruments, ready.totalSteps]).toEqual([[5, 6], null, [], 80]);
    const chunks = messages.filter((m): m is Extract<FromWorker, { type: 'chunk' }> => m.type === 'chunk');
    expect(chunks.map((c) => c.step)).toEqual([40, 80]);
    const h = session.trainer.histories;
    for (const c of chunks) {
      expect(c.band?.replicas).toBe(2);
      for (let i = 0; i < c.losses.length; i++) {
        const step = c.firstStep + i - 1;
        const [a, b] = [h[0].loss[step], h[1].loss[step]];
        expect(c.band!.lossMin[i]).toBe(Math.min(a, b));
        expect(c.band!.lossMax[i]).toBe(Math.max(a, b));
        expect(c.losses[i]).toBe(Math.fround((a + b) / 2));
      }
    }
    const last = chunks[1].band!.eval!;
    expect(last.replicas.map((e) => e!.testAccuracy)).toEqual(h.map((x) => x.evals.at(-1)!.test!.accuracy));
    const done = messages.find((m) => m.type === 'done');
    expect(done?.type === 'done' && done.message).toMatch(/completed 80 steps.*an ensemble of 2: no final analysis/);
    await expect(session.network()).rejects.toThrow(/the Hessian card analyses one network, and this run is an ensemble of 2/);
    await session.export();
    const exported = messages.find((m) => m.type === 'export');
    expect(exported?.type === 'export' && exported.files).toEqual(expect.arrayContaining(['config.json', 'result.json', 'metrics.csv', 'weights_layer0.npy', 'weights_layer2.npy']));
    session.kill();

    // A device lost mid-run: no snapshot to resume from, and the message says why.
    const lostMessages: FromWorker[] = [];
    let lostRun: TrainingSession | null = null;
    lostRun = await TrainingSession.create(envOf(lostMessages, (m) => m.type === 'chunk' && lostRun?.p.ctx.device.destroy()), spec, data, undefined);
    await lostRun.drive();
    const lost = lostMessages.find((m) => m.type === 'lost');
    expect(lost?.type === 'lost' && [lost.resumeStep, /An ensemble keeps no weight snapshots/.test(lost.message)]).toEqual([null, true]);
    lostRun.kill();
  }, 180_000);
});
