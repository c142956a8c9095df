/**
 * The kernel lab's engine in a dedicated worker with a GPU device of its own (robustness on, as
 * every browser runs WebGPU): a user's kernel that reads out of bounds gets zeros or clamped values
 * and a mismatch; one that never ends is stopped by the loop guard or reported by the watchdog, and
 * the page replaces this worker (and its device) on request. The page never touches the device.
 */
import { acquireGpu } from '../gpu/device.ts';
import { LabEngine } from './engine.ts';
import type { FromWorker, ToWorker } from './protocol.ts';

function post(m: FromWorker): void {
  (self as unknown as Worker).postMessage(m);
}

let destroying = false;

const ready: Promise<LabEngine | null> = (async () => {
  const ctx = await acquireGpu();
  void ctx.lost.then((info) => {
    post({ type: 'lost', message: `the GPU device was lost (${info.reason || 'unknown reason'}${destroying ? ', destroyed on request' : ''}): ${info.message}` });
  });
  post({ type: 'ready', adapter: { name: ctx.adapterName, description: [ctx.adapterInfo.vendor, ctx.adapterInfo.architecture, ctx.adapterInfo.description].filter(Boolean).join(' / '), timestamps: ctx.hasTimestamps, isSoftware: ctx.isSoftware } });
  return new LabEngine(ctx, post);
})().catch((e: unknown) => {
  post({ type: 'fatal', message: (e as Error).message });
  return null;
});

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  const engine = await ready;
  if (!engine) return;
  try {
    switch (m.type) {
      case 'inspect':
        engine.inspect(m.id, m.source);
        break;
      case 'start':
        engine.start(m.id, m.problem, m.params, m.start);
        break;
      case 'run':
        await engine.run(m.id, m.spec, m.options);
        break;
      case 'lose-device':
        destroying = true;
        engine.ctx.device.destroy();
        break;
    }
  } catch (e) {
    post({ type: 'failed', id: 'id' in m ? m.id : -1, stage: 'source', message: (e as Error).message, watchdog: false });
  }
};
