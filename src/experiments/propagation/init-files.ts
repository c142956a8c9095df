/**
 * The Jacobian-spectrum and curve-length parts of the signal-propagation run folder, summary and
 * report (files.ts assembles the whole):
 *
 *   jacobian_spectra.csv         one row per point: activation, weights, σ_w², σ_b², width, depth,
 *                                nets, q*, χ1, mean λ vs χ1^L, normalised variance vs L(v_W + v_D),
 *                                KS D, critical, n, floor (or the atom check), seconds
 *   jacobian_{i}_eigenvalues.npy float64 (S, N) squared singular values, ascending per network
 *   jacobian_{i}_theory.csv      lambda, density_ln (density of ln λ), cdf: the free-probability law
 *   jacobian_depth.csv           point, layer, ln mean (1/N) tr JJᵀ, se, theory l ln χ1, z, q
 *   curve_length.csv             point, sw2, sb2, phase, chi1, layer, ln(ℓ^l/ℓ^0) mean, se, theory, z, q
 *   curve_{i}_lengths.npy        float64 (L + 1, S) the length ℓ^l of each network
 */
import { encodeNpy } from '../../util/npy.ts';
import { toCsv } from '../../util/csv.ts';
import { esc, fmt, type ReportSection } from '../../analysis/report/html.ts';
import type { ChartData } from '../../analysis/report/chart-data.ts';
import type { RunFiles } from '../../train/run-files.ts';
import { jacobianLabel, type JacobianMeasurement } from './jacobian.ts';
import type { CurveMeasurement } from './curve-length.ts';
import { curveLengthChart, jacobianDensityChart, jacobianDepthChart } from './init-charts.ts';

const num = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** Points measured with both ensembles at the same (activation, σ_w², σ_b²), in first-seen order. */
function groups(ms: JacobianMeasurement[]): JacobianMeasurement[][] {
  const by = new Map<string, JacobianMeasurement[]>();
  for (const m of ms) {
    const key = `${m.point.activation} ${m.point.sw2} ${m.point.sb2}`;
    by.set(key, [...(by.get(key) ?? []), m]);
  }
  return [...by.values()];
}

export function initCharts(jac: JacobianMeasurement[], curves: CurveMeasurement[]): ChartData[] {
  const charts: ChartData[] = [];
  groups(jac).forEach((g, i) => {
    const p = g[0].point;
    const at = `${p.activation}, σ_w² = ${Number(p.sw2.toPrecision(4))}, σ_b² = ${p.sb2}, χ1 = ${g[0].theory.chi1.toPrecision(4)}`;
    charts.push(jacobianDensityChart(`jacobian${i + 1}-density`, `Jacobian singular values — ${at}`, g));
    charts.push(jacobianDepthChart(`jacobian${i + 1}-depth`, `mean squared singular value vs depth — ${at}`, g));
  });
  if (curves.length) charts.push(curveLengthChart('curve-length', 'length of a great circle of inputs vs depth (tanh)', curves));
  return charts;
}

export function initSummary(jac: JacobianMeasurement[], curves: CurveMeasurement[]): Record<string, unknown> {
  return {
    jacobian: jac.map((m) => ({
      ...m.point, width: m.run.width, depth: m.run.depth, nets: m.run.nets, seed: m.run.seed,
      qStar: num(m.theory.qStar), chi1: m.theory.chi1, meanSq: m.moments, ks: m.ks, atom: m.atom,
      depthAgreement: m.depthAgreement, agrees: m.agrees, seconds: m.seconds,
    })),
    curveLength: curves.map((c) => ({
      sw2: c.spec.sw2, sb2: c.spec.sb2, phase: c.meanField.phase, qStar: c.meanField.qStar, chi1: c.meanField.chi1,
      width: c.spec.width, depth: c.spec.depth, points: c.spec.points, nets: c.spec.nets,
      rate: c.rate, agreement: c.agreement, seconds: c.seconds,
    })),
  };
}

