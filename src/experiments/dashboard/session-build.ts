/**
 * What one dashboard training run is made of, built on a training device: the trainer, the
 * Feng–Tu window recorder (the final analysis), the instrument host with the instruments switched
 * on, the weight snapshots (one per epoch, for the Hessian card and for resuming after a lost
 * device) and the instruments' side device (a device of their own, created when one first asks,
 * so their refreshes never queue behind training chunks nor training behind them).
 *
 * An ensemble (spec.replicas R > 1: seeds seed, seed + 1, … in one Trainer) has no snapshots and no
 * live instruments (ensemble-settings.ts refuses them: each analyses one network while it trains);
 * with pca-window on it has one window recorder per replica (`ensemble`), the window chosen within
 * the ensemble's memory budget (ensemble-window.ts), analysed replica by replica after training.
 */
import { acquireGpu, type GpuContext } from '../../gpu/device.ts';
import { writeBuffer } from '../../gpu/buffers.ts';
import type { GpuBatch } from '../../gpu/batch.ts';
import type { LoadedData } from '../../data/index.ts';
import { seedEnsemble } from '../../train/ensemble.ts';
import { Trainer, type ChunkProgress, type History, type TrainHooks } from '../../train/trainer.ts';
import { prepareFengTu, type FengTuOptions, type FengTuSession } from '../feng-tu/run.ts';
import { instrumentById } from '../../instruments/all.ts';
import { InstrumentHost, mergeHooks } from '../../instruments/host.ts';
import { resolveValues } from '../../instruments/values.ts';
import { packColumns } from '../../instruments/tables.ts';
import type { InstrumentUpdate } from '../../instruments/types.ts';
import type { FromWorker, InstrumentMessage } from './protocol.ts';
import type { RunSpec } from './run-settings.ts';
import { labSettingsOf } from './final-window.ts';
import { ENSEMBLE_WINDOW_INSTRUMENTS } from './ensemble-settings.ts';
import { ensembleLabOptions, ensembleWindowPlan, type EnsembleWindowPlan } from './ensemble-window.ts';

export interface Snapshot {
  step: number;
  params: Float32Array;
}

export interface SessionDeps {
  post(m: FromWorker, transfer?: Transferable[]): void;
  /** A new GPU device (the training device, the instruments' side device). */
  acquire?(): Promise<GpuContext>;
}

export interface RunParts {
  ctx: GpuContext;
  trainer: Trainer;
  /** The Feng–Tu window's recorder and analysis of a single run; null for an ensemble. */
  fengtu: FengTuSession | null;
  /** An ensemble's Feng–Tu windows (pca-window on): one session per replica and the window's plan; null: none. */
  ensemble: { sessions: FengTuSession[]; plan: EnsembleWindowPlan; options: Partial<FengTuOptions> } | null;
  host: InstrumentHost;
  /** The instruments' side device, null until asked for or once lost. */
  side: { ctx: GpuContext | null; pending: Promise<GpuContext> | null };
  snapshots: Snapshot[];
  pendingSnapshots: { step: number; buffer: GPUBuffer }[];
}

/** An instrument update as a message: columns as Float64Arrays whose buffers are transferred. */
export function instrumentMessage(id: string, u: InstrumentUpdate): { m: FromWorker; transfer: Transferable[] } {
  const transfer: Transferable[] = [];
  const update: InstrumentMessage = { ...u, tables: undefined };
  if (u.tables) {
    update.tables = {};
    for (const [name, cols] of Object.entries(u.tables)) {
      const packed = packColumns(cols);
      update.tables[name] = packed.columns;
      transfer.push(...packed.buffers);
    }
  }
  return { m: { type: 'instrument', id, update }, transfer };
}

