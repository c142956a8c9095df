/**
 * Chart-ready data, independent of any plotting library or DOM: one x column and named y series
 * (null = no point), with axis labels and scales. The sweep, AWD and toy-landscape analyses build
 * their figures as pure functions returning these, so report.html (src/analysis/report/html.ts)
 * and the dashboard (src/ui) draw the same numbers. uPlot takes [x, ...series.map(s => s.y)].
 */
export type SeriesStyle = 'line' | 'points' | 'dashed' | 'line+points' | 'thin';

export interface ChartSeries {
  label: string;
  y: (number | null)[];
  style: SeriesStyle;
  /** Drawn against the right-hand axis (ChartData.yRight) instead of the left one. */
  right?: boolean;
}

export interface ChartData {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  xLog: boolean;
  yLog: boolean;
  /** Sorted ascending (uPlot needs a monotone x). */
  x: number[];
  series: ChartSeries[];
  /** One sentence under the chart: what to look for. */
  note?: string;
  /** The right-hand axis of the series marked `right` (linear). */
  yRight?: { label: string; range?: [number, number] };
  /** Vertical markers at these x values (e.g. D90, D99). */
  marks?: { x: number; label: string }[];
  /** Error bars of series `series` (its index in `series`), row by row as `x`: from yLo to yHi,
   * and (optional) from xLo to xHi; null: no bar at that row. E.g. mean ± SE across seeds. */
  errorBars?: ErrorBars[];
}

export interface ErrorBars {
  series: number;
  yLo: (number | null)[];
  yHi: (number | null)[];
  xLo?: (number | null)[];
  xHi?: (number | null)[];
}

/**
 * A heat map: z over a grid of cell centres (x, y), drawn by
 * src/analysis/report/heatmap-plot.js (uPlot axes + a canvas hook; dashboard and report.html).
 */
export interface HeatmapOverlay {
  label: string;
  /** A polyline in data coordinates; a non-finite y breaks it. */
  x: number[];
  y: number[];
  color: string;
  /** Canvas line dash, e.g. [6, 4]. */
  dash?: number[];
}

export interface HeatmapData {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  /** What the colour means, with units. */
  zLabel: string;
  /** Cell centres, strictly ascending; cell edges are the midpoints (geometric on a log axis). */
  x: number[];
  y: number[];
  /** z[iy][ix]; null = no value (drawn grey: diverged run, divergent length map). Infinity = top colour. */
  z: (number | null)[][];
  zRange: [number, number];
  zLog: boolean;
  /** 'sequential' (viridis) or 'diverging' (blue–white–red around the middle of zRange). */
  palette: 'sequential' | 'diverging';
  xLog: boolean;
  yLog: boolean;
  overlays: HeatmapOverlay[];
  /** Print each cell's value (small grids): the factor applied before rounding, e.g. 100 for %. */
  cellText: { scale: number; digits: number } | null;
  /** What null cells mean, for the legend. */
  nullLabel: string;
  note?: string;
}

/** Points (x, y) of several series on a common sorted x column (nulls where a series has no point). */
export function mergeSeries(parts: { label: string; style: SeriesStyle; points: { x: number; y: number | null }[] }[]): { x: number[]; series: ChartSeries[] } {
  const xs = [...new Set(parts.flatMap((p) => p.points.map((q) => q.x)).filter((v) => Number.isFinite(v)))].sort((a, b) => a - b);
  const index = new Map(xs.map((v, i) => [v, i]));
  const series = parts.map((p) => {
    const y: (number | null)[] = xs.map(() => null);
    for (const q of p.points) {
      const i = index.get(q.x);
      if (i !== undefined && q.y !== null && Number.isFinite(q.y)) y[i] = q.y;
    }
    return { label: p.label, style: p.style, y };
  });
  return { x: xs, series };
}

/** Mean of the finite values, or null. */
export function finiteMean(v: (number | null | undefined)[]): number | null {
  const f = v.filter((x): x is number => x !== null && x !== undefined && Number.isFinite(x));
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : null;
}

/** For log axes: values ≤ 0 become null. */
export function positiveOrNull(v: number | null): number | null {
  return v !== null && Number.isFinite(v) && v > 0 ? v : null;
}
