/**
 * A ChartData (src/analysis/report/chart-data.ts: the pure figures behind every report.html) as a
 * dashboard panel: log axes where the figure asks for them, the series styles (points, line,
 * dashed, line+points), hover values, and the figure's note under the chart. The same numbers
 * the CLI writes to charts.json and draws in report.html.
 */
import type uPlot from 'uplot';
import type { ChartData } from '../analysis/report/chart-data.ts';
import { COLORS, fmt, line, points, valueFmt, type Data, type PanelSpec } from './charts.ts';

const ticks = (_u: uPlot, vals: number[]): string[] => vals.map((v) => (v === null ? '' : Number.isInteger(v) && Math.abs(v) < 1e5 ? String(v) : fmt(v, 2)));

/**
 * A log axis without snapping to whole decades (uPlot's default log range can be 10× too wide),
 * showing at most 12 decades below the top: uPlot's log ticks round to a fixed table of decimals
 * and loop forever on ranges reaching ~1e-16 and below (float32 zero modes, 1e-39), and nothing
 * that far down is readable next to the top anyway. The bottom is a whole multiple k·10^e of its
 * decade's step (k = 1…9, written exactly): uPlot's log ticks step by 10^e from the bottom and
 * take the value where they cross into the next decade as the next step, so a bottom such as
 * 0.00972 makes that step 0.011, a value its decimals table lacks, and the tick loop then rounds
 * to 0 and never ends ('Invalid array length' once the array is full).
 */
export function logRange(_u: uPlot | null, min: number | null, max: number | null): [number, number] {
  if (min === null || max === null || !(min > 0) || !(max > 0)) return [1, 10];
  const [lo, hi] = min === max ? [min / 2, max * 2] : [Math.max(min, max * 1e-12) / 1.25, max * 1.25];
  return [decadeStepFloor(lo), hi];
}

/** The largest k·10^e ≤ v with k an integer 1…9, as the exact decimal (v > 0, finite). */
function decadeStepFloor(v: number): number {
  let e = Math.floor(Math.log10(v));
  let k = Math.min(9, Math.max(1, Math.floor(v / 10 ** e)));
  // log10 and the division can round across an integer: step down until the value is ≤ v.
  while (Number(`${k}e${e}`) > v) [e, k] = k > 1 ? [e, k - 1] : [e - 1, 9];
  return Number(`${k}e${e}`);
}

/** A linear x axis that survives a single x value (uPlot's x range does not pad; its tick loop then never ends). */
function linearRange(_u: uPlot, min: number | null, max: number | null): [number, number] {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min !== max) return [min, max];
  const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
  return [min - pad, max + pad];
}

function seriesOf(s: ChartData['series'][number], j: number, pairs: number): Partial<uPlot.Series> {
  const color = COLORS[(pairs > 0 ? j % pairs : j) % COLORS.length];
  if (s.right) return { label: s.label, scale: 'right', ...line(COLORS[6], 1.5, [4, 3]) };
  if (s.style === 'thin') return { label: s.label, ...line(color, 1), alpha: 0.5, class: 'thin' };
  if (s.style === 'points') return { label: s.label, ...points(color, 5) };
  if (s.style === 'dashed') return { label: s.label, ...line(pairs > 0 ? color : '#555', 1.5, [6, 4]) };
  if (s.style === 'line+points') return { label: s.label, ...line(color, 1.5), points: { show: true, size: 5, fill: color, stroke: color }, value: valueFmt };
  return { label: s.label, ...line(color, 1.5) };
}

/**
 * pairedSeries: the first half of the series are measurements and the second half their
 * predictions, in the same order — series j and j + n/2 share a colour (measured points, dashed
 * theory), as the signal-propagation charts are built.
 */
export function chartDataSpec(
  c: ChartData,
  id: string,
  caption = c.note ?? '',
  opts: { pairedSeries?: boolean; title?: string; plugins?: uPlot.Plugin[] } = {},
): PanelSpec {
  const pairs = opts.pairedSeries ? Math.max(1, Math.floor(c.series.length / 2)) : 0;
  const right = c.yRight;
  return {
    id,
    title: opts.title ?? c.title,
    caption,
    empty: [[]],
    opts: () => ({
      scales: {
        x: c.xLog ? { time: false, distr: 3, range: logRange } : { time: false, range: linearRange },
        y: c.yLog ? { distr: 3, range: logRange } : {},
        ...(right ? { right: right.range ? { range: right.range } : {} } : {}),
      },
      axes: [
        { label: c.xLabel, labelSize: 18, space: 60, values: ticks },
        { label: c.yLabel, labelSize: 18, size: 56, values: ticks },
        ...(right ? [{ label: right.label, labelSize: 18, size: 50, side: 1, scale: 'right', grid: { show: false }, values: ticks }] : []),
      ],
      series: [{ label: c.xLabel, value: valueFmt }, ...c.series.map((x, j) => seriesOf(x, j, pairs))],
      ...(opts.plugins ? { plugins: opts.plugins } : {}),
    }),
  };
}

/** uPlot's columns; values a log axis cannot show (≤ 0, non-finite) become gaps. */
export function chartDataColumns(c: ChartData): Data {
  const keep = (v: number | null, log: boolean): number | null => (v === null || !Number.isFinite(v) || (log && v <= 0) ? null : v);
  const rows = c.x.map((x, i) => i).filter((i) => !c.xLog || c.x[i] > 0);
  return [rows.map((i) => c.x[i]), ...c.series.map((s) => rows.map((i) => keep(s.y[i], c.yLog)))] as Data;
}

/** Points actually drawn from these columns (non-null y values over all series). */
export function pointsDrawn(cols: Data): number {
  return cols.slice(1).reduce((n, s) => n + (s as (number | null)[]).filter((v) => v !== null).length, 0);
}
