/**
 * The sweep's figures as chart-ready data (src/analysis/report/chart-data.ts), pure functions of
 * the run records — for report.html and the dashboard alike.
 *
 *   sharpnessVsLr         λ_1..λ_k (mean over seeds) against lr at one batch size, with 2/lr:
 *                         full-batch GD is unstable once λ_max > 2/lr, so SGD solutions sit
 *                         below that line; larger lr → flatter until training diverges.
 *   accuracyVsNoiseScale  test accuracy against g = lr(N/B − 1), one series per batch size: if
 *                         late-time performance depends on lr and B only through g (Smith & Le),
 *                         the series fall on one curve.
 *   phaseDiagram          the (lr, B) grid: test accuracy or "diverged at step N" per cell, and
 *                         the divergence boundary (largest stable / smallest diverged lr per B);
 *   phaseHeatmap          the same grid as a heat map (test accuracy, grey where a run failed).
 */
import { finiteMean, mergeSeries, positiveOrNull, type ChartData, type HeatmapData } from '../../analysis/report/chart-data.ts';
import type { SweepRun } from './run.ts';

export interface RunFilter {
  batchSize?: number;
  weightDecay?: number;
  dropout?: number;
}

function matches(r: SweepRun, f: RunFilter): boolean {
  return (
    (f.batchSize === undefined || r.point.batchSize === f.batchSize) &&
    (f.weightDecay === undefined || r.point.weightDecay === f.weightDecay) &&
    (f.dropout === undefined || r.point.dropout === f.dropout)
  );
}

const uniq = (v: number[]): number[] => [...new Set(v)].sort((a, b) => a - b);

