/**
 * The dashboard's engine, in a dedicated worker: it owns the WebGPU device, the trainer, the
 * Feng–Tu window recorder (the final analysis, as `sgdscope reproduce feng-tu`) and the live lab
 * (src/ui/live-lab.ts). The page only draws what this posts:
 *
 *  - one 'chunk' message per chunk of SGD steps (typed arrays), never awaited by anything;
 *  - a 'lab' frame after each live refresh (every `refresh` steps; a refresh runs beside training
 *    and is skipped, not queued, while the previous one is still running) and after the final
 *    analysis;
 *  - 'timings': per-kernel GPU time per step from timestamp queries of one profiled chunk in every
 *    few (only when the adapter has timestamp-query).
 *
 * Every `stepsPerEpoch` steps the weights are copied to the CPU (a snapshot): after a lost device
 * the run resumes from the last snapshot on a new device ('resume-snapshot').
 *
 * A side device, created on first use, serves what runs beside training without touching its
 * queue: signal propagation at initialisation and the curvature-and-generalisation experiments
 * (src/ui/experiment-queue.ts; the Hessian reads the run's last snapshot, or its weights when
 * paused or done).
 */
import { adapterRecord, acquireGpu, type GpuContext } from '../gpu/device.ts';
import { Profiler } from '../gpu/profiler.ts';
import { writeBuffer } from '../gpu/buffers.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { loadDataset, IDX_FILE_NAMES, type LoadedData } from '../data/index.ts';
import { Trainer, type ChunkProgress, type RunResult, type TrainHooks } from '../train/trainer.ts';
import { runFiles } from '../train/run-files.ts';
import { analyseFengTu, prepareFengTu, type FengTuResult, type FengTuSession } from '../experiments/feng-tu/run.ts';
import { fengTuFiles } from '../experiments/feng-tu/files.ts';
import { browserReportAssets, exportMessage } from './run-folder-export.ts';
import { DEFAULT_LIVE, LiveLab, frameFromFengTu } from './live-lab.ts';
import type { FromWorker, InitSpectraRequest, PropagationRequest, RunState, ToWorker } from './protocol.ts';
import { activationByName } from '../analysis/meanfield/activations.ts';
import { phaseDiagram } from '../analysis/meanfield/phase-diagram.ts';
import { criticalLine } from '../analysis/meanfield/critical-line.ts';
import { GpuPropagation } from '../experiments/propagation/gpu-propagation.ts';
import { propagationTheory } from '../experiments/propagation/theory.ts';
import { comparePropagation } from '../experiments/propagation/compare.ts';
import { phaseDiagramHeatmaps, propagationCharts } from '../experiments/propagation/charts.ts';
import { LIVE_INIT, liveInitSpectra } from '../experiments/propagation/init-live.ts';
import { LatestOnly } from './latest-only.ts';
import type { RunSpec } from './settings.ts';
import { ExperimentQueue } from './experiment-queue.ts';
import type { NetworkState } from '../experiments/dashboard-runner.ts';

function post(m: FromWorker, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(m, transfer);
}

class DeviceLost extends Error {}

/** Profile one chunk in this many (pass-per-dispatch timestamps slow a chunk down a little). */
const PROFILE_EVERY_CHUNKS = 5;

interface Snapshot {
  step: number;
  params: Float32Array;
}

interface Session {
  spec: RunSpec;
  files?: File[];
  data: LoadedData;
  ctx: GpuContext;
  /** The live analysis' own device (LiveLab.create); null once it was lost. */
  analysis: { actx: GpuContext | null };
  lost: Promise<never>;
  trainer: Trainer;
  fengtu: FengTuSession;
  live: LiveLab;
  snapshots: Snapshot[];
  pendingSnapshots: { step: number; buffer: GPUBuffer }[];
  profiler: Profiler | null;
  profile: { first: number; last: number; collecting: boolean; nextChunk: number; chunks: number };
  /** Why the trainer was asked to stop: pause, one step, stop for good; null: keep going. */
  request: 'pause' | 'step' | 'stop' | null;
  state: RunState;
  lastRefresh: number;
  mlfPc: number;
  pendingMlf: number | null;
  runs: RunResult[];
  final: FengTuResult | null;
  finalError: string | null;
  /** Replaced by a newer run: posts nothing more. */
  dead: boolean;
  /** Set the moment the device reports its loss (before the training loop notices). */
  device: { lost: boolean };
}

