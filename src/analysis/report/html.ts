/**
 * A self-contained report page (same look as the noise lab's report.html): a title, free HTML
 * sections (tables, notes), ChartData figures drawn with uPlot (JS and CSS inlined, so the file
 * works offline), and the summary JSON at the bottom.
 */
import type { ReportAssets } from './assets.ts';
import type { ChartData } from './chart-data.ts';

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const fmt = (v: number | null | undefined, digits = 3): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(digits) : v === 0 ? '0' : v.toExponential(digits - 1);

export interface ReportSection {
  title: string;
  /** Raw HTML (already escaped where needed). */
  html: string;
  /** Charts drawn after the HTML, by ChartData id. */
  charts?: ChartData[];
}

export function reportPage(o: { title: string; intro: string; sections: ReportSection[]; summary: unknown; assets: ReportAssets }): string {
  const charts = o.sections.flatMap((s) => s.charts ?? []);
  const body = o.sections
    .map(
      (s) =>
        `<h2>${esc(s.title)}</h2>\n${s.html}\n${
          s.charts && s.charts.length ? `<div class="charts">${s.charts.map((c) => `<div class="chart"><div id="c-${esc(c.id)}"></div>${c.note ? `<p class="cap">${esc(c.note)}</p>` : ''}</div>`).join('')}</div>` : ''
        }`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sgdscope — ${esc(o.title)}</title>
<style>${o.assets.uplotCss}
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1150px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; } .chart { border: 1px solid #ddd; padding: 6px; max-width: 540px; }
.note { color: #555; max-width: 950px; } .cap { color: #555; font-size: 12px; margin: 4px 0 0; max-width: 520px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
</style></head><body>
<h1>${esc(o.title)}</h1>
<div class="note">${o.intro}</div>
${body}
<h2>summary.json</h2>
<pre style="font-size:12px; background:#f7f7f7; padding:8px; overflow:auto; max-height:400px">${esc(JSON.stringify(o.summary, null, 2))}</pre>
<script>${o.assets.uplotJs}</script>
<script>
const CHARTS = ${JSON.stringify(charts)};
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
function seriesOpts(s, i) {
  const color = COLORS[i % COLORS.length];
  if (s.right) return { label: s.label, stroke: '#7f7f7f', width: 1.5, dash: [4, 3], scale: 'right', points: { show: false }, spanGaps: true };
  if (s.style === 'thin') return { label: s.label, stroke: color, width: 1, alpha: 0.5, points: { show: false }, spanGaps: true };
  if (s.style === 'points') return { label: s.label, stroke: color, fill: color, paths: () => null, points: { show: true, size: 7, fill: color, stroke: color } };
  if (s.style === 'dashed') return { label: s.label, stroke: '#444', width: 1.5, dash: [6, 4], points: { show: false }, spanGaps: true };
  if (s.style === 'line+points') return { label: s.label, stroke: color, width: 1.5, points: { show: true, size: 6, fill: color }, spanGaps: true };
  return { label: s.label, stroke: color, width: 2, points: { show: false }, spanGaps: true };
}
for (const c of CHARTS) {
  const el = document.getElementById('c-' + c.id);
  if (!el || c.x.length === 0) continue;
  const marks = (u) => (c.marks || []).forEach((m) => {
    const px = u.valToPos(m.x, 'x', true);
    if (!(px >= u.bbox.left && px <= u.bbox.left + u.bbox.width)) return;
    const g = u.ctx; g.save(); g.strokeStyle = '#8e44ad'; g.setLineDash([5, 4]); g.beginPath();
    g.moveTo(px, u.bbox.top); g.lineTo(px, u.bbox.top + u.bbox.height); g.stroke();
    g.fillStyle = '#8e44ad'; g.font = (12 * devicePixelRatio) + 'px sans-serif'; g.fillText(m.label, px + 4, u.bbox.top + 14 * devicePixelRatio); g.restore();
  });
  const scales = { x: { time: false, distr: c.xLog ? 3 : 1 }, y: { distr: c.yLog ? 3 : 1 } };
  const axes = [{ label: c.xLabel }, { label: c.yLabel }];
  if (c.yRight) { scales.right = c.yRight.range ? { range: c.yRight.range } : {}; axes.push({ label: c.yRight.label, side: 1, scale: 'right', grid: { show: false } }); }
  new uPlot({ title: c.title, width: 520, height: 320, scales, series: [{ label: c.xLabel }, ...c.series.map(seriesOpts)], axes, legend: { live: true }, hooks: { draw: [marks] } },
    [c.x, ...c.series.map((s) => s.y)], el);
}
</script></body></html>
`;
}
