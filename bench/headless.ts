/**
 * `npm run bench:browser` — the bench page (bench/index.html) in headless Debian Chromium
 * (playwright-core, never a downloaded browser): Vite builds the site, serves it on 127.0.0.1, the
 * page runs the same suite as `npm run bench` on Chromium's WebGPU adapter (SwiftShader here), and
 * its result is written to bench/results/<date>-<adapter>-chromium.{json,md}. Takes the same
 * options as bench/node.ts.
 */
import { fileURLToPath } from 'node:url';
import { serveBuiltSite } from '../tests/helpers/browser.ts';
import type { BenchOptions } from './suite.ts';
import { formatHeader, type BenchResult } from './core/report.ts';
import { writeResults } from './core/files.ts';
import { parseArgs } from './core/args.ts';

export async function runHeadless(opts: Partial<BenchOptions>, o: { out: string; write: boolean; screenshot?: string; timeoutMs?: number }): Promise<number> {
  console.log('\n# the same suite in headless Chromium (building the site…)');
  const site = await serveBuiltSite();
  try {
    const page = await site.browser.newPage({ viewport: { width: 1500, height: 1000 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      const t = m.text();
      if (m.type() === 'error') errors.push(t);
      if (m.type() === 'log' || m.type() === 'error') console.log(t);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    const url = `${site.url}bench/index.html?auto=1&opts=${encodeURIComponent(JSON.stringify(opts))}`;
    const version = site.browser.version();
    console.log(`Chromium ${version}: ${url}`);
    console.log(formatHeader());
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', null, { timeout: o.timeoutMs ?? 30 * 60_000, polling: 1000 });
    if (o.screenshot) await page.screenshot({ path: o.screenshot, fullPage: true });
    const state = await page.evaluate(() => document.body.dataset.state);
    if (state !== 'done') {
      console.error(`bench page failed: ${await page.evaluate(() => window.__benchError ?? '?')}`);
      return 1;
    }
    const res = (await page.evaluate(() => window.__benchResult)) as BenchResult;
    res.userAgent = `Chromium ${version} (headless), ${res.userAgent}`;
    console.log(`\n${res.rows.length} rows in ${res.seconds.toFixed(0)} s`);
    if (o.write) {
      const f = writeResults(res, o.out);
      console.log(`wrote ${f.json}\n      ${f.md}`);
    }
    const failed = res.rows.filter((r) => r.check.startsWith('FAIL'));
    if (failed.length) {
      console.error(`${failed.length} correctness check(s) FAILED in Chromium`);
      return 1;
    }
    return 0;
  } finally {
    await site.close();
  }
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2).filter((a) => a !== '--browser'));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  process.exitCode = await runHeadless(args.opts, { out: args.out, write: args.write, screenshot: process.env.BENCH_SCREENSHOT });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
