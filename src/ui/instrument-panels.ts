/**
 * Every instrument's panels, built from the registry: one chart panel per declared chart (PNG
 * button, hover values, the chart's note under it), the instrument's headline numbers in the page
 * header, and clicks on points sent back as on-demand requests. Updates are stored as they arrive
 * (TableStore, the same as the engine's) and charts are recomputed from the tables at most once
 * per animation frame, only for instruments that changed. Nothing here names an instrument.
 */
import { instruments } from '../instruments/all.ts';
import { TableStore } from '../instruments/tables.ts';
import { defaultValues, type InstrumentValues } from '../instruments/values.ts';
import type { Instrument, RunInfo } from '../instruments/types.ts';
import type { InstrumentMessage } from '../experiments/dashboard/protocol.ts';
import { ChartPanel } from './chart-panel.ts';

interface Entry {
  def: Instrument;
  store: TableStore;
  values: InstrumentValues;
  panels: { chart: string; view: ChartPanel }[];
  dirty: boolean;
  active: boolean;
}

export interface InstrumentProbe {
  updates: number;
  kind: 'live' | 'final';
}

const NO_RUN: RunInfo = { lr: 0.1, batchSize: 50, stepsPerEpoch: 160, trainSize: 8000, totalSteps: null };

export class InstrumentPanels {
  private readonly entries: Entry[] = [];
  /** The current value of each on-demand choice (request name → x), marked on the panels that send it. */
  private readonly selected: Record<string, number> = {};
  private run: RunInfo = NO_RUN;
  readonly probe: Record<string, InstrumentProbe> = {};

  constructor(
    container: HTMLElement,
    private readonly header: HTMLElement,
    width: number,
    private readonly request: (name: string, value: number) => void,
  ) {
    for (const def of instruments()) {
      const store = new TableStore(def.id, def.tables);
      const values = defaultValues(def);
      const charts = def.charts(store.data, values as never, NO_RUN, 'live');
      const panels = def.panels.map((p) => {
        const chart = charts.find((c) => c.id === p.chart);
        if (!chart) throw new Error(`instrument ${def.id}: panel '${p.chart}' is not among its charts (${charts.map((c) => c.id).join(', ')})`);
        const click = p.click;
        const view = new ChartPanel(chart, container, width, p.caption, () => (click && this.selected[click] !== undefined ? [{ x: this.selected[click], label: `chosen: ${this.selected[click]}` }] : []));
        if (click) view.panel.onClickIndex = (idx, u) => this.choose(click, Number(u.data[0][idx]));
        return { chart: p.chart, view };
      });
      for (const h of def.headline ?? []) {
        const span = document.createElement('span');
        span.dataset.instrument = def.id;
        span.innerHTML = `${h.label} <b id="${h.id}">–</b>`;
        header.append(span);
      }
      this.entries.push({ def, store, values, panels, dirty: false, active: true });
    }
  }

  private choose(name: string, value: number): void {
    if (!(Number.isFinite(value) && value >= 1)) return;
    this.selected[name] = value;
    this.request(name, value);
    for (const e of this.entries) for (const p of e.panels) p.view.redraw();
  }

  /** A new run: empties every store; shows the panels of the instruments that run. */
  start(run: RunInfo, active: string[], values: Record<string, InstrumentValues>): void {
    this.run = run;
    for (const e of this.entries) {
      e.store.clear();
      e.values = values[e.def.id] ?? e.values;
      e.active = active.includes(e.def.id);
      for (const p of e.panels) p.view.panel.root.hidden = !e.active;
      for (const h of e.def.headline ?? []) document.getElementById(h.id)!.textContent = '–';
      this.header.querySelectorAll<HTMLElement>(`[data-instrument="${e.def.id}"]`).forEach((el) => (el.hidden = !e.active));
      e.dirty = true;
    }
  }

  onUpdate(id: string, u: InstrumentMessage): 'live' | 'final' {
    const e = this.entries.find((x) => x.def.id === id);
    if (!e) throw new Error(`update of an unknown instrument '${id}'`);
    e.store.apply(u);
    for (const [k, v] of Object.entries(u.headline ?? {})) {
      const el = document.getElementById(k);
      if (el) el.textContent = v;
    }
    Object.assign(this.selected, u.selected ?? {});
    e.dirty = true;
    this.probe[id] = { updates: e.store.updates, kind: e.store.kind };
    return e.store.kind;
  }

  /** A run resumed from an earlier snapshot: drops the time series' later rows. */
  truncateAfter(step: number): void {
    for (const e of this.entries) {
      e.store.truncateAfter(step);
      e.dirty = true;
    }
  }

  /** Recomputes the charts of instruments that changed (call once per animation frame). */
  frame(): void {
    for (const e of this.entries) {
      if (!e.dirty) continue;
      e.dirty = false;
      const charts = e.def.charts(e.store.data, e.values as never, this.run, e.store.kind);
      for (const p of e.panels) {
        const c = charts.find((x) => x.id === p.chart);
        if (c) p.view.set(c, e.store.note ?? (e.store.updates ? '' : 'no data yet'));
      }
    }
  }

  /** The chart panels, by chart id (the page's frame loop draws them and counts their points). */
  panels(): { id: string; view: ChartPanel }[] {
    return this.entries.flatMap((e) => e.panels.map((p) => ({ id: p.chart, view: p.view })));
  }
}
