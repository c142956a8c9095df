/**
 * The engine in a dedicated worker: it owns the WebGPU device and the training loop, so the page's
 * main thread only draws. It posts one message per chunk of steps.
 */
import { acquireGpu, type GpuContext } from '../gpu/device.ts';
import { loadDataset } from '../data/index.ts';
import { Trainer } from '../train/trainer.ts';
import type { FromWorker, ToWorker } from './protocol.ts';

let ctx: GpuContext | null = null;
let stopRequested = false;

function post(m: FromWorker, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(m, transfer);
}

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  if (msg.type === 'stop') {
    stopRequested = true;
    return;
  }
  stopRequested = false;
  try {
    post({ type: 'status', text: 'acquiring GPU…' });
    ctx ??= await acquireGpu();
    post({ type: 'status', text: 'loading MNIST-10k…' });
    const data = await loadDataset({ kind: 'mnist10k' });
    post({ type: 'status', text: 'compiling kernels…' });
    const trainer = await Trainer.create(ctx, msg.model, msg.train, { train: data.train, test: data.test });
    post({ type: 'ready', adapter: `${ctx.adapterName} (${ctx.adapterInfo.description || ctx.adapterInfo.vendor})`, trainN: data.train.n, testN: data.test.n, totalSteps: trainer.totalSteps });
    const result = await trainer.run({
      shouldStop: () => stopRequested,
      onChunk: (p) => {
        const e = p.eval;
        post(
          {
            type: 'chunk',
            firstStep: p.firstStep,
            losses: p.losses,
            accuracies: p.accuracies,
            eval: e ? { step: e.step, trainLoss: e.train.loss, trainAccuracy: e.train.accuracy, testLoss: e.test?.loss ?? NaN, testAccuracy: e.test?.accuracy ?? NaN } : null,
            stepsPerSecond: p.stepsPerSecond,
          },
          [p.losses.buffer, p.accuracies.buffer],
        );
      },
    });
    post({ type: 'done', status: result.status, message: result.message, stepsPerSecond: result.stepsPerSecond });
  } catch (e) {
    post({ type: 'error', message: (e as Error).message ?? String(e) });
  }
};
