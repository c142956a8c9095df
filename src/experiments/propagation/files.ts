/**
 * The run folder of `sgdscope reproduce signal-propagation`, as named byte arrays (written by the
 * CLI; a dashboard can offer them as downloads):
 *
 *   summary.json                   settings, critical σ_w² table, ξ_c table, propagation agreement,
 *                                  trainability band vs 6ξ_c, stage timings, adapter
 *   phase_diagram.csv              sw2, sb2, q_star, c_star, chi1, xi_c, phase (one row per grid point)
 *   phase_{chi1,xi_c,q_star,c_star}.npy  float64 (n_sb2, n_sw2); phase_sw2.npy, phase_sb2.npy the axes
 *   critical_line.csv              sb2, sw2_critical along the phase diagram's σ_b² axis
 *   propagation_curves.csv         point, sw2, sb2, phase, layer, quantity (q | c | ln_grad_ratio),
 *                                  a, b, measured, se, theory, z, nets, width
 *   propagation_{i}_gram.npy       float64 (L, S, M, M) per-network Gram matrices of point i
 *   propagation_{i}_delta2.npy     float64 (L, S, M) per-network mean δ² (when measured)
 *   propagation_inputs.npy         float32 (M, 784) the standardised MNIST probe inputs
 *   trainability.csv               depth, sw2, status, accuracies, losses, 6ξ_c, predicted, seconds
 *   trainability_{train,test}_accuracy.npy  float64 (n_depth, n_sw2), NaN = diverged;
 *                                  trainability_depths.npy, trainability_sw2.npy the axes
 *   six_xi_c.csv                   sw2, six_xi_c on a fine grid at the trainability σ_b²
 *   jacobian_*, curve_*            the Jacobian-spectrum and curve-length experiments (init-files.ts)
 *   charts.json                    every figure as chart-ready data (ChartData / HeatmapData)
 *   report.html                    self-contained (uPlot inlined): tables, heat maps, curves
 */
import { encodeNpy } from '../../util/npy.ts';
import { toCsv } from '../../util/csv.ts';
import type { RunFiles } from '../../train/run-files.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';
import { reportPage, esc, fmt, type ReportSection } from '../../analysis/report/html.ts';
import { propagationCharts, phaseDiagramHeatmaps, trainabilityHeatmap, type HeatmapData } from './charts.ts';
import { representativePairs } from './compare.ts';
import type { SignalPropagationResult } from './run.ts';
import { addInitFiles, initCharts, initReportSections, initSummary } from './init-files.ts';
import type { ChartData } from '../../analysis/report/chart-data.ts';

const num = (v: number): number | null => (Number.isFinite(v) ? v : Number.isNaN(v) ? null : v);

export function signalPropagationSummary(r: SignalPropagationResult, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const inf = (v: number): number | string | null => (Number.isFinite(v) ? v : Number.isNaN(v) ? null : v > 0 ? 'Infinity' : '-Infinity');
  return {
    sgdscope: '0.1.0',
    created: new Date().toISOString(),
    experiment: 'Schoenholz, Gilmer, Ganguli & Sohl-Dickstein, "Deep information propagation", ICLR 2017: order-to-chaos phase diagram, depth scales, empirical propagation, trainability',
    ...extra,
    activation: r.options.activation,
    criticalSigmaW2: r.critical.map((p) => ({ sb2: p.sb2, sw2: p.sw2 })),
    xiC: r.xiTable.map((p) => ({ sw2: p.sw2, sb2: p.sb2, phase: p.phase, qStar: inf(p.qStar), chi1: inf(p.chi1), cStar: inf(p.cStar), xiC: inf(p.xiC), xiQ: inf(p.xiQ), xiGrad: inf(p.xiGrad) })),
    phaseDiagram: { sw2: r.options.phaseSw2, sb2: r.options.phaseSb2 },
    propagation: r.propagation.map((p) => ({
      sw2: p.sw2, sb2: p.sb2, phase: p.meanField.phase, chi1: inf(p.meanField.chi1), xiC: inf(p.meanField.xiC), cStar: inf(p.meanField.cStar),
      width: p.result.spec.width, depth: p.result.spec.depth, nets: p.result.spec.nets, inputs: p.result.m,
      agreement: p.comparison.agreement,
      warning: p.comparison.warning,
      seconds: { gpu: p.result.seconds, theory: p.theorySeconds },
      weightsPerSecond: p.result.weights / p.result.seconds,
    })),
    inputs: r.inputs?.labels ?? null,
    ...initSummary(r.jacobian, r.curves),
    trainability: r.trainability
      ? {
          spec: r.trainability.spec,
          criticalSw2: r.sixXi?.criticalSw2 ?? null,
          band: r.band,
          seconds: r.trainability.seconds,
          cells: r.trainability.cells.map((c) => ({ depth: c.depth, sw2: c.sw2, status: c.status, trainAccuracy: c.trainAccuracy, testAccuracy: c.testAccuracy, seconds: c.seconds })),
        }
      : null,
    timings: r.timings,
  };
}

