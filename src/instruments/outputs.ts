/**
 * What the framework makes of instruments' tables after (or during) a run, the same in the CLI and
 * the dashboard's export:
 *   <file>.csv        every table with a file (default <id>.csv, <id>_<table>.csv), empty = missing
 *   <file>.npy        float64 (rows, columns) for tables with npy: true (column order = the CSV's)
 *   instruments.json  per instrument: settings, summary, and each file's columns and meaning
 *   charts.json       every chart (ChartData) of the run
 *   report.html       a section per instrument: what it measures, its summary, its charts
 */
import { toCsv } from '../util/csv.ts';
import { encodeNpy } from '../util/npy.ts';
import type { ChartData } from '../analysis/report/chart-data.ts';
import { esc, fmt, reportPage, type ReportSection } from '../analysis/report/html.ts';
import type { ReportAssets } from '../analysis/report/assets.ts';
import type { RunFiles } from '../train/run-files.ts';
import type { Instrument, RunInfo } from './types.ts';
import type { InstrumentValues } from './values.ts';
import { rowCount, type TableStore } from './tables.ts';

export interface InstrumentRecord {
  def: Instrument;
  values: InstrumentValues;
  store: TableStore;
}

/** File name (without extension) of a table, or null. */
export function tableFile(def: Instrument, name: string): string | null {
  const spec = def.tables[name];
  if (spec.file === null) return null;
  if (spec.file) return spec.file;
  return Object.keys(def.tables)[0] === name ? def.id : `${def.id}_${name}`;
}

export function instrumentFiles(records: InstrumentRecord[], run: RunInfo): RunFiles {
  const files: RunFiles = new Map();
  const meta: Record<string, unknown> = {};
  for (const { def, values, store } of records) {
    const tables: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(def.tables)) {
      const file = tableFile(def, name);
      const t = store.data[name];
      const cols = Object.keys(t);
      tables[name] = { file: file ? `${file}.csv` : null, npy: file && spec.npy ? `${file}.npy` : null, rows: rowCount(t), columns: cols, about: spec.about };
      if (!file) continue;
      const n = rowCount(t);
      const rows = Array.from({ length: n }, (_, i) => cols.map((c) => (Number.isFinite(t[c][i]) ? t[c][i] : null)));
      files.set(`${file}.csv`, toCsv(cols, rows));
      if (spec.npy) {
        const flat = new Float64Array(n * cols.length);
        for (let i = 0; i < n; i++) cols.forEach((c, j) => (flat[i * cols.length + j] = t[c][i]));
        files.set(`${file}.npy`, encodeNpy(flat, [n, cols.length]));
      }
    }
    meta[def.id] = { title: def.title, about: def.about, settings: values, summary: def.summary?.(store.data, values as never, run) ?? null, kind: store.kind, tables };
  }
  files.set('instruments.json', JSON.stringify({ sgdscope: '0.1.0', run, instruments: meta }, null, 2) + '\n');
  return files;
}

export function instrumentCharts(records: InstrumentRecord[], run: RunInfo): ChartData[] {
  return records.flatMap(({ def, values, store }) => def.charts(store.data, values as never, run, store.kind));
}

export function instrumentSections(records: InstrumentRecord[], run: RunInfo): ReportSection[] {
  return records.map(({ def, values, store }) => {
    const summary = def.summary?.(store.data, values as never, run) ?? {};
    const settings = Object.entries(values)
      .map(([k, v]) => `${esc(k)} ${esc(String(v))}`)
      .join(', ');
    const rows = Object.entries(summary)
      .map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${typeof v === 'number' ? fmt(v, 4) : esc(String(v ?? '—'))}</td></tr>`)
      .join('');
    const html = `<p class="note">${esc(def.about)}</p><p class="note">Settings: ${settings || 'none'}.${store.kind === 'final' ? ' Shown: the final analysis.' : ''}</p>${rows ? `<table>${rows}</table>` : ''}`;
    return { title: def.title, html, charts: def.charts(store.data, values as never, run, store.kind) };
  });
}

/**
 * charts.json and report.html of a run with instruments: `lead` sections (the training curves)
 * first, then one section per instrument.
 */
export function instrumentReportFiles(o: { title: string; intro: string; lead: ReportSection[]; records: InstrumentRecord[]; run: RunInfo; summary: unknown; assets: ReportAssets }): RunFiles {
  const sections = [...o.lead, ...instrumentSections(o.records, o.run)];
  const charts = sections.flatMap((s) => s.charts ?? []);
  const files: RunFiles = new Map();
  files.set('charts.json', JSON.stringify(charts) + '\n');
  files.set('report.html', reportPage({ title: o.title, intro: o.intro, sections, summary: o.summary, assets: o.assets }));
  return files;
}
