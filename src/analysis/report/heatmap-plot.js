// Heat maps (HeatmapData of src/experiments/propagation/charts.ts) drawn with uPlot: uPlot gives the
// axes, scales and cursor; the cells and overlay polylines are painted on its canvas in hooks.
// Plain JavaScript without imports (uPlot is passed in), so the same file runs in the dashboard
// (`import { heatmapPlot } from '…/heatmap-plot.js'`) and, inlined as text, in report.html.

const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];
const DIVERGING = ['#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b'];
const NULL_COLOR = '#c8c8c8';

function hexToRgb(h) {
  const v = parseInt(h.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** t in [0, 1] → CSS colour along the palette's stops. */
export function paletteColor(palette, t) {
  const stops = palette === 'diverging' ? DIVERGING : VIRIDIS;
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = hexToRgb(stops[i]);
  const b = hexToRgb(stops[i + 1]);
  const c = a.map((v, k) => Math.round(v + f * (b[k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** Position of value v in the colour scale of h, in [0, 1]; NaN for a missing value. */
export function colorPosition(h, v) {
  if (v === null || v === undefined || Number.isNaN(v)) return NaN;
  const [lo, hi] = h.zRange;
  if (v === Infinity) return 1;
  if (v === -Infinity) return 0;
  if (h.zLog) return v <= 0 ? 0 : (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo));
  return (v - lo) / (hi - lo);
}

/** Cell edges from centres: midpoints (geometric on a log axis), half a step beyond the ends. */
export function cellEdges(c, log) {
  const f = log ? Math.log : (v) => v;
  const g = log ? Math.exp : (v) => v;
  const t = c.map(f);
  if (t.length === 1) return [g(t[0] - 0.5), g(t[0] + 0.5)].map((v, i) => (log ? c[0] * (i ? 1.5 : 1 / 1.5) : v));
  const e = [t[0] - (t[1] - t[0]) / 2];
  for (let i = 0; i + 1 < t.length; i++) e.push((t[i] + t[i + 1]) / 2);
  e.push(t[t.length - 1] + (t[t.length - 1] - t[t.length - 2]) / 2);
  return e.map(g);
}

function cellIndex(edges, v) {
  for (let i = 0; i + 1 < edges.length; i++) if (v >= edges[i] && v <= edges[i + 1]) return i;
  return -1;
}

function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toPrecision(3);
}

function ticksAt(centres) {
  if (centres.length > 12) return {};
  // filter: keep every split (uPlot's log-axis filter would blank the ones that are not 1-2-5 values)
  return { splits: () => centres, filter: (_u, splits) => splits, values: (_u, splits) => splits.map((v) => fmt(v)), ticks: { show: true } };
}

/**
 * Draws h into el (appends a chart, a colour bar with the overlay legend, and a hover readout).
 * opts.onClick(x, y, ix, iy) is called with the clicked data coordinates and cell (for the
 * dashboard: click a phase-diagram point to show its depth scales and run the propagation there).
 * Returns the uPlot instance.
 */
export function heatmapPlot(uPlot, el, h, opts) {
  const width = (opts && opts.width) || 520;
  const height = (opts && opts.height) || 360;
  const xe = cellEdges(h.x, h.xLog);
  const ye = cellEdges(h.y, h.yLog);
  const box = document.createElement('div');
  el.appendChild(box);
  const readout = document.createElement('div');
  readout.style.cssText = 'font: 12px system-ui, sans-serif; color: #333; min-height: 16px;';

  const drawCells = (u) => {
    const ctx = u.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    for (let iy = 0; iy < h.y.length; iy++) {
      const y0 = u.valToPos(ye[iy], 'y', true);
      const y1 = u.valToPos(ye[iy + 1], 'y', true);
      for (let ix = 0; ix < h.x.length; ix++) {
        const x0 = u.valToPos(xe[ix], 'x', true);
        const x1 = u.valToPos(xe[ix + 1], 'x', true);
        const t = colorPosition(h, h.z[iy][ix]);
        ctx.fillStyle = Number.isNaN(t) ? NULL_COLOR : paletteColor(h.palette, t);
        // +1 px overlap hides the hairline gaps between cells
        ctx.fillRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0) + 1, Math.abs(y1 - y0) + 1);
      }
    }
    ctx.restore();
  };

  const drawOverlays = (u) => {
    const ctx = u.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    if (h.cellText) {
      ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      for (let iy = 0; iy < h.y.length; iy++) {
        for (let ix = 0; ix < h.x.length; ix++) {
          const v = h.z[iy][ix];
          const cx = (u.valToPos(xe[ix], 'x', true) + u.valToPos(xe[ix + 1], 'x', true)) / 2;
          const cy = (u.valToPos(ye[iy], 'y', true) + u.valToPos(ye[iy + 1], 'y', true)) / 2;
          const t = colorPosition(h, v);
          ctx.fillStyle = Number.isNaN(t) || (h.palette === 'sequential' && t > 0.6) || (h.palette === 'diverging' && Math.abs(t - 0.5) < 0.3) ? '#000' : '#fff';
          ctx.fillText(v === null ? '×' : (v * h.cellText.scale).toFixed(h.cellText.digits), cx, cy);
        }
      }
    }
    for (const o of h.overlays) {
      ctx.strokeStyle = o.color;
      ctx.lineWidth = 2 * devicePixelRatio;
      ctx.setLineDash((o.dash || []).map((d) => d * devicePixelRatio));
      ctx.beginPath();
      let pen = false;
      for (let i = 0; i < o.x.length; i++) {
        const x = o.x[i];
        let y = o.y[i];
        if (!Number.isFinite(x) || Number.isNaN(y)) {
          pen = false;
          continue;
        }
        // An infinite value (critical point) or one far off scale: draw to just beyond the plot edge.
        const top = ye[ye.length - 1] * (h.yLog ? 4 : 1) + (h.yLog ? 0 : ye[ye.length - 1] - ye[0]);
        if (y > top) y = top;
        const px = u.valToPos(x, 'x', true);
        const py = u.valToPos(y, 'y', true);
        if (pen) ctx.lineTo(px, py);
        else ctx.moveTo(px, py);
        pen = true;
      }
      ctx.stroke();
    }
    ctx.restore();
  };

  const plot = new uPlot(
    {
      title: h.title,
      width,
      height,
      scales: {
        x: { time: false, distr: h.xLog ? 3 : 1, range: [xe[0], xe[xe.length - 1]] },
        y: { distr: h.yLog ? 3 : 1, range: [ye[0], ye[ye.length - 1]] },
      },
      // Ticks at the cell centres when there are few cells (uPlot's log-axis ticks are powers of 10).
      axes: [
        { label: h.xLabel, grid: { show: false }, ...ticksAt(h.x) },
        { label: h.yLabel, grid: { show: false }, ...ticksAt(h.y) },
      ],
      series: [{}, { label: h.zLabel, stroke: 'transparent', points: { show: false } }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      hooks: {
        drawClear: [drawCells],
        draw: [drawOverlays],
        setCursor: [
          (u) => {
            const { left, top } = u.cursor;
            if (left === undefined || left < 0 || top === undefined || top < 0) {
              readout.textContent = '';
              return;
            }
            const ix = cellIndex(xe, u.posToVal(left, 'x'));
            const iy = cellIndex(ye, u.posToVal(top, 'y'));
            if (ix < 0 || iy < 0) {
              readout.textContent = '';
              return;
            }
            const v = h.z[iy][ix];
            readout.textContent = `${h.xLabel} = ${fmt(h.x[ix])}, ${h.yLabel} = ${fmt(h.y[iy])}: ${h.zLabel} = ${v === null ? h.nullLabel : fmt(v)}`;
          },
        ],
      },
    },
    [[xe[0], xe[xe.length - 1]], [null, null]],
    box,
  );

  // Colour bar with end labels, and the overlay legend.
  const legend = document.createElement('div');
  legend.style.cssText = 'display: flex; flex-wrap: wrap; align-items: center; gap: 12px; font: 12px system-ui, sans-serif; margin: 4px 0 0 8px;';
  const bar = document.createElement('canvas');
  bar.width = 160;
  bar.height = 12;
  const bctx = bar.getContext('2d');
  for (let i = 0; i < bar.width; i++) {
    bctx.fillStyle = paletteColor(h.palette, i / (bar.width - 1));
    bctx.fillRect(i, 0, 1, bar.height);
  }
  const span = (text) => {
    const s = document.createElement('span');
    s.textContent = text;
    return s;
  };
  const scale = document.createElement('span');
  scale.append(span(`${fmt(h.zRange[0])} `), bar, span(` ${fmt(h.zRange[1])}  ${h.zLabel}`));
  legend.append(scale);
  if (h.z.some((row) => row.some((v) => v === null))) {
    const nul = document.createElement('span');
    nul.innerHTML = `<span style="display:inline-block;width:12px;height:12px;background:${NULL_COLOR};vertical-align:middle"></span> `;
    nul.append(span(h.nullLabel));
    legend.append(nul);
  }
  for (const o of h.overlays) {
    const item = document.createElement('span');
    const sw = document.createElement('canvas');
    sw.width = 28;
    sw.height = 10;
    const c = sw.getContext('2d');
    c.strokeStyle = o.color === '#fff' || o.color === '#ffffff' ? '#888' : o.color;
    c.lineWidth = 2;
    c.setLineDash(o.dash || []);
    c.beginPath();
    c.moveTo(0, 5);
    c.lineTo(28, 5);
    c.stroke();
    item.append(sw, span(` ${o.label}`));
    legend.append(item);
  }
  box.append(legend, readout);
  if (opts && opts.onClick) {
    plot.over.style.cursor = 'crosshair';
    plot.over.addEventListener('click', () => {
      const { left, top } = plot.cursor;
      if (left === undefined || left < 0 || top === undefined || top < 0) return;
      const x = plot.posToVal(left, 'x');
      const y = plot.posToVal(top, 'y');
      opts.onClick(x, y, cellIndex(xe, x), cellIndex(ye, y));
    });
  }
  return plot;
}
