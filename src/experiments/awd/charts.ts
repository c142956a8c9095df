/**
 * The AWD experiment's figures as chart-ready data (src/analysis/report/chart-data.ts), pure
 * functions of the run records, shared by report.html and the dashboard.
 *
 *   factorsVs             sharpness factor S_g = √Σσ_g,n² and size factor S_w = √Σσ_w,n² along
 *                         one axis (lr, B or weight decay), relative to the base run, with the gap
 *   gapPredictedVsMeasured  Σ_n (μ_g μ_w + c σ_g σ_w) (all directions; first order too) against
 *                         the measured test − train loss, one point per run, and y = x
 *   factorSpectra         σ_g,n or σ_w,n against the Hessian eigen-index n for the runs of a line
 *   fisherVsHessian       σ_∇,n² (variance of per-sample loss slopes) against λ_n, log–log
 *   cumulativeGap         Σ_{m≤n} term_m against n for one run, with the pairs' gap
 */
import { finiteMean, mergeSeries, positiveOrNull, type ChartData } from '../../analysis/report/chart-data.ts';
import { onAxis, type AwdAxis, type AwdExperimentSpec, type AwdRun } from './run.ts';

type Axis = Exclude<AwdAxis, 'base'>;

const AXIS_LABEL: Record<Axis, string> = { lr: 'learning rate', batchSize: 'batch size B', weightDecay: 'weight decay' };

/** Runs on the line of `axis` that were analysed, grouped by the axis value (means over seeds). */
function line(runs: AwdRun[], spec: AwdExperimentSpec, axis: Axis): { value: number; runs: AwdRun[] }[] {
  const sel = runs.filter((r) => r.analysis && onAxis(r.point, axis, spec.base));
  const values = [...new Set(sel.map((r) => r.point[axis]))].sort((a, b) => a - b);
  return values.map((value) => ({ value, runs: sel.filter((r) => r.point[axis] === value) }));
}

export function factorsVs(runs: AwdRun[], spec: AwdExperimentSpec, axis: Axis): ChartData {
  const groups = line(runs, spec, axis);
  const base = groups.find((g) => g.value === spec.base[axis]);
  const mean = (rs: AwdRun[], f: (r: AwdRun) => number): number | null => finiteMean(rs.map(f));
  const ref = (f: (r: AwdRun) => number): number | null => (base ? mean(base.runs, f) : null);
  const rel = (f: (r: AwdRun) => number) => groups.map((g) => {
    const v = mean(g.runs, f);
    const r0 = ref(f);
    return { x: g.value, y: v !== null && r0 ? v / r0 : null };
  });
  const { x, series } = mergeSeries([
    { label: 'sharpness factor S_g (secant slopes)', style: 'line+points', points: rel((r) => r.analysis!.factors.sharpness) },
    { label: 'sharpness factor S_∇ (gradients)', style: 'line+points', points: rel((r) => r.analysis!.factors.sharpnessGrad) },
    { label: 'size factor S_w', style: 'line+points', points: rel((r) => r.analysis!.factors.size) },
    { label: 'λ_max of the layer Hessian', style: 'line+points', points: rel((r) => r.analysis!.stats.lambda[0]) },
  ]);
  return {
    id: `factors-vs-${axis}`,
    title: `Sharpness and size factors vs ${AXIS_LABEL[axis]} (÷ base run)`,
    xLabel: AXIS_LABEL[axis],
    yLabel: 'relative to the base run',
    xLog: axis !== 'weightDecay',
    yLog: false,
    x,
    series,
    note: 'S_g = √Σ_n σ_g,n², S_w = √Σ_n σ_w,n² over all Hessian directions of the layer. Expected: S_g falls with lr and rises with B; S_w falls with weight decay.',
  };
}

