/**
 * The training curves of a run as ChartData (loss and accuracy against the step: every minibatch,
 * the full train and test sets at each evaluation), the lead section of a train run's report.
 */
import type { ChartData } from '../analysis/report/chart-data.ts';
import type { History } from '../train/trainer.ts';

export function trainingCharts(h: History): ChartData[] {
  const last = Math.max(h.loss.length, ...h.evals.map((e) => e.step));
  const x = Array.from({ length: last }, (_, i) => i + 1);
  const at = new Map(h.evals.map((e) => [e.step, e]));
  const col = (f: (e: History['evals'][number]) => number | undefined): (number | null)[] => x.map((s) => f(at.get(s)!) ?? null);
  const ev = (s: number) => at.get(s);
  const curve = (id: string, title: string, yLabel: string, yLog: boolean, mb: number[], train: (e: NonNullable<ReturnType<typeof ev>>) => number, test: (e: NonNullable<ReturnType<typeof ev>>) => number | undefined): ChartData => ({
    id,
    title,
    xLabel: 'SGD step',
    yLabel,
    xLog: false,
    yLog,
    x,
    series: [
      { label: 'minibatch', style: 'line', y: x.map((s) => mb[s - 1] ?? null) },
      { label: 'train (full)', style: 'line+points', y: col((e) => (e ? train(e) : undefined)) },
      { label: 'test', style: 'line+points', y: col((e) => (e ? test(e) : undefined)) },
    ],
  });
  return [
    curve('train-loss', 'Loss', 'cross-entropy (nats, log)', true, h.loss, (e) => e.train.loss, (e) => e.test?.loss),
    curve('train-accuracy', 'Accuracy', 'fraction correct', false, h.accuracy, (e) => e.train.accuracy, (e) => e.test?.accuracy),
  ];
}
