/** Writing a run's results (Node only): bench/results/<date>-<adapter>-<node|chromium>.{json,md}. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownReport, type BenchResult } from './report.ts';

export function writeResults(res: BenchResult, outDir: string): { json: string; md: string } {
  mkdirSync(outDir, { recursive: true });
  const day = res.date.slice(0, 10);
  const stem = join(outDir, `${day}-${res.adapter.name}-${res.runtime === 'browser' ? 'chromium' : 'node'}`);
  writeFileSync(`${stem}.json`, JSON.stringify(res, null, 1) + '\n');
  writeFileSync(`${stem}.md`, markdownReport(res));
  return { json: `${stem}.json`, md: `${stem}.md` };
}
