/**
 * The toy-landscape figures as chart-ready data (src/analysis/report/chart-data.ts), pure
 * functions of the experiment's results — for report.html and the dashboard.
 */
import { mergeSeries, positiveOrNull, type ChartData } from '../../analysis/report/chart-data.ts';
import type { DensityResult, DriftResult, EscapeResult } from './run.ts';

export function densityChart(d: DensityResult): ChartData {
  const pts = (v: ArrayLike<number | null>) => d.x.map((x, b) => ({ x, y: positiveOrNull(v[b]) }));
  const { x, series } = mergeSeries([
    { label: 'walkers (measured)', style: 'points', points: pts(d.measured) },
    { label: 'exp(−L_eff/Δ), L_SGD = Δ(1−κ)ln F', style: 'line', points: pts(d.effectiveLoss) },
    { label: 'adiabatic, discrete time', style: 'line', points: pts(d.adiabatic) },
    { label: '+ fluctuating drift', style: 'line', points: pts(d.adiabaticPlus) },
    { label: 'Boltzmann (κ = 1)', style: 'dashed', points: pts(d.boltzmann) },
  ]);
  return {
    id: `density-${d.noise}`,
    title: `Walker density along the valley (${d.noise === 'constant' ? 'constant noise' : 'noise ∝ λ(x)'}, Δ ${d.params.delta}, κ ${d.params.kappa}, α ${d.params.lr})`,
    xLabel: 'x (flat → sharp)',
    yLabel: 'probability per bin',
    xLog: false,
    yLog: true,
    x,
    series,
    note: `λ(x) from ${d.params.lam0} to ${(d.params.lam0 * Math.exp(d.params.c)).toPrecision(3)}. ⟨x⟩ measured ${d.meanX.toFixed(3)}, exp(−L_eff/Δ) ${d.meanXPredicted.effectiveLoss.toFixed(3)}, Boltzmann ${d.meanXPredicted.boltzmann.toFixed(3)}.`,
  };
}

export function lSgdChart(d: DensityResult): ChartData {
  const { x, series } = mergeSeries([
    { label: 'from the density: −Δ ln(P(x)√λ(x))', style: 'points', points: d.x.map((v, b) => ({ x: v, y: d.lSgdMeasured[b] })) },
    { label: 'Δ(1 − κ) ln F(x)', style: 'line', points: d.x.map((v, b) => ({ x: v, y: d.lSgdPredicted[b] })) },
  ]);
  return {
    id: `lsgd-${d.noise}`,
    title: `Effective SGD potential L_SGD(x) (${d.noise} noise)`,
    xLabel: 'x (flat → sharp)',
    yLabel: 'L_SGD(x) − L_SGD(x₀)',
    xLog: false,
    yLog: false,
    x,
    series,
    note: 'L_SGD rises toward the sharp end: SGD noise acts as a regulariser favouring flat minima.',
  };
}

export function uVarianceChart(d: DensityResult): ChartData {
  const { x, series } = mergeSeries([
    { label: 'Var(u | x) measured', style: 'points', points: d.x.map((v, b) => ({ x: v, y: d.uVarMeasured[b] })) },
    { label: 's(x)/(1 − αλ/2) (adiabatic)', style: 'line', points: d.x.map((v, b) => ({ x: v, y: d.uVarPredicted[b] })) },
  ]);
  return { id: `uvar-${d.noise}`, title: `Spread across the valley, u = y√(λ/Δ) (${d.noise} noise)`, xLabel: 'x', yLabel: 'Var(u | x)', xLog: false, yLog: false, x, series };
}

export function driftChart(drifts: DriftResult[]): ChartData {
  const parts = drifts.map((d) => ({ label: `Δ ${d.delta}, κ ${d.kappa}`, style: 'line' as const, points: d.trace.map((t) => ({ x: Math.max(1, t.step), y: t.meanX })) }));
  const { x, series } = mergeSeries(parts);
  return {
    id: 'drift',
    title: 'Drift toward the flat end: ⟨x⟩ vs step (uniform start)',
    xLabel: 'SGD step',
    yLabel: '⟨x⟩',
    xLog: true,
    yLog: false,
    x,
    series,
    note: `Predicted stationary ⟨x⟩: ${drifts.map((d) => `Δ ${d.delta}, κ ${d.kappa}: ${d.meanXPredicted.toFixed(3)}`).join('; ')}. More noise → faster drift.`,
  };
}

export function escapeChart(escapes: EscapeResult[]): ChartData {
  const parts = escapes.flatMap((e) => [
    { label: `measured (${e.noise} noise)`, style: 'points' as const, points: e.deltas.map((d, i) => ({ x: d, y: e.measured[i] })) },
    { label: `predicted, x frozen (${e.noise})`, style: 'line' as const, points: e.deltas.map((d, i) => ({ x: d, y: e.predictedFrozen[i] })) },
    { label: `predicted, x mixed (${e.noise})`, style: 'line' as const, points: e.deltas.map((d, i) => ({ x: d, y: e.predictedMixed[i] })) },
  ]);
  const { x, series } = mergeSeries(parts);
  return {
    id: 'escape',
    title: 'Walkers escaping the valley within the run vs noise Δ',
    xLabel: 'noise Δ',
    yLabel: 'fraction escaped',
    xLog: true,
    yLog: false,
    x,
    series,
    note: escapes.map((e) => `${e.noise}: half escape at Δ ≈ ${e.halfMeasured?.toPrecision(3) ?? '—'} (predicted ${e.halfPredicted.mixed?.toPrecision(3) ?? '—'}–${e.halfPredicted.frozen?.toPrecision(3) ?? '—'})`).join('; '),
  };
}
