/**
 * The dashboard's ensemble option in headless Chromium: with instruments on, `replicas` 3 is
 * refused in the form (naming them); with them off, a short MNIST-10k run of 3 replicas (seeds 5,
 * 6, 7) trains in the engine worker, the loss and accuracy panels hold the mean with a min–max band
 * (the mean inside the band at every point), and each replica's final test accuracy equals the
 * Node Trainer's for its seed trained alone (bit-identity of ensemble replicas, issue 13).
 */
import { describe, expect, it } from 'vitest';
import { useBuiltSite, watchConsole } from './helpers/browser.ts';
import { acquireGpu } from '../src/gpu/device.ts';
import { loadDataset } from '../src/data/index.ts';
import { Trainer } from '../src/train/trainer.ts';
import { SEED_MLP } from '../src/nn/config.ts';
import { instruments } from '../src/instruments/all.ts';
import type { PageProbe } from '../src/ui/probe.ts';

const site = useBuiltSite();

/** A short run: one epoch of 80 steps (B = 100 of MNIST-10k's 8,000 training samples); the switched-off window's 10 epochs do not apply. */
const RUN = { epochs: 1, batch: 100, seed: 5, lr: 0.1, chunk: 40 };
const R = 3;

describe('the dashboard ensemble option in headless Chromium', () => {
  it('refuses instruments, trains 3 replicas with a min–max band, each equal to its seed trained alone in Node', async () => {
    const page = await site().browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const problems = watchConsole(page);

    // Defaults switch instruments on: an ensemble is refused, naming them, until they are off.
    await page.goto(site().url);
    await page.fill('#replicas', String(R));
    // The Feng–Tu window's instruments are taken by an ensemble (tests/browser-ensemble-window).
    const on = instruments().filter((d) => d.dashboardDefault !== false && d.id !== 'pca-window' && d.id !== 'flatness');
    await expect.poll(() => page.textContent('#err-replicas')).toContain(`switch off ${on.map((d) => d.id).join(', ')}`);
    expect(await page.textContent(`#err-${on[0].id}`)).toContain('analyses one network');
    expect(await page.isDisabled('#start')).toBe(true);

    const off = instruments().map((d) => `${d.id}=false`);
    const q = [...Object.entries(RUN).map(([k, v]) => `${k}=${v}`), `replicas=${R}`, ...off, 'autostart=1'].join('&');
    await page.goto(`${site().url}?${q}`);
    expect(await page.evaluate(() => [...document.querySelectorAll('.err')].map((e) => e.textContent).filter(Boolean))).toEqual([]);
    await page.waitForFunction(() => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', null, { timeout: 150_000, polling: 250 });
    const status = await page.textContent('#status');
    await page.screenshot({ path: 'test-results/dashboard-ensemble.png' });
    console.log(`browser: ${status}`);
    expect(status).toMatch(/completed 80 steps.*an ensemble of 3: no final analysis/);

    const got = await page.evaluate(() => {
      const p = (window as unknown as { sgdscope: PageProbe }).sgdscope;
      return { loss: p.chart('loss'), accuracy: p.chart('accuracy'), ensemble: p.ensemble, note: document.querySelector('#panel-accuracy .note')?.textContent ?? '' };
    });
    console.log(`accuracy panel: ${got.note}`);
    for (const chart of [got.loss!, got.accuracy!]) {
      // step, then (mean, min, max) for minibatch, train, test; bands [max, min] of each.
      expect(chart.series).toHaveLength(10);
      expect(chart.bands).toEqual([[3, 2], [6, 5], [9, 8]]);
      expect(chart.data[0]).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
      for (const [mean, lo, hi] of [[1, 2, 3], [4, 5, 6], [7, 8, 9]]) {
        const at = chart.data[0].flatMap((_, i) => (chart.data[mean][i] === null ? [] : [i]));
        expect(at.length).toBeGreaterThan(0);
        for (const i of at) {
          const [m, a, b] = [chart.data[mean][i]!, chart.data[lo][i]!, chart.data[hi][i]!];
          expect(a).toBeLessThanOrEqual(m);
          expect(m).toBeLessThanOrEqual(b);
        }
      }
      // Three different seeds: the band has width.
      expect(chart.data[3][79]! - chart.data[2][79]!).toBeGreaterThan(0);
    }
    expect(got.ensemble?.seeds).toEqual([5, 6, 7]);
    const browserAcc = got.ensemble!.testAccuracies!;

    // Each replica alone, in Node.
    const ctx = await acquireGpu();
    const data = await loadDataset({ kind: 'mnist10k' });
    const nodeAcc: number[] = [];
    for (let r = 0; r < R; r++) {
      const trainer = await Trainer.create(ctx, SEED_MLP, { epochs: 1, lr: RUN.lr, batchSize: RUN.batch, seed: RUN.seed + r, chunkSteps: RUN.chunk }, { train: data.train, test: data.test });
      await trainer.run();
      nodeAcc.push(trainer.history.evals.at(-1)!.test!.accuracy);
    }
    ctx.destroy();
    const pct = (v: number | null): string => (100 * (v ?? NaN)).toFixed(2);
    console.log(`test accuracy per replica: browser ${browserAcc.map(pct).join(', ')}; node alone ${nodeAcc.map(pct).join(', ')}`);
    expect(browserAcc.map(pct)).toEqual(nodeAcc.map(pct));
    expect(problems).toEqual([]);
  }, 300_000);
});