let session: Session | null = null;
let busyStarting = false;

/**
 * Logs a failure of background work (live analysis, timings) unless the run's device turns out
 * to be lost: a destroyed device rejects pending maps before its `lost` promise resolves.
 */
function reportLater(s: Session, level: 'warn' | 'error', text: string): void {
  setTimeout(() => {
    if (alive(s)) console[level](text);
  }, 500);
}

/** The current run, still on a working device. */
function alive(s: Session): boolean {
  return !s.dead && !s.device.lost && session === s && s.state !== 'lost';
}

function setState(s: Session | null, state: RunState, text: string): void {
  if (s) s.state = state;
  post({ type: 'state', state, text });
}

function adapterText(ctx: GpuContext): string {
  const i = ctx.adapterInfo;
  const desc = i.description || [i.vendor, i.architecture, i.device].filter(Boolean).join(' ');
  return desc ? `${ctx.adapterName} (${desc})` : ctx.adapterName;
}

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

/** Builds trainer, recorder and live lab on `ctx`; from a snapshot when resuming. */
async function build(spec: RunSpec, data: LoadedData, ctx: GpuContext, from: { snapshot: Snapshot; old: Session } | null): Promise<Omit<Session, 'spec' | 'files' | 'data'>> {
  post({ type: 'status', text: 'compiling kernels…' });
  const trainer = await Trainer.create(ctx, spec.model, spec.train, { train: data.train, test: data.test });
  const fengtu = await prepareFengTu(ctx, trainer, { layer: spec.lab.layer, windowEpochs: spec.lab.windowEpochs, k: spec.lab.k, flatK: spec.lab.flatK });
  // The live analysis gets a device of its own (see LiveLab.create).
  const actx = await acquireGpu();
  const analysis = { actx: actx as GpuContext | null };
  void actx.lost.then((info) => {
    analysis.actx = null;
    if (info.reason !== 'destroyed') post({ type: 'status', text: `the live analysis' GPU device was lost (${info.message}); training goes on, the final analysis is not affected` });
  });
  const live = await LiveLab.create(ctx, actx, trainer, data.train, {
    ...DEFAULT_LIVE,
    layer: spec.lab.layer,
    windowSteps: fengtu.T,
    k: spec.lab.k,
    flatK: spec.lab.flatK,
    liveRows: spec.lab.liveRows,
    liveDirs: spec.lab.liveDirs,
  });
  let snapshots: Snapshot[] = [];
  if (from) {
    trainer.restore(from.snapshot.params, from.snapshot.step, from.old.trainer.history);
    snapshots = from.old.snapshots.filter((s) => s.step <= from.snapshot.step);
    // The recorder's checkpoints (T(t) vs L(t) of the final analysis) up to the snapshot.
    const rec = fengtu.recorder;
    const total = trainer.mlp.layout.total;
    rec.checkpointSteps.forEach((step, slot) => {
      const snap = snapshots.find((s) => s.step === step);
      if (snap && rec.checkpoints) writeBuffer(ctx, rec.checkpoints, snap.params, slot * total * 4);
    });
  } else {
    fengtu.recorder.recordInitial();
    snapshots = [{ step: 0, params: await trainer.mlp.readParams() }];
  }
  const profiler = ctx.hasTimestamps && spec.train.chunkSteps! <= 150 ? new Profiler(ctx) : null;
  const device = { lost: false };
  const lost = ctx.lost.then((info) => {
    device.lost = true;
    throw new DeviceLost(`the GPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''})`);
  });
  lost.catch(() => {});
  return {
    ctx,
    analysis,
    lost,
    trainer,
    fengtu,
    live,
    snapshots,
    pendingSnapshots: [],
    profiler,
    profile: { first: 0, last: 0, collecting: false, nextChunk: 2, chunks: 0 },
    request: null,
    state: 'running',
    lastRefresh: trainer.step,
    mlfPc: from?.old.mlfPc ?? 2,
    pendingMlf: null,
    runs: from ? from.old.runs : [],
    final: null,
    finalError: null,
    dead: false,
    device,
  };
}

