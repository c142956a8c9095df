/**
 * The kernel lab (lab.html) in headless Debian Chromium (SwiftShader WebGPU): a ladder rung loaded
 * from the bench's list, validated against the CPU reference and timed beside sgdscope's
 * production kernel and tfjs-webgpu on the lab's own device, exported in the bench results format;
 * an off-by-one store reported as a mismatch at its position; a syntax error typed into the editor
 * reported at its line and column; a kernel that never ends stopped by the loop guard; a lost
 * device replaced by a new one; and the experiment carried by a link to a fresh page. Every wait
 * is for a state of the page, with generous timeouts; no timing is asserted.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useBuiltSite } from './helpers/browser.ts';
import type { LabResult, LabSpec } from '../src/kernel-lab/protocol.ts';
import type { BenchResult } from '../bench/core/report.ts';

let page: Page;
const problems: string[] = [];

const site = useBuiltSite();

const ENDED = ['done', 'invalid', 'failed', 'lost', 'error'];

async function state(p: Page, states: string[], timeout: number): Promise<string> {
  await p.waitForFunction((s) => s.includes(document.body.dataset.state ?? ''), states, { timeout, polling: 250 });
  return (await p.evaluate(() => document.body.dataset.state)) as string;
}

const lab = (p: Page) => ({
  source: () => p.evaluate(() => window.sgdscopeLab!.source()),
  setSource: (text: string) => p.evaluate((t) => window.sgdscopeLab!.setSource(t), text),
  spec: () => p.evaluate(() => window.sgdscopeLab!.spec()) as Promise<LabSpec>,
  result: () => p.evaluate(() => window.sgdscopeLab!.result()) as Promise<LabResult | null>,
});

async function open(url: string): Promise<Page> {
  const p = await site().browser.newPage({ viewport: { width: 1500, height: 1150 } });
  p.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await p.goto(url);
  await state(p, ['ready'], 60_000);
  await p.waitForFunction(() => window.sgdscopeLab!.source().length > 0, null, { timeout: 30_000 });
  return p;
}

/** Runs (validate only, or validate and time) and waits for the page to say how it ended. */
async function run(p: Page, button: '#run' | '#validate', timeout = 240_000): Promise<string> {
  await p.click(button);
  await state(p, ['running', ...ENDED], 10_000);
  return state(p, ENDED, timeout);
}

async function download(p: Page, button: string): Promise<string> {
  const [d] = await Promise.all([p.waitForEvent('download'), p.click(button)]);
  const parts: Buffer[] = [];
  for await (const c of await d.createReadStream()) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts).toString('utf8');
}