export function addInitFiles(files: RunFiles, jac: JacobianMeasurement[], curves: CurveMeasurement[]): void {
  if (jac.length) {
    files.set('jacobian_spectra.csv', toCsv(
      ['point', 'activation', 'weights', 'sw2', 'sb2', 'width', 'depth', 'nets', 'q_star', 'chi1', 'mean_sq', 'mean_sq_theory', 'norm_var', 'norm_var_theory', 'ks_d', 'ks_critical', 'ks_n', 'floor', 'atom_max_rel_dev', 'agrees', 'gpu_s', 'eigen_s', 'theory_s'],
      jac.map((m, i) => [
        i + 1, m.point.activation, m.point.weights, m.point.sw2, m.point.sb2, m.run.width, m.run.depth, m.run.nets, num(m.theory.qStar), m.theory.chi1,
        m.moments.meanSq, m.moments.meanSqTheory, m.moments.normVariance, m.moments.normVarianceTheory,
        m.ks?.d ?? null, m.ks?.critical ?? null, m.ks?.n ?? null, m.ks?.floor ?? null, m.atom?.maxRelDeviation ?? null, m.agrees ? 1 : 0,
        m.seconds.gpu, m.seconds.eigen, m.seconds.theory,
      ]),
    ));
    const depthRows: (number | null)[][] = [];
    jac.forEach((m, i) => {
      files.set(`jacobian_${i + 1}_eigenvalues.npy`, encodeNpy(m.eigenvalues, [m.run.nets, m.run.width]));
      const t = m.theory;
      if (t.atom === null) files.set(`jacobian_${i + 1}_theory.csv`, toCsv(['lambda', 'density_ln', 'cdf'], Array.from(t.lambda, (l, k) => [l, t.densityLn[k], t.cdf[k]])));
      const c = m.depthCurve;
      for (let l = 0; l < c.mean.length; l++) depthRows.push([i + 1, l, c.mean[l], c.se[l], c.theory[l], num(c.z[l]), m.q[l]]);
    });
    files.set('jacobian_depth.csv', toCsv(['point', 'layer', 'ln_mean_sq', 'se', 'theory', 'z', 'q'], depthRows));
  }
  if (curves.length) {
    const rows: (number | string | null)[][] = [];
    curves.forEach((c, i) => {
      files.set(`curve_${i + 1}_lengths.npy`, encodeNpy(c.lengths, [c.spec.depth + 1, c.spec.nets]));
      for (let l = 0; l <= c.spec.depth; l++) rows.push([i + 1, c.spec.sw2, c.spec.sb2, c.meanField.phase, c.meanField.chi1, l, c.curve.mean[l], c.curve.se[l], c.curve.theory[l], num(c.curve.z[l]), c.q[l]]);
    });
    files.set('curve_length.csv', toCsv(['point', 'sw2', 'sb2', 'phase', 'chi1', 'layer', 'ln_length_ratio', 'se', 'theory', 'z', 'q'], rows));
  }
}