function hooks(s: Session): TrainHooks {
  const spe = s.trainer.stepsPerEpoch;
  return {
    onStepEncoded: (batch: GpuBatch, step: number) => {
      s.fengtu.recorder.onStepEncoded(batch, step);
      s.live.onStepEncoded(batch, step);
      if (step % spe === 0) {
        const bytes = s.trainer.mlp.layout.total * 4;
        const buffer = s.ctx.device.createBuffer({ label: `snapshot.${step}`, size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        batch.copy(s.trainer.mlp.params, 0, buffer, 0, bytes);
        s.pendingSnapshots.push({ step, buffer });
      }
      if (batch.profiler && s.trainer.profiler) {
        // This chunk is the profiled one: the next ones are not.
        s.trainer.profiler = null;
        s.profile.first = step;
      }
      if (batch.profiler) s.profile.last = step;
    },
    onChunk: (p: ChunkProgress) => onChunk(s, p),
    shouldStop: () => s.request !== null,
  };
}

function onChunk(s: Session, p: ChunkProgress): void {
  if (s.dead) return;
  const e = p.eval;
  post(
    {
      type: 'chunk',
      firstStep: p.firstStep,
      losses: p.losses,
      accuracies: p.accuracies,
      eval: e ? { step: e.step, trainLoss: e.train.loss, trainAccuracy: e.train.accuracy, testLoss: e.test?.loss ?? NaN, testAccuracy: e.test?.accuracy ?? NaN } : null,
      stepsPerSecond: p.stepsPerSecond,
      step: p.step,
      epoch: p.epoch,
    },
    [p.losses.buffer, p.accuracies.buffer],
  );
  collectSnapshots(s, p.step);
  profileStep(s, p.step);
  if (p.step - s.lastRefresh >= s.spec.lab.refresh && !s.live.isBusy && s.analysis.actx) {
    s.lastRefresh = p.step;
    void refreshLive(s);
  }
}

function collectSnapshots(s: Session, doneStep: number): void {
  const ready = s.pendingSnapshots.filter((x) => x.step <= doneStep);
  s.pendingSnapshots = s.pendingSnapshots.filter((x) => x.step > doneStep);
  for (const { step, buffer } of ready) {
    buffer.mapAsync(GPUMapMode.READ).then(
      () => {
        const params = new Float32Array(buffer.getMappedRange().slice(0));
        buffer.destroy();
        s.snapshots.push({ step, params });
        s.snapshots.sort((a, b) => a.step - b.step);
      },
      () => buffer.destroy(),
    );
  }
}

function profileStep(s: Session, doneStep: number): void {
  const pr = s.profiler;
  if (!pr) return;
  s.profile.chunks++;
  if (s.profile.first > 0 && doneStep >= s.profile.last && !s.profile.collecting) {
    const { first, last } = s.profile;
    s.profile.first = 0;
    s.profile.collecting = true;
    const steps = last - first + 1;
    const evalEvery = s.trainer.evalEvery;
    // A chunk that ended in an evaluation also timed the evaluation's kernels: not per step.
    const hadEval = last % evalEvery === 0 || last === s.trainer.totalSteps;
    pr.collect().then(
      () => {
        const t = pr.timings();
        pr.reset();
        s.profile.collecting = false;
        if (hadEval || t.length === 0) {
          s.profile.nextChunk = s.profile.chunks + 1;
          return;
        }
        post({
          type: 'timings',
          step: last,
          labels: t.map((x) => x.label),
          msPerStep: Float64Array.from(t, (x) => x.totalMs / steps),
          callsPerStep: Float64Array.from(t, (x) => x.calls / steps),
        });
      },
      (err: unknown) => {
        s.profile.collecting = false;
        reportLater(s, 'warn', `kernel timings: ${(err as Error).message}`);
      },
    );
  }
  if (!s.profile.collecting && s.profile.first === 0 && s.trainer.profiler === null && s.profile.chunks >= s.profile.nextChunk) {
    // The next chunk encoded starts after the one in flight and, like every chunk, is cut at the
    // next evaluation: profile it only if it does not end in one.
    const t = s.trainer;
    const from = s.live.lastStep;
    const nextEval = (Math.floor(from / t.evalEvery) + 1) * t.evalEvery;
    const end = Math.min(from + t.config.chunkSteps, nextEval, t.totalSteps ?? Infinity);
    if (end !== nextEval && end !== t.totalSteps) {
      t.profiler = pr;
      s.profile.nextChunk = s.profile.chunks + PROFILE_EVERY_CHUNKS;
    }
  }
}

async function refreshLive(s: Session): Promise<void> {
  try {
    const frame = await s.live.refresh(s.mlfPc);
    if (session !== s) return;
    if (frame) post({ type: 'lab', frame });
  } catch (e) {
    reportLater(s, 'error', `live analysis failed: ${(e as Error).stack ?? e}`);
  }
  await servePendingMlf(s);
}

async function servePendingMlf(s: Session): Promise<void> {
  while (s.pendingMlf !== null && !s.live.isBusy && session === s && s.state !== 'lost') {
    const pc = s.pendingMlf;
    s.pendingMlf = null;
    try {
      const mlf = await s.live.mlfAt(pc);
      if (mlf && session === s) post({ type: 'mlf', mlf });
    } catch (e) {
      reportLater(s, 'error', `mini-loss ensemble failed: ${(e as Error).message}`);
    }
  }
}

function combinedRun(s: Session): RunResult {
  const last = s.runs[s.runs.length - 1];
  const seconds = s.runs.reduce((a, r) => a + r.seconds, 0);
  const steps = s.trainer.step;
  const trained = s.runs.reduce((a, r) => a + r.stepsPerSecond * r.seconds, 0);
  return { ...last, steps, seconds, stepsPerSecond: trained / Math.max(seconds, 1e-9) };
}

/** Trains until the run ends or a pause/step/stop request; then pauses or finishes. */
async function drive(s: Session): Promise<void> {
  setState(s, 'running', s.request === 'step' ? 'one chunk…' : 'training');
  let res: RunResult;
  try {
    res = await Promise.race([s.trainer.run(hooks(s)), s.lost]);
  } catch (e) {
    return failed(s, e);
  }
  s.runs.push(res);
  if (s.dead) return;
  if (res.status === 'stopped' && s.request !== 'stop') {
    s.request = null;
    setState(s, 'paused', `paused at step ${s.trainer.step}`);
    return;
  }
  await finish(s, res);
}

async function finish(s: Session, res: RunResult): Promise<void> {
  s.request = null;
  // Let a running live refresh end first (it shares the device, not the weights).
  while (s.live.isBusy) await new Promise((r) => setTimeout(r, 20));
  let run = combinedRun(s);
  const t = s.trainer;
  if (res.status === 'stopped' && t.step === s.fengtu.total) {
    // Stopped on the last step: the run is complete.
    run = { ...run, status: 'completed', message: `completed ${t.step} steps (${t.epochOf(t.step).toFixed(2)} epochs)` };
  }
  if (run.status === 'completed' && s.fengtu.recorder.complete) {
    setState(s, 'analysing', 'final analysis of the window (every step)…');
    try {
      s.final = await Promise.race([
        analyseFengTu(s.fengtu, run, {
          onStageStart: (stage, detail) => post({ type: 'status', text: `final analysis — ${stage}: ${detail}` }),
          onStageProgress: (stage, done, total, detail) => post({ type: 'status', text: `final analysis — ${stage}: ${detail}${total ? ` (${done}/${total})` : ''}` }),
        }),
        s.lost,
      ]);
      s.live.useFinal(s.final);
      const frame = frameFromFengTu(s.final, s.mlfPc);
      post({ type: 'lab', frame });
    } catch (e) {
      if (e instanceof DeviceLost) return failed(s, e);
      s.finalError = (e as Error).message;
      console.error(`final analysis failed: ${(e as Error).stack ?? e}`);
    }
  }
  const why = s.final
    ? ''
    : s.finalError
      ? ` — final analysis failed: ${s.finalError}`
      : ` — no final analysis: the window (steps ${s.fengtu.windowStart + 1}–${s.fengtu.total}) was not completed; the panels show the last live refresh`;
  const message = `${run.message} (${run.stepsPerSecond.toFixed(0)} steps/s)${why}`;
  post({ type: 'done', status: run.status, message, stepsPerSecond: run.stepsPerSecond, final: !!s.final });
  setState(s, 'done', message);
}

function failed(s: Session, e: unknown): void {
  if (s.dead) return;
  if (e instanceof DeviceLost) {
    const snap = resumeSnapshot(s);
    setState(s, 'lost', (e as Error).message);
    post({
      type: 'lost',
      message: `${(e as Error).message}: training stopped at step ${s.trainer.step}.${snap ? ` The last snapshot of the weights is from step ${snap.step}.` : ''}`,
      resumeStep: snap?.step ?? null,
    });
    return;
  }
  setState(s, 'error', (e as Error).message);
  post({ type: 'error', message: (e as Error).message ?? String(e) });
}

/** A device lost while nothing awaits it (paused, finished) is reported at once. */
function watchIdleLoss(s: Session): void {
  s.lost.catch((e: unknown) => {
    if (s.dead || session !== s) return;
    if (s.state === 'paused') failed(s, e);
    else if (s.state === 'done') post({ type: 'status', text: `${(e as Error).message} after the run ended; the results stay, a new run gets a new device` });
  });
}

/** The snapshot to resume from: the last one, or the last before the final window if the window was under way (it must be recorded whole). */
function resumeSnapshot(s: Session): Snapshot | null {
  const snaps = s.snapshots;
  if (!snaps.length) return null;
  const last = snaps[snaps.length - 1];
  if (last.step <= s.fengtu.windowStart) return last;
  return [...snaps].reverse().find((x) => x.step <= s.fengtu.windowStart) ?? snaps[0];
}

async function start(spec: RunSpec, files: File[] | undefined): Promise<void> {
  const old = session;
  session = null;
  if (old) {
    old.dead = true;
    old.request = 'stop';
    old.ctx.destroy();
    old.analysis.actx?.destroy();
  }
  setState(null, 'loading', 'acquiring the GPU…');
  const ctx = await acquireGpu();
  post({ type: 'status', text: `loading ${spec.data.kind}…` });
  const data = await loadData(spec, files);
  const parts = await build(spec, data, ctx, null);
  const s: Session = { spec, files, data, ...parts };
  session = s;
  watchIdleLoss(s);
  post({
    type: 'ready',
    adapter: adapterText(ctx),
    hasTimestamps: !!s.profiler,
    isSoftware: ctx.isSoftware,
    data: `${data.train.name}: ${data.train.n} train / ${data.test.n} test`,
    trainN: data.train.n,
    testN: data.test.n,
    totalSteps: s.fengtu.total,
    stepsPerEpoch: s.trainer.stepsPerEpoch,
    window: { first: s.fengtu.windowStart + 1, last: s.fengtu.total, T: s.fengtu.T },
    P: s.live.P,
    liveStride: s.live.stride,
  });
  await drive(s);
}

async function resumeFromSnapshot(old: Session): Promise<void> {
  const snap = resumeSnapshot(old);
  if (!snap) throw new Error('no snapshot to resume from');
  setState(old, 'loading', `new GPU device, resuming from the snapshot at step ${snap.step}…`);
  old.analysis.actx?.destroy();
  const ctx = await acquireGpu();
  const parts = await build(old.spec, old.data, ctx, { snapshot: snap, old });
  const s: Session = { spec: old.spec, files: old.files, data: old.data, ...parts };
  session = s;
  watchIdleLoss(s);
  post({ type: 'resumed', step: snap.step });
  await drive(s);
}

async function exportRun(s: Session): Promise<void> {
  const ctx = s.ctx;
  const adapter = adapterRecord(ctx);
  let m: Extract<FromWorker, { type: 'export' }>;
  if (s.final) {
    m = exportMessage(fengTuFiles(s.final, await browserReportAssets(), { data: s.data.spec, adapter, dashboard: { settings: s.spec.lab } }), 'feng-tu');
  } else {
    const last = s.runs[s.runs.length - 1] ?? { status: 'stopped', message: `stopped at step ${s.trainer.step}`, steps: s.trainer.step, seconds: 0, stepsPerSecond: 0 };
    const files = runFiles({
      model: s.trainer.model,
      train: s.trainer.config,
      data: s.data.spec,
      adapter,
      result: s.runs.length ? combinedRun(s) : last,
      finalEval: s.trainer.history.evals.at(-1) ?? null,
      history: s.trainer.history,
      stepsPerEpoch: s.trainer.stepsPerEpoch,
      params: await s.trainer.mlp.readParams(),
      paramsStep: s.trainer.step,
      trainIndices: s.data.trainIndices,
      testIndices: s.data.testIndices,
    });
    m = exportMessage(files, 'train');
  }
  post(m, [m.zip.buffer]);
}

// ---------------- signal propagation at initialisation (issue 7) ----------------
// Its own device (like the live analysis): a measurement never touches the training device or
// waits for a chunk; requests arriving while one runs are coalesced (only the latest runs next).

const PHASE_SW2 = Array.from({ length: 21 }, (_, i) => 0.5 + 0.2 * i);
const PHASE_SB2 = Array.from({ length: 16 }, (_, i) => 0.02 * i);

function phaseDiagramMessage(activation: 'tanh'): FromWorker {
  const t0 = performance.now();
  const act = activationByName(activation);
  const maps = phaseDiagramHeatmaps(phaseDiagram(act, PHASE_SW2, PHASE_SB2), criticalLine(act, PHASE_SB2));
  return { type: 'phase-diagram', activation, chi1: maps.chi1, xiC: maps.xiC, ms: performance.now() - t0 };
}

/** Three standardised Gaussian inputs (|x|²/d = 1), d = 64: x0, a ρ = 0.9 twin of x0 and one orthogonal to x0 (c⁰ = 0). */
function propagationInputs(): { x: Float32Array; d: number; labels: string[] } {
  const d = 64;
  let state = 0x9e3779b9;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = (): Float64Array => Float64Array.from({ length: d }, () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()));
  const dot = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + v * b[i], 0) / d;
  const unit = (v: Float64Array): Float64Array => {
    const n = Math.sqrt(dot(v, v));
    return v.map((x) => x / n);
  };
  const orth = (v: Float64Array, to: Float64Array): Float64Array => {
    const k = dot(v, to);
    return v.map((x, i) => x - k * to[i]);
  };
  const x0 = unit(gauss());
  const u = unit(orth(gauss(), x0));
  const rho = 0.9;
  const x1 = x0.map((v, i) => rho * v + Math.sqrt(1 - rho * rho) * u[i]);
  const x2 = unit(orth(orth(gauss(), x0), u));
  const x = new Float32Array(3 * d);
  [x0, x1, x2].forEach((r, a) => x.set(r, a * d));
  return { x, d, labels: ['x0', `ρ = ${rho} twin of x0`, 'x2 ⟂ x0'] };
}

