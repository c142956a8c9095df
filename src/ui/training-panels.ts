/**
 * The loss and accuracy panels: every minibatch of every chunk, and the full train and test sets
 * at each evaluation, kept as columns; a resumed run drops what came after its snapshot. An
 * ensemble's chunks carry the mean and the min–max band across its replicas (computed by the
 * worker: src/experiments/dashboard/ensemble-band.ts); the panels draw the mean with the band.
 */
import { Panel, fmt, trainingPanelSpecs, type Data } from './charts.ts';
import type { EvalPoint, FromWorker } from '../experiments/dashboard/protocol.ts';

const $ = (id: string): HTMLElement => document.getElementById(id)!;

/** The columns, in this order: minibatch loss and accuracy, then the evaluations. */
const COLUMNS = 6;
const [MB_LOSS, MB_ACC, TR_LOSS, TE_LOSS, TR_ACC, TE_ACC] = [0, 1, 2, 3, 4, 5];
const EVAL_FIELDS: [number, keyof EvalPoint][] = [
  [TR_LOSS, 'trainLoss'],
  [TE_LOSS, 'testLoss'],
  [TR_ACC, 'trainAccuracy'],
  [TE_ACC, 'testAccuracy'],
];

const pct = (v: number): string => (100 * v).toFixed(2);

export class TrainingPanels {
  readonly panels: Panel[];
  /** Replicas of the run drawn (1: a single run, one line per curve). */
  private replicas = 1;
  private readonly steps: number[] = [];
  /** Column k, then (an ensemble) its band: min in column COLUMNS + 2k, max in COLUMNS + 2k + 1. */
  private readonly cols: (number | null)[][] = Array.from({ length: 3 * COLUMNS }, () => []);

  constructor(container: HTMLElement, width: number) {
    this.panels = trainingPanelSpecs().map((spec) => new Panel(spec, container, width, 230));
  }

  clear(): void {
    for (const a of [this.steps, ...this.cols]) a.length = 0;
    for (const p of this.panels) {
      p.note.textContent = 'no data yet';
      p.set(p.spec.empty);
    }
  }

  /** The run's replica count (from its 'ready'): an ensemble's panels have band series. */
  setReplicas(replicas: number): void {
    if (replicas === this.replicas) return;
    this.replicas = replicas;
    const specs = trainingPanelSpecs(replicas);
    this.panels.forEach((p, i) => p.rebuild(specs[i], specs[i].empty));
  }

  truncateTo(step: number): void {
    const keep = this.steps.findIndex((s) => s > step);
    if (keep >= 0) for (const a of [this.steps, ...this.cols]) a.length = keep;
    this.draw();
  }

  /** Column k and, for an ensemble, its band. */
  private series(k: number): (number | null)[][] {
    return this.replicas > 1 ? [this.cols[k], this.cols[COLUMNS + 2 * k], this.cols[COLUMNS + 2 * k + 1]] : [this.cols[k]];
  }

  private draw(): void {
    this.panels[0].set([this.steps, ...[MB_LOSS, TR_LOSS, TE_LOSS].flatMap((k) => this.series(k))] as Data);
    this.panels[1].set([this.steps, ...[MB_ACC, TR_ACC, TE_ACC].flatMap((k) => this.series(k))] as Data);
  }

  onChunk(m: Extract<FromWorker, { type: 'chunk' }>): void {
    const c = this.cols;
    if (this.steps.length && m.firstStep <= this.steps[this.steps.length - 1]) this.truncateTo(m.firstStep - 1);
    const b = m.band;
    for (let i = 0; i < m.losses.length; i++) {
      this.steps.push(m.firstStep + i);
      for (const a of c) a.push(null);
      const at = c[0].length - 1;
      c[MB_LOSS][at] = m.losses[i];
      c[MB_ACC][at] = m.accuracies[i];
      if (b) [c[COLUMNS + 2 * MB_LOSS][at], c[COLUMNS + 2 * MB_LOSS + 1][at], c[COLUMNS + 2 * MB_ACC][at], c[COLUMNS + 2 * MB_ACC + 1][at]] = [b.lossMin[i], b.lossMax[i], b.accuracyMin[i], b.accuracyMax[i]];
    }
    if (m.eval) {
      const i = m.eval.step - this.steps[0];
      for (const [k, f] of EVAL_FIELDS) {
        c[k][i] = m.eval[f];
        if (b?.eval) [c[COLUMNS + 2 * k][i], c[COLUMNS + 2 * k + 1][i]] = [b.eval.min[f], b.eval.max[f]];
      }
      const e = m.eval;
      $('test-acc').textContent = pct(e.testAccuracy);
      if (b?.eval) {
        const each = b.eval.replicas.map((r) => (r ? pct(r.testAccuracy) : '–')).join(', ');
        this.panels[1].note.textContent = `step ${e.step}, mean of ${b.replicas} (band: min–max): train ${pct(e.trainAccuracy)}%, test ${pct(e.testAccuracy)}% [${pct(b.eval.min.testAccuracy)}, ${pct(b.eval.max.testAccuracy)}]; test per replica: ${each}%`;
        this.panels[0].note.textContent = `step ${e.step}, mean of ${b.replicas} (band: min–max): train loss ${fmt(e.trainLoss, 4)}, test loss ${fmt(e.testLoss, 4)} [${fmt(b.eval.min.testLoss, 4)}, ${fmt(b.eval.max.testLoss, 4)}] nats`;
      } else {
        this.panels[1].note.textContent = `step ${e.step}: train ${pct(e.trainAccuracy)}%, test ${pct(e.testAccuracy)}%`;
        this.panels[0].note.textContent = `step ${e.step}: train loss ${fmt(e.trainLoss, 4)}, test loss ${fmt(e.testLoss, 4)} nats`;
      }
    }
    $('step').textContent = String(m.step);
    $('epoch').textContent = m.epoch.toFixed(2);
    $('rate').textContent = m.stepsPerSecond.toFixed(0);
    this.draw();
  }
}
