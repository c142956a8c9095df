/**
 * Error bars for uPlot, which has no error-bar series: a draw-hook plugin that strokes, for each
 * row of a ChartData's `errorBars`, a vertical bar yLo–yHi (and, when given, a horizontal bar
 * xLo–xHi through the point) with short caps, in its series' colour, clipped to the plot area. A
 * bound a log axis cannot show (≤ 0, e.g. mean − SE below zero) runs to the edge of the plot.
 * The bars are numbers computed by the worker (mean ± SE across seeds); this file only draws them.
 */
import type uPlot from 'uplot';
import type { ChartData } from '../analysis/report/chart-data.ts';

const CAP = 3;

/** `get`: the chart drawn (its x and bars); `onDrawn`: how many bars the last draw put inside the plot. */
export function errorBarsPlugin(get: () => ChartData, onDrawn: (bars: number) => void): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const c = get();
        let drawn = 0;
        const g = u.ctx;
        const { left, top, width, height } = u.bbox;
        const dpr = devicePixelRatio;
        const pos = (v: number | null | undefined, scale: string, edge: number): number | null => {
          if (v === null || v === undefined || !Number.isFinite(v)) return null;
          const p = u.valToPos(v, scale, true);
          return Number.isFinite(p) ? p : edge;
        };
        g.save();
        g.beginPath();
        g.rect(left, top, width, height);
        g.clip();
        for (const b of c.errorBars ?? []) {
          const s = u.series[b.series + 1];
          if (!s || s.show === false) continue;
          const stroke = typeof s.stroke === 'function' ? s.stroke(u, b.series + 1) : s.stroke;
          g.strokeStyle = typeof stroke === 'string' ? stroke : '#333';
          g.lineWidth = 1.2 * dpr;
          const yScale = s.scale ?? 'y';
          const ys = c.series[b.series]?.y ?? [];
          for (let i = 0; i < c.x.length; i++) {
            const px = pos(c.x[i], 'x', NaN);
            const py = pos(ys[i], yScale, NaN);
            if (px === null || py === null || !Number.isFinite(px) || !Number.isFinite(py)) continue;
            g.beginPath();
            const y0 = pos(b.yLo[i], yScale, top + height);
            const y1 = pos(b.yHi[i], yScale, top);
            if (y0 !== null && y1 !== null) {
              g.moveTo(px, y0);
              g.lineTo(px, y1);
              for (const y of [y0, y1]) {
                g.moveTo(px - CAP * dpr, y);
                g.lineTo(px + CAP * dpr, y);
              }
            }
            const x0 = pos(b.xLo?.[i], 'x', left);
            const x1 = pos(b.xHi?.[i], 'x', left + width);
            if (x0 !== null && x1 !== null) {
              g.moveTo(x0, py);
              g.lineTo(x1, py);
              for (const x of [x0, x1]) {
                g.moveTo(x, py - CAP * dpr);
                g.lineTo(x, py + CAP * dpr);
              }
            }
            g.stroke();
            if (px >= left && px <= left + width && py >= top && py <= top + height) drawn++;
          }
        }
        g.restore();
        onDrawn(drawn);
      },
    },
  };
}
