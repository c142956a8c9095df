/**
 * The dashboard's "curvature and generalisation" experiments (issue 6) in headless Chromium
 * (SwiftShader WebGPU), each at a small size:
 *  - a form refuses a bad value inline, naming the field and the allowed range, and the run
 *    button waits until it is fixed;
 *  - the toy landscape, a sweep, an AWD run and the batch-increase schedules on the worker's side device give the same headline
 *    numbers as the same request run in Node (src/experiments/dashboard-runner.ts on npm Dawn), and every
 *    figure has data; the sweep's run folder exports as a zip with the CLI's files;
 *  - the Hessian of the network being trained, computed beside training from its last snapshot;
 *  - a charts.json of a CLI run folder opened in the viewer is drawn;
 *  - no console error or warning. Screenshot: test-results/dashboard-experiments.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Page } from 'playwright-core';
import { serveBuiltSite, type ServedPage } from './helpers/browser.ts';
import { useGpu } from './helpers/gpu.ts';
import { loadDataset } from '../src/data/index.ts';
import { runExperiment, type ExperimentEnv, type ExperimentRun } from '../src/experiments/dashboard-runner.ts';
import { defaultValues, formatValue, type ExperimentKind, type ExperimentValues } from '../src/experiments/dashboard-settings.ts';
import type { ExperimentProbe } from '../src/ui/experiment-panels.ts';
import { DEFAULT_SETTINGS, runSpecOf } from '../src/experiments/dashboard/run-settings.ts';

const ctx = useGpu();
let site: ServedPage;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  site = await serveBuiltSite();
  page = await site.browser.newPage({ viewport: { width: 1500, height: 1300 }, acceptDownloads: true });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.stack ?? e.message}`));
  await page.goto(site.url);
  await page.waitForFunction(() => (window as unknown as { sgdscope: { experiments: unknown } }).sgdscope.experiments !== null, undefined, { timeout: 90_000 });
}, 120_000);

afterAll(async () => {
  await site?.close();
});

const probeOf = (page: Page, kind: ExperimentKind): Promise<ExperimentProbe> =>
  page.evaluate((k) => (window as unknown as { sgdscope: { experiments: Record<string, ExperimentProbe> } }).sgdscope.experiments[k], kind);

/** Fills the form, runs it in the page, waits for the result. */
async function runInPage(kind: ExperimentKind, values: ExperimentValues, timeout: number): Promise<ExperimentProbe> {
  for (const [k, v] of Object.entries(values)) if (typeof v !== 'boolean') await page.fill(`#exp-${kind}-${k}`, formatValue(v));
  await page.click(`#exp-${kind}-run`);
  await page.waitForFunction((k) => ['done', 'error'].includes((window as unknown as { sgdscope: { experiments: Record<string, ExperimentProbe> } }).sgdscope.experiments[k].state), kind, { timeout, polling: 250 });
  const p = await probeOf(page, kind);
  expect(p.error, `${kind} failed in the page`).toBeNull();
  for (const [id, n] of Object.entries(p.figures)) expect(n, `${kind} figure ${id} is empty`).toBeGreaterThan(0);
  return p;
}

/** The same request in Node, on the dashboard's default data settings. */
async function runInNode(kind: ExperimentKind, values: ExperimentValues): Promise<ExperimentRun> {
  const spec = runSpecOf(DEFAULT_SETTINGS);
  const env: ExperimentEnv = {
    ctx: ctx(),
    model: spec.model,
    train: spec.train,
    progress: () => {},
    network: () => Promise.reject(new Error('no run in Node')),
    data: async (trainSize, testSize) => {
      const l = await loadDataset({ ...spec.data, trainSize, ...(testSize !== null ? { testSize } : {}) } as typeof spec.data);
      return { train: l.train, test: l.test, spec: l.spec, trainIndices: l.trainIndices, testIndices: l.testIndices };
    },
  };
  return runExperiment({ kind, values }, env);
}

