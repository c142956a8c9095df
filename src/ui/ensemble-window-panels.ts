/**
 * An ensemble's Feng–Tu figures (the 'ensemble-window' message; numbers and bars computed by the
 * worker in src/experiments/dashboard/ensemble-figures.ts): the spectrum and the variance–flatness
 * relation as means with ± SE error bars across seeds, ψ per seed, and a table of ψ, r, D90 and
 * D99 per seed with their mean ± SE, under a line saying what the window is.
 */
import type { FromWorker } from '../experiments/dashboard/protocol.ts';
import type { Spread } from '../experiments/feng-tu/seeds.ts';
import { ChartPanel } from './chart-panel.ts';

type EnsembleWindowMessage = Extract<FromWorker, { type: 'ensemble-window' }>;

/** What the page shows, for tests: the per-seed numbers, the spreads and the bars drawn per chart. */
export interface EnsembleWindowProbe {
  seeds: number[];
  psi: (number | null)[];
  r: (number | null)[];
  d99: (number | null)[];
  spread: EnsembleWindowMessage['spread'];
  note: string;
  /** Error bars inside the plot at the last draw, by chart id. */
  bars: Record<string, number>;
  /** Bars each chart asks for (rows with both bounds), by chart id. */
  barsWanted: Record<string, number>;
}

const num = (v: number | null, digits = 3): string => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits));
/** Mean ± SE, with the seeds behind it when some seed has no value (e.g. D99 beyond k). */
const ms = (s: Spread | null, seeds: number, digits = 3): string => (s ? `${s.mean.toFixed(digits)} ± ${s.se.toFixed(digits)}${s.n < seeds ? ` (n = ${s.n})` : ''}` : '—');

export class EnsembleWindowPanels {
  private charts: ChartPanel[] = [];
  private table: HTMLElement | null = null;
  private shown: EnsembleWindowMessage | null = null;

  constructor(
    private readonly container: HTMLElement,
    private width: number,
  ) {}

  clear(): void {
    for (const c of this.charts) c.panel.root.remove();
    this.table?.remove();
    this.charts = [];
    this.table = null;
    this.shown = null;
  }

  show(m: EnsembleWindowMessage): void {
    this.clear();
    this.shown = m;
    this.table = this.tableOf(m);
    this.container.prepend(this.table);
    for (const chart of [...m.charts].reverse()) {
      const p = new ChartPanel(chart, this.container, this.width, chart.note ?? '');
      p.panel.root.classList.remove('thin-series');
      p.set(chart, '');
      this.container.prepend(p.panel.root);
      this.charts.unshift(p);
    }
  }

  private tableOf(m: EnsembleWindowMessage): HTMLElement {
    const root = document.createElement('section');
    root.className = 'panel';
    root.id = 'panel-ensemble-window';
    const h = document.createElement('h3');
    h.textContent = `Feng–Tu across ${m.records.length} seeds (steps ${m.window.first}–${m.window.last})`;
    const cap = document.createElement('div');
    cap.className = 'caption';
    cap.textContent = m.note;
    const t = document.createElement('table');
    const row = (cells: string[], head = false): void => {
      const tr = t.insertRow();
      for (const c of cells) {
        const td = document.createElement(head ? 'th' : 'td');
        td.textContent = c;
        tr.append(td);
      }
    };
    row(['seed', 'ψ (± fit SE)', 'r', 'D90', 'D99', 'D99 (PC1 out)', 'test acc'], true);
    for (const r of m.records) row([String(r.seed), `${num(r.psi)} ± ${num(r.psiSE)}`, num(r.r), num(r.d90, 0), num(r.d99, 0), num(r.d99Pc1Removed, 0), r.testAccuracy === null ? '—' : `${(100 * r.testAccuracy).toFixed(2)}%`]);
    const s = m.spread;
    const acc = s.testAccuracy ? `${(100 * s.testAccuracy.mean).toFixed(2)} ± ${(100 * s.testAccuracy.se).toFixed(2)}%` : '—';
    const n = m.records.length;
    row(['mean ± SE', ms(s.psi, n), ms(s.r, n), ms(s.d90, n, 1), ms(s.d99, n, 1), ms(s.d99Pc1Removed, n, 1), acc]);
    t.rows[t.rows.length - 1].className = 'mean';
    const note = document.createElement('div');
    note.className = 'note';
    const why = 'mean ± standard error of the mean across seeds (sample sd / √n); D99 —: 99% of the variance is not reached within the k PCs computed';
    note.textContent = m.failed.length ? `failed: ${m.failed.map((f) => `seed ${f.seed}: ${f.reason}`).join('; ')}. ${why}` : why;
    root.append(h, cap, t, note);
    return root;
  }

  panels(): { id: string; view: ChartPanel }[] {
    return this.charts.map((c) => ({ id: c.panel.spec.id, view: c }));
  }

  resize(width: number): void {
    this.width = width;
  }

  get probe(): EnsembleWindowProbe | null {
    const m = this.shown;
    if (!m) return null;
    const wanted = (c: EnsembleWindowMessage['charts'][number]): number =>
      (c.errorBars ?? []).reduce((n, b) => n + b.yLo.filter((v, i) => v !== null && b.yHi[i] !== null && c.series[b.series].y[i] !== null).length, 0);
    return {
      seeds: m.records.map((r) => r.seed),
      psi: m.records.map((r) => r.psi),
      r: m.records.map((r) => r.r),
      d99: m.records.map((r) => r.d99),
      spread: m.spread,
      note: m.note,
      bars: Object.fromEntries(this.charts.map((c) => [c.panel.spec.id, c.barsDrawn])),
      barsWanted: Object.fromEntries(m.charts.map((c) => [c.id, wanted(c)])),
    };
  }
}
