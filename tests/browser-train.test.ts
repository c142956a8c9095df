/**
 * The training page in a real browser: headless Chromium loads the built index.html, trains the
 * seed network for one epoch on MNIST-10k in the engine worker, and must report the same test
 * accuracy as the Node engine for the same seed and settings (same WGSL, same data, same RNG).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveBuiltSite, type ServedPage } from './helpers/browser.ts';
import { acquireGpu } from '../src/gpu/device.ts';
import { loadDataset } from '../src/data/index.ts';
import { Trainer } from '../src/train/trainer.ts';
import { SEED_MLP } from '../src/nn/config.ts';

let site: ServedPage;

beforeAll(async () => {
  site = await serveBuiltSite();
}, 120_000);

afterAll(async () => {
  await site?.close();
});

describe('index.html in headless Chromium', () => {
  it('trains one epoch with no console errors and matches the Node engine', async () => {
    const page = await site.browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(site.url);
    expect(await page.evaluate(async () => !!(await navigator.gpu?.requestAdapter()))).toBe(true);
    await page.fill('#epochs', '1');
    await page.fill('#seed', '3');
    // The dashboard also analyses the last window-epochs of the run: one epoch, few components.
    await page.fill('#window-epochs', '1');
    await page.fill('#k', '4');
    await page.fill('#live-dirs', '2');
    await page.click('#start');
    await page.waitForFunction(() => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', null, { timeout: 90_000 });
    const status = await page.textContent('#status');
    const browserAcc = Number(await page.textContent('#test-acc'));
    await page.screenshot({ path: 'test-results/browser-train.png' });
    console.log(`browser: ${status}; test accuracy ${browserAcc}%`);
    expect(status).toMatch(/completed 160 steps/);

    // The same run in Node.
    const ctx = await acquireGpu();
    const data = await loadDataset({ kind: 'mnist10k' });
    const trainer = await Trainer.create(ctx, SEED_MLP, { epochs: 1, lr: 0.1, seed: 3, chunkSteps: 40 }, { train: data.train, test: data.test });
    await trainer.run();
    const nodeAcc = 100 * trainer.history.evals.at(-1)!.test!.accuracy;
    ctx.destroy();
    console.log(`node: test accuracy ${nodeAcc.toFixed(2)}%`);
    // Chromium's Dawn and the npm package's Dawn may differ in fma contraction: allow 2 of 2000
    // test samples to flip, no more.
    expect(Math.abs(browserAcc - nodeAcc)).toBeLessThanOrEqual(0.1);
    expect(browserAcc).toBeGreaterThan(70);
    expect(problems).toEqual([]);
  }, 180_000);
});
