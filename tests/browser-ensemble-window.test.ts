/**
 * The dashboard ensemble's Feng–Tu figures in headless Chromium (issue 13): replicas 2 (seeds 5, 6)
 * with pca-window and flatness on, 160 MNIST-10k steps, a one-epoch window (80 steps) and k = 8.
 * The form accepts it; after training each replica's window is analysed in the engine worker and
 * the page draws the spectrum and variance–flatness charts with ± SE bars (every bar asked for is
 * inside the plot) and ψ per seed. Each seed's D99 equals, and ψ and r agree to 1e-9 relative with,
 * those of `reproduce feng-tu --replicas`'s own path (runFengTuEnsemble) on the same window in
 * Node; the page's mean ± SE is spread() of its per-seed ψ and agrees with that of Node's. No
 * timing: the test waits for states.
 */
import { describe, expect, it } from 'vitest';
import { useBuiltSite, watchConsole } from './helpers/browser.ts';
import { acquireGpu } from '../src/gpu/device.ts';
import { loadDataset } from '../src/data/index.ts';
import { loadReportAssets } from '../src/analysis/report/assets.ts';
import { instruments } from '../src/instruments/all.ts';
import { runFengTuEnsemble } from '../src/experiments/feng-tu/ensemble.ts';
import { spread } from '../src/experiments/feng-tu/seeds.ts';
import { DEFAULT_SETTINGS, runSpecOf, type DashSettings } from '../src/experiments/dashboard/run-settings.ts';
import { labSettingsOf } from '../src/experiments/dashboard/final-window.ts';
import { ensembleLabOptions, ensembleWindowPlan } from '../src/experiments/dashboard/ensemble-window.ts';
import { paramLayout } from '../src/nn/params.ts';
import type { PageProbe } from '../src/ui/probe.ts';

const site = useBuiltSite();

const RUN = { epochs: 2, batch: 100, seed: 5, lr: 0.1, chunk: 40, 'window-epochs': 1, k: 8 };
const R = 2;
const SEEDS = [5, 6];

describe('the dashboard ensemble\'s Feng–Tu figures in headless Chromium', () => {
  it('draws σ² and variance–flatness with ± SE bars across 2 seeds; per-seed ψ equal the CLI ensemble path in Node', async () => {
    const page = await site().browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const problems = watchConsole(page);
    const on = (id: string): boolean => id === 'pca-window' || id === 'flatness';
    const q = [...Object.entries(RUN).map(([k, v]) => `${k}=${v}`), `replicas=${R}`, ...instruments().map((d) => `${d.id}=${on(d.id)}`), 'autostart=1'].join('&');
    await page.goto(`${site().url}?${q}`);
    expect(await page.evaluate(() => [...document.querySelectorAll('.err')].map((e) => e.textContent).filter(Boolean))).toEqual([]);
    await page.waitForFunction(() => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', null, { timeout: 400_000, polling: 500 });
    const status = await page.textContent('#status');
    console.log(`browser: ${status}`);
    expect(status).toMatch(/completed 160 steps.*Feng–Tu across 2 seeds: ψ = /);
    // The bars are drawn at the next animation frames: wait for them.
    await page.waitForFunction(() => {
      const w = (window as unknown as { sgdscope: PageProbe }).sgdscope.ensembleWindow();
      return !!w && Object.keys(w.barsWanted).length === 3 && Object.entries(w.barsWanted).every(([id, n]) => w.bars[id] === n);
    }, null, { timeout: 60_000, polling: 250 });
    await page.screenshot({ path: 'test-results/dashboard-ensemble-window.png', fullPage: true });
    const got = await page.evaluate(() => ({ w: (window as unknown as { sgdscope: PageProbe }).sgdscope.ensembleWindow()!, table: document.querySelector('#panel-ensemble-window')?.textContent ?? '' }));
    console.log(`bars drawn per chart: ${JSON.stringify(got.w.bars)}; ${got.w.note}`);
    expect(got.w.seeds).toEqual(SEEDS);
    expect(got.w.note).toContain('the last 80 steps, every step');
    // σ² at k = 8 ranks; variance–flatness at the 7 analysed PCs past PC1; ψ of 2 seeds.
    expect(got.w.barsWanted).toEqual({ 'ensemble-spectrum': 8, 'ensemble-variance-flatness': 7, 'ensemble-psi': 2 });

    // The same seeds and window through the CLI's ensemble path, in Node.
    const s: DashSettings = { ...DEFAULT_SETTINGS, ...RUN, replicas: R, ...Object.fromEntries(instruments().map((d) => [d.id, on(d.id)])) };
    const spec = runSpecOf(s);
    const lab = labSettingsOf(spec.instruments.values);
    const plan = ensembleWindowPlan(R, paramLayout(spec.model).layers[lab.layer].size, 80);
    const ctx = await acquireGpu();
    const data = await loadDataset({ kind: 'mnist10k' });
    const ref = await runFengTuEnsemble(ctx, { model: spec.model, train: spec.train, data: spec.data, options: ensembleLabOptions(lab, plan), seeds: SEEDS }, SEEDS, { train: data.train, test: data.test }, await loadReportAssets(), { data: spec.data, adapter: { name: 'node' } as never });
    ctx.destroy();
    const psi = ref.map((r) => r.record.psi as number);
    // The weights are the same bits (WebGPU in both); the page's PCA and fit run in Chromium's V8,
    // whose Math.log/exp may differ from Node's in the last bit: equal to 1e-9 relative, not bitwise.
    const rel = got.w.psi.map((v, i) => Math.abs((v as number) - psi[i]) / Math.abs(psi[i]));
    console.log(`ψ per seed: browser ${got.w.psi.join(', ')}; node ${psi.join(', ')}; max relative difference ${Math.max(...rel).toExponential(1)}`);
    expect(psi.every((v) => Number.isFinite(v))).toBe(true);
    for (const d of rel) expect(d).toBeLessThan(1e-9);
    expect(got.w.d99).toEqual(ref.map((r) => r.record.d99));
    got.w.r.forEach((v, i) => expect(Math.abs((v as number) - (ref[i].record.r as number))).toBeLessThan(1e-9));
    // The page's mean ± SE is spread() of its per-seed ψ, and agrees with the Node values' spread.
    const onPage = spread(got.w.psi)!;
    const want = spread(psi)!;
    expect(got.w.spread.psi).toEqual(onPage);
    expect(Math.abs(onPage.mean - want.mean)).toBeLessThan(1e-9 * Math.abs(want.mean));
    expect(Math.abs(onPage.se - want.se)).toBeLessThan(1e-9 * want.se);
    expect(got.w.spread.d99).toEqual(spread(ref.map((r) => r.record.d99)));
    expect(Math.abs(got.w.spread.r!.mean - spread(ref.map((r) => r.record.r))!.mean)).toBeLessThan(1e-9);
    expect(got.table).toContain(`${onPage.mean.toFixed(3)} ± ${onPage.se.toFixed(3)}`);
    expect(problems).toEqual([]);
  }, 600_000);
});
