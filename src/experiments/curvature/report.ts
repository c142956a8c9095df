/**
 * The report of `sgdscope hessian`, on the shared report page (src/analysis/report/html.ts): the
 * key numbers and five figures built as plain ChartData (hessianCharts, usable by the dashboard
 * too) — top-k eigenvalues with the bulk edge, the SLQ spectral density, v_iᵀCv_i against λ_i and
 * C_ii against H_ii on log–log axes with their fits, and (with --verify-dense) the dense spectrum
 * against the Lanczos values. uPlot is inlined, so the file works offline.
 */
import type { ChartData } from '../../analysis/report/chart-data.ts';
import { esc, fmt, reportPage } from '../../analysis/report/html.ts';
import type { HessianAnalysis } from './run.ts';
import type { MlpConfig } from '../../nn/config.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';

/** Where a Hessian analysis came from, for summary.json and the report's header. */
export interface HessianRunInfo {
  model: MlpConfig;
  /** Where the weights came from (run folder path, or "trained here"). */
  source: string;
  train?: unknown;
  data?: unknown;
  options: Record<string, unknown>;
  adapter?: unknown;
  /** The trained run's final evaluation, when known. */
  finalEval?: unknown;
}

const pos = (v: number): number | null => (Number.isFinite(v) && v > 0 ? v : null);

/** At most `max` indices of a long scatter, evenly strided (the diagonal of a big block). */
function thin(idx: number[], max: number): number[] {
  if (idx.length <= max) return idx;
  const step = idx.length / max;
  return Array.from({ length: max }, (_, i) => idx[Math.floor(i * step)]);
}

export function hessianCharts(r: HessianAnalysis): ChartData[] {
  const charts: ChartData[] = [];
  const lam = Array.from(r.lanczos.values);
  const xi = lam.map((_, i) => i + 1);
  charts.push({
    id: 'top',
    title: `Top eigenvalues (${r.outliers.count} outliers)`,
    xLabel: 'i',
    yLabel: 'λ_i',
    xLog: false,
    yLog: true,
    x: xi,
    series: [
      { label: 'λ_i', style: 'points', y: lam.map(pos) },
      { label: 'bulk edge', style: 'dashed', y: xi.map(() => pos(r.outliers.bulkEdge)) },
    ],
    note: 'Outliers: above the widest multiplicative gap among the top k (the dashed line is the largest bulk eigenvalue).',
  });
  const dmax = Math.max(...Array.from(r.density.density));
  charts.push({
    id: 'density',
    title: 'SLQ spectral density',
    xLabel: 'λ',
    yLabel: 'density',
    xLog: false,
    yLog: true,
    x: Array.from(r.density.x),
    series: [{ label: 'φ(λ)', style: 'line', y: Array.from(r.density.density, (v) => (v > dmax * 1e-8 ? v : null)) }],
    note: `Gaussian broadening σ = ${fmt(r.density.sigma)}; ∫φ = ${fmt(r.density.integral, 6)}; each outlier is a bump of weight ≈ 1/P.`,
  });
  const e = r.noise?.eigenbasis;
  if (e) {
    const idx = lam.map((_, i) => i).filter((i) => lam[i] > 0).sort((a, b) => lam[a] - lam[b]);
    const x = idx.map((i) => lam[i]);
    const series: ChartData['series'] = [
      { label: 'v_iᵀCv_i', style: 'points', y: idx.map((i) => pos(e.centred[i])) },
      { label: 'v_iᵀFv_i', style: 'points', y: idx.map((i) => pos(e.uncentred[i])) },
      { label: 'y = λ', style: 'dashed', y: x },
    ];
    if (e.fit) series.push({ label: `fit slope ${fmt(e.fit.gamma)}`, style: 'line', y: x.map((l) => Math.exp(e.fit!.intercept) * l ** e.fit!.gamma) });
    charts.push({ id: 'eig', title: 'Noise covariance vs Hessian along its top eigenvectors', xLabel: 'λ_i', yLabel: 'v_iᵀ C v_i', xLog: true, yLog: true, x, series, note: 'C: per-sample gradient covariance over the training set (centred); F = C + ḡḡᵀ.' });
  }
  if (r.hessianDiagonal && r.noise) {
    const h = r.hessianDiagonal;
    const c = r.noise.diagonal.centred;
    const idx: number[] = [];
    for (let i = 0; i < r.dim; i++) if (h[i] > 0 && c[i] > 0) idx.push(i);
    const shown = thin(idx, 20000).sort((a, b) => h[a] - h[b]);
    const x = shown.map((i) => h[i]);
    const series: ChartData['series'] = [{ label: 'C_ii', style: 'points', y: shown.map((i) => c[i]) }];
    const f = r.diagonalFit;
    if (f) series.push({ label: `γ = ${fmt(f.gamma)}`, style: 'line', y: x.map((v) => Math.exp(f.intercept) * v ** f.gamma) });
    charts.push({ id: 'diag', title: 'Diagonal: C_ii vs H_ii', xLabel: 'H_ii', yLabel: 'C_ii', xLog: true, yLog: true, x, series, note: `H_ii from ${r.diagonalSource ?? '—'}.` });
  }
  if (r.dense) {
    const m = Math.min(r.dense.spectrum.length, Math.max(lam.length, 50));
    const x = Array.from({ length: m }, (_, i) => i + 1);
    charts.push({
      id: 'dense',
      title: 'Dense solver vs Lanczos',
      xLabel: 'i',
      yLabel: 'λ_i',
      xLog: false,
      yLog: true,
      x,
      series: [
        { label: 'dense (explicit block)', style: 'line', y: x.map((i) => pos(r.dense!.spectrum[i - 1])) },
        { label: 'Lanczos', style: 'points', y: x.map((i) => (i <= lam.length ? pos(lam[i - 1]) : null)) },
      ],
    });
  }
  return charts;
}

