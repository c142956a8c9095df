/**
 * A compact markdown table from two result files (Node and Chromium), side by side, for the
 * README's Benchmarks section:
 *
 *   node --import tsx bench/summary.ts bench/results/<day>-<adapter>-node.json bench/results/<day>-<adapter>-chromium.json
 */
import { readFileSync } from 'node:fs';
import { fmt, type BenchResult, type Row } from './core/report.ts';

function key(r: Row): string {
  return `${r.kernel}|${r.variant.replace(/^(\d): .*/, '$1')}|${r.shape}`;
}

function cell(r: Row | undefined): string {
  if (!r) return '–';
  if (r.ms === null) return r.check.startsWith('skipped') ? 'skipped' : '–';
  const perf = r.perSecond ? `${fmt(r.perSecond)} steps/s` : r.flops > 0 ? `${fmt(r.gflops)} GF/s` : r.bytes > 0 ? `${fmt(r.gbs)} GB/s` : `${fmt(r.ms * 1000)} µs`;
  const peak = r.peakPct !== null ? `, ${r.peakPct.toFixed(0)}%` : '';
  const vs = r.vsPeer && r.vsPeer.peer === 'tfjs-webgpu' ? `, **${fmt(r.vsPeer.ratio)}×** tfjs` : r.vsPeer ? `, ${fmt(r.vsPeer.ratio)}× ${r.vsPeer.peer}` : '';
  return `${fmt(r.ms)} ms (${perf}${peak}${vs})`;
}

export function sideBySide(a: BenchResult, b: BenchResult | null): string {
  const keys: string[] = [];
  const byA = new Map<string, Row>();
  const byB = new Map<string, Row>();
  for (const r of a.rows) {
    const k = key(r);
    if (!byA.has(k)) keys.push(k);
    byA.set(k, r);
  }
  for (const r of b?.rows ?? []) {
    const k = key(r);
    if (!byA.has(k) && !byB.has(k)) keys.push(k);
    byB.set(k, r);
  }
  const head = b ? '| kernel | variant | shape | Node (Dawn) | Chromium |\n|---|---|---|---|---|' : '| kernel | variant | shape | Node (Dawn) |\n|---|---|---|---|';
  const lines = [head];
  for (const k of keys) {
    const r = byA.get(k) ?? byB.get(k)!;
    if (r.kernel === 'dispatch' || r.check.startsWith('FAIL')) continue;
    lines.push(`| ${r.kernel} | ${r.variant} | ${r.shape} | ${cell(byA.get(k))} |${b ? ` ${cell(byB.get(k))} |` : ''}`);
  }
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('summary.ts')) {
  const [fa, fb] = process.argv.slice(2);
  if (!fa) {
    console.error('usage: node --import tsx bench/summary.ts node.json [chromium.json]');
    process.exit(2);
  }
  const a = JSON.parse(readFileSync(fa, 'utf8')) as BenchResult;
  const b = fb ? (JSON.parse(readFileSync(fb, 'utf8')) as BenchResult) : null;
  console.log(sideBySide(a, b));
}