export function gapPredictedVsMeasured(runs: AwdRun[]): ChartData {
  const sel = runs.filter((r) => r.analysis);
  const pts = sel.map((r) => ({ x: r.analysis!.gapMeasured, pred: r.analysis!.gapDecomposition, first: r.analysis!.gapFirstOrderDecomposition, alt: r.analysis!.alternate?.gapDecomposition ?? null }));
  const lo = Math.min(0, ...pts.flatMap((p) => [p.x, p.pred, p.alt ?? 0]));
  const hi = Math.max(...pts.flatMap((p) => [p.x, p.pred, p.alt ?? 0]), 1e-9);
  const pairing = sel[0]?.analysis?.pairing ?? '';
  const altPairing = sel[0]?.analysis?.alternate?.pairing;
  const { x, series } = mergeSeries([
    { label: `Σ_n (μ_g μ_w + c σ_g σ_w), ${pairing}`, style: 'points', points: pts.map((p) => ({ x: p.x, y: p.pred })) },
    { label: `first order Σ_n (μ_∇ μ_w + c σ_∇ σ_w), ${pairing}`, style: 'points', points: pts.map((p) => ({ x: p.x, y: p.first })) },
    ...(altPairing ? [{ label: `Σ_n (μ_g μ_w + c σ_g σ_w), ${altPairing}`, style: 'points' as const, points: pts.map((p) => ({ x: p.x, y: p.alt })) }] : []),
    { label: 'y = x', style: 'dashed', points: [lo, hi].map((v) => ({ x: v, y: v })) },
  ]);
  return {
    id: 'gap-predicted-vs-measured',
    title: 'Generalisation gap: duality decomposition vs measured',
    xLabel: 'measured test − train loss',
    yLabel: 'predicted gap',
    xLog: false,
    yLog: false,
    x,
    series,
    note: 'One point per run. The full decomposition equals the pairs’ mean loss change exactly; its distance from y = x is the pairing approximation.',
  };
}

export function factorSpectra(runs: AwdRun[], spec: AwdExperimentSpec, axis: Axis, which: 'sigmaG' | 'sigmaW' | 'sigmaD', maxN = 60): ChartData {
  const groups = line(runs, spec, axis);
  const parts = groups.map((g) => {
    const r = g.runs[0];
    const v = r.analysis!.stats[which];
    return { label: `${axis} ${g.value}`, style: 'line' as const, points: Array.from({ length: Math.min(maxN, v.length) }, (_, n) => ({ x: n + 1, y: positiveOrNull(v[n]) })) };
  });
  const { x, series } = mergeSeries(parts);
  const name = which === 'sigmaG' ? 'σ_g,n (loss-slope spread)' : which === 'sigmaW' ? 'σ_w,n (dual-weight spread)' : 'σ_∇,n (gradient spread)';
  return { id: `${which}-spectrum-${axis}`, title: `${name} vs Hessian index n, by ${AXIS_LABEL[axis]}`, xLabel: 'Hessian eigen-index n (sharpest first)', yLabel: name, xLog: true, yLog: true, x, series };
}

export function fisherVsHessian(run: AwdRun): ChartData {
  const s = run.analysis!.stats;
  // Eigenvalues below 1e-7·λ_max are the float32 round-off of the block (zero modes), not curvature.
  const floor = 1e-7 * Math.max(...Array.from(s.lambda));
  const pts = Array.from(s.lambda, (l, n) => ({ x: l, y: s.sigmaD[n] ** 2 })).filter((p) => p.x > floor && p.y > 0);
  const { x, series } = mergeSeries([
    { label: 'σ_∇,n² (per-sample slope variance)', style: 'points', points: pts },
    { label: 'y = x', style: 'dashed', points: [Math.min(...pts.map((p) => p.x)), Math.max(...pts.map((p) => p.x))].map((v) => ({ x: v, y: v })) },
  ]);
  return {
    id: 'fisher-vs-hessian',
    title: `Slope variance vs Hessian eigenvalue (lr ${run.point.lr}, B ${run.point.batchSize}, wd ${run.point.weightDecay})`,
    xLabel: 'Hessian eigenvalue λ_n',
    yLabel: 'σ_∇,n²',
    xLog: true,
    yLog: true,
    x,
    series,
    note: 'Fisher ≈ Hessian near a minimum: σ_∇,n² ~ λ_n, the link that makes σ_g a sharpness factor. Eigenvalues below 1e-7·λ_max (round-off: zero modes) are left out.',
  };
}

export function cumulativeGap(run: AwdRun): ChartData {
  const a = run.analysis!;
  const n = a.stats.cumulative.length;
  const { x, series } = mergeSeries([
    { label: 'Σ_{m≤n} (μ_g μ_w + c σ_g σ_w)', style: 'line', points: Array.from(a.stats.cumulative, (v, i) => ({ x: i + 1, y: v })) },
    { label: 'pairs’ mean Δl', style: 'dashed', points: [1, n].map((v) => ({ x: v, y: a.gapPairs })) },
    { label: 'measured test − train loss', style: 'line', points: [1, n].map((v) => ({ x: v, y: a.gapMeasured })) },
  ]);
  return {
    id: `cumulative-gap-${run.point.index}`,
    title: `Gap accumulated over Hessian directions (lr ${run.point.lr}, B ${run.point.batchSize}, wd ${run.point.weightDecay})`,
    xLabel: 'Hessian eigen-index n (sharpest first)',
    yLabel: 'cumulative gap',
    xLog: true,
    yLog: false,
    x,
    series,
  };
}