function curvesCsv(r: SignalPropagationResult): string {
  const rows: (number | string | null)[][] = [];
  r.propagation.forEach((p, i) => {
    const cmp = p.comparison;
    const base = (l: number): (number | string)[] => [i + 1, p.sw2, p.sb2, p.meanField.phase, l];
    const add = (q: string, a: number, b: number | null, cv: { mean: Float64Array; se: Float64Array; theory: Float64Array; z: Float64Array }): void => {
      for (let l = 0; l < cmp.depth; l++) rows.push([...base(l), q, a, b, num(cv.mean[l]), num(cv.se[l]), num(cv.theory[l]), num(cv.z[l]), cmp.nets, cmp.width]);
    };
    cmp.curves.q.forEach((cv, a) => add('q', a, null, cv));
    cmp.curves.c.forEach((cv, k) => add('c', cmp.curves.pairs[k][0], cmp.curves.pairs[k][1], cv));
    cmp.curves.lnGrad?.forEach((cv, a) => add('ln_grad_ratio', a, null, cv));
  });
  return toCsv(['point', 'sw2', 'sb2', 'phase', 'layer', 'quantity', 'a', 'b', 'measured', 'se', 'theory', 'z', 'nets', 'width'], rows);
}

/** A <script> that draws `h` with heatmap-plot.js once the page (and uPlot) has loaded. */
function heatmapDiv(h: HeatmapData): string {
  const json = JSON.stringify(h, (_k, v) => (v === Infinity ? 1e308 : v)).replace(/</g, '\\u003c');
  return `<div class="chart" id="hm-${esc(h.id)}"></div>${h.note ? `` : ''}
<script>addEventListener('DOMContentLoaded', () => heatmapPlot(uPlot, document.getElementById('hm-${esc(h.id)}'), ${json}));</script>`;
}

function heatmapBlock(maps: HeatmapData[]): string {
  return `<div class="charts">${maps.map((h) => `<div>${heatmapDiv(h)}${h.note ? `<p class="cap">${esc(h.note)}</p>` : ''}</div>`).join('')}</div>`;
}

/** The measured-vs-theory q^l, c^l, gradient charts of every propagation point. */
function propagationPointCharts(r: SignalPropagationResult): ChartData[] {
  return r.propagation.flatMap((p, i) => {
    const pairs = representativePairs(p.comparison);
    const labels = pairs.map((k) => {
      const [a, b] = p.comparison.curves.pairs[k];
      return `${a}–${b} (c⁰ = ${p.comparison.curves.c[k].theory[0].toFixed(2)})`;
    });
    return propagationCharts(`prop${i + 1}`, p.label, p.comparison, pairs, labels);
  });
}

export interface ReportContext {
  assets: ReportAssets;
  /** The text of heatmap-plot.js (inlined; Node reads it with readHeatmapScript()). */
  heatmapScript: string;
  adapter: { name: string; description: string; runtime: string };
}

/** Reads src/analysis/report/heatmap-plot.js (Node only). */
export function readHeatmapScript(): string {
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  return fs.readFileSync(new URL('../../analysis/report/heatmap-plot.js', import.meta.url), 'utf8');
}