/**
 * The side device: signal propagation and the experiments (issue 6) run here, never on the
 * training device, so neither slows a chunk of SGD steps or waits for one. Created on first use,
 * replaced after a loss.
 */
const side: { ctx: GpuContext | null; pending: Promise<GpuContext> | null } = { ctx: null, pending: null };

function sideDevice(): Promise<GpuContext> {
  if (side.ctx) return Promise.resolve(side.ctx);
  side.pending ??= acquireGpu().then((ctx) => {
    side.ctx = ctx;
    side.pending = null;
    void ctx.lost.then(() => {
      if (side.ctx === ctx) side.ctx = null;
    });
    return ctx;
  });
  return side.pending;
}

const prop: { gpu: Map<string, { ctx: GpuContext; gpu: GpuPropagation }> } = { gpu: new Map() };

async function propagate(req: PropagationRequest): Promise<FromWorker> {
  const ctx = await sideDevice();
  const inputs = propagationInputs();
  const m = inputs.x.length / inputs.d;
  const cached = prop.gpu.get(req.activation);
  let gpu = cached?.ctx === ctx ? cached.gpu : null;
  if (!gpu) {
    gpu = await GpuPropagation.create(ctx, { activation: req.activation, inputs: m });
    prop.gpu.set(req.activation, { ctx, gpu });
  }
  const { sw2, sb2, width, depth, nets } = req;
  const result = await gpu.run({ activation: req.activation, sw2, sb2, width, depth, nets, seed: 1, inputs: inputs.x, inputDim: inputs.d, gradients: true });
  const theory = propagationTheory(activationByName(req.activation), sw2, sb2, inputs.x, inputs.d, depth);
  const cmp = comparePropagation(result, theory);
  const pairs = cmp.curves.pairs.map((_, k) => k).filter((k) => cmp.curves.pairs[k][0] === 0);
  const labels = pairs.map((k) => `${inputs.labels[0]}–${inputs.labels[cmp.curves.pairs[k][1]]} (c⁰ = ${cmp.curves.c[k].theory[0].toFixed(2)})`);
  const label = `${req.activation}, σ_w² = ${sw2}, σ_b² = ${sb2}`;
  return {
    type: 'propagation',
    id: req.id,
    sw2,
    sb2,
    charts: propagationCharts('live-prop', label, cmp, pairs, labels),
    seconds: result.seconds,
    agrees: { q: cmp.agreement.q.agrees, c: cmp.agreement.c.agrees },
    inputs: inputs.labels,
  };
}

