/**
 * The signal-propagation figures as chart-ready data: pure functions of the results, with no DOM
 * and no plotting library, so report.html and the dashboard draw the same numbers.
 *
 *   line charts (measured vs predicted q^l, c^l, gradient per layer): ChartData of
 *     src/analysis/report/chart-data.ts (uPlot: [x, ...series.map(s => s.y)]);
 *   heat maps (phase diagram χ1 and ξ_c over σ_w² × σ_b²; trainability over σ_w² × depth):
 *     HeatmapData below, drawn by heatmap-plot.js (uPlot axes + a canvas hook; browser and report).
 *
 * For the dashboard's interactive phase diagram (issue 7, item 4): phaseDiagram() +
 * criticalLine() (meanfield, pure) → phaseDiagramHeatmaps() → heatmapPlot(uPlot, el, h,
 * { onClick: (sw2, sb2) => … }); on a click, meanFieldPoint(act, sw2, sb2) gives the depth scales,
 * and GpuPropagation.run() (works in the browser: shaders come from Vite's glob) with
 * propagationTheory() → comparePropagation() → propagationCharts() gives the live curves.
 */
import { mergeSeries, type ChartData, type ChartSeries, type HeatmapData, type HeatmapOverlay } from '../../analysis/report/chart-data.ts';
import type { PhaseDiagram } from '../../analysis/meanfield/phase-diagram.ts';
import type { PropagationComparison } from './compare.ts';
import type { TrainabilityResult } from './trainability.ts';

export type { HeatmapData, HeatmapOverlay } from '../../analysis/report/chart-data.ts';

const finite = (v: number): v is number => Number.isFinite(v);

/** χ1 and ξ_c maps of a phase diagram, with the critical line σ_w²*(σ_b²) drawn on both. */
export function phaseDiagramHeatmaps(pd: PhaseDiagram, critical: { sb2: number; sw2: number }[]): { chi1: HeatmapData; xiC: HeatmapData } {
  const line: HeatmapOverlay = { label: 'critical line χ1 = 1', x: critical.map((p) => p.sw2), y: critical.map((p) => p.sb2), color: '#000', dash: [] };
  const nullIfNaN = (v: number): number | null => (Number.isNaN(v) ? null : v);
  const common = {
    xLabel: 'σ_w²', yLabel: 'σ_b²', x: pd.sw2, y: pd.sb2, xLog: false, yLog: false,
    overlays: [line], cellText: null, nullLabel: 'length map diverges',
  };
  return {
    chi1: {
      ...common,
      id: 'phase-chi1',
      title: 'χ1 = σ_w² E[φ′(√q* z)²]',
      zLabel: 'χ1 (log colour scale; white = 1)',
      z: pd.chi1.map((row) => row.map(nullIfNaN)),
      zRange: [0.4, 2.5],
      zLog: true,
      palette: 'diverging',
      note: 'Blue: ordered (χ1 < 1, gradients vanish, inputs converge). Red: chaotic (χ1 > 1, gradients explode, nearby inputs decorrelate).',
    },
    xiC: {
      ...common,
      id: 'phase-xic',
      title: 'depth scale ξ_c of correlations',
      zLabel: 'ξ_c in layers (log colour scale)',
      z: pd.xiC.map((row) => row.map(nullIfNaN)),
      zRange: [1, 1000],
      zLog: true,
      palette: 'sequential',
      note: 'ξ_c diverges on the critical line: only there do correlations (and so information about the input) survive many layers.',
    },
  };
}

/**
 * Trainability heat map (final train or test accuracy over σ_w² × depth) with the critical
 * σ_w²* and the curve L = 6ξ_c(σ_w²) overlaid (xi6 on a fine σ_w² grid).
 */
