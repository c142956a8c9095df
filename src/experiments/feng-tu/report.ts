/**
 * A self-contained HTML report of a Feng–Tu run: the numbers of summary.json as a table and uPlot
 * charts — variance spectrum, flatness spectrum, σ² vs F (log–log, with the fitted power law),
 * T_i vs F_i, T_i(t) vs L(t), and the mini-loss-function ensemble. uPlot's JS and CSS are inlined
 * (passed in as `assets`), so the file works offline and can be mailed as is.
 */
import type { FengTuResult } from './run.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v: number | null | undefined, digits = 3): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(digits) : v.toExponential(digits - 1);

function finite(v: number | null | undefined): v is number {
  return v !== null && v !== undefined && Number.isFinite(v);
}

export function reportHtml(r: FengTuResult, assets: ReportAssets, summary: Record<string, unknown>): string {
  const k = r.options.k as number;
  const F = r.flatness ? r.flatness.directions.map((d) => d.F) : r.dirs.map(() => null);
  const T = r.temperatures ? Array.from(r.temperatures.T) : r.dirs.map(() => null);
  const data = {
    k,
    variance: r.pca ? Array.from(r.pca.variances) : [],
    trusted: r.pca ? r.pca.floor.trustedUpTo : 0,
    varianceDetrended: r.pcaDetrended ? Array.from(r.pcaDetrended.variances) : null,
    dirs: r.dirs.map((i) => i + 1),
    F,
    T,
    fit: r.fit ? { psi: r.fit.psi, c: r.fit.intercept } : null,
    tFit: r.tempVsFlatness ? { psi: r.tempVsFlatness.psi, c: r.tempVsFlatness.intercept } : null,
    tDirs: r.tDirs,
    stepsPerEpoch: r.stepsPerEpoch,
    tVsL: r.temperatureVsLoss.map((row) => ({ step: row.step, loss: row.loss, T: Array.from(row.T) })),
    mlf: r.mlf.map((e) => ({ pc: e.dir + 1, theta: Array.from(e.theta), full: Array.from(e.full), mini: e.mini.map((m) => Array.from(m)) })),
  };
  const s = r.summary;
  const dRow = (name: string, p: NonNullable<typeof s>['all'] | null): string =>
    p ? `<tr><td>${esc(name)}</td><td>${p.d90 ?? `&gt; ${p.variances.length}`}</td><td>${p.d99 ?? `&gt; ${p.variances.length}`}</td><td>${esc(p.label)}</td></tr>` : '';
  const stageRows = Object.entries(r.stages)
    .map(([name, st]) => `<tr><td>${esc(name)}</td><td>${st!.status === 'done' ? 'done' : `<b>${esc(st!.status)}</b>`}</td><td>${st!.seconds.toFixed(2)} s</td><td>${esc(st!.error ?? st!.detail ?? '')}</td></tr>`)
    .join('');
  const floor = r.pca?.floor;
  const fd = r.fitDetail;
  const rangeRows = fd ? [...fd.ranges.map((f) => ['nested', f] as const), ...fd.local.map((f) => ['local', f] as const)].map(([kind, f]) => `<tr><td>${kind}</td><td>${f.from}–${f.to}</td><td>${f.n}</td><td>${num(f.psi)} ± ${num(f.psiSE, 2)}</td><td>${num(f.r)}</td></tr>`).join('') : '';
  const fit = r.fit;
  const timings = Object.entries(r.timings)
    .map(([name, sec]) => `<tr><td>${esc(name)}</td><td>${sec.toFixed(2)} s</td></tr>`)
    .join('');
  const lastEval = r.history.evals.at(-1);
  const an = r.anisotropy;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sgdscope — Feng–Tu reproduction</title>
<style>${assets.uplotCss}
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; } .chart { border: 1px solid #ddd; padding: 6px; }
.note { color: #555; max-width: 900px; }
</style></head><body>
<h1>Feng–Tu reproduction: SGD noise, flatness and temperature per direction</h1>
<p class="note">${esc(r.model.widths.join('-'))} ${esc(r.model.activation)}${r.model.bias ? ' with biases' : ', no biases'}, SGD lr ${r.train.lr}, batch ${r.train.batchSize},
${r.totalSteps} steps (${(r.totalSteps / r.stepsPerEpoch).toFixed(1)} epochs of ${r.stepsPerEpoch} steps, ${r.trainSize} training samples).
Analysed layer ${r.layer} (${r.fanIn}×${r.fanOut}, P = ${r.P}), recorded at every step of the window ${r.window.firstStep}–${r.window.lastStep}
(T = ${r.window.T} steps = ${r.window.epochs.toFixed(1)} epochs). Final train loss ${num(lastEval?.train.loss, 4)}, accuracy ${num(lastEval ? 100 * lastEval.train.accuracy : null, 4)}%,
test accuracy ${num(lastEval?.test ? 100 * lastEval.test.accuracy : null, 4)}%. w* = the window mean of the analysed layer, other layers at their final values.</p>

<h2>Stages</h2>
<table><tr><th>stage</th><th>status</th><th>time</th><th>result or error</th></tr>${stageRows}</table>

<h2>Effective dimension of the motion</h2>
${s && r.pca ? `<table><tr><th>variant</th><th>D90</th><th>D99</th><th>what is counted</th></tr>
${dRow('all components', s.all)}${dRow('PC1 (drift) left out', s.pc1Removed)}${dRow('linearly detrended window', s.detrended)}</table>
<p>Of P = ${r.P} directions; top k = ${k} computed (${esc(r.pca.route)} route, ${esc(r.pca.method)}${r.scatter ? `, scatter in ${esc(r.scatter.arithmetic)}` : ''}). PC1 holds ${num(100 * s.all.ratio[0], 4)}% of the variance;
|cos(PC1, w*)| = ${num(r.pc1VsMeanWeight)}, |cos(PC1, drift velocity)| = ${num(r.pc1VsDrift)}.
Numerical noise floor of σ<sub>i</sub>²: ${num(floor!.variance)} (${num(floor!.relativeToTop)}·σ<sub>1</sub>²): PCs 1–${floor!.trustedUpTo} are trusted to ${floor!.relTol} relative${floor!.trustedUpTo < k ? `; PCs ${floor!.trustedUpTo + 1}–${k} are below it and left out of the fits` : ''}.</p>` : '<p>no PCA (see the stages above)</p>'}

<h2>Inverse variance–flatness relation</h2>
<p>${fit && fd ? `σ<sub>i</sub>² ∝ F<sub>i</sub><sup>−ψ</sup> with <b>ψ = ${num(fit.psi)} ± ${num(fit.psiSE, 2)}</b> over PCs ${fd.pcs[0]}–${fd.pcs[fd.pcs.length - 1]} (Pearson r of ln σ², ln F = <b>${num(fit.r)}</b>, n = ${fit.n} PCs, PC1 left out).
The log–log relation need not be straight: ψ over nested PC ranges and over local blocks of PCs is in the table below.` : `no fit: ${esc(r.fitError ?? r.stages.fit?.error ?? 'flatness not measured')}`}
Flatness: width of the interval where L(w + θp<sub>i</sub>) &lt; ${num(r.options.flatK, 4)}·L(w), at w = ${r.options.flatAt === 'final' ? 'the final weights' : 'w*'}, L(w) = ${num(r.L0, 4)}.
Feng &amp; Tu report ψ ≈ 4 on full MNIST; an equilibrium (thermal) system would give σ² ∝ F², i.e. ψ = −2.</p>
${rangeRows ? `<table><tr><th>kind</th><th>PCs</th><th>n</th><th>ψ</th><th>r</th></tr>${rangeRows}</table>` : ''}

<h2>Noise temperature</h2>
<p>${an ? `T<sub>i</sub> = (α/2)·Var<sub>μ</sub>[(∇L<sub>μ</sub> − ∇L)·p<sub>i</sub>] from per-sample gradients over all ${r.trainSize} samples (finite-population factor).
max/min = ${num(an.maxOverMin)}, Spearman ρ(T<sub>i</sub>, F<sub>i</sub>) = <b>${num(an.spearmanWithFlatness)}</b>${r.tempVsFlatness ? `, T ∝ F<sup>−${num(r.tempVsFlatness.psi)}</sup> (r = ${num(r.tempVsFlatness.r)})` : ''}.` : 'not measured'}
${r.temperatureVsLoss.length ? `Along training, Pearson r of ln T<sub>i</sub>(t) with ln L(t): ${r.tDirs.map((i, j) => `PC${i} ${num(r.temperatureLossCorrelation[j])}`).join(', ')}.` : ''}</p>

<div class="charts">
<div class="chart" id="c-var"></div><div class="chart" id="c-flat"></div>
<div class="chart" id="c-vf"></div><div class="chart" id="c-tf"></div>
<div class="chart" id="c-tl"></div><div id="c-mlf" class="charts"></div>
</div>

<h2>Stage timings</h2>
<table><tr><th>stage</th><th>wall time</th></tr>${timings}</table>
<h2>summary.json</h2>
<pre style="font-size:12px; background:#f7f7f7; padding:8px; overflow:auto; max-height:400px">${esc(JSON.stringify(summary, null, 2))}</pre>
<script>${assets.uplotJs}</script>
<script>
const DATA = ${JSON.stringify(data)};
const W = 520, H = 320;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
const pts = (label, color, size = 6) => ({ label, stroke: color, fill: color, paths: () => null, points: { show: true, size, fill: color, stroke: color } });
const line = (label, color, width = 2, dash) => ({ label, stroke: color, width, dash, points: { show: false } });
const fmt = (v) => (v === null ? '' : v === 0 ? '0' : Math.abs(v) >= 0.01 && Math.abs(v) < 1e4 ? String(+v.toPrecision(3)) : v.toExponential(0));
const axis = (label, log) => ({ label, size: 60, values: (u, splits) => splits.map(fmt), ...(log ? { space: 20 } : {}) });
function plot(id, title, xLog, yLog, series, data, xl, yl, legend = true) {
  const el = document.getElementById(id);
  if (!el || data[0].length === 0) return;
  new uPlot({ title, width: W, height: H, scales: { x: { time: false, distr: xLog ? 3 : 1 }, y: { distr: yLog ? 3 : 1 } },
    series: [{ label: xl }, ...series], axes: [axis(xl, xLog), axis(yl, yLog)], legend: { show: legend, live: true } }, data, el);
}
const pos = (v) => (v !== null && v > 0 && isFinite(v) ? v : null);
// 1. variance spectrum
{
  const x = DATA.variance.map((_, i) => i + 1);
  const s = [line('σ² (window)', COLORS[0]), line('σ² under the noise floor', '#999', 2, [2, 3])];
  const d = [x, DATA.variance.map((v, i) => (i < DATA.trusted ? pos(v) : null)), DATA.variance.map((v, i) => (i >= DATA.trusted - 1 ? pos(v) : null))];
  if (DATA.varianceDetrended) { s.push(line('σ² (detrended window)', COLORS[1], 2, [6, 4])); d.push(DATA.varianceDetrended.map(pos)); }
  plot('c-var', 'Variance spectrum σ²_i', true, true, s, d, 'PC index i', 'σ²');
}
// 2. flatness spectrum
{
  const idx = DATA.dirs.map((_, j) => j).filter((j) => pos(DATA.F[j]) !== null);
  plot('c-flat', 'Flatness spectrum F_i', true, true, [pts('F_i', COLORS[2])], [idx.map((j) => DATA.dirs[j]), idx.map((j) => DATA.F[j])], 'PC index i', 'F');
}
// 3. σ² vs F with the fit (PC1 separate)
{
  const idx = DATA.dirs.map((_, j) => j).filter((j) => pos(DATA.F[j]) !== null).sort((a, b) => DATA.F[a] - DATA.F[b]);
  const x = idx.map((j) => DATA.F[j]);
  const y = idx.map((j) => (DATA.dirs[j] === 1 ? null : DATA.variance[DATA.dirs[j] - 1]));
  const y1 = idx.map((j) => (DATA.dirs[j] === 1 ? DATA.variance[0] : null));
  const s = [pts('σ²_i (i ≥ 2)', COLORS[0]), pts('PC1 (drift)', COLORS[1], 9)], d = [x, y, y1];
  if (DATA.fit) { s.push(line('fit ψ = ' + DATA.fit.psi.toPrecision(3), '#444', 1.5, [5, 3])); d.push(x.map((f) => Math.exp(DATA.fit.c) * Math.pow(f, -DATA.fit.psi))); }
  plot('c-vf', 'σ² vs F (log–log)', true, true, s, d, 'F_i', 'σ²_i');
}
// 4. T vs F
{
  const idx = DATA.dirs.map((_, j) => j).filter((j) => pos(DATA.F[j]) !== null && pos(DATA.T[j]) !== null).sort((a, b) => DATA.F[a] - DATA.F[b]);
  const x = idx.map((j) => DATA.F[j]);
  const s = [pts('T_i', COLORS[3])], d = [x, idx.map((j) => DATA.T[j])];
  if (DATA.tFit) { s.push(line('fit', '#444', 1.5, [5, 3])); d.push(x.map((f) => Math.exp(DATA.tFit.c) * Math.pow(f, -DATA.tFit.psi))); }
  plot('c-tf', 'Temperature T_i vs flatness F_i', true, true, s, d, 'F_i', 'T_i');
}
// 5. T(t) vs L(t), from the first epoch on (at initialisation the late window's directions mean nothing)
{
  const rows = DATA.tVsL.filter((r) => pos(r.loss) !== null && r.step >= DATA.stepsPerEpoch).sort((a, b) => a.loss - b.loss);
  const s = DATA.tDirs.map((i, j) => ({ ...line('PC' + i, COLORS[j % COLORS.length], 1.5), points: { show: true, size: 5 } }));
  plot('c-tl', 'T_i(t) vs L(t) along training (from epoch 1)', true, true, s, [rows.map((r) => r.loss), ...DATA.tDirs.map((_, j) => rows.map((r) => pos(r.T[j])))], 'full training loss L(t)', 'T_i(t)');
}
// 6. mini-loss-function ensembles
DATA.mlf.forEach((e, n) => {
  const div = document.createElement('div'); div.className = 'chart'; div.id = 'c-mlf' + n; document.getElementById('c-mlf').appendChild(div);
  const s = [line('L (full)', '#000', 3), ...e.mini.map((_, m) => ({ ...line('μ' + m, COLORS[m % COLORS.length], 1), show: true }))];
  plot(div.id, 'Mini-loss functions along PC' + e.pc + ' (' + e.mini.length + ' minibatches, black: full loss)', false, true, s, [e.theta, e.full.map(pos), ...e.mini.map((c) => c.map(pos))], 'θ', 'L_μ(w* + θ p)', false);
});
</script></body></html>
`;
  return html;
}