const propagations = new LatestOnly<PropagationRequest>(async (req) => {
  try {
    post(await propagate(req));
  } catch (e) {
    post({ type: 'propagation-error', id: req.id, message: (e as Error).message ?? String(e) });
  }
});

// Jacobian spectra and curve length at a clicked point (issue 12), on the same side device.
const initSpectra = new LatestOnly<InitSpectraRequest>(async (req) => {
  try {
    const r = await liveInitSpectra(await sideDevice(), { sw2: req.sw2, sb2: req.sb2, ...LIVE_INIT });
    post({ type: 'init-spectra', id: req.id, ...r });
  } catch (e) {
    post({ type: 'init-spectra-error', id: req.id, message: (e as Error).message ?? String(e) });
  }
});

// ---------------- curvature and generalisation experiments (issue 6) ----------------

/** The network being trained, for the Hessian: its current weights when paused or done, else its last snapshot. */
async function currentNetwork(): Promise<NetworkState> {
  const s = session;
  if (!s) throw new Error('the Hessian is of the network being trained: start a run first (it uses the current weights when paused or done, else the last snapshot — one per epoch, from step 0)');
  const still = s.state === 'paused' || s.state === 'done';
  if (still && alive(s)) {
    return { model: s.spec.model, params: await s.trainer.mlp.readParams(), step: s.trainer.step, train: s.data.train, data: s.data.spec };
  }
  const snap = s.snapshots.at(-1);
  if (!snap) throw new Error('no snapshot of the weights yet (they are copied once per epoch, the first at step 0): try again in a moment, or pause the run');
  return { model: s.spec.model, params: snap.params, step: snap.step, train: s.data.train, data: s.data.spec };
}

