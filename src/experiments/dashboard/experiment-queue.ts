/**
 * The engine worker's queue of experiments (issue 6): one runs at a time on the worker's side
 * device (never the training device, so training keeps its pace), in the order asked; a second
 * request for a kind already waiting replaces it. Progress, the result and errors go to the page
 * as small messages; the raw result of the last run of each kind stays here until the user exports
 * its run folder (the CLI's: npy, CSV, JSON, report.html), zipped.
 */
import { adapterRecord, type GpuContext } from '../../gpu/device.ts';
import type { LoadedData } from '../../data/index.ts';
import { browserReportAssets, exportMessage } from './export.ts';
import { runExperiment, type ExperimentRun, type NetworkState } from '../dashboard-runner.ts';
import type { ExperimentKind } from '../dashboard-settings.ts';
import type { FromWorker, ToWorker } from './protocol.ts';
import type { RunSpec } from './run-settings.ts';

type Request = Extract<ToWorker, { type: 'experiment' }>;

export interface QueueDeps {
  /** The side device (created on first use, replaced after a loss). */
  device(): Promise<GpuContext>;
  post(m: FromWorker, transfer?: Transferable[]): void;
  network(): Promise<NetworkState>;
  loadData(spec: RunSpec, files: File[] | undefined): Promise<LoadedData>;
}

export class ExperimentQueue {
  private readonly waiting: Request[] = [];
  private busy = false;
  private readonly last = new Map<ExperimentKind, ExperimentRun>();

  constructor(private readonly deps: QueueDeps) {}

  async enqueue(req: Request): Promise<void> {
    const same = this.waiting.findIndex((r) => r.request.kind === req.request.kind);
    if (same >= 0) this.waiting.splice(same, 1, req);
    else this.waiting.push(req);
    if (this.busy) {
      this.deps.post({ type: 'experiment-progress', id: req.id, kind: req.request.kind, text: 'waiting for the experiment before it (one runs at a time on the side device)…' });
      return;
    }
    this.busy = true;
    try {
      for (let r = this.waiting.shift(); r; r = this.waiting.shift()) await this.runOne(r);
    } finally {
      this.busy = false;
    }
  }

  private async runOne(req: Request): Promise<void> {
    const { id, spec, files } = req;
    const kind = req.request.kind;
    try {
      const ctx = await this.deps.device();
      const run = await runExperiment(req.request, {
        ctx,
        model: spec.model,
        train: spec.train,
        progress: (text) => this.deps.post({ type: 'experiment-progress', id, kind, text }),
        network: () => this.deps.network(),
        data: async (trainSize, testSize) => {
          const d = { ...spec.data, trainSize, ...(testSize !== null ? { testSize } : {}) } as RunSpec['data'];
          const loaded = await this.deps.loadData({ ...spec, data: d }, files);
          return { train: loaded.train, test: loaded.test, spec: loaded.spec, trainIndices: loaded.trainIndices, testIndices: loaded.testIndices };
        },
      });
      const errors = [...ctx.uncapturedErrors];
      ctx.uncapturedErrors.length = 0;
      if (errors.length) throw new Error(`WebGPU errors: ${errors.join('; ')}`);
      this.last.set(kind, run);
      this.deps.post({ type: 'experiment', id, outcome: run.outcome });
    } catch (e) {
      this.deps.post({ type: 'experiment-error', id, kind, message: (e as Error).message ?? String(e) });
    }
  }

  /** The run folder of the last result of `kind`, zipped, as an 'export' message. */
  async export(kind: ExperimentKind): Promise<void> {
    const run = this.last.get(kind);
    if (!run) throw new Error(`no ${kind} result to export yet: run it first`);
    const ctx = await this.deps.device();
    const files = run.files(await browserReportAssets(), adapterRecord(ctx));
    const m = exportMessage(files, kind);
    this.deps.post(m, [m.zip.buffer]);
  }
}
