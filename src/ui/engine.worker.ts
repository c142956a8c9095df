/**
 * The dashboard's engine, in a dedicated worker: a message router. The page only draws what the
 * engine posts; everything that trains or analyses is DOM-free code of src/experiments/dashboard/:
 *
 *  - the training run (TrainingSession: trainer, instruments, final analysis, lost device, export);
 *  - on a side device, created on first use, what runs beside training without touching its
 *    queue: signal propagation at initialisation (PropagationService: q^l, c^l, Jacobian spectra,
 *    curve lengths) and the curvature-and-generalisation experiments (ExperimentQueue; the Hessian
 *    reads the run's last snapshot, or its weights when paused or done).
 * What only a browser worker can do stays here: fetching Fashion-MNIST from the page's server.
 */
import { acquireGpu } from '../gpu/device.ts';
import { loadDataset, IDX_FILE_NAMES, type LoadedData } from '../data/index.ts';
import { TrainingSession, DeviceLost, type SessionEnv } from '../experiments/dashboard/session.ts';
import { browserReportAssets } from '../experiments/dashboard/export.ts';
import { ExperimentQueue } from '../experiments/dashboard/experiment-queue.ts';
import { PropagationService, SideDevice, phaseDiagramMessage } from '../experiments/dashboard/propagation-service.ts';
import type { FromWorker, RunState, ToWorker } from '../experiments/dashboard/protocol.ts';
import type { RunSpec } from '../experiments/dashboard/run-settings.ts';

function post(m: FromWorker, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(m, transfer);
}

let session: TrainingSession | null = null;
let busyStarting = false;

async function loadData(spec: RunSpec, files: File[] | undefined): Promise<LoadedData> {
  const d = spec.data;
  if (d.kind === 'mnist10k') return loadDataset(d);
  if (d.kind === 'fashion' && !files?.length) {
    // Served from the machine's Debian package by the Vite server (vite.config.ts), when present.
    const base = new URL(`${import.meta.env.BASE_URL}datasets/fashion-mnist/`, self.location.origin);
    const got: File[] = [];
    for (const name of Object.values(IDX_FILE_NAMES)) {
      const res = await fetch(new URL(`${name}.gz`, base));
      if (!res.ok) {
        throw new Error(
          `Fashion-MNIST is not served here (${res.status} for ${name}.gz): choose the four IDX files with the file picker, or run the page with \`npm run dev\` on a machine with Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)`,
        );
      }
      got.push(new File([await res.blob()], `${name}.gz`));
    }
    return loadDataset(d, { files: got });
  }
  if (!files?.length) throw new Error(`dataset ${d.kind}: choose the four IDX files (${Object.values(IDX_FILE_NAMES).join(', ')}, plain or .gz) with the file picker`);
  return loadDataset(d, { files });
}

const env: SessionEnv = {
  post,
  acquire: () => acquireGpu(),
  reportAssets: browserReportAssets,
  log: (level, text) => console[level](text),
};

function setState(state: RunState, text: string): void {
  post({ type: 'state', state, text });
}

async function start(spec: RunSpec, files: File[] | undefined): Promise<void> {
  session?.kill();
  session = null;
  setState('loading', 'acquiring the GPU…');
  post({ type: 'status', text: `loading ${spec.data.kind}…` });
  const data = await loadData(spec, files);
  const s = await TrainingSession.create(env, spec, data, files);
  session = s;
  await s.drive();
}

const side = new SideDevice();
const propagation = new PropagationService({ device: () => side.get(), post });
const experiments = new ExperimentQueue({
  device: () => side.get(),
  post,
  network: () => {
    if (!session) throw new Error('the Hessian is of the network being trained: start a run first (it uses the current weights when paused or done, else the last snapshot — one per epoch, from step 0)');
    return session.network();
  },
  loadData,
});

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  const s = session;
  try {
    switch (msg.type) {
      case 'start':
        if (busyStarting) return;
        busyStarting = true;
        try {
          await start(msg.spec, msg.files);
        } finally {
          busyStarting = false;
        }
        return;
      case 'pause':
        if (s?.state === 'running') s.request = 'pause';
        return;
      case 'step':
      case 'resume':
        if (s?.state === 'paused') {
          s.request = msg.type === 'step' ? 'step' : null;
          await s.drive();
        }
        return;
      case 'stop':
        if (s?.state === 'running') s.request = 'stop';
        else if (s?.state === 'paused') {
          s.request = 'stop';
          await s.finish();
        }
        return;
      case 'instrument-request':
        s?.instrumentRequest(msg.name, msg.value);
        return;
      case 'export':
        if (s) await s.export();
        return;
      case 'resume-snapshot':
        if (s?.state === 'lost') {
          session = await s.resume();
          await session.drive();
        }
        return;
      case 'debug-lose-device':
        s?.p.ctx.device.destroy();
        return;
      case 'phase-diagram':
        post(phaseDiagramMessage(msg.activation));
        return;
      case 'propagate':
        await propagation.enqueue(msg);
        return;
      case 'init-spectra':
        await propagation.enqueueSpectra(msg);
        return;
      case 'experiment':
        await experiments.enqueue(msg);
        return;
      case 'experiment-export':
        await experiments.export(msg.kind);
        return;
    }
  } catch (e) {
    if (s && e instanceof DeviceLost) return s.failed(e);
    if (msg.type === 'export' || msg.type === 'experiment-export') post({ type: 'status', text: `export failed: ${(e as Error).message}` });
    else {
      setState('error', (e as Error).message);
      post({ type: 'error', message: (e as Error).message ?? String(e) });
    }
  }
};