/** The value of an axis used most often among runs (ties: the smallest), to fix the other axes. */
export function modalValue(runs: SweepRun[], key: 'batchSize' | 'weightDecay' | 'dropout'): number {
  const counts = new Map<number, number>();
  for (const r of runs) counts.set(r.point[key], (counts.get(r.point[key]) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
}

export function sharpnessVsLr(runs: SweepRun[], f: RunFilter = {}): ChartData {
  const sel = runs.filter((r) => matches(r, f));
  const lrs = uniq(sel.map((r) => r.point.lr));
  const k = Math.max(0, ...sel.map((r) => r.sharpness?.length ?? 0));
  const parts = [];
  for (let i = 0; i < k; i++) {
    parts.push({
      label: `λ${i + 1}`,
      style: 'line+points' as const,
      points: lrs.map((lr) => ({ x: lr, y: positiveOrNull(finiteMean(sel.filter((r) => r.point.lr === lr).map((r) => r.sharpness?.[i] ?? null))) })),
    });
  }
  parts.push({ label: '2/lr (GD stability edge)', style: 'dashed' as const, points: lrs.map((lr) => ({ x: lr, y: 2 / lr })) });
  const diverged = lrs.filter((lr) => sel.some((r) => r.point.lr === lr && r.outcome !== 'trained'));
  const { x, series } = mergeSeries(parts);
  const what = [f.batchSize !== undefined ? `B ${f.batchSize}` : '', f.weightDecay ? `wd ${f.weightDecay}` : '', f.dropout ? `dropout ${f.dropout}` : ''].filter(Boolean).join(', ');
  return {
    id: `sharpness-vs-lr${f.batchSize !== undefined ? `-b${f.batchSize}` : ''}`,
    title: `Top Hessian eigenvalues vs lr${what ? ` (${what})` : ''}`,
    xLabel: 'learning rate',
    yLabel: 'Hessian eigenvalue',
    xLog: true,
    yLog: true,
    x,
    series,
    note: `Mean over seeds of runs that trained. ${diverged.length ? `Diverged or collapsed at lr ${diverged.join(', ')}.` : 'Every run trained.'}`,
  };
}

export function accuracyVsNoiseScale(runs: SweepRun[], f: Omit<RunFilter, 'batchSize'> = {}, metric: 'testAccuracy' | 'gapLoss' | 'testLoss' = 'testAccuracy'): ChartData {
  const sel = runs.filter((r) => matches(r, f) && r.outcome === 'trained');
  const batches = uniq(sel.map((r) => r.point.batchSize));
  const parts = batches.map((B) => {
    const rs = sel.filter((r) => r.point.batchSize === B);
    const gs = uniq(rs.map((r) => r.noiseScale));
    return { label: `B ${B}`, style: 'line+points' as const, points: gs.map((g) => ({ x: g, y: finiteMean(rs.filter((r) => r.noiseScale === g).map((r) => r[metric])) })) };
  });
  const { x, series } = mergeSeries(parts);
  const label = metric === 'testAccuracy' ? 'test accuracy' : metric === 'gapLoss' ? 'test − train loss' : 'test loss';
  return {
    id: `${metric}-vs-g`,
    title: `${label} vs noise scale g = lr(N/B − 1)`,
    xLabel: 'g = lr(N/B − 1)',
    yLabel: label,
    xLog: true,
    yLog: false,
    x,
    series,
    note: 'One series per batch size (points along it: the learning rates). Smith–Le: the series collapse onto one curve of g.',
  };
}

export interface PhaseCell {
  lr: number;
  batchSize: number;
  runs: number;
  /** Seeds whose loss blew up, and seeds that collapsed to a constant output. */
  diverged: number;
  collapsed: number;
  /** Earliest divergence step among the seeds, or null. */
  divergedStep: number | null;
  /** Earliest loss spike (> 2 ln C) among the failed seeds, or null. */
  spikeStep: number | null;
  testAccuracy: number | null;
  noiseScale: number;
}

export interface PhaseDiagram {
  lrs: number[];
  batches: number[];
  /** cells[b][i]: batch batches[b], lr lrs[i] (null where the grid has no run). */
  cells: (PhaseCell | null)[][];
  /** Per batch size: the largest lr at which every seed trained and the smallest lr at which one diverged or collapsed. */
  boundary: { batchSize: number; maxStableLr: number | null; minDivergedLr: number | null }[];
  chart: ChartData;
}

export function phaseDiagram(runs: SweepRun[], f: Omit<RunFilter, 'batchSize'> = {}): PhaseDiagram {
  const sel = runs.filter((r) => matches(r, f));
  const lrs = uniq(sel.map((r) => r.point.lr));
  const batches = uniq(sel.map((r) => r.point.batchSize));
  const cells = batches.map((B) =>
    lrs.map((lr) => {
      const rs = sel.filter((r) => r.point.lr === lr && r.point.batchSize === B);
      if (!rs.length) return null;
      const div = rs.filter((r) => r.outcome === 'diverged');
      const col = rs.filter((r) => r.outcome === 'collapsed');
      const spikes = [...div, ...col].map((r) => r.spikeStep).filter((v): v is number => v !== null);
      return {
        lr,
        batchSize: B,
        runs: rs.length,
        diverged: div.length,
        collapsed: col.length,
        divergedStep: div.length ? Math.min(...div.map((r) => r.divergedStep ?? Infinity)) : null,
        spikeStep: spikes.length ? Math.min(...spikes) : null,
        testAccuracy: finiteMean(rs.filter((r) => r.outcome !== 'diverged').map((r) => r.testAccuracy)),
        noiseScale: rs[0].noiseScale,
      };
    }),
  );
  const boundary = batches.map((B, b) => {
    const row = cells[b].filter((c): c is PhaseCell => c !== null);
    const stable = row.filter((c) => c.diverged + c.collapsed === 0).map((c) => c.lr);
    const div = row.filter((c) => c.diverged + c.collapsed > 0).map((c) => c.lr);
    return { batchSize: B, maxStableLr: stable.length ? Math.max(...stable) : null, minDivergedLr: div.length ? Math.min(...div) : null };
  });
  // As a chart: x = batch size, the stable and diverged lr edges.
  const { x, series } = mergeSeries([
    { label: 'largest lr that trained', style: 'line+points', points: boundary.map((b) => ({ x: b.batchSize, y: b.maxStableLr })) },
    { label: 'smallest lr that diverged or collapsed', style: 'line+points', points: boundary.map((b) => ({ x: b.batchSize, y: b.minDivergedLr })) },
  ]);
  return {
    lrs,
    batches,
    cells,
    boundary,
    chart: {
      id: 'phase-boundary',
      title: 'Divergence boundary in the (lr, B) plane',
      xLabel: 'batch size B',
      yLabel: 'learning rate',
      xLog: true,
      yLog: true,
      x,
      series,
      note: 'The stability edge lies between the two lines (no point: every lr of the grid trained at that B).',
    },
  };
}

/** ‖w‖ and the generalisation gap against one hyperparameter (the others at their modal values). */
export function sizeVs(runs: SweepRun[], axis: 'weightDecay' | 'dropout' | 'lr' | 'batchSize'): ChartData {
  const others = (['batchSize', 'weightDecay', 'dropout'] as const).filter((k) => k !== axis);
  const f: RunFilter = {};
  for (const k of others) f[k] = modalValue(runs, k);
  const sel = runs.filter((r) => matches(r, f) && r.outcome === 'trained');
  const xs = uniq(sel.map((r) => r.point[axis]));
  const { x, series } = mergeSeries([
    { label: '‖w‖', style: 'line+points', points: xs.map((v) => ({ x: v, y: finiteMean(sel.filter((r) => r.point[axis] === v).map((r) => r.weightNorm)) })) },
  ]);
  return { id: `norm-vs-${axis}`, title: `Solution size ‖w‖ vs ${axis}`, xLabel: axis, yLabel: '‖w‖', xLog: false, yLog: false, x, series };
}

/**
 * The (lr, B) phase diagram as a heat map: test accuracy per cell (mean over the seeds that did
 * not diverge), grey where any seed diverged or collapsed, with the two boundary lines of
 * phaseDiagram() drawn over it. x = lr, y = B, both on log axes.
 */
export function phaseHeatmap(p: PhaseDiagram): HeatmapData {
  const failed = (c: PhaseCell | null): boolean => c !== null && c.diverged + c.collapsed > 0;
  const z = p.cells.map((row) => row.map((c) => (c === null || failed(c) ? null : c.testAccuracy)));
  const acc = z.flat().filter((v): v is number => v !== null);
  const lo = acc.length ? Math.min(...acc) : 0;
  const hi = acc.length ? Math.max(...acc) : 1;
  const edge = (key: 'maxStableLr' | 'minDivergedLr'): { x: number[]; y: number[] } => {
    const pts = p.boundary.filter((b) => b[key] !== null);
    return { x: pts.map((b) => b[key]!), y: pts.map((b) => b.batchSize) };
  };
  return {
    id: 'phase-heatmap',
    title: 'Test accuracy over (lr, B); grey: diverged or collapsed',
    xLabel: 'learning rate',
    yLabel: 'batch size B',
    zLabel: 'test accuracy (%)',
    x: p.lrs,
    y: p.batches,
    z,
    zRange: [lo, hi > lo ? hi : lo + 1e-3],
    zLog: false,
    palette: 'sequential',
    xLog: true,
    yLog: true,
    overlays: [
      { label: 'largest lr that trained', ...edge('maxStableLr'), color: '#000', dash: [] },
      { label: 'smallest lr that failed', ...edge('minDivergedLr'), color: '#c0392b', dash: [6, 4] },
    ],
    cellText: { scale: 100, digits: 1 },
    nullLabel: 'diverged or collapsed',
    note: 'Each cell is one (lr, B) of the grid; the stability edge runs between the black and the red line.',
  };
}