export function hessianReportHtml(r: HessianAnalysis, info: HessianRunInfo, summary: Record<string, unknown>, assets: ReportAssets): string {
  const lz = r.lanczos;
  const e = r.noise?.eigenbasis ?? null;
  const dn = r.dense;
  const charts = hessianCharts(r);
  const chart = (id: string): ChartData[] => charts.filter((c) => c.id === id);
  const fe = info.finalEval as { train?: { loss: number; accuracy: number }; test?: { loss: number; accuracy: number } | null } | undefined;
  const maxRes = Math.max(...Array.from(r.trueResiduals)) / Math.abs(lz.values[0]);
  const intro = `${esc(info.model.widths.join('-'))} ${esc(info.model.activation)}${info.model.bias ? ' with biases' : ', no biases'}; weights from ${esc(info.source)}.
Block: layer${r.layers.length > 1 ? 's' : ''} ${r.layers.join(', ')} (${r.dim} parameters); loss = mean cross-entropy over all ${r.rows} training samples = ${fmt(r.loss, 5)}${
    fe?.train ? ` (train accuracy ${fmt(100 * fe.train.accuracy, 4)}%${fe.test ? `, test ${fmt(100 * fe.test.accuracy, 4)}%` : ''})` : ''
  }. Products H·v are exact (Pearlmutter's R-operator on the GPU, float32); eigenvalues from Lanczos with full re-orthogonalisation in float64.`;
  const spectrum = `<table>
<tr><td>λ<sub>1</sub> … λ<sub>${Math.min(5, lz.values.length)}</sub></td><td>${Array.from(lz.values.slice(0, 5), (v) => fmt(v, 5)).join(', ')}</td></tr>
<tr><td>Lanczos</td><td>${lz.iterations} steps, ${lz.converged ? 'converged' : '<b>not converged</b>'}, max ‖Hu − λu‖/λ<sub>1</sub> = ${fmt(maxRes, 2)}, ${fmt(r.timings.lanczos, 3)} s</td></tr>
<tr><td>trace</td><td>Hutchinson ${fmt(r.hutchinson.trace, 5)} ± ${fmt(r.hutchinson.stdErr, 2)} (${r.hutchinson.samples.length} probes); SLQ ${fmt(r.slq.trace, 5)} ± ${fmt(r.slq.traceStdErr, 2)}${dn ? `; exact ${fmt(dn.trace, 6)}` : ''}</td></tr>
<tr><td>outliers</td><td><b>${r.outliers.count}</b> above the bulk edge ${fmt(r.outliers.bulkEdge, 4)} (gap ×${fmt(r.outliers.gapRatio)}; the SLQ density puts ${fmt(r.outliers.slqCountAbove)} eigenvalues above it). Rule: ${esc(r.outliers.rule)}.</td></tr>
${dn ? `<tr><td>dense check</td><td>top ${dn.dense.length} vs the dense float64 eigensolver on the explicit block: max relative error <b>${fmt(dn.maxRelErr, 2)}</b>; Lanczos ${fmt(r.timings.lanczos, 3)} s vs build ${fmt(dn.buildSeconds, 3)} s + solve ${fmt(dn.solveSeconds, 3)} s</td></tr>` : ''}
</table>`;
  const median = (summary.noise as { eigenbasis?: { medianRatio?: number } } | null)?.eigenbasis?.medianRatio ?? null;
  const noise = r.noise
    ? `<p>C = per-sample gradient covariance over the training set (centred). Along the top eigenvectors: median v<sub>i</sub>ᵀCv<sub>i</sub>/λ<sub>i</sub> = ${fmt(median)}${
        e?.fit ? `, v<sub>i</sub>ᵀCv<sub>i</sub> ∝ λ<sub>i</sub><sup>${fmt(e.fit.gamma)}</sup> (r = ${fmt(e.fit.r)})` : ''
      }. Diagonal: ${
        r.diagonalFit
          ? `C<sub>ii</sub> ∝ H<sub>ii</sub><sup>γ</sup> with <b>γ = ${fmt(r.diagonalFit.gamma)} ± ${fmt(r.diagonalFit.gammaSE, 2)}</b> (r = ${fmt(r.diagonalFit.r)}, n = ${r.diagonalFit.n}, ${r.diagonalFit.skipped} zero entries skipped)`
          : esc(r.diagonalFitError ?? 'no fit')
      }; H<sub>ii</sub> from ${esc(r.diagonalSource ?? '—')}.</p>`
    : '<p>not measured (--no-noise)</p>';
  const timings = `<table><tr><th>stage</th><th>wall time</th></tr>${Object.entries(r.timings)
    .map(([name, sec]) => `<tr><td>${esc(name)}</td><td class="num">${sec.toFixed(2)} s</td></tr>`)
    .join('')}</table>`;
  return reportPage({
    title: 'Hessian of the training loss',
    intro,
    sections: [
      { title: 'Spectrum', html: spectrum, charts: [...chart('top'), ...chart('density'), ...chart('dense')] },
      { title: 'Gradient noise against curvature', html: noise, charts: [...chart('eig'), ...chart('diag')] },
      { title: 'Stage timings', html: timings },
    ],
    summary,
    assets,
  });
}