export function signalPropagationReport(r: SignalPropagationResult, summary: Record<string, unknown>, rc: ReportContext): string {
  const o = r.options;
  const sections: ReportSection[] = [];
  const script = `<script>${rc.heatmapScript.replace(/^export /gm, '')}</script>`;
  const maps = phaseDiagramHeatmaps(r.phase, r.line);
  sections.push({
    title: 'Phase diagram and critical line (mean-field theory)',
    html: `${script}
<table><tr><th>σ_b²</th>${r.critical.map((p) => `<td class="num">${p.sb2}</td>`).join('')}</tr>
<tr><th>critical σ_w²*</th>${r.critical.map((p) => `<td class="num">${p.sw2.toPrecision(10)}</td>`).join('')}</tr></table>
<table><tr><th>σ_w²</th><th>σ_b²</th><th>phase</th><th>q*</th><th>χ1</th><th>c*</th><th>ξ_c</th><th>6ξ_c</th></tr>
${r.xiTable.map((p) => `<tr><td class="num">${p.sw2}</td><td class="num">${p.sb2}</td><td>${p.phase}</td><td class="num">${fmt(p.qStar, 6)}</td><td class="num">${fmt(p.chi1, 6)}</td><td class="num">${fmt(p.cStar, 6)}</td><td class="num">${fmt(p.xiC, 6)}</td><td class="num">${fmt(6 * p.xiC, 4)}</td></tr>`).join('\n')}</table>
<p class="note">${esc(o.activation)}; Gauss quadrature in float64 (src/analysis/meanfield; independent scipy check: crosscheck.py). Grid: σ_w² ${o.phaseSw2[0]}–${o.phaseSw2[1]} (${o.phaseSw2[2]} values) × σ_b² ${o.phaseSb2[0]}–${o.phaseSb2[1]} (${o.phaseSb2[2]} values).</p>
${heatmapBlock([maps.chi1, maps.xiC])}`,
  });

  if (r.propagation.length) {
    const p0 = r.propagation[0].result.spec;
    const row = (name: string, a: { maxZ: number; fractionWithin: number; maxError: number; agrees: boolean } | null): string =>
      a ? `<td class="num">${fmt(a.maxZ)}</td><td class="num">${(100 * a.fractionWithin).toFixed(0)}%</td><td class="num">${fmt(a.maxError)}</td><td>${a.agrees ? 'yes' : '<b>no</b>'}</td>` : `<td colspan="4">not measured${name ? '' : ''}</td>`;
    const table = `<table><tr><th rowspan="2">point</th><th colspan="4">q^l (error relative)</th><th colspan="4">c^l</th><th colspan="4">ln D^l/D^top</th><th rowspan="2">GPU s</th></tr>
<tr>${'<th>max |z|</th><th>within</th><th>max error</th><th>agrees</th>'.repeat(3)}</tr>
${r.propagation.map((p) => `<tr><td>${esc(p.label)}; χ1 = ${fmt(p.meanField.chi1, 4)}, ξ_c = ${fmt(p.meanField.xiC, 4)}${p.comparison.warning ? ` <b>(${esc(p.comparison.warning)})</b>` : ''}</td>${row('q', p.comparison.agreement.q)}${row('c', p.comparison.agreement.c)}${row('g', p.comparison.agreement.lnGrad)}<td class="num">${p.result.seconds.toFixed(1)}</td></tr>`).join('\n')}</table>`;
    const charts = propagationPointCharts(r);
    sections.push({
      title: 'Empirical propagation on the GPU vs mean-field theory',
      html: `<p class="note">${p0.nets} random ${esc(o.activation)} networks per point (seeds ${p0.seed}–${p0.seed + p0.nets - 1}), width ${p0.width}, ${p0.depth} layers, weights regenerated on the fly (Threefry-2x32, shaders/randnet.wgsl).
Inputs: ${esc((r.inputs?.labels ?? []).join('; '))}, each standardised to |x|²/d = 1. Measured: per layer the mean over networks of q^l = mean h², c^l = G_ab/√(G_aa G_bb),
and the backpropagated |∂E/∂h^l|² of a random linear readout (ratio of network means). Theory: the NNGP / length-map recursion from the same inputs and χ1(q^l) per layer.
z = (measured − theory)/(4 SE + finite-width allowance); a figure agrees when ≥ 95% of its points have |z| ≤ 1 and none exceeds 2 (src/experiments/propagation/compare.ts).</p>
${table}`,
      charts,
    });
  }

  sections.push(...initReportSections(r.jacobian, r.curves));

  if (r.trainability && r.sixXi && r.band) {
    const t = r.trainability.spec;
    const b = r.band;
    const xi6 = { sw2: r.sixXi.sw2, depth: r.sixXi.depth };
    const hTrain = trainabilityHeatmap(r.trainability, 'train', r.sixXi.criticalSw2, xi6);
    const hTest = trainabilityHeatmap(r.trainability, 'test', r.sixXi.criticalSw2, xi6);
    const range = (v: [number, number] | null): string => (v ? `${v[0]}–${v[1]}` : '—');
    const bandTable = `<table><tr><th>depth L</th><th>best σ_w² (train acc.)</th><th>σ_w² with train acc. ≥ ${b.threshold}</th><th>σ_w² with L ≤ 6ξ_c</th></tr>
${b.rows.map((row) => `<tr><td class="num">${row.depth}</td><td class="num">${row.bestSw2 ?? '—'} (${row.bestAccuracy === null ? '—' : (100 * row.bestAccuracy).toFixed(1) + '%'})</td><td class="num">${range(row.trainableSw2)}</td><td class="num">${range(row.predictedSw2)}</td></tr>`).join('\n')}</table>`;
    const diverged = r.trainability.cells.filter((c) => c.status === 'diverged').length;
    sections.push({
      title: 'Trainability: depth × σ_w² against L = 6ξ_c',
      html: `<p class="note">${r.trainability.cells.length} trainings of ${esc(o.activation)} MLPs 784 → ${t.width} × L → 10 on MNIST-10k (8,000 train / 2,000 test), σ_b² = ${t.sb2}, plain SGD lr ${t.lr}, batch ${t.batchSize}, ${t.steps} steps, seed ${t.seed} for every cell;
accuracy on the full train and test sets after the last step (${diverged} diverged). White line: σ_w²* = ${r.sixXi.criticalSw2.toFixed(5)}; red dashed: L = 6ξ_c(σ_w²).
Trainable (train accuracy ≥ ${b.threshold}) agrees with the prediction L ≤ 6ξ_c in ${(100 * b.agreement).toFixed(0)}% of the cells; ${b.trainableBeyond} cells train beyond 6ξ_c, ${b.untrainableWithin} fail inside it.</p>
${heatmapBlock([hTrain, hTest])}
${bandTable}`,
    });
  }

  const timings = Object.entries(r.timings).map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${v.toFixed(2)} s</td></tr>`).join('');
  sections.push({ title: 'Timings', html: `<table>${timings}</table><p class="note">Adapter: ${esc(rc.adapter.name)} (${esc(rc.adapter.description)}, ${esc(rc.adapter.runtime)}).</p>` });

  return reportPage({
    title: 'Deep information propagation: order to chaos, depth scales, trainability',
    intro: esc(
      'Schoenholz, Gilmer, Ganguli & Sohl-Dickstein (ICLR 2017). A wide random network is ordered (χ1 < 1: inputs converge, gradients vanish) or chaotic (χ1 > 1: nearby inputs decorrelate, gradients explode) depending on (σ_w², σ_b²); correlations survive ξ_c layers, which diverges on the critical line χ1 = 1, and networks train only when their depth L ≲ 6ξ_c.',
    ),
    sections,
    summary,
    assets: rc.assets,
  });
}

export function signalPropagationFiles(r: SignalPropagationResult, summary: Record<string, unknown>, rc: ReportContext): RunFiles {
  const files: RunFiles = new Map();
  files.set('summary.json', JSON.stringify(summary, null, 2) + '\n');
  const pd = r.phase;
  const nb = pd.sb2.length;
  const nw = pd.sw2.length;
  const grid = (g: number[][]): Float64Array => Float64Array.from(g.flat());
  files.set('phase_chi1.npy', encodeNpy(grid(pd.chi1), [nb, nw]));
  files.set('phase_xi_c.npy', encodeNpy(grid(pd.xiC), [nb, nw]));
  files.set('phase_q_star.npy', encodeNpy(grid(pd.qStar), [nb, nw]));
  files.set('phase_c_star.npy', encodeNpy(grid(pd.cStar), [nb, nw]));
  files.set('phase_sw2.npy', encodeNpy(Float64Array.from(pd.sw2), [nw]));
  files.set('phase_sb2.npy', encodeNpy(Float64Array.from(pd.sb2), [nb]));
  const rows: (number | string | null)[][] = [];
  pd.sb2.forEach((sb2, ib) => pd.sw2.forEach((sw2, iw) => rows.push([sw2, sb2, num(pd.qStar[ib][iw]), num(pd.cStar[ib][iw]), num(pd.chi1[ib][iw]), num(pd.xiC[ib][iw]), pd.phase[ib][iw]])));
  files.set('phase_diagram.csv', toCsv(['sw2', 'sb2', 'q_star', 'c_star', 'chi1', 'xi_c', 'phase'], rows));
  files.set('critical_line.csv', toCsv(['sb2', 'sw2_critical'], r.line.map((p) => [p.sb2, p.sw2])));
  if (r.propagation.length) {
    files.set('propagation_curves.csv', curvesCsv(r));
    r.propagation.forEach((p, i) => {
      const { depth: L, nets: S } = p.result.spec;
      const m = p.result.m;
      files.set(`propagation_${i + 1}_gram.npy`, encodeNpy(p.result.gram, [L, S, m, m]));
      if (!Number.isNaN(p.result.delta2[0])) files.set(`propagation_${i + 1}_delta2.npy`, encodeNpy(p.result.delta2, [L, S, m]));
    });
    if (r.inputs) files.set('propagation_inputs.npy', encodeNpy(r.inputs.x, [r.inputs.x.length / r.inputs.d, r.inputs.d]));
  }
  if (r.trainability && r.sixXi) {
    const t = r.trainability;
    const { sw2, depths } = t.spec;
    const acc = (which: 'trainAccuracy' | 'testAccuracy'): Float64Array => Float64Array.from(t.cells.map((c) => c[which] ?? NaN));
    files.set('trainability_train_accuracy.npy', encodeNpy(acc('trainAccuracy'), [depths.length, sw2.length]));
    files.set('trainability_test_accuracy.npy', encodeNpy(acc('testAccuracy'), [depths.length, sw2.length]));
    files.set('trainability_depths.npy', encodeNpy(Float64Array.from(depths), [depths.length]));
    files.set('trainability_sw2.npy', encodeNpy(Float64Array.from(sw2), [sw2.length]));
    const atGrid = r.sixXi.atGrid;
    files.set(
      'trainability.csv',
      toCsv(
        ['depth', 'sw2', 'status', 'train_accuracy', 'test_accuracy', 'train_loss', 'test_loss', 'six_xi_c', 'predicted_trainable', 'seconds', 'message'],
        t.cells.map((c, i) => {
          const s = num(atGrid[i % sw2.length]);
          return [c.depth, c.sw2, c.status, c.trainAccuracy, c.testAccuracy, c.trainLoss, c.testLoss, s, s === null ? null : c.depth <= s ? 1 : 0, c.seconds, c.message];
        }),
      ),
    );
    files.set('six_xi_c.csv', toCsv(['sw2', 'six_xi_c'], r.sixXi.sw2.map((w, i) => [w, num(r.sixXi!.depth[i])])));
  }
  addInitFiles(files, r.jacobian, r.curves);
  const maps = phaseDiagramHeatmaps(r.phase, r.line);
  const train = r.trainability && r.sixXi
    ? (['train', 'test'] as const).map((w) => trainabilityHeatmap(r.trainability!, w, r.sixXi!.criticalSw2, { sw2: r.sixXi!.sw2, depth: r.sixXi!.depth }))
    : [];
  const charts: (ChartData | HeatmapData)[] = [maps.chi1, maps.xiC, ...propagationPointCharts(r), ...initCharts(r.jacobian, r.curves), ...train];
  files.set('charts.json', JSON.stringify(charts, (_k, v) => (v === Infinity ? 1e308 : v)) + '\n');
  files.set('report.html', signalPropagationReport(r, summary, rc));
  return files;
}
