/**
 * The run folder of `sgdscope reproduce toy-landscape`:
 *
 *   config.json   the experiment spec, adapter
 *   result.json   densities (measured and predicted per bin), deviations, ⟨x⟩, drift relaxation,
 *                 escape fractions and the half-escape noise levels, timings
 *   density.csv   per noise model and bin: x, λ, measured, exp(−L_eff/Δ), adiabatic, adiabatic+,
 *                 Boltzmann, L_SGD measured and predicted, Var(u|x) measured and predicted
 *   drift.csv     Δ, κ, step, ⟨x⟩, ⟨λ⟩, escaped fraction
 *   escape.csv    noise model, Δ, measured and predicted escaped fraction, median escape step
 *   charts.json, report.html
 */
import { toCsv } from '../../util/csv.ts';
import type { RunFiles } from '../../train/run-files.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';
import type { ChartData } from '../../analysis/report/chart-data.ts';
import { esc, fmt, reportPage } from '../../analysis/report/html.ts';
import { densityChart, driftChart, escapeChart, lSgdChart, uVarianceChart } from './charts.ts';
import type { ToyExperimentResult } from './run.ts';
import { lambdaAt } from './theory.ts';

export function toyFigures(r: ToyExperimentResult): ChartData[] {
  return [...r.densities.flatMap((d) => [densityChart(d), lSgdChart(d), uVarianceChart(d)]), driftChart(r.drifts), escapeChart(r.escapes)];
}

export function toySummary(r: ToyExperimentResult): Record<string, unknown> {
  return {
    seconds: r.seconds,
    walkerSteps: r.walkerSteps,
    walkerStepsPerSecond: r.walkerStepsPerSecond,
    densities: r.densities.map((d) => ({ noise: d.noise, meanX: d.meanX, meanXPredicted: d.meanXPredicted, deviation: d.deviation, seconds: d.seconds })),
    drift: r.drifts.map((d) => ({ delta: d.delta, kappa: d.kappa, finalMeanX: d.trace.at(-1)?.meanX, meanXPredicted: d.meanXPredicted, relaxationSteps: d.relaxationSteps })),
    escape: r.escapes.map((e) => ({ noise: e.noise, halfMeasured: e.halfMeasured, halfPredicted: e.halfPredicted, deltas: e.deltas, measured: e.measured, predictedFrozen: e.predictedFrozen, predictedMixed: e.predictedMixed })),
  };
}