export function initReportSections(jac: JacobianMeasurement[], curves: CurveMeasurement[]): ReportSection[] {
  const sections: ReportSection[] = [];
  const charts = initCharts(jac, curves);
  if (jac.length) {
    const r = jac[0].run;
    const rows = jac.map((m) => {
      const verdict = m.ks
        ? `${fmt(m.ks.d, 3)} / ${fmt(m.ks.critical, 3)} (${m.ks.compared} of ${m.ks.n})`
        : `all at ${fmt(m.atom!.value, 4)}: max dev ${fmt(m.atom!.maxRelDeviation, 2)}`;
      return `<tr><td>${esc(jacobianLabel(m.point))}</td><td class="num">${fmt(m.theory.chi1, 4)}</td><td class="num">${fmt(m.moments.meanSq, 4)} / ${fmt(m.moments.meanSqTheory, 4)}</td><td class="num">${fmt(m.moments.normVariance, 3)} / ${fmt(m.moments.normVarianceTheory, 3)}</td><td class="num">${verdict}</td><td>${m.agrees ? 'yes' : '<b>no</b>'}</td><td class="num">${m.seconds.gpu.toFixed(1)} + ${m.seconds.eigen.toFixed(1)} + ${m.seconds.theory.toFixed(1)}</td></tr>`;
    });
    sections.push({
      title: 'Jacobian spectra at initialisation (Pennington, Schoenholz & Ganguli 2017)',
      html: `<p class="note">${r.nets} random networks per point, width ${r.width}, ${r.depth} layers (seeds ${r.seed}–${r.seed + r.nets - 1}); input at the fixed point q*; the ${r.width} × ${r.width} input–output Jacobian from ${r.width} Jacobian–vector products on the GPU (weights drawn one layer at a time: Threefry Gaussian, or Haar-orthogonal by Householder products), JJᵀ diagonalised in float64.
Theory: free probability, S_{JJᵀ} = Π S_{WWᵀ} S_{D²} (Gaussian weights: for linear networks the Fuss–Catalan law of order L); its mean χ1^L, normalised variance L(v_W + v_D).
Verdict: Kolmogorov–Smirnov distance of the pooled S·N squared singular values to the law, over λ above the float32 floor, against 1.95/√(S N) (α = 1e-3), and (1/N) tr J^l J^lᵀ against χ1^l per layer (src/experiments/propagation/jacobian.ts).</p>
<table><tr><th>point</th><th>χ1</th><th>mean s²: measured / χ1^L</th><th>Var s²/mean²: measured / L(v_W + v_D)</th><th>KS D / critical (compared of n)</th><th>agrees</th><th>s: GPU + eigen + theory</th></tr>
${rows.join('\n')}</table>`,
      charts: charts.filter((c) => c.id.startsWith('jacobian')),
    });
  }
  if (curves.length) {
    const rows = curves.map((c) => `<tr><td class="num">${fmt(c.spec.sw2, 5)}</td><td>${c.meanField.phase}</td><td class="num">${fmt(c.meanField.chi1, 5)}</td><td class="num">${c.rate.measured.toFixed(4)} ± ${c.rate.se.toFixed(4)}</td><td class="num">${c.rate.theory.toFixed(4)}</td><td>${c.rate.agrees ? 'yes' : '<b>no</b>'}</td><td class="num">${(100 * c.agreement.fractionWithin).toFixed(0)}%, max |z| ${fmt(c.agreement.maxZ, 3)}</td><td class="num">${c.seconds.toFixed(1)}</td></tr>`);
    const c0 = curves[0].spec;
    sections.push({
      title: 'Transient chaos: the length of a curve of inputs with depth (Poole et al. 2016)',
      html: `<p class="note">A great circle of ${c0.points} inputs h⁰(θ) = √(N q*)(u cos θ + v sin θ) through ${c0.nets} random tanh networks of width ${c0.width}, ${c0.depth} layers, σ_b² = ${c0.sb2}; its length ℓ^l = ∫|∂_θ h^l| dθ from forward-mode tangents. Mean field: ℓ^l = ℓ^0 χ1^{l/2}, growth rate ½ ln χ1 per layer. Per layer, ln ℓ^l/ℓ^0 (mean over networks) agrees when within 4 SE + l/N for ≥ 95% of layers and 2× that for all; the rate (least-squares slope per network) when within 4 SE + 1/N (src/experiments/propagation/curve-length.ts).</p>
<table><tr><th>σ_w²</th><th>phase</th><th>χ1</th><th>rate, measured</th><th>½ ln χ1</th><th>rate agrees</th><th>layers within</th><th>GPU s</th></tr>
${rows.join('\n')}</table>`,
      charts: charts.filter((c) => c.id === 'curve-length'),
    });
  }
  return sections;
}
