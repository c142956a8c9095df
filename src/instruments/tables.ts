/**
 * The tables of one instrument as they accumulate during a run: the same store on the engine side
 * (for the run folder and report) and on the page (for the panels). 'append' tables grow row by
 * row (a column absent from an update gets NaN), 'replace' tables are swapped whole.
 */
import type { Columns, InstrumentUpdate, TableSpec, TableView } from './types.ts';

export class TableStore {
  readonly data: TableView = {};
  /** Updates applied, and the kind of the last one ('final' once the final analysis came). */
  updates = 0;
  kind: 'live' | 'final' = 'live';
  headline: Record<string, string> = {};
  note: string | null = null;

  constructor(
    readonly owner: string,
    readonly specs: Record<string, TableSpec>,
  ) {
    for (const [name, spec] of Object.entries(specs)) this.data[name] = Object.fromEntries((spec.columns ?? []).map((c) => [c, [] as number[]]));
  }

  apply(u: InstrumentUpdate): void {
    for (const name of u.reset ?? []) for (const col of Object.values(this.data[name] ?? {})) col.length = 0;
    for (const [name, cols] of Object.entries(u.tables ?? {})) this.put(name, cols);
    if (u.headline) this.headline = { ...this.headline, ...u.headline };
    if (u.kind) this.kind = u.kind;
    if (u.note !== undefined) this.note = u.note;
    this.updates++;
  }

  private put(name: string, cols: Columns): void {
    const spec = this.specs[name];
    if (!spec) throw new Error(`instrument ${this.owner}: no table '${name}' (tables: ${Object.keys(this.specs).join(', ')})`);
    const given = Object.entries(cols);
    const n = given.length ? given[0][1].length : 0;
    for (const [c, v] of given) {
      if (spec.columns && !spec.columns.includes(c)) throw new Error(`instrument ${this.owner}: table '${name}' has no column '${c}' (columns: ${spec.columns.join(', ')})`);
      if (v.length !== n) throw new Error(`instrument ${this.owner}: table '${name}': column '${c}' has ${v.length} values, '${given[0][0]}' has ${n}`);
    }
    const t = this.data[name];
    if (spec.mode === 'replace') {
      for (const c of Object.keys(t)) if (spec.columns || c in cols) t[c] = [];
      if (!spec.columns) for (const c of Object.keys(t)) if (!(c in cols)) delete t[c];
    }
    const before = rowCount(t);
    for (const [c, v] of given) {
      if (!t[c]) t[c] = new Array<number>(before).fill(NaN);
    }
    for (const [c, col] of Object.entries(t)) {
      const v = cols[c];
      for (let i = 0; i < n; i++) col.push(v ? v[i] : NaN);
    }
  }

  /** Drops the rows of 'append' tables after `step` (a run resumed from an earlier snapshot). */
  truncateAfter(step: number): void {
    for (const [name, spec] of Object.entries(this.specs)) {
      if (spec.mode !== 'append') continue;
      const t = this.data[name];
      const steps = t.step;
      if (!steps) continue;
      const keep = steps.findIndex((s) => s > step);
      if (keep >= 0) for (const col of Object.values(t)) col.length = keep;
    }
  }

  clear(): void {
    for (const t of Object.values(this.data)) for (const col of Object.values(t)) col.length = 0;
    this.headline = {};
    this.note = null;
    this.updates = 0;
    this.kind = 'live';
  }
}

export function rowCount(t: Record<string, number[]>): number {
  const first = Object.values(t)[0];
  return first ? first.length : 0;
}

/** Typed copies of columns, for posting (their buffers can be transferred). */
export function packColumns(cols: Columns): { columns: Record<string, Float64Array>; buffers: ArrayBuffer[] } {
  const columns: Record<string, Float64Array> = {};
  for (const [c, v] of Object.entries(cols)) columns[c] = Float64Array.from(v);
  return { columns, buffers: Object.values(columns).map((a) => a.buffer as ArrayBuffer) };
}
