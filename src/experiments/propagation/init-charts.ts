/**
 * Figures of the Jacobian-spectrum and curve-length experiments as ChartData (pure, no DOM), drawn
 * alike by report.html, charts.json and the dashboard's signal-propagation panel. Measured series
 * come first and their theories second, in the same order (the dashboard pairs their colours).
 *
 *   density   the density of log10 λ (λ = s², squared singular values): histogram of the pooled
 *             eigenvalues above the float32 floor (points) against the free-probability law
 *             ρ_log10 = ln 10 · ρ_ln (dashed), one pair per weight ensemble;
 *   depth     the mean squared singular value (1/N) tr J^l J^lᵀ per layer against χ1^l (log y);
 *   curve     the great circle's length ℓ^l/ℓ^0 per layer against χ1^{l/2} (log y).
 */
import { mergeSeries, type ChartData } from '../../analysis/report/chart-data.ts';
import type { JacobianMeasurement } from './jacobian.ts';
import type { CurveMeasurement } from './curve-length.ts';

type Part = { label: string; style: 'points' | 'dashed'; points: { x: number; y: number | null }[] };

const ensembleName = (m: JacobianMeasurement): string => (m.point.weights === 'gaussian' ? 'Gaussian' : 'orthogonal');
const round = (v: number): number => Number(v.toPrecision(10));

/** Histogram of log10 λ over [log10 lo, log10 hi] in `bins` bins, as a density of all n values. */
function logHistogram(values: Float64Array, lo: number, hi: number, bins: number): { x: number; y: number | null }[] {
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  const w = (b - a) / bins;
  const counts = new Float64Array(bins);
  for (const v of values) {
    if (!(v >= lo && v <= hi)) continue;
    counts[Math.min(bins - 1, Math.floor((Math.log10(v) - a) / w))]++;
  }
  return Array.from(counts, (c, i) => ({ x: round(a + (i + 0.5) * w), y: c / (values.length * w) }));
}

export function jacobianDensityChart(id: string, title: string, ms: JacobianMeasurement[], bins = 40): ChartData {
  const measured: Part[] = [];
  const theory: Part[] = [];
  for (const m of ms) {
    const t = m.theory;
    const max = m.eigenvalues.reduce((a, v) => Math.max(a, v), 0);
    const lo = t.atom !== null ? Math.min(...m.eigenvalues) * 0.999 : m.ks!.floor;
    const hi = Math.max(max, t.atom ?? t.edge) * 1.001;
    measured.push({ label: `measured, ${ensembleName(m)}`, style: 'points', points: logHistogram(m.eigenvalues, lo, hi, bins) });
    const pts: { x: number; y: number | null }[] = [];
    const stride = Math.max(1, Math.floor(t.lambda.length / 240));
    for (let i = 0; i < t.lambda.length; i += stride) if (t.lambda[i] >= lo) pts.push({ x: round(Math.log10(t.lambda[i])), y: Math.LN10 * t.densityLn[i] });
    theory.push({ label: t.atom !== null ? `theory, ${ensembleName(m)}: all at ${t.atom.toPrecision(4)}` : `free probability, ${ensembleName(m)}`, style: 'dashed', points: pts });
  }
  const L = ms[0].run.depth;
  const verdicts = ms.map((m) => (m.ks ? `${ensembleName(m)}: KS D = ${m.ks.d.toFixed(3)} (critical ${m.ks.critical.toFixed(3)})` : `${ensembleName(m)}: max |λ/σ_w^{2L} − 1| = ${m.atom!.maxRelDeviation.toExponential(1)}`));
  return {
    id, title, xLabel: 'log10 s² (squared singular value)', yLabel: 'density of log10 s²', xLog: false, yLog: false,
    ...mergeSeries([...measured, ...theory]),
    note: `${ms[0].run.nets} networks of width ${ms[0].run.width}, depth ${L}; histogram of the S·N squared singular values above the float32 floor; dashed: the free-probability law (Pennington et al. 2017). ${verdicts.join('; ')}.`,
  };
}

export function jacobianDepthChart(id: string, title: string, ms: JacobianMeasurement[]): ChartData {
  const pts = (v: Float64Array) => Array.from(v, (y, l) => ({ x: l, y: Math.exp(y) }));
  return {
    id, title, xLabel: 'layer l', yLabel: '(1/N) tr J Jᵀ', xLog: false, yLog: true,
    ...mergeSeries([
      ...ms.map((m): Part => ({ label: `measured, ${ensembleName(m)}`, style: 'points', points: pts(m.depthCurve.mean) })),
      ...ms.map((m): Part => ({ label: `χ1^l, ${ensembleName(m)}`, style: 'dashed', points: pts(m.depthCurve.theory) })),
    ]),
    note: `Mean squared singular value of the Jacobian of the first l layers, mean over ${ms[0].run.nets} networks; dashed: χ1^l = ${ms[0].theory.chi1.toPrecision(4)}^l. Criticality (χ1 = 1) fixes this mean, not the spread.`,
  };
}

export function curveLengthChart(id: string, title: string, cs: CurveMeasurement[]): ChartData {
  const pts = (v: Float64Array) => Array.from(v, (y, l) => ({ x: l, y: Math.exp(y) }));
  const name = (c: CurveMeasurement): string => `σ_w² = ${Number(c.spec.sw2.toPrecision(4))} (${c.meanField.phase})`;
  return {
    id, title, xLabel: 'layer l', yLabel: 'length ℓ^l / ℓ^0', xLog: false, yLog: true,
    ...mergeSeries([
      ...cs.map((c): Part => ({ label: `measured, ${name(c)}`, style: 'points', points: pts(c.curve.mean) })),
      ...cs.map((c): Part => ({ label: `χ1^{l/2}, ${name(c)}`, style: 'dashed', points: pts(c.curve.theory) })),
    ]),
    note: `A great circle of ${cs[0].spec.points} inputs at q* through ${cs[0].spec.nets} random tanh networks of width ${cs[0].spec.width} (σ_b² = ${cs[0].spec.sb2}); length from forward-mode tangents, mean of ln over networks; dashed: mean field, χ1^{l/2} (Poole et al. 2016). Rates per layer: ${cs.map((c) => `${name(c)} ${c.rate.measured.toFixed(4)} ± ${c.rate.se.toFixed(4)} vs ${c.rate.theory.toFixed(4)}`).join('; ')}.`,
  };
}