export function toyReport(r: ToyExperimentResult, charts: ChartData[], assets: ReportAssets, summary: Record<string, unknown>, adapter: string): string {
  const s = r.spec;
  const devRows = r.densities
    .map((d) => `<tr><td>${d.noise}</td><td class="num">${fmt(d.meanX)}</td><td class="num">${fmt(d.meanXPredicted.effectiveLoss)}</td><td class="num">${fmt(d.meanXPredicted.adiabaticPlus)}</td><td class="num">${fmt(d.meanXPredicted.boltzmann)}</td>` +
      `<td class="num">${fmt(d.deviation.effectiveLoss)}</td><td class="num">${fmt(d.deviation.adiabatic)}</td><td class="num">${fmt(d.deviation.adiabaticPlus)}</td><td class="num">${fmt(d.deviation.boltzmann)}</td></tr>`)
    .join('');
  const driftRows = r.drifts.map((d) => `<tr><td>${d.delta}</td><td>${d.kappa}</td><td class="num">${fmt(d.trace.at(-1)?.meanX)}</td><td class="num">${fmt(d.meanXPredicted)}</td><td class="num">${d.relaxationSteps ?? '&gt; ' + s.drift.steps}</td></tr>`).join('');
  const escRows = r.escapes.map((e) => `<tr><td>${e.noise}</td><td class="num">${fmt(e.halfMeasured)}</td><td class="num">${fmt(e.halfPredicted.mixed)} – ${fmt(e.halfPredicted.frozen)}</td></tr>`).join('');
  const intro = `Valley L(x, y) = λ(x)·y²/2 with λ(x) = ${s.lamMin}·(${s.lamMax}/${s.lamMin})^x on x ∈ [0, 1] (reflecting walls): every y = 0 is a minimum, the flatness F = λ^(−1/2) falls along x.
SGD steps x ← x − α(∂ₓL + η_x), y ← y − α(∂_yL + η_y) with Gaussian gradient noise of variance 2Δs/α along y and 2Δs/(ακ) along x (s = 1: constant; s = λ(x)/λ̄: ∝ local curvature, as minibatch noise),
α = ${s.lr}, Δ = ${s.delta}, κ = ${s.kappa}; ${s.walkers} walkers in one shader with counter-based (Threefry) noise.
The PRL's prediction: P(x, y) ∝ exp(−L_eff/Δ), L_eff = L + L_SGD, L_SGD = Δ(1 − κ)·ln F — for κ &gt; 1 an extra pull to flat minima beyond the entropic one of Boltzmann (κ = 1).
${r.walkerSteps.toExponential(2)} walker-steps in ${r.seconds.toFixed(0)} s (${(r.walkerStepsPerSecond / 1e6).toFixed(1)} M/s) on ${esc(adapter)}.`;
  return reportPage({
    title: 'SGD on a valley of degenerate minima: effective loss, drift to flatness, escape',
    intro,
    assets,
    summary,
    sections: [
      {
        title: 'Stationary density',
        html: `<p class="note">Deviation = max over bins of |measured − predicted|/(predicted + 0.02). "adiabatic": y relaxed at fixed x with the exact discrete-time variance Δs/(λ(1 − αλ/2)), P ∝ s⁻¹[λ/(1 − αλ/2)]^(−κ/2); "+ fluctuating drift": adds the x-diffusion c²λ²Var(y²)α/4·(1+a²)/(1−a²) from the fluctuating drift −cλy²/2 (second order in Δ, matters at the flat end where the x-noise Δ/κ is weak).</p>
<table><tr><th>noise</th><th>⟨x⟩</th><th>exp(−L_eff/Δ)</th><th>adiabatic+</th><th>Boltzmann</th><th>dev. L_eff</th><th>dev. adiabatic</th><th>dev. adiabatic+</th><th>dev. Boltzmann</th></tr>${devRows}</table>`,
        charts: charts.filter((c) => /^(density|lsgd|uvar)-/.test(c.id)),
      },
      { title: 'Drift toward the flat end', html: `<table><tr><th>Δ</th><th>κ</th><th>final ⟨x⟩</th><th>predicted</th><th>steps to 10%</th></tr>${driftRows}</table>`, charts: charts.filter((c) => c.id === 'drift') },
      {
        title: 'Escape: the upper bound on the noise',
        html: `<p class="note">A walker escapes when L &gt; ${s.escape.escLoss} (it has left the valley); ${s.escape.walkers} walkers per Δ start from the stationary state and run ${s.escape.steps} steps. Prediction: per-step probability h(x) of a new excursion |y| &gt; √(2L_esc/λ) of the stationary AR(1) y-process, over the stationary P(x), in two limits: walkers keep their x (1 − ⟨e^{−hT}⟩) or sample all of P(x) during the run (1 − e^{−⟨h⟩T}).</p>
<table><tr><th>noise</th><th>Δ at half escape (measured)</th><th>predicted (x mixed – x frozen)</th></tr>${escRows}</table>`,
        charts: charts.filter((c) => c.id === 'escape'),
      },
    ],
  });
}

export function toyFiles(r: ToyExperimentResult, assets: ReportAssets, meta: { adapter: { name: string; description: string; runtime: string } }): RunFiles {
  const files: RunFiles = new Map();
  const charts = toyFigures(r);
  const summary = toySummary(r);
  files.set('config.json', JSON.stringify({ sgdscope: '0.1.0', created: new Date().toISOString(), kind: 'reproduce-toy-landscape', spec: r.spec, adapter: meta.adapter }, null, 2) + '\n');
  files.set('result.json', JSON.stringify({ ...summary, densityBins: r.densities }, null, 2) + '\n');
  const drows: (number | string | null)[][] = [];
  for (const d of r.densities) {
    d.x.forEach((x, b) =>
      drows.push([d.noise, x, lambdaAt({ lam0: d.params.lam0, c: d.params.c, xLo: 0, xHi: 1 }, x), d.measured[b], d.effectiveLoss[b], d.adiabatic[b], d.adiabaticPlus[b], d.boltzmann[b], d.lSgdMeasured[b], d.lSgdPredicted[b], d.uVarMeasured[b], d.uVarPredicted[b]]),
    );
  }
  files.set('density.csv', toCsv(['noise', 'x', 'lambda', 'measured', 'effective_loss', 'adiabatic', 'adiabatic_plus', 'boltzmann', 'l_sgd_measured', 'l_sgd_predicted', 'u_var_measured', 'u_var_predicted'], drows));
  const trows = r.drifts.flatMap((d) => d.trace.map((t) => [d.delta, d.kappa, t.step, t.meanX, t.meanLambda, t.escaped]));
  files.set('drift.csv', toCsv(['delta', 'kappa', 'step', 'mean_x', 'mean_lambda', 'escaped'], trows));
  const erows = r.escapes.flatMap((e) => e.deltas.map((d, i) => [e.noise, d, e.measured[i], e.predictedFrozen[i], e.predictedMixed[i], e.medianEscapeStep[i]]));
  files.set('escape.csv', toCsv(['noise', 'delta', 'escaped_measured', 'escaped_predicted_frozen', 'escaped_predicted_mixed', 'median_escape_step'], erows));
  files.set('charts.json', JSON.stringify(charts) + '\n');
  files.set('report.html', toyReport(r, charts, assets, summary, `${meta.adapter.name} (${meta.adapter.runtime})`));
  return files;
}
