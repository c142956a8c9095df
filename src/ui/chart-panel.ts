/**
 * A dashboard panel that draws whatever ChartData it is given: the same chart for its whole life,
 * but its series may change (a kernel appears, T(t) gets a new PC), in which case the uPlot chart
 * is rebuilt in place; otherwise only its columns are replaced. Vertical markers come from the
 * chart (`marks`: D90, D99) and from the page (the direction chosen by a click); error bars from
 * the chart's `errorBars` (error-bars.ts).
 */
import type { ChartData } from '../analysis/report/chart-data.ts';
import { Panel, markers } from './charts.ts';
import { chartDataColumns, chartDataSpec } from './chart-data-panel.ts';
import { errorBarsPlugin } from './error-bars.ts';

const MARK_COLORS = ['#27864a', '#8e44ad'];

export class ChartPanel {
  readonly panel: Panel;
  private chart: ChartData;
  private signature: string;
  /** Error bars inside the plot at the last draw (the chart's `errorBars`; error-bars.ts). */
  barsDrawn = 0;

  constructor(
    chart: ChartData,
    container: HTMLElement,
    width: number,
    private readonly caption: string,
    /** Extra markers (the page's selection), e.g. [{ x: 2, label: 'MLF: PC2' }]. */
    private readonly extraMarks: () => { x: number; label: string }[] = () => [],
  ) {
    this.chart = chart;
    this.signature = ChartPanel.signatureOf(chart);
    this.panel = new Panel(this.spec(), container, width, 230);
    // Many thin series (an ensemble): the legend lists the first only (index.html's .thin-series).
    this.panel.root.classList.add('thin-series');
  }

  private static signatureOf(c: ChartData): string {
    return JSON.stringify([c.series.map((s) => [s.label, s.style, !!s.right]), c.xLog, c.yLog, c.xLabel, c.yLabel, c.yRight ?? null]);
  }

  private spec() {
    const marks = markers(() => [
      ...(this.chart.marks ?? []).map((m, i) => ({ ...m, color: MARK_COLORS[i % MARK_COLORS.length] })),
      ...this.extraMarks().map((m) => ({ ...m, color: '#d68910' })),
    ]);
    const bars = errorBarsPlugin(() => this.chart, (n) => (this.barsDrawn = n));
    return chartDataSpec(this.chart, this.chart.id, this.caption, { plugins: [marks, bars] });
  }

  /** New data; `fallback` is the note shown when the chart has none. */
  set(chart: ChartData, fallback: string): void {
    this.chart = chart;
    const sig = ChartPanel.signatureOf(chart);
    const cols = chartDataColumns(chart);
    const note = chart.note ?? fallback;
    if (sig !== this.signature) {
      this.signature = sig;
      this.panel.rebuild(this.spec(), cols);
      this.panel.note.textContent = note;
    } else this.panel.set(cols, note);
  }

  /** Redraws the markers (a new selection). */
  redraw(): void {
    this.panel.plot.redraw();
  }
}
