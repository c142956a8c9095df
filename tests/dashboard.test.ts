/**
 * The live dashboard in a real browser: headless Debian Chromium (SwiftShader WebGPU) loads the
 * built page, refuses an invalid setting inline, starts a short MNIST-10k run from the form, and
 * must fill every panel (live refreshes, kernel timings, then the final analysis) with no console
 * error. The page's test accuracy and D90/D99 must equal the Node engine's (Trainer + the lab's
 * runFengTu) for the same seed and settings; PNG and run-folder exports are real files; a
 * screenshot goes to test-results/dashboard.png. A second run loses its GPU device mid-window,
 * resumes from the last weight snapshot on a new device and must end where an uninterrupted
 * run ends.
 */
import { describe, expect, it } from 'vitest';
import { useBuiltSite, watchConsole } from './helpers/browser.ts';
import { acquireGpu } from '../src/gpu/device.ts';
import { loadDataset } from '../src/data/index.ts';
import { Trainer } from '../src/train/trainer.ts';
import { runFengTu } from '../src/experiments/feng-tu/run.ts';
import { SEED_MLP } from '../src/nn/config.ts';
import { instruments } from '../src/instruments/all.ts';
import { settingKeys } from '../src/experiments/dashboard/run-settings.ts';
import type { Page } from 'playwright-core';


const site = useBuiltSite();

/** The instruments on by default on the dashboard, and those a user turns on (the third test). */
const ON = instruments().filter((d) => d.dashboardDefault !== false);
const OFF = instruments().filter((d) => d.dashboardDefault === false);
/** The training panels and every default instrument's. */
const PANELS = ['loss', 'accuracy', ...ON.flatMap((d) => d.panels.map((p) => p.chart))];
/** Settings that keep the off-by-default instruments cheap on SwiftShader (only keys the registry has). */
const CHEAP: Record<string, string> = {
  'edge-of-stability-every': '40',
  'edge-of-stability-samples': '400',
  'edge-of-stability-iters': '4',
  'edge-of-stability-batches': '3',
  'b-noise-every': '40',
  'b-noise-samples': '400',
  'b-noise-batches': '3',
};

async function waitState(page: Page, states: string[], timeout: number): Promise<string> {
  await page.waitForFunction((s) => s.includes(document.body.dataset.state ?? ''), states, { timeout, polling: 250 });
  return (await page.evaluate(() => document.body.dataset.state)) as string;
}

