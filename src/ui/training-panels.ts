/**
 * The loss and accuracy panels: every minibatch of every chunk, and the full train and test sets
 * at each evaluation, kept as columns; a resumed run drops what came after its snapshot.
 */
import { Panel, fmt, trainingPanelSpecs, type Data } from './charts.ts';
import type { FromWorker } from '../experiments/dashboard/protocol.ts';

const $ = (id: string): HTMLElement => document.getElementById(id)!;

export class TrainingPanels {
  readonly panels: Panel[];
  private readonly steps: number[] = [];
  private readonly cols: (number | null)[][] = Array.from({ length: 6 }, () => []);

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

  truncateTo(step: number): void {
    const keep = this.steps.findIndex((s) => s > step);
    if (keep >= 0) for (const a of [this.steps, ...this.cols]) a.length = keep;
    this.draw();
  }

  private draw(): void {
    const [mbLoss, mbAcc, trLoss, teLoss, trAcc, teAcc] = this.cols;
    this.panels[0].set([this.steps, mbLoss, trLoss, teLoss] as Data);
    this.panels[1].set([this.steps, mbAcc, trAcc, teAcc] as Data);
  }

  onChunk(m: Extract<FromWorker, { type: 'chunk' }>): void {
    const [mbLoss, mbAcc, trLoss, teLoss, trAcc, teAcc] = this.cols;
    if (this.steps.length && m.firstStep <= this.steps[this.steps.length - 1]) this.truncateTo(m.firstStep - 1);
    for (let i = 0; i < m.losses.length; i++) {
      this.steps.push(m.firstStep + i);
      mbLoss.push(m.losses[i]);
      mbAcc.push(m.accuracies[i]);
      for (const c of [trLoss, teLoss, trAcc, teAcc]) c.push(null);
    }
    if (m.eval) {
      const i = m.eval.step - this.steps[0];
      trLoss[i] = m.eval.trainLoss;
      teLoss[i] = m.eval.testLoss;
      trAcc[i] = m.eval.trainAccuracy;
      teAcc[i] = m.eval.testAccuracy;
      $('test-acc').textContent = (100 * m.eval.testAccuracy).toFixed(2);
      this.panels[1].note.textContent = `step ${m.eval.step}: train ${(100 * m.eval.trainAccuracy).toFixed(2)}%, test ${(100 * m.eval.testAccuracy).toFixed(2)}%`;
      this.panels[0].note.textContent = `step ${m.eval.step}: train loss ${fmt(m.eval.trainLoss, 4)}, test loss ${fmt(m.eval.testLoss, 4)} nats`;
    }
    $('step').textContent = String(m.step);
    $('epoch').textContent = m.epoch.toFixed(2);
    $('rate').textContent = m.stepsPerSecond.toFixed(0);
    this.draw();
  }
}
