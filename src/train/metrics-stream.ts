/**
 * metrics.csv written as training goes (src/train/run-files.ts defines the rows): after each chunk
 * the rows of its steps are appended to the sink, so a run of any length never holds the whole
 * file as one string, and an interrupted run's folder has every row up to its last checkpoint.
 */
import { csvLine } from '../util/csv.ts';
import { METRICS_HEADER, metricsLastStep, metricsRow } from './run-files.ts';
import type { EvalRecord, History } from './trainer.ts';

export class MetricsCsvStream {
  /** Rows written so far (steps 1…written). */
  written = 0;

  constructor(private readonly sink: (text: string) => void, private readonly stepsPerEpoch: number) {
    sink(`${METRICS_HEADER.join(',')}\n`);
  }

  /** Appends the rows up to the history's last step (or up to `upTo`). */
  update(h: History, upTo = metricsLastStep(h)): void {
    if (upTo <= this.written) return;
    const evals = new Map<number, EvalRecord>();
    for (let i = h.evals.length - 1; i >= 0 && h.evals[i].step > this.written; i--) evals.set(h.evals[i].step, h.evals[i]);
    const lines: string[] = [];
    for (let step = this.written + 1; step <= upTo; step++) lines.push(csvLine(metricsRow(h, step, this.stepsPerEpoch, evals.get(step))));
    this.sink(`${lines.join('\n')}\n`);
    this.written = upTo;
  }
}