describe('the dashboard in headless Chromium', () => {
  it('fills every panel during a short run and shows the Node engine’s numbers', async () => {
    const page = await site().browser.newPage({ viewport: { width: 1500, height: 1300 } });
    const problems = watchConsole(page);
    await page.goto(site().url);
    expect(await page.evaluate(async () => !!(await navigator.gpu?.requestAdapter()))).toBe(true);

    // An invalid value is refused inline, with the engine's message and the allowed range.
    await page.fill('#lr', '0');
    await expect.poll(() => page.textContent('#err-lr')).toContain('train.lr must be (0, 100], got 0');
    expect(await page.isDisabled('#start')).toBe(true);
    await page.fill('#lr', '0.1');
    await page.fill('#epochs', '3');
    await page.fill('#window-epochs', '11');
    await expect.poll(() => page.textContent('#err-window-epochs')).toContain('lab.windowEpochs must be an integer in [1, 3]');

    // A short run: 3 epochs of the seed network, the last one analysed.
    await page.fill('#window-epochs', '1');
    await page.fill('#seed', '3');
    await page.fill('#k', '12');
    await page.fill('#live-dirs', '4');
    await page.fill('#refresh', '80');
    expect(await page.isEnabled('#start')).toBe(true);
    // The settings are in the URL.
    const query = Object.fromEntries(new URL(page.url()).searchParams);
    expect(query).toEqual({ seed: '3', epochs: '3', 'window-epochs': '1', k: '12', refresh: '80', 'live-dirs': '4' });
    await page.click('#start');
    await waitState(page, ['running'], 90_000);
    // Every panel has data before the run is over (live refreshes), except what only the final
    // analysis brings on a run this short; all of them at the end.
    await page.waitForFunction(() => {
      const p = (window as unknown as { sgdscope: { panels: Record<string, number> } }).sgdscope.panels;
      return p.loss > 0 && p.spectrum > 0 && p.mlf > 0;
    }, null, { timeout: 120_000, polling: 500 });
    const lastLive = await page.evaluate(() => (window as unknown as { sgdscope: { lastLab: { kind: string } | null } }).sgdscope.lastLab);
    const state = await waitState(page, ['done', 'error'], 150_000);
    const status = await page.textContent('#status');
    console.log(`browser: ${status}`);
    expect(state).toBe('done');
    expect(status).toMatch(/completed 480 steps/);
    const probe = await page.evaluate(() => (window as unknown as { sgdscope: Record<string, unknown> }).sgdscope);
    console.log(`panels ${JSON.stringify(probe.panels)}; frames/s ${Number(probe.fps).toFixed(0)}; live refreshes ${probe.liveFrames} (ms ${JSON.stringify((probe.liveMs as number[]).map(Math.round))}); last before the end: ${JSON.stringify(lastLive)}`);
    for (const id of PANELS) expect((probe.panels as Record<string, number>)[id], `panel ${id} has no data`).toBeGreaterThan(0);
    // The live analysis refreshed while training ran (every 80 steps, one at a time).
    expect(probe.liveFrames as number).toBeGreaterThan(0);
    expect((probe.lastLab as { kind: string }).kind).toBe('final');
    const browserAcc = Number(await page.textContent('#test-acc'));
    const d90 = await page.textContent('#d90');
    const d99 = await page.textContent('#d99');

    await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true });

    // Exports: a chart as PNG, the run folder as a zip with the CLI's files.
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('#panel-spectrum .png')]);
    const pngBytes = await streamBytes(await png.createReadStream());
    expect(png.suggestedFilename()).toBe('sgdscope-spectrum.png');
    expect([...pngBytes.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    const [zip] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const zipText = Buffer.from(await streamBytes(await zip.createReadStream())).toString('latin1');
    for (const f of ['summary.json', 'spectra.csv', 'trajectory.npy', 'pca_variance.npy', 'pca_components.npy', 'temperature_vs_loss.csv', 'mlf.csv', 'metrics.csv', 'report.html', 'weights_layer1.npy']) {
      expect(zipText, `run folder lacks ${f}`).toContain(`-feng-tu/${f}`);
    }
    expect(problems).toEqual([]);

    // The same run in Node: the trainer, and the lab's PCA of the same window.
    const ctx = await acquireGpu();
    try {
      const data = await loadDataset({ kind: 'mnist10k' });
      const r = await runFengTu(ctx, SEED_MLP, { epochs: 3, lr: 0.1, seed: 3, chunkSteps: 40 }, { train: data.train, test: data.test }, {
        windowEpochs: 1,
        k: 12,
        flatK: 2,
        skip: { flatness: true, temperature: true, temperatureVsLoss: true, mlf: true, detrended: true },
      });
      const nodeAcc = 100 * r.trainer.history.evals.at(-1)!.test!.accuracy;
      const dText = (d: number | null): string => (d === null ? '>12' : String(d));
      console.log(`node: test accuracy ${nodeAcc.toFixed(2)}%, D90 ${dText(r.summary!.all.d90)}, D99 ${dText(r.summary!.all.d99)}; browser: ${browserAcc}%, D90 ${d90}, D99 ${d99}`);
      // Chromium's Dawn and the npm package's may differ in fma contraction: 2 of 2000 test samples.
      expect(Math.abs(browserAcc - nodeAcc)).toBeLessThanOrEqual(0.1);
      expect(d90).toBe(dText(r.summary!.all.d90));
      expect(d99).toBe(dText(r.summary!.all.d99));
    } finally {
      ctx.destroy();
    }
    await page.close();
  }, 300_000);

  it('stops when the GPU device is lost and resumes from the last snapshot to the same end', async () => {
    const page = await site().browser.newPage();
    const problems = watchConsole(page);
    await page.goto(`${site().url}?epochs=5&seed=5&window-epochs=1&k=4&live-dirs=2&refresh=100000&autostart=1`);
    await waitState(page, ['running'], 90_000);
    // Pause before the analysed window (steps 641–800), then lose the device (as a driver reset
    // would). Snapshots are taken every epoch (160 steps).
    // The page itself watches the step counter and clicks pause: a round trip through Playwright
    // per poll (and its actionability checks) can take seconds when SwiftShader holds both cores.
    await page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const timer = setInterval(() => {
            if (Number(document.getElementById('step')!.textContent) < 170) return;
            clearInterval(timer);
            document.getElementById('pause')!.click();
            resolve();
          }, 10);
        }),
    );
    await waitState(page, ['paused'], 90_000);
    const pausedAt = Number(await page.textContent('#step'));
    console.log(`paused at step ${pausedAt} (pause clicked at ≥ 170)`);
    // However far a busy machine let training run past 170, the run resumes from the last snapshot
    // before the analysed window (steps 641–800), which must be recorded whole.
    expect(pausedAt).toBeLessThan(800);
    const snapshot = Math.min(160 * Math.floor(pausedAt / 160), 640);
    await page.evaluate(() => (window as unknown as { sgdscopeLoseDevice: () => void }).sgdscopeLoseDevice());
    await waitState(page, ['lost'], 90_000);
    expect(await page.isVisible('#lost')).toBe(true);
    expect(await page.textContent('#lost-text')).toMatch(new RegExp(`^the GPU device was lost \\(destroyed[^)]*\\): training stopped at step ${pausedAt}\\. The last snapshot of the weights is from step ${snapshot}\\.$`));
    expect(await page.textContent('#resume-snapshot')).toBe(`resume from the snapshot at step ${snapshot}`);
    await page.click('#resume-snapshot');
    expect(await waitState(page, ['done', 'error'], 120_000)).toBe('done');
    expect(await page.textContent('#status')).toMatch(/completed 800 steps/);
    const browserAcc = Number(await page.textContent('#test-acc'));
    const ctx = await acquireGpu();
    try {
      const data = await loadDataset({ kind: 'mnist10k' });
      const trainer = await Trainer.create(ctx, SEED_MLP, { epochs: 5, lr: 0.1, seed: 5, chunkSteps: 40 }, { train: data.train, test: data.test });
      await trainer.run();
      const nodeAcc = 100 * trainer.history.evals.at(-1)!.test!.accuracy;
      console.log(`device lost and resumed: browser ${browserAcc}%, node (uninterrupted) ${nodeAcc.toFixed(2)}%`);
      expect(Math.abs(browserAcc - nodeAcc)).toBeLessThanOrEqual(0.1);
    } finally {
      ctx.destroy();
    }
    // Only the loss itself may be reported.
    expect(problems.filter((p) => !/lost|destroy/i.test(p))).toEqual([]);
    await page.close();
  }, 240_000);
});

