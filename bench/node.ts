/**
 * `npm run bench` — the benchmark suite in Node on Dawn (npm `webgpu`), printed as a table and
 * written to bench/results/<date>-<adapter>.json and .md. With --browser, the same suite then runs
 * in headless Chromium (bench/headless.ts) and writes its own pair of files.
 *
 *   npm run bench -- --help
 */
import { fileURLToPath } from 'node:url';
import { acquireGpu } from '../src/gpu/device.ts';
import { runSuite, failedChecks } from './suite.ts';
import { parseArgs, type CliArgs } from './core/args.ts';
import { formatHeader, formatRow } from './core/report.ts';
import { writeResults } from './core/files.ts';

async function main(): Promise<void> {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  const ctx = await acquireGpu();
  console.log(`# sgdscope bench — Node ${process.version}, Dawn — adapter ${ctx.adapterName} (${[ctx.adapterInfo.vendor, ctx.adapterInfo.architecture, ctx.adapterInfo.description].filter(Boolean).join(' / ')}), timestamps ${ctx.hasTimestamps ? 'yes' : 'no'}`);
  console.log(formatHeader());
  const res = await runSuite(ctx, args.opts, { line: (s) => console.log(s), row: (r) => console.log(formatRow(r)) });
  ctx.destroy();
  console.log(`\n${res.rows.length} rows in ${res.seconds.toFixed(0)} s`);
  if (args.write) {
    const f = writeResults(res, args.out);
    console.log(`wrote ${f.json}\n      ${f.md}`);
  }
  const failed = failedChecks(res);
  if (failed.length) {
    console.error(`\n${failed.length} correctness check(s) FAILED:\n${failed.join('\n')}`);
    process.exitCode = 1;
  }
  if (args.browser) {
    const { runHeadless } = await import('./headless.ts');
    const code = await runHeadless(args.opts, { out: args.out, write: args.write });
    if (code !== 0) process.exitCode = code;
  }
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