export async function buildRun(
  deps: SessionDeps,
  spec: RunSpec,
  data: LoadedData,
  ctx: GpuContext,
  from: { snapshot: Snapshot; history: History; snapshots: Snapshot[] } | null,
  warn: (text: string) => void,
): Promise<RunParts> {
  deps.post({ type: 'status', text: 'compiling kernels…' });
  const R = spec.replicas;
  const live = R > 1 ? spec.instruments.active.filter((id) => !ENSEMBLE_WINDOW_INSTRUMENTS.includes(id)) : spec.instruments.active;
  if (R > 1 && (from || live.length)) throw new Error(`an ensemble (replicas ${R}) runs without live instruments and cannot resume from a snapshot`);
  const trainer = await Trainer.create(ctx, spec.model, R > 1 ? seedEnsemble(spec.train, R) : spec.train, { train: data.train, test: data.test });
  const fengtu = R > 1 ? null : await prepareFengTu(ctx, trainer, labSettingsOf(spec.instruments.values));
  const ensemble = R > 1 && spec.instruments.active.includes('pca-window') ? await ensembleWindows(ctx, trainer, spec) : null;
  let snapshots: Snapshot[];
  if (!fengtu) snapshots = [];
  else if (from) {
    trainer.restore(from.snapshot.params, from.snapshot.step, from.history);
    snapshots = from.snapshots.filter((s) => s.step <= from.snapshot.step);
    // The recorder's checkpoints (T(t) vs L(t) of the final analysis) up to the snapshot.
    const rec = fengtu.recorder;
    rec.checkpointSteps.forEach((step, slot) => {
      const snap = snapshots.find((s) => s.step === step);
      if (snap && rec.checkpoints) writeBuffer(ctx, rec.checkpoints, snap.params, slot * trainer.mlp.layout.total * 4);
    });
  } else {
    fengtu.recorder.recordInitial();
    snapshots = [{ step: 0, params: await trainer.mlp.readParams() }];
  }
  const side: RunParts['side'] = { ctx: null, pending: null };
  const acquire = deps.acquire ?? (() => acquireGpu());
  const sideDevice = (): Promise<GpuContext> => {
    if (side.ctx) return Promise.resolve(side.ctx);
    side.pending ??= acquire().then((actx) => {
      side.ctx = actx;
      void actx.lost.then((info) => {
        side.ctx = null;
        side.pending = null;
        if (info.reason !== 'destroyed') deps.post({ type: 'status', text: `the instruments' GPU device was lost (${info.message}); training goes on, the final analysis is not affected` });
      });
      return actx;
    });
    return side.pending;
  };
  const n = data.train.n;
  const c = { widths: spec.model.widths, bias: spec.model.bias, batchSize: trainer.config.batchSize, epochs: trainer.config.epochs, trainSize: n, stepsPerEpoch: trainer.stepsPerEpoch };
  const active = live.map((id) => {
    const def = instrumentById(id);
    return { def, values: resolveValues(def, spec.instruments.values[id] ?? {}, c) };
  });
  const host = await InstrumentHost.create({
    trainer,
    trainSet: data.train,
    active,
    side: sideDevice,
    onUpdate: (id, u) => {
      const { m, transfer } = instrumentMessage(id, u);
      deps.post(m, transfer);
    },
    onRefresh: (step, ms) => deps.post({ type: 'refresh', step, ms }),
    onWarning: (id, m) => warn(`instrument ${id}: ${m}`),
  });
  return { ctx, trainer, fengtu, ensemble, host, side, snapshots, pendingSnapshots: [] };
}

/** One window recorder per replica of an ensemble, over the window its memory budget allows. */
async function ensembleWindows(ctx: GpuContext, trainer: Trainer, spec: RunSpec): Promise<RunParts['ensemble']> {
  const lab = labSettingsOf(spec.instruments.values);
  const P = trainer.mlp.layout.layers[lab.layer].size;
  const plan = ensembleWindowPlan(trainer.replicas, P, lab.windowEpochs * trainer.stepsPerEpoch);
  const options = ensembleLabOptions(lab, plan);
  const sessions: FengTuSession[] = [];
  for (let r = 0; r < trainer.replicas; r++) sessions.push(await prepareFengTu(ctx, trainer, options, r));
  if (sessions[0].open) throw new Error(`an ensemble's Feng–Tu window needs runs of a known length: a stop rule ends each replica at its own step (set replicas to 1)`);
  for (const s of sessions) s.recorder.recordInitial();
  return { sessions, plan, options };
}

/**
 * The training hooks of a run: the recorder, a weight snapshot at the end of every epoch (copied
 * in the step's command buffer, read once the chunk is done), the instruments, the page's chunk
 * message and the stop requests.
 */
export function runHooks(p: RunParts, onChunk: (c: ChunkProgress) => void, shouldStop: () => boolean): TrainHooks {
  const spe = p.trainer.stepsPerEpoch;
  const own: TrainHooks = {
    onStepEncoded: (batch: GpuBatch, step: number) => {
      for (const s of p.ensemble?.sessions ?? []) s.recorder.onStepEncoded(batch, step);
      if (!p.fengtu) return;
      p.fengtu.recorder.onStepEncoded(batch, step);
      if (step % spe !== 0) return;
      const bytes = p.trainer.mlp.layout.total * 4;
      const buffer = p.ctx.device.createBuffer({ label: `snapshot.${step}`, size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      batch.copy(p.trainer.mlp.params, 0, buffer, 0, bytes);
      p.pendingSnapshots.push({ step, buffer });
    },
    onChunk: (c: ChunkProgress) => {
      onChunk(c);
      collectSnapshots(p, c.step);
    },
    shouldStop,
  };
  return mergeHooks(own, p.host.hooks());
}

function collectSnapshots(p: RunParts, doneStep: number): void {
  const ready = p.pendingSnapshots.filter((x) => x.step <= doneStep);
  p.pendingSnapshots = p.pendingSnapshots.filter((x) => x.step > doneStep);
  for (const { step, buffer } of ready) {
    buffer.mapAsync(GPUMapMode.READ).then(
      () => {
        const params = new Float32Array(buffer.getMappedRange().slice(0));
        buffer.destroy();
        p.snapshots.push({ step, params });
        p.snapshots.sort((a, b) => a.step - b.step);
      },
      () => buffer.destroy(),
    );
  }
}