export function trainabilityHeatmap(r: TrainabilityResult, which: 'train' | 'test', criticalSw2: number, xi6: { sw2: number[]; depth: number[] }): HeatmapData {
  const { sw2, depths } = r.spec;
  const z = depths.map((_, iy) => sw2.map((_, ix) => {
    const c = r.cells[iy * sw2.length + ix];
    const v = which === 'train' ? c?.trainAccuracy : c?.testAccuracy;
    return v === null || v === undefined ? null : v;
  }));
  const yTop = depths[depths.length - 1];
  const yBottom = depths[0];
  return {
    id: `trainability-${which}`,
    title: `${which} accuracy after ${r.spec.steps} SGD steps (σ_b² = ${r.spec.sb2})`,
    xLabel: 'σ_w²',
    yLabel: 'depth L (hidden layers)',
    zLabel: `${which} accuracy`,
    x: sw2,
    y: depths,
    z,
    zRange: [0.1, 1],
    zLog: false,
    palette: 'sequential',
    xLog: sw2.length > 1 && sw2[sw2.length - 1] / sw2[0] > 8,
    yLog: depths.length > 1 && yTop / yBottom > 8,
    overlays: [
      { label: `critical σ_w²* = ${criticalSw2.toFixed(4)}`, x: [criticalSw2, criticalSw2], y: [yBottom / 2, yTop * 2], color: '#fff', dash: [] },
      { label: 'L = 6 ξ_c', x: xi6.sw2, y: xi6.depth, color: '#ff4040', dash: [6, 4] },
    ],
    cellText: sw2.length * depths.length <= 200 ? { scale: 100, digits: 0 } : null,
    nullLabel: 'diverged (loss NaN/Inf or > 1000)',
    note: 'Mean-field theory: networks train where L ≲ 6ξ_c, a band around σ_w²* that widens with depth scale.',
  };
}

/** 6ξ_c along σ_w² (Infinity where critical: the polyline leaves the top of the plot). */
export function sixXiCurve(sw2: number[], xiC: (sw2: number) => number): { sw2: number[]; depth: number[] } {
  return { sw2, depth: sw2.map((x) => 6 * xiC(x)) };
}

/**
 * Measured vs predicted per layer at one (σ_w², σ_b²): q^l (mean over inputs), c^l of the given
 * pairs, and ln(D^l/D^{L−1}) (mean over inputs). Measured as points, theory as dashed lines.
 */
export function propagationCharts(id: string, label: string, cmp: PropagationComparison, pairs: number[], pairLabels: string[]): ChartData[] {
  const L = cmp.depth;
  const layers = Array.from({ length: L }, (_, l) => l);
  const meanOver = (cs: { mean: Float64Array; theory: Float64Array }[], key: 'mean' | 'theory') => layers.map((l) => cs.reduce((s, c) => s + c[key][l], 0) / cs.length);
  const pts = (v: number[]) => layers.map((l) => ({ x: l, y: finite(v[l]) ? v[l] : null }));
  const charts: ChartData[] = [];
  const qm = meanOver(cmp.curves.q, 'mean');
  const qt = meanOver(cmp.curves.q, 'theory');
  const q = mergeSeries([
    { label: 'measured q^l', style: 'points', points: pts(qm) },
    { label: 'theory', style: 'dashed', points: pts(qt) },
  ]);
  charts.push({ id: `${id}-q`, title: `length q^l — ${label}`, xLabel: 'layer l', yLabel: 'q^l = mean h²', xLog: false, yLog: false, ...q, note: `Mean over inputs and ${cmp.nets} networks of width ${cmp.width}; dashed: the length map from the inputs' q^0.` });
  const cParts: { label: string; style: 'points' | 'dashed'; points: { x: number; y: number | null }[] }[] = [];
  pairs.forEach((p, i) => cParts.push({ label: `measured ${pairLabels[i]}`, style: 'points', points: pts(Array.from(cmp.curves.c[p].mean)) }));
  pairs.forEach((p, i) => cParts.push({ label: `theory ${pairLabels[i]}`, style: 'dashed', points: pts(Array.from(cmp.curves.c[p].theory)) }));
  charts.push({ id: `${id}-c`, title: `correlation c^l — ${label}`, xLabel: 'layer l', yLabel: 'c^l', xLog: false, yLog: false, ...mergeSeries(cParts), note: 'Input pairs from most to least correlated; dashed: the NNGP recursion from the same inputs.' });
  if (cmp.curves.lnGrad) {
    const gm = meanOver(cmp.curves.lnGrad, 'mean').map((v) => v / Math.LN10);
    const gt = meanOver(cmp.curves.lnGrad, 'theory').map((v) => v / Math.LN10);
    charts.push({
      id: `${id}-grad`, title: `gradient length — ${label}`, xLabel: 'layer l', yLabel: 'log10 D^l / D^top', xLog: false, yLog: false,
      ...mergeSeries([
        { label: 'measured', style: 'points', points: pts(gm) },
        { label: 'theory Π χ1', style: 'dashed', points: pts(gt) },
      ]),
      note: 'Backpropagated |∂E/∂h^l|² of a random linear readout, relative to the top layer; theory: the product of χ1(q^k) above layer l.',
    });
  }
  return charts;
}

export type { ChartData, ChartSeries };
