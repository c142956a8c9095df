/**
 * The minimal training page: start the seed network on MNIST-10k in the engine worker and plot the
 * minibatch loss (log axis) and the full train/test evaluations with uPlot. Charts are redrawn at
 * most once per animation frame, whatever the rate of worker messages.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { SEED_MLP } from '../nn/config.ts';
import type { FromWorker, ToWorker } from './protocol.ts';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = $('status');
const startBtn = $<HTMLButtonElement>('start');
const stopBtn = $<HTMLButtonElement>('stop');

if (!('gpu' in navigator)) {
  $('nowebgpu').hidden = false;
  $('app').hidden = true;
} else {
  setup();
}

function setup(): void {
  const steps: number[] = [];
  const losses: number[] = [];
  const evalSteps: number[] = [];
  const trainLoss: number[] = [];
  const testLoss: number[] = [];
  const testAcc: number[] = [];
  const width = Math.min(900, document.body.clientWidth - 40);

  const lossPlot = new uPlot(
    {
      title: 'loss',
      width,
      height: 300,
      scales: { x: { time: false }, y: { distr: 3 } },
      axes: [{ label: 'SGD step' }, { label: 'cross-entropy (nats, log)' }],
      series: [
        { label: 'step' },
        { label: 'minibatch', stroke: '#8fb0d9', width: 1 },
        { label: 'train (full)', stroke: '#1f4e8c', width: 2, points: { show: true } },
        { label: 'test (full)', stroke: '#c0392b', width: 2, points: { show: true } },
      ],
    },
    [[], [], [], []],
    $('loss-chart'),
  );
  const accPlot = new uPlot(
    {
      title: 'test accuracy',
      width,
      height: 200,
      scales: { x: { time: false } },
      axes: [{ label: 'SGD step' }, { label: 'accuracy' }],
      series: [{ label: 'step' }, { label: 'test', stroke: '#c0392b', width: 2, points: { show: true } }],
    },
    [[], []],
    $('acc-chart'),
  );

  let dirty = false;
  const redraw = (): void => {
    dirty = false;
    // Evaluations share the x axis with the per-step loss: null where a step has none.
    const at = new Map(evalSteps.map((s, i) => [s, i]));
    const tr = steps.map((s) => (at.has(s) ? trainLoss[at.get(s)!] : null));
    const te = steps.map((s) => (at.has(s) ? testLoss[at.get(s)!] : null));
    lossPlot.setData([steps, losses, tr, te] as uPlot.AlignedData);
    accPlot.setData([evalSteps, testAcc]);
  };
  const schedule = (): void => {
    if (!dirty) {
      dirty = true;
      requestAnimationFrame(redraw);
    }
  };

  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (ev: MessageEvent<FromWorker>) => {
    const m = ev.data;
    switch (m.type) {
      case 'status':
        status.textContent = m.text;
        break;
      case 'ready':
        status.textContent = `training on ${m.adapter}: ${m.trainN} train / ${m.testN} test samples`;
        $('adapter').textContent = m.adapter;
        break;
      case 'chunk':
        for (let i = 0; i < m.losses.length; i++) {
          steps.push(m.firstStep + i);
          losses.push(m.losses[i]);
        }
        if (m.eval) {
          evalSteps.push(m.eval.step);
          trainLoss.push(m.eval.trainLoss);
          testLoss.push(m.eval.testLoss);
          testAcc.push(m.eval.testAccuracy);
          $('test-acc').textContent = (100 * m.eval.testAccuracy).toFixed(2);
        }
        $('step').textContent = String(m.firstStep + m.losses.length - 1);
        $('rate').textContent = m.stepsPerSecond.toFixed(0);
        schedule();
        break;
      case 'done':
        status.textContent = `${m.message} (${m.stepsPerSecond.toFixed(0)} steps/s)`;
        document.body.dataset.state = 'done';
        startBtn.disabled = false;
        stopBtn.disabled = true;
        break;
      case 'error':
        status.textContent = `error: ${m.message}`;
        document.body.dataset.state = 'error';
        startBtn.disabled = false;
        stopBtn.disabled = true;
        break;
    }
  };

  startBtn.onclick = () => {
    steps.length = losses.length = evalSteps.length = trainLoss.length = testLoss.length = testAcc.length = 0;
    const epochs = Number(($('epochs') as HTMLInputElement).value);
    const lr = Number(($('lr') as HTMLInputElement).value);
    const seed = Number(($('seed') as HTMLInputElement).value);
    const req: ToWorker = { type: 'start', model: SEED_MLP, train: { epochs, lr, seed, chunkSteps: 40 } };
    document.body.dataset.state = 'running';
    startBtn.disabled = true;
    stopBtn.disabled = false;
    worker.postMessage(req);
  };
  stopBtn.onclick = () => worker.postMessage({ type: 'stop' } satisfies ToWorker);
}
