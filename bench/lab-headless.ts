/**
 * `npm run bench:lab` — the kernel lab (lab.html) driven in headless Debian Chromium over the
 * matmul ladder's shapes, as a user would: at each shape the production rung is loaded as "your
 * kernel", every rung of the ladder is ticked under "compare with" (and tfjs-webgpu), and the lab
 * validates and times them all in one session. Prints the lab's GFLOP/s per rung and shape; with
 * --compare <bench results .json> (e.g. from `npm run bench:browser -- --only matmul`) also the
 * benchmark's, and lab / bench per cell: the two must agree within noise.
 *
 *   npm run bench:lab -- [--compare bench/results/<file>.json] [--quick] [--shapes 50x784x50,512x784x256]
 *                        [--screenshot docs/kernel-lab.png]   (the page after the last shape)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serveBuiltSite } from '../tests/helpers/browser.ts';
import { ALL_SHAPES, shapeLabel } from './suites/dense.ts';
import { fmt, type BenchResult, type Row } from './core/report.ts';
import type { LabResult } from '../src/kernel-lab/protocol.ts';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (flag: string): string | undefined => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const only = arg('--shapes')?.split(',');
  const shapes = ALL_SHAPES.filter((s) => !only || only.includes(shapeLabel(s)));
  const bench = arg('--compare') ? (JSON.parse(readFileSync(arg('--compare')!, 'utf8')) as BenchResult) : null;
  const site = await serveBuiltSite();
  const rows: Row[] = [];
  try {
    const page = await site.browser.newPage({ viewport: { width: 1500, height: 1100 } });
    page.on('pageerror', (e) => console.error(`pageerror: ${e.message}`));
    await page.goto(`${site.url}lab.html`);
    await page.waitForFunction(() => document.body.dataset.state === 'ready' && window.sgdscopeLab!.source().length > 0, null, { timeout: 120_000 });
    console.log(`Chromium ${site.browser.version()}: ${await page.textContent('#adapter')}`);
    for (const s of shapes) {
      for (const [k, v] of [['M', s.m], ['K', s.k], ['N', s.n]] as const) await page.fill(`#param-${k}`, String(v));
      await page.selectOption('#param-act', s.act);
      await page.click('#load');
      await page.waitForTimeout(1000);
      for (const box of await page.locator('#compare input[data-compare]').all()) await box.check();
      await page.setChecked('#quick', argv.includes('--quick'));
      await page.click('#run');
      await page.waitForFunction(() => ['done', 'invalid', 'failed', 'lost', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 40 * 60_000, polling: 1000 });
      const r = (await page.evaluate(() => window.sgdscopeLab!.result())) as LabResult | null;
      console.log(`${shapeLabel(s)}: ${await page.textContent('#status')}`);
      if (r) rows.push(...r.bench.rows);
    }
    if (arg('--screenshot')) await page.screenshot({ path: arg('--screenshot')! });
  } finally {
    await site.close();
  }
  const rungs = [...new Set(rows.filter((r) => /^\d+:/.test(r.variant)).map((r) => r.variant.replace(/^(\d+): (\S+).*/, '$1: $2')))];
  const cell = (list: Row[], rung: string, shape: string): Row | undefined =>
    list.find((r) => r.kernel === 'dense_forward' && r.shape === shape && r.variant.startsWith(`${rung.split(':')[0]}:`));
  const labels = shapes.map(shapeLabel);
  console.log(`\nGFLOP/s (lab${bench ? ' | bench | lab / bench' : ''})`);
  console.log(`| rung | ${labels.join(' | ')} |\n|---|${labels.map(() => '---').join('|')}|`);
  for (const rung of rungs) {
    const cells = labels.map((shape) => {
      const l = cell(rows, rung, shape);
      const b = bench ? cell(bench.rows, rung, shape) : undefined;
      if (!l?.gflops) return l?.check.slice(0, 20) ?? '-';
      return bench ? `${fmt(l.gflops)} \\| ${fmt(b?.gflops)} \\| ${b?.gflops ? `${fmt(l.gflops / b.gflops)}×` : '-'}` : fmt(l.gflops);
    });
    console.log(`| ${rung} | ${cells.join(' | ')} |`);
  }
  const tf = labels.map((shape) => rows.find((r) => r.shape === shape && r.variant.startsWith('tfjs-webgpu')));
  console.log(`| tfjs-webgpu | ${tf.map((r) => (r?.gflops ? fmt(r.gflops) : '-')).join(' | ')} |`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