const experiments = new ExperimentQueue({ device: sideDevice, post, network: currentNetwork, loadData });

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
        if (s?.state === 'paused') {
          s.request = 'step';
          await drive(s);
        }
        return;
      case 'resume':
        if (s?.state === 'paused') {
          s.request = null;
          await drive(s);
        }
        return;
      case 'stop':
        if (s?.state === 'running') s.request = 'stop';
        else if (s?.state === 'paused') {
          s.request = 'stop';
          await finish(s, s.runs[s.runs.length - 1] ?? { status: 'stopped', message: `stopped at step ${s.trainer.step}`, steps: s.trainer.step, seconds: 0, stepsPerSecond: 0 });
        }
        return;
      case 'select':
        if (!s) return;
        s.mlfPc = msg.pc;
        s.pendingMlf = msg.pc;
        await servePendingMlf(s);
        return;
      case 'export':
        if (s) await exportRun(s);
        return;
      case 'resume-snapshot':
        if (s?.state === 'lost') await resumeFromSnapshot(s);
        return;
      case 'debug-lose-device':
        s?.ctx.device.destroy();
        return;
      case 'phase-diagram':
        post(phaseDiagramMessage(msg.activation));
        return;
      case 'propagate':
        await propagations.submit(msg);
        return;
      case 'init-spectra':
        await initSpectra.submit(msg);
        return;
      case 'experiment':
        await experiments.enqueue(msg);
        return;
      case 'experiment-export':
        await experiments.export(msg.kind);
        return;
    }
  } catch (e) {
    if (s && e instanceof DeviceLost) return failed(s, e);
    if (msg.type === 'export' || msg.type === 'experiment-export') post({ type: 'status', text: `export failed: ${(e as Error).message}` });
    else {
      setState(session, 'error', (e as Error).message);
      post({ type: 'error', message: (e as Error).message ?? String(e) });
    }
  }
};
