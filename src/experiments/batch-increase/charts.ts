/**
 * The batch-increase figures as chart-ready data (src/analysis/report/chart-data.ts), pure
 * functions of the experiment's result — for report.html, charts.json and the dashboard card.
 */
import { mergeSeries, positiveOrNull, type ChartData, type SeriesStyle } from '../../analysis/report/chart-data.ts';
import type { BatchIncreaseResult, EpochPoint, ScheduleRun } from './run.ts';
import { compareSchedules } from './run.ts';

const STYLE: Record<string, SeriesStyle> = { 'decay-lr': 'line+points', 'increase-batch': 'line+points', constant: 'dashed' };

function curve(r: BatchIncreaseResult, x: (e: EpochPoint) => number, y: (e: EpochPoint) => number | null, fromEpoch = 0): { x: number[]; series: ChartData['series'] } {
  const points = (run: ScheduleRun) => run.evals.filter((e) => e.epoch >= fromEpoch).map((e) => ({ x: x(e), y: y(e) }));
  return mergeSeries(r.runs.map((run) => ({ label: run.schedule.label, style: STYLE[run.schedule.name], points: points(run) })));
}

const pct = (e: EpochPoint): number | null => (e.test ? 100 * e.test.accuracy : null);

/** Test accuracy against epochs (the curves of equal g overlap) or against updates ((b) ends first). */
export function testChart(r: BatchIncreaseResult, against: 'epoch' | 'update'): ChartData {
  const c = compareSchedules(r);
  const gap = (v: number | null): string => (v === null ? '—' : (100 * v).toFixed(2));
  const byEpoch = against === 'epoch';
  return {
    id: byEpoch ? 'test-vs-epoch' : 'test-vs-updates',
    title: `Test accuracy against ${byEpoch ? 'epochs' : 'parameter updates'}`,
    xLabel: byEpoch ? 'epoch' : 'parameter updates (SGD steps)',
    yLabel: 'test accuracy (%)',
    xLog: false,
    yLog: false,
    // From epoch 1: the initial ~10% would squeeze the range where the schedules differ.
    ...curve(r, (e) => (byEpoch ? e.epoch : e.update), pct, 1),
    ...(byEpoch ? { marks: r.spec.milestones.map((m) => ({ x: m, label: `lr ÷ ${r.spec.factor} | B × ${r.spec.factor}` })) } : {}),
    note: byEpoch
      ? `Equal noise-scale schedules train alike per epoch: (a) and (b) differ by at most ${gap(c.maxGap)} points (mean ${gap(c.meanGap)}) over the epochs.`
      : `(b) reaches the same accuracy in ${c.updates['increase-batch'] ?? '—'} updates, (a) in ${c.updates['decay-lr'] ?? '—'}${c.updateRatio ? ` (${c.updateRatio.toFixed(2)}× as many)` : ''}: bigger batches, fewer steps.`,
  };
}

export function trainLossChart(r: BatchIncreaseResult): ChartData {
  return {
    id: 'train-loss-vs-epoch',
    title: 'Training loss (full training set) against epochs',
    xLabel: 'epoch',
    yLabel: 'training loss',
    xLog: false,
    yLog: true,
    ...curve(r, (e) => e.epoch, (e) => positiveOrNull(e.train.loss)),
  };
}

export function noiseScaleChart(r: BatchIncreaseResult): ChartData {
  // g of the phase that trains each epoch, drawn at the epoch's end (epoch 0: the first phase's).
  const { x, series } = curve(r, (e) => e.epoch, (e) => positiveOrNull(e.g));
  return {
    id: 'noise-scale',
    title: 'SGD noise scale g = lr·(N/B − 1) against epochs',
    xLabel: 'epoch',
    yLabel: 'g',
    xLog: false,
    yLog: true,
    x,
    series,
    note: r.spec.batchRule === 'factor'
      ? 'B multiplied by the same factor lr is divided by: equal lr·N/B, so equal g while B ≪ N (exactly, (b)\'s g is lower by (f^k − 1)/(N/B₀ − 1)).'
      : 'B chosen so that lr·(N/B − 1) equals (a)\'s g, rounded to a whole batch.',
  };
}

export function batchIncreaseFigures(r: BatchIncreaseResult): ChartData[] {
  return [testChart(r, 'epoch'), testChart(r, 'update'), trainLossChart(r), noiseScaleChart(r)];
}
