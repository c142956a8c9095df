/**
 * Registering an instrument is the whole of adding it: a throw-away instrument, registered here and
 * nowhere else, must appear
 *   1. as `sgdscope train` flags with their range checks (run in-process, a real run folder),
 *   2. in the run folder (its CSV, instruments.json) and charts.json,
 *   3. as a section of report.html,
 *   4. on the dashboard: its form fields with the engine's messages and the URL, and, from the
 *      engine's training session (run here in Node), its 'instrument' messages and the run-folder
 *      export; the page builds its panels from the registry (tests/dashboard.test.ts sees them).
 * It also exercises each cadence: every N steps through the ring (its rows are the per-sample
 * losses of the measured step, whose mean must be the trainer's minibatch loss of that step, chunk
 * after chunk with two in flight), evaluations, refreshes and on-demand requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerInstrument, unregisterInstrument } from '../src/instruments/all.ts';
import { int } from '../src/instruments/settings.ts';
import type { Instrument } from '../src/instruments/types.ts';
import { parseFlags, UsageError } from '../src/cli/args.ts';
import { TRAIN_FLAGS, trainCommand } from '../src/cli/train.ts';
import { instrumentFlagSpecs, instrumentsFromFlags } from '../src/cli/instrument-flags.ts';
import { defaultSettings, runSpecOf, settingKeys, settingsFromQuery, settingsToQuery, validateSettings } from '../src/experiments/dashboard/run-settings.ts';
import { TrainingSession } from '../src/experiments/dashboard/session.ts';
import type { FromWorker } from '../src/experiments/dashboard/protocol.ts';
import { acquireGpu } from '../src/gpu/device.ts';
import { loadDataset } from '../src/data/index.ts';
import { loadReportAssets } from '../src/analysis/report/assets.ts';

const throwaway: Instrument = {
  id: 'throwaway',
  title: 'Throw-away check',
  about: 'The mean per-sample loss of every N-th minibatch, read back through the ring.',
  settings: { every: int(3, { min: 1, max: 100 }, 'measure every N steps') },
  tables: {
    steps: { mode: 'append', columns: ['step', 'mean_loss', 'history_loss'], about: 'measured step, mean of its per-sample losses, the trainer’s minibatch loss' },
    evals: { mode: 'append', columns: ['step', 'train_loss'], about: 'evaluations seen' },
    pokes: { mode: 'append', columns: ['step', 'value'], about: 'refreshes (value −1) and requests' },
  },
  panels: [{ chart: 'throwaway-loss', caption: 'mean per-sample loss of the measured steps', click: 'poke' }],
  headline: [{ id: 'throwaway-last', label: 'last' }],
  charts: (t) => [{ id: 'throwaway-loss', title: 'Throw-away', xLabel: 'step', yLabel: 'loss', xLog: false, yLog: false, x: [...t.steps.step], series: [{ label: 'mean', style: 'points', y: [...t.steps.mean_loss] }] }],
  summary: (t) => ({ measured: t.steps.step.length }),
  start(ctx) {
    const B = ctx.trainer.config.batchSize;
    let last = 0;
    return {
      perStep: {
        every: ctx.settings.every as number,
        floats: B,
        encode: (batch, view, out) => batch.copy(view.losses, 0, out, 0, B * 4),
        read: (rows, steps) => {
          const mean = steps.map((_, r) => rows.subarray(r * B, (r + 1) * B).reduce((a, v) => a + v, 0) / B);
          last = steps.at(-1)!;
          ctx.emit({ tables: { steps: { step: steps, mean_loss: mean, history_loss: steps.map((s) => ctx.trainer.history.loss[s - 1]) } }, headline: { 'throwaway-last': String(last) } });
        },
      },
      eval: (e) => ctx.emit({ tables: { evals: { step: [e.step], train_loss: [e.train.loss] } } }),
      refresh: { every: 8, run: async () => ctx.emit({ tables: { pokes: { step: [last], value: [-1] } } }) },
      request: async (name, value) => {
        if (name === 'poke') ctx.emit({ tables: { pokes: { step: [last], value: [value] } } });
      },
    };
  },
};

beforeAll(() => {
  registerInstrument(throwaway);
});
afterAll(() => unregisterInstrument('throwaway'));

describe('a throw-away instrument, registered and nothing else', () => {
  it('is a group of sgdscope train flags with range checks', () => {
    const specs = { ...TRAIN_FLAGS, ...instrumentFlagSpecs() };
    expect(specs['throwaway-every']).toMatchObject({ kind: 'int', range: [1, 100, undefined] });
    expect(specs.instrument.help).toContain('throwaway');
    expect(() => parseFlags(['--throwaway-every', '0'], specs, 'sgdscope train')).toThrow('--throwaway-every must be in [1, 100], got 0');
    expect(() => instrumentsFromFlags(parseFlags(['--throwaway-every', '4'], specs, 'x').flags, null)).toThrow(/--throwaway-every applies to --instrument throwaway/);
    expect(() => instrumentsFromFlags({ instrument: 'nope' }, null)).toThrow(UsageError);
    const active = instrumentsFromFlags(parseFlags(['--instrument', 'throwaway', '--throwaway-every', '4'], specs, 'x').flags, null);
    expect(active.map((a) => [a.def.id, a.values])).toEqual([['throwaway', { every: 4 }]]);
  });

  it('writes its files, charts.json and a report section from `sgdscope train --instrument throwaway`', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sgdscope-throwaway-')), 'run');
    const code = await trainCommand(['--steps', '24', '--chunk', '5', '--eval-every', '10', '--instrument', 'throwaway', '--throwaway-every', '3', '--out', out, '--quiet']);
    expect(code).toBe(0);
    const files = readdirSync(out);
    for (const f of ['throwaway.csv', 'throwaway_evals.csv', 'instruments.json', 'charts.json', 'report.html', 'metrics.csv']) expect(files).toContain(f);
    const rows = readFileSync(join(out, 'throwaway.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    expect(rows.map((r) => r[0])).toEqual([3, 6, 9, 12, 15, 18, 21, 24]);
    // Each ring row is the measured step's own minibatch: the mean of its per-sample losses is the trainer's loss.
    for (const [, mean, history] of rows) expect(Math.abs(mean - history)).toBeLessThan(1e-5 * history + 1e-6);
    expect(readFileSync(join(out, 'throwaway_evals.csv'), 'utf8')).toMatch(/^step,train_loss\n10,[\d.]+\n20,[\d.]+\n24,[\d.]+\n$/);
    const meta = JSON.parse(readFileSync(join(out, 'instruments.json'), 'utf8'));
    expect(meta.instruments.throwaway).toMatchObject({ settings: { every: 3 }, summary: { measured: 8 } });
    const charts = JSON.parse(readFileSync(join(out, 'charts.json'), 'utf8')) as { id: string; x: number[] }[];
    expect(charts.find((c) => c.id === 'throwaway-loss')?.x).toEqual([3, 6, 9, 12, 15, 18, 21, 24]);
    const report = readFileSync(join(out, 'report.html'), 'utf8');
    expect(report).toContain('<h2>Throw-away check</h2>');
    expect(report).toContain('The mean per-sample loss of every N-th minibatch');
  }, 120_000);

  it('is a dashboard field set with the engine’s messages and URL state', () => {
    const keys = settingKeys();
    expect(keys).toContain('throwaway');
    expect(keys).toContain('throwaway-every');
    const s = { ...defaultSettings(), 'throwaway-every': 0 };
    expect(validateSettings(s)['throwaway-every']).toBe('throwaway.every must be an integer in [1, 100], got 0');
    const q = settingsToQuery({ ...defaultSettings(), 'throwaway-every': 5, throwaway: false });
    expect(q).toBe('throwaway=false&throwaway-every=5');
    expect(settingsFromQuery(`?${q}`).settings['throwaway-every']).toBe(5);
    expect(runSpecOf(defaultSettings()).instruments.active).toContain('throwaway');
  });

  it('sends its updates from the dashboard engine, takes requests and is in the exported run folder', async () => {
    const messages: FromWorker[] = [];
    const data = await loadDataset({ kind: 'mnist10k' });
    // Only the throw-away instrument; a run stopped before the analysed window (no final analysis).
    const off = Object.fromEntries(settingKeys().filter((k) => k !== 'throwaway' && defaultSettings()[k] === true && !['bias'].includes(k)).map((k) => [k, false]));
    const spec = runSpecOf({ ...defaultSettings(), ...off, epochs: 2, chunk: 10, 'window-epochs': 1, 'throwaway-every': 4 });
    expect(spec.instruments.active).toEqual(['throwaway']);
    let session: TrainingSession | null = null;
    const env = {
      post: (m: FromWorker) => {
        messages.push(m);
        if (m.type === 'chunk' && m.step >= 40 && session) session.request = 'stop';
      },
      acquire: () => acquireGpu(),
      reportAssets: loadReportAssets,
      log: (level: 'warn' | 'error', text: string) => console[level](text),
    };
    session = await TrainingSession.create(env, spec, data, undefined);
    await session.drive();
    session.instrumentRequest('poke', 7);
    await session.p.host.idle();
    await session.export();
    session.kill();
    const ready = messages.find((m) => m.type === 'ready');
    expect(ready && ready.type === 'ready' && ready.instruments).toEqual(['throwaway']);
    const updates = messages.filter((m): m is Extract<FromWorker, { type: 'instrument' }> => m.type === 'instrument' && m.id === 'throwaway');
    const steps = updates.flatMap((u) => Array.from(u.update.tables?.steps?.step ?? []));
    expect(steps.slice(0, 10)).toEqual([4, 8, 12, 16, 20, 24, 28, 32, 36, 40]);
    expect(updates.some((u) => u.update.tables?.steps?.mean_loss instanceof Float64Array)).toBe(true);
    expect(updates.some((u) => Array.from(u.update.tables?.pokes?.value ?? []).includes(7))).toBe(true);
    expect(updates.some((u) => Array.from(u.update.tables?.pokes?.value ?? []).includes(-1))).toBe(true);
    const exported = messages.find((m) => m.type === 'export');
    expect(exported && exported.type === 'export' && exported.files).toEqual(expect.arrayContaining(['throwaway.csv', 'instruments.json', 'report.html', 'charts.json', 'metrics.csv']));
    expect(messages.find((m) => m.type === 'done')).toBeDefined();
  }, 120_000);
});