describe('the instruments that are off by default', () => {
  it('are turned on from the URL and fill their panels with no console error', async () => {
    const page = await site().browser.newPage({ viewport: { width: 1500, height: 1300 } });
    const problems = watchConsole(page);
    const keys = new Set(settingKeys());
    const q = new URLSearchParams({ epochs: '1', seed: '2', 'window-epochs': '1', k: '4', 'live-dirs': '2', refresh: '100000' });
    for (const d of OFF) q.set(d.id, 'true');
    for (const [k, v] of Object.entries(CHEAP)) if (keys.has(k)) q.set(k, v);
    q.set('autostart', '1');
    await page.goto(`${site().url}?${q}`);
    await waitState(page, ['running'], 30_000);
    expect(await waitState(page, ['done', 'error'], 240_000)).toBe('done');
    const probe = await page.evaluate(() => (window as unknown as { sgdscope: { panels: Record<string, number> } }).sgdscope);
    console.log(`off by default (${OFF.map((d) => d.id).join(', ')}): panels ${JSON.stringify(probe.panels)}`);
    for (const d of OFF) {
      for (const p of d.panels) expect(probe.panels[p.chart], `panel ${p.chart} has no data`).toBeGreaterThan(0);
      for (const h of d.headline ?? []) expect(await page.textContent(`#${h.id}`), `headline ${h.id}`).toMatch(/\d/);
    }
    expect(problems).toEqual([]);
    await page.close();
  }, 300_000);
});

describe('the dashboard without WebGPU', () => {
  it('explains what is needed instead of a blank page', async () => {
    for (const [why, init] of [
      ['navigator.gpu is missing', () => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined })],
      ['offered no GPU adapter', () => Object.defineProperty(GPU.prototype, 'requestAdapter', { value: async () => null })],
    ] as const) {
      const page = await site().browser.newPage();
      await page.addInitScript(init);
      await page.goto(site().url);
      await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 60_000 });
      expect(await page.isVisible('#nowebgpu')).toBe(true);
      expect(await page.isVisible('#controls')).toBe(false);
      expect(await page.textContent('#nowebgpu-why')).toContain(why);
      expect(await page.textContent('#nowebgpu')).toContain('--enable-unsafe-webgpu');
      await page.close();
    }
  }, 60_000);
});

async function streamBytes(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Buffer));
  return new Uint8Array(Buffer.concat(parts));
}