describe('the kernel lab in headless Chromium', () => {
  it('loads a ladder rung, validates it and times it beside sgdscope and tfjs-webgpu', async () => {
    page = await open(`${site().url}lab.html`);
    // Odd sizes, then rung 0 from the bench's ladder list.
    for (const [k, v] of [['M', '37'], ['K', '61'], ['N', '29']]) await page.fill(`#param-${k}`, v);
    await page.selectOption('#start', 'rung0');
    await page.click('#load');
    await page.waitForFunction(() => window.sgdscopeLab!.source().includes('matmul ladder rung 0'), null, { timeout: 30_000 });
    await page.waitForFunction(() => (document.getElementById('grid-x') as HTMLInputElement).value === 'ceil(N / WG_X)', null, { timeout: 30_000 });
    await page.check('#quick');
    expect(await run(page, '#run')).toBe('done');
    const r = (await lab(page).result())!;
    const [mine, auto, tfjs] = r.bench.rows;
    console.log(`lab: ${await page.textContent('#status')}`);
    expect(mine.variant).toBe('lab: your kernel (main)');
    expect(mine.check).toMatch(/^ok/);
    expect(mine.shape).toBe('37x61x29');
    expect(mine.ms).toBeGreaterThan(0);
    expect(mine.gflops).toBeGreaterThan(0);
    expect(mine.peakPct).toBeGreaterThan(0);
    expect(auto.variant).toMatch(/^5: auto/);
    expect(auto.check).toMatch(/^ok/);
    expect(tfjs.variant).toMatch(/^tfjs-webgpu/);
    expect(tfjs.check).toMatch(/^ok/);
    expect(mine.vsPeer?.peer).toBe('tfjs-webgpu');
    expect(r.ratios.map((x) => x.label)).toEqual([`sgdscope ${auto.variant}`, tfjs.variant]);
    expect(r.ratios.every((x) => x.ratio > 0)).toBe(true);
    expect(await page.locator('#results tbody tr').count()).toBe(3);
    // The result in the bench results format, and as CSV.
    const json = JSON.parse(await download(page, '#export-json')) as BenchResult;
    expect(json.runtime).toBe('browser');
    expect(json.rows.map((x) => x.variant)).toEqual(r.bench.rows.map((x) => x.variant));
    expect(json.peaks.fmaGflops).toBeGreaterThan(0);
    expect((json.options.lab as LabSpec).source).toBe(await lab(page).source());
    const csv = (await download(page, '#export-csv')).trim().split('\n');
    expect(csv[0]).toBe('kernel,variant,shape,ms,wallMs,timer,flops,bytes,gflops,gbs,peakPct,bound,check,vs_peer,vs_peer_ratio');
    expect(csv).toHaveLength(4);
    expect(await page.textContent('#rung-steps')).toContain("shader: 'bench_matmul_mine'");
    await page.screenshot({ path: 'test-results/kernel-lab.png' });
  }, 300_000);

  it('reports an off-by-one store as a mismatch at its position', async () => {
    const good = await lab(page).source();
    const store = '  y[r * N + c] = activate(acc);';
    expect(good).toContain(store);
    await lab(page).setSource(good.replace(store, '  y[r * N + c + 1u] = activate(acc);'));
    expect(await run(page, '#validate')).toBe('invalid');
    const text = await page.textContent('#messages');
    // Column 0 of every row is never written (NaN); the rest is shifted by one.
    expect(text).toMatch(/y: mismatch in \d+ of 1073 values/);
    expect(text).toMatch(/y\[0, 0\]\s+got NaN/);
    expect(await page.textContent('#status')).toMatch(/^the kernel is wrong: FAIL: y:/);
    await lab(page).setSource(good);
  }, 120_000);

  it('shows a syntax error typed into the editor at its line and column', async () => {
    const lines = (await lab(page).source()).split('\n').length;
    await page.click('.cm-content');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('\nfn broken( {');
    expect(await run(page, '#validate')).toBe('invalid');
    const first = (await page.locator('#messages .msg').first().textContent())!;
    expect(first).toMatch(new RegExp(`^kernel\\.wgsl:${lines + 1}:\\d+: error: `));
    expect(await page.textContent('#status')).toMatch(/^the kernel does not compile/);
    // The message is also drawn in the editor, at that line.
    await page.waitForSelector('.cm-lintRange-error', { timeout: 10_000 });
    await page.keyboard.press('Control+z');
    await page.waitForFunction((n) => window.sgdscopeLab!.source().split('\n').length === n, lines, { timeout: 10_000 });
  }, 120_000);

  it('stops a kernel that never ends with the loop guard, then runs on', async () => {
    const good = await lab(page).source();
    const loop = 'for (var k = 0u; k < K; k++) {';
    expect(good).toContain(loop);
    await lab(page).setSource(good.replace(loop, 'for (var k = 0u; k < K; k = k * 2u) {'));
    expect(await run(page, '#validate', 120_000)).toBe('invalid');
    expect(await page.textContent('#messages')).toContain('a loop ran past its guard');
    await lab(page).setSource(good);
    expect(await run(page, '#validate')).toBe('done');
  }, 240_000);

  it('reports a lost device and continues on a new one', async () => {
    await page.evaluate(() => window.sgdscopeLab!.loseDevice());
    await state(page, ['lost'], 30_000);
    expect(await page.isVisible('#lost')).toBe(true);
    expect(await page.textContent('#lost-text')).toMatch(/^the GPU device was lost/);
    await page.click('#new-device');
    await state(page, ['ready'], 60_000);
    expect(await run(page, '#validate')).toBe('done');
  }, 180_000);

  it('carries the experiment in a link to a fresh page', async () => {
    await page.fill('#ov-WG_X', '8');
    await page.selectOption('#param-act', 'tanh');
    await page.click('#share');
    // The link is compressed asynchronously (CompressionStream): wait for it, never race it.
    await page.waitForFunction(() => /#k=/.test((document.querySelector('#share-url') as HTMLInputElement).value), null, { timeout: 60_000 });
    const url = await page.inputValue('#share-url');
    expect(url).toMatch(/lab\.html#k=[A-Za-z0-9_-]+$/);
    const before = await lab(page).spec();
    expect(before.overrides.WG_X).toBe(8);
    const other = await open(url);
    const after = await lab(other).spec();
    expect(after).toEqual(before);
    expect(await other.inputValue('#param-M')).toBe('37');
    expect(await other.inputValue('#ov-WG_X')).toBe('8');
    // The same experiment runs there: the kernel with the shared overrides, tanh, at 37x61x29.
    expect(await run(other, '#validate')).toBe('done');
    expect((await lab(other).result())!.bench.notes.join(' ')).toContain('grid (4, 3, 1)');
    await other.close();
    await page.close();
    expect(problems.filter((p) => !/lost|destroy/i.test(p))).toEqual([]);
  }, 180_000);
});