describe('the curvature-and-generalisation experiments of the dashboard', () => {
  it('refuses a bad value inline with the allowed range', async () => {
    await page.fill('#exp-sweep-lrs', '0.1,20');
    await expect.poll(() => page.textContent('#err-exp-sweep-lrs')).toBe('sweep.lrs must be a list (at most 10) of numbers, each in (0, 10], got 20');
    expect(await page.isEnabled('#exp-sweep-run')).toBe(false);
    // A cross-field rule: the sharp end of the valley must stay stable (lr·λ_max < 2).
    await page.fill('#exp-toy-lr', '0.3');
    await expect.poll(() => page.textContent('#err-exp-toy-lr')).toMatch(/^toy\.lr must be below 2\/λ_max = 0\.250/);
    await page.fill('#exp-toy-lr', '0.05');
    await page.fill('#exp-sweep-lrs', '0.1,0.4');
    await expect.poll(() => page.textContent('#err-exp-sweep-lrs')).toBe('');
    expect(await page.isEnabled('#exp-sweep-run')).toBe(true);
  });

  it('toy landscape: the walkers in the page equal the walkers in Node', async () => {
    const values = { ...defaultValues('toy'), walkers: 1024, steps: 2400 };
    const p = await runInPage('toy', values, 180_000);
    const node = await runInNode('toy', values);
    console.log(`toy: page ${p.outcome!.seconds.toFixed(1)} s, ${JSON.stringify(p.outcome!.numbers)}; node ${JSON.stringify(node.outcome.numbers)}`);
    expect(p.outcome!.numbers.walkerSteps).toBe(node.outcome.numbers.walkerSteps);
    expect(p.outcome!.numbers.meanX).toBeCloseTo(node.outcome.numbers.meanX!, 5);
    expect(Object.keys(p.figures).sort()).toEqual(node.outcome.charts.map((c) => c.id).sort());
  }, 240_000);

  it('sweep: the same test accuracies as in Node, the phase heat map, and the run folder', async () => {
    // Dropout too: its mask comes from the counter-based RNG on the GPU, so page and Node agree.
    const values = { lrs: [0.1, 0.4], batches: [50], 'weight-decays': [0], dropouts: [0, 0.2], seeds: [1], epochs: 2, 'train-size': 500, 'sharpness-k': 2 };
    const p = await runInPage('sweep', values, 240_000);
    const node = await runInNode('sweep', values);
    console.log(`sweep: page ${JSON.stringify(p.outcome!.numbers)}; node ${JSON.stringify(node.outcome.numbers)}; ${p.outcome!.summary.join(' | ')}`);
    expect(Object.keys(p.outcome!.numbers)).toEqual(Object.keys(node.outcome.numbers));
    // Chromium's Dawn and the npm package's may contract FMAs differently: a few of 2000 test samples.
    for (const [k, v] of Object.entries(node.outcome.numbers)) expect(Math.abs(p.outcome!.numbers[k]! - v!), k).toBeLessThanOrEqual(0.003);
    expect(Object.keys(p.outcome!.numbers)).toContain('test@lr=0.4,B=50,dropout=0.2,seed=1');
    expect(p.figures['norm-vs-dropout']).toBeGreaterThan(0);
    expect(p.figures['phase-heatmap']).toBe(2);
    const [zip] = await Promise.all([page.waitForEvent('download'), page.click('#exp-sweep-export')]);
    expect(zip.suggestedFilename()).toMatch(/-sweep\.zip$/);
    const chunks: Buffer[] = [];
    for await (const c of await zip.createReadStream()) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('latin1');
    for (const f of ['runs.csv', 'sharpness.npy', 'charts.json', 'report.html']) expect(text, `run folder lacks ${f}`).toContain(`-sweep/${f}`);
  }, 300_000);

  it('activity–weight duality: the sharpness and size factors equal Node\'s', async () => {
    const values = { lrs: [0.1], batches: [25], 'weight-decays': [0], 'train-size': 300, 'max-epochs': 4 };
    const p = await runInPage('awd', values, 240_000);
    const node = await runInNode('awd', values);
    console.log(`awd: page ${JSON.stringify(p.outcome!.numbers)}; node ${JSON.stringify(node.outcome.numbers)}`);
    for (const [k, v] of Object.entries(node.outcome.numbers)) expect(p.outcome!.numbers[k]! / v!, k).toBeCloseTo(1, 3);
  }, 300_000);

  it('batch increase: the three schedules in the page equal Node\'s (update counts exactly)', async () => {
    // The card's default: 1,000 samples, B 25 → 50 → 100 vs lr 0.1 → 0.05 → 0.025 at epochs 2 and 4 of 6.
    const values = defaultValues('batch-increase');
    const p = await runInPage('batch-increase', values, 120_000);
    const node = await runInNode('batch-increase', values);
    console.log(`batch-increase: page ${p.outcome!.seconds.toFixed(1)} s, ${JSON.stringify(p.outcome!.numbers)}; node ${JSON.stringify(node.outcome.numbers)}`);
    expect(Object.keys(p.outcome!.numbers)).toEqual(Object.keys(node.outcome.numbers));
    expect([p.outcome!.numbers['updates@decay-lr'], p.outcome!.numbers['updates@increase-batch'], p.outcome!.numbers['updates@constant']]).toEqual([240, 140, 240]);
    // Chromium's Dawn and the npm package's may contract FMAs differently: a few of 2000 test samples.
    for (const [k, v] of Object.entries(node.outcome.numbers)) expect(Math.abs(p.outcome!.numbers[k]! - v!), k).toBeLessThanOrEqual(k.startsWith('updates@') ? 0 : 0.003);
    expect(Object.keys(p.figures).sort()).toEqual(['noise-scale', 'test-vs-epoch', 'test-vs-updates', 'train-loss-vs-epoch']);
  }, 180_000);

  it('Hessian of the network being trained, beside training, from its last snapshot', async () => {
    await page.click('#start');
    // The first snapshot is taken after one epoch (160 steps of the seed setting).
    await page.waitForFunction(() => (window as unknown as { sgdscope: { chunks: { lastStep: number } } }).sgdscope.chunks.lastStep >= 200, undefined, { timeout: 90_000, polling: 250 });
    const p = await runInPage('hessian', { layers: [1], k: 5, samples: 1000, probes: 2, steps: 20 }, 240_000);
    const n = p.outcome!.numbers;
    console.log(`hessian: ${p.outcome!.seconds.toFixed(1)} s; ${p.outcome!.summary.join(' | ')}`);
    expect(n.step).toBeGreaterThanOrEqual(160);
    expect(n.step! % 160).toBe(0);
    expect(n.lambda1!).toBeGreaterThan(0);
    // Lanczos' λ1 is at most the trace of a (here positive semi-definite, Gauss–Newton) block.
    expect(n.lambda1!).toBeLessThan(n.trace!);
    expect(Object.keys(p.figures)).toEqual(expect.arrayContaining(['top', 'density', 'eig', 'diag']));
    await page.click('#stop');
  }, 360_000);

  it('draws a charts.json from a CLI run folder', async () => {
    const run = await runInNode('sweep', { lrs: [0.2], batches: [50], 'weight-decays': [0], dropouts: [0], seeds: [1], epochs: 1, 'train-size': 200, 'sharpness-k': 1 });
    const files = run.files({ uplotJs: '', uplotCss: '' }, { name: 'node', description: '', runtime: 'node' });
    const dir = join(tmpdir(), `sgdscope-charts-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'charts.json'), files.get('charts.json') as string);
    await page.setInputFiles('#open-charts', join(dir, 'charts.json'));
    await page.waitForFunction(() => Object.keys((window as unknown as { sgdscope: { experiments: { open: { figures: object } } } }).sgdscope.experiments.open.figures).length > 0, undefined, { timeout: 60_000 });
    const open = await page.evaluate(() => (window as unknown as { sgdscope: { experiments: { open: { figures: Record<string, number>; error: string | null } } } }).sgdscope.experiments.open);
    expect(open.error).toBeNull();
    expect(open.figures['f0-phase-heatmap']).toBe(1);
    expect(Object.keys(open.figures)).toEqual(expect.arrayContaining(['f0-testAccuracy-vs-g', 'f0-gapLoss-vs-g']));
    await page.screenshot({ path: 'test-results/dashboard-experiments.png', fullPage: true });
    expect(problems).toEqual([]);
  }, 120_000);
});
