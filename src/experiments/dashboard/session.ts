/**
 * One training run of the dashboard, DOM-free (the engine worker routes messages to it; tests drive
 * it in Node): the trainer with its instruments (session-build.ts), pause / one chunk / resume /
 * stop, the final analysis of the window (the Feng–Tu lab's, as `sgdscope reproduce feng-tu`)
 * handed to the instruments, a lost device (the run stops; resume() continues on a new device
 * from the last weight snapshot, or from the last one before the analysed window if the loss
 * happened inside it, so the window is recorded whole) and the run-folder export.
 *
 * It posts: 'ready', one 'chunk' per chunk of steps (never awaited by anything), each
 * instrument's updates ('instrument'), 'refresh' after each refresh of the window instruments,
 * 'state' and 'status' lines, 'done', 'lost', 'resumed', 'export', 'error'.
 *
 * An ensemble (RunSpec.replicas > 1) trains its seeds in one Trainer; its chunks carry the mean and
 * the band across the replicas (ensemble-band.ts); with pca-window on, each replica's Feng–Tu window
 * is analysed after training and posted across seeds ('ensemble-window', ensemble-analysis.ts). It
 * has no snapshots (so no resume and no Hessian network) and no live instruments; its export is the
 * ensemble run folder.
 */
import { adapterRecord, type GpuContext } from '../../gpu/device.ts';
import type { LoadedData } from '../../data/index.ts';
import type { RunResult } from '../../train/trainer.ts';
import { runFiles } from '../../train/run-files.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';
import { analyseFengTu, hasPca, type FengTuWithPca } from '../feng-tu/run.ts';
import { fengTuFiles } from '../feng-tu/files.ts';
import { instrumentFiles, instrumentReportFiles, type InstrumentRecord } from '../../instruments/outputs.ts';
import { trainingCharts } from '../../instruments/training-charts.ts';
import type { NetworkState } from '../dashboard-runner.ts';
import type { RunState } from './protocol.ts';
import type { RunSpec } from './run-settings.ts';
import { exportMessage } from './export.ts';
import { ensembleChunk, evalPoint } from './ensemble-band.ts';
import { ensembleExportFiles } from './ensemble-export.ts';
import { analyseEnsembleWindows, ensembleWindowFiles } from './ensemble-analysis.ts';
import { finalWindowOf, labSettingsOf } from './final-window.ts';
import { buildRun, runHooks, type RunParts, type SessionDeps, type Snapshot } from './session-build.ts';

export class DeviceLost extends Error {}

export interface SessionEnv extends SessionDeps {
  acquire(): Promise<GpuContext>;
  /** uPlot for report.html (the page bundles its own copies; Node reads node_modules). */
  reportAssets(): Promise<ReportAssets>;
  /** Logs a background failure (console.warn / console.error in the worker). */
  log(level: 'warn' | 'error', text: string): void;
}

/** The environment whose posts stop once the run is dead (replaced, or resumed on a new device). */
function guarded(base: SessionEnv): { env: SessionEnv; guard: { dead: boolean } } {
  const guard = { dead: false };
  const env = { ...base, base, post: (m: Parameters<SessionEnv['post']>[0], t?: Transferable[]) => (guard.dead ? undefined : base.post(m, t)) };
  return { env, guard };
}

function adapterText(ctx: GpuContext): string {
  const i = ctx.adapterInfo;
  const desc = i.description || [i.vendor, i.architecture, i.device].filter(Boolean).join(' ');
  return desc ? `${ctx.adapterName} (${desc})` : ctx.adapterName;
}

export class TrainingSession {
  state: RunState = 'loading';
  /** Why the trainer was asked to stop: pause, one step, stop for good; null: keep going. */
  request: 'pause' | 'step' | 'stop' | null = null;
  /** Replaced by a newer run: posts nothing more (every post of the run goes through `guarded`). */
  private readonly guard: { dead: boolean };
  /** Set the moment the device reports its loss (before the training loop notices). */
  private lostNow = false;
  private readonly lost: Promise<never>;
  runs: RunResult[] = [];
  final: FengTuWithPca | null = null;
  /** An ensemble's Feng–Tu analysis across its replicas. */
  ensembleFinal: Awaited<ReturnType<typeof analyseEnsembleWindows>> | null = null;
  finalError: string | null = null;

  private constructor(
    readonly env: SessionEnv,
    guard: { dead: boolean },
    readonly spec: RunSpec,
    readonly data: LoadedData,
    readonly files: File[] | undefined,
    readonly p: RunParts,
  ) {
    this.guard = guard;
    this.lost = p.ctx.lost.then((info) => {
      this.lostNow = true;
      throw new DeviceLost(`the GPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''})`);
    });
    this.lost.catch(() => {});
    // A device lost while nothing awaits it (paused, finished) is reported at once.
    this.lost.catch((e: unknown) => {
      if (this.dead) return;
      if (this.state === 'paused') this.failed(e);
      else if (this.state === 'done') this.env.post({ type: 'status', text: `${(e as Error).message} after the run ended; the results stay, a new run gets a new device` });
    });
  }

  /** Loads the data, builds the run on a new device and posts 'ready'; drive() trains. */
  static async create(base: SessionEnv, spec: RunSpec, data: LoadedData, files: File[] | undefined): Promise<TrainingSession> {
    const { env, guard } = guarded(base);
    const ctx = await env.acquire();
    let s: TrainingSession | null = null;
    const parts = await buildRun(env, spec, data, ctx, null, (t) => s?.background('warn', t));
    s = new TrainingSession(env, guard, spec, data, files, parts);
    env.post({
      type: 'ready',
      adapter: adapterText(ctx),
      hasTimestamps: ctx.hasTimestamps,
      isSoftware: ctx.isSoftware,
      data: `${data.train.name}: ${data.train.n} train / ${data.test.n} test`,
      trainN: data.train.n,
      testN: data.test.n,
      totalSteps: parts.trainer.totalSteps ?? 0,
      stepsPerEpoch: parts.trainer.stepsPerEpoch,
      window: parts.fengtu
        ? { first: parts.fengtu.windowStart + 1, last: parts.fengtu.total, T: parts.fengtu.T }
        : parts.ensemble
          ? { first: parts.ensemble.sessions[0].windowStart + 1, last: parts.ensemble.sessions[0].total, T: parts.ensemble.sessions[0].T, note: parts.ensemble.plan.note }
          : null,
      seeds: parts.trainer.configs.map((c) => c.seed),
      run: parts.host.run,
      instruments: parts.host.live.map((l) => l.def.id),
    });
    return s;
  }

  get dead(): boolean {
    return this.guard.dead;
  }

  /** The environment without this run's guard (for the run that replaces it). */
  private get base(): SessionEnv {
    return (this.env as SessionEnv & { base: SessionEnv }).base;
  }

  get trainer() {
    return this.p.trainer;
  }

  /** The current run, still on a working device. */
  get alive(): boolean {
    return !this.dead && !this.lostNow && this.state !== 'lost';
  }

  /** Logs a failure of background work unless the device turns out to be lost (a destroyed device rejects pending maps before its loss is known). */
  background(level: 'warn' | 'error', text: string): void {
    setTimeout(() => {
      if (this.alive) this.env.log(level, text);
    }, 500);
  }

  private setState(state: RunState, text: string): void {
    this.state = state;
    this.env.post({ type: 'state', state, text });
  }

  /** Trains until the run ends or a pause/step/stop request; then pauses or finishes. */
  async drive(): Promise<void> {
    this.setState('running', this.request === 'step' ? 'one chunk…' : 'training');
    let res: RunResult;
    try {
      const hooks = runHooks(this.p, (c) => this.postChunk(c), () => this.request !== null);
      res = await Promise.race([this.trainer.run(hooks), this.lost]);
    } catch (e) {
      return this.failed(e);
    }
    this.runs.push(res);
    if (this.dead) return;
    if (res.status === 'stopped' && this.request !== 'stop') {
      this.request = null;
      this.setState('paused', `paused at step ${this.trainer.step}`);
      return;
    }
    await this.finish(res);
  }

  private postChunk(p: Parameters<Parameters<typeof runHooks>[1]>[0]): void {
    if (this.dead) return;
    // An ensemble: the means across its replicas, and the band (ensemble-band.ts).
    const nums = this.trainer.replicas > 1 ? ensembleChunk(p, this.trainer.outcomes) : { losses: p.losses, accuracies: p.accuracies, eval: p.eval ? evalPoint(p.eval) : null };
    const transfer = [nums.losses, nums.accuracies, ...('band' in nums ? [nums.band.lossMin, nums.band.lossMax, nums.band.accuracyMin, nums.band.accuracyMax] : [])].map((a) => a.buffer);
    this.env.post({ type: 'chunk', firstStep: p.firstStep, ...nums, stepsPerSecond: p.stepsPerSecond, step: p.step, epoch: p.epoch }, transfer);
  }

  private lastRun(): RunResult {
    return this.runs.at(-1) ?? { status: 'stopped', message: `stopped at step ${this.trainer.step}`, steps: this.trainer.step, seconds: 0, stepsPerSecond: 0, replicas: this.trainer.outcomes.map((o) => ({ ...o })) };
  }

  private combinedRun(): RunResult {
    const seconds = this.runs.reduce((a, r) => a + r.seconds, 0);
    const trained = this.runs.reduce((a, r) => a + r.stepsPerSecond * r.seconds, 0);
    return { ...this.lastRun(), steps: this.trainer.step, seconds, stepsPerSecond: trained / Math.max(seconds, 1e-9) };
  }

  /** The end of a run: the final analysis of a completed window, handed to the instruments. */
  async finish(res: RunResult = this.lastRun()): Promise<void> {
    this.request = null;
    // Let a running refresh end first (it reads the weights).
    await this.p.host.idle();
    let run = this.combinedRun();
    const t = this.trainer;
    const ft = this.p.fengtu;
    if (res.status === 'stopped' && t.step === t.totalSteps) run = { ...run, status: 'completed', message: `completed ${t.step} steps (${t.epochOf(t.step).toFixed(2)} epochs)` };
    if (run.status === 'completed' && ft?.recorder.complete) {
      this.setState('analysing', 'final analysis of the window (every step)…');
      const text = (stage: string, detail: string, n?: string): void => this.env.post({ type: 'status', text: `final analysis — ${stage}: ${detail}${n ?? ''}` });
      try {
        const final = await Promise.race([
          analyseFengTu(ft, run, {
            onStageStart: (stage, detail) => text(stage, detail),
            onStageProgress: (stage, done, total, detail) => text(stage, detail, total ? ` (${done}/${total})` : ''),
          }),
          this.lost,
        ]);
        if (!hasPca(final)) throw new Error(`the PCA stage failed: ${final.stages.pca?.error ?? 'no result'}`);
        this.final = final;
        await this.p.host.final(finalWindowOf(this.final));
      } catch (e) {
        if (e instanceof DeviceLost) return this.failed(e);
        this.finalError = (e as Error).message;
        this.env.log('error', `final analysis failed: ${(e as Error).stack ?? e}`);
      }
    }
    const ens = this.p.ensemble;
    if (run.status === 'completed' && ens?.sessions.every((x) => x.recorder.complete)) {
      this.setState('analysing', `final analysis of the ${t.replicas} replicas' windows, one after another…`);
      try {
        this.ensembleFinal = await Promise.race([analyseEnsembleWindows(this.p, run, this.data, (text) => this.env.post({ type: 'status', text })), this.lost]);
        this.env.post({ type: 'ensemble-window', ...this.ensembleFinal.result });
      } catch (e) {
        if (e instanceof DeviceLost) return this.failed(e);
        this.finalError = (e as Error).message;
        this.env.log('error', `final analysis failed: ${(e as Error).stack ?? e}`);
      }
    }
    const ef = this.ensembleFinal?.result;
    const psi = ef?.spread.psi;
    const why = this.final
      ? ''
      : ef
        ? ` — Feng–Tu across ${ef.records.length} seeds: ψ = ${psi ? `${psi.mean.toFixed(3)} ± ${psi.se.toFixed(3)} (mean ± SE)` : '— (no fit)'}${ef.failed.length ? `; ${ef.failed.length} replica(s) failed` : ''}`
      : this.finalError
        ? ` — final analysis failed: ${this.finalError}`
      : !ft && !ens
        ? ` — an ensemble of ${t.replicas}: no final analysis (pca-window is off)`
      : !ft
        ? ` — no final analysis: the window (steps ${ens!.sessions[0].windowStart + 1}–${ens!.sessions[0].total}) was not completed`
        : this.finalError
        ? ` — final analysis failed: ${this.finalError}`
        : ` — no final analysis: the window (steps ${ft.windowStart + 1}–${ft.total}) was not completed; the panels show the last live refresh`;
    const message = `${run.message} (${run.stepsPerSecond.toFixed(0)} steps/s${t.replicas > 1 ? ` × ${t.replicas} replicas` : ''})${why}`;
    this.env.post({ type: 'done', status: run.status, message, stepsPerSecond: run.stepsPerSecond, final: !!this.final || !!this.ensembleFinal });
    this.setState('done', message);
  }

  failed(e: unknown): void {
    if (this.dead) return;
    this.p.host.stop();
    if (e instanceof DeviceLost) {
      const snap = this.resumeSnapshot();
      this.setState('lost', e.message);
      this.env.post({
        type: 'lost',
        message: `${e.message}: training stopped at step ${this.trainer.step}.${snap ? ` The last snapshot of the weights is from step ${snap.step}.` : ''}${this.p.fengtu ? '' : ' An ensemble keeps no weight snapshots: start it again.'}`,
        resumeStep: snap?.step ?? null,
      });
      return;
    }
    this.setState('error', (e as Error).message);
    this.env.post({ type: 'error', message: (e as Error).message ?? String(e) });
  }

  /** The snapshot to resume from: the last one, or the last before the final window if the window was under way. */
  resumeSnapshot(): Snapshot | null {
    const snaps = this.p.snapshots;
    if (!snaps.length) return null;
    const last = snaps[snaps.length - 1];
    const start = this.p.fengtu?.windowStart ?? Infinity;
    if (last.step <= start) return last;
    return [...snaps].reverse().find((x) => x.step <= start) ?? snaps[0];
  }

  /** After a lost device: a new device, the snapshot, and on (returns the new session; drive() it). */
  async resume(): Promise<TrainingSession> {
    const snap = this.resumeSnapshot();
    if (!snap) throw new Error('no snapshot to resume from');
    this.setState('loading', `new GPU device, resuming from the snapshot at step ${snap.step}…`);
    this.kill();
    const { env, guard } = guarded(this.base);
    const ctx = await env.acquire();
    let s: TrainingSession | null = null;
    const parts = await buildRun(env, this.spec, this.data, ctx, { snapshot: snap, history: this.trainer.history, snapshots: this.p.snapshots }, (t) => s?.background('warn', t));
    s = new TrainingSession(env, guard, this.spec, this.data, this.files, parts);
    s.runs = this.runs;
    env.post({ type: 'resumed', step: snap.step });
    return s;
  }

  /** Stops everything of this run (a newer run replaces it): no more posts, devices destroyed. */
  kill(): void {
    this.guard.dead = true;
    this.request = 'stop';
    this.p.host.stop();
    this.p.ctx.destroy();
    this.p.side.ctx?.destroy();
  }

  instrumentRequest(name: string, value: number): void {
    this.p.host.request(name, value);
  }

  /** The network for the Hessian card: its current weights when paused or done, else its last snapshot. */
  async network(): Promise<NetworkState> {
    if (this.trainer.replicas > 1) throw new Error(`the Hessian card analyses one network, and this run is an ensemble of ${this.trainer.replicas}: set replicas to 1 and train again`);
    const still = this.state === 'paused' || this.state === 'done';
    const base = { model: this.spec.model, train: this.data.train, data: this.data.spec };
    if (still && this.alive) return { ...base, params: await this.trainer.mlp.readParams(), step: this.trainer.step };
    const snap = this.p.snapshots.at(-1);
    if (!snap) throw new Error('no snapshot of the weights yet (they are copied once per epoch, the first at step 0): try again in a moment, or pause the run');
    return { ...base, params: snap.params, step: snap.step };
  }

  private records(): InstrumentRecord[] {
    return this.p.host.live.map((l) => ({ def: l.def, values: l.values, store: l.store }));
  }

  /** The run folder as a zip: the Feng–Tu lab's after a final analysis, else `sgdscope train`'s; with the instruments' files either way. */
  async export(): Promise<void> {
    const adapter = adapterRecord(this.p.ctx);
    const assets = await this.env.reportAssets();
    const t = this.trainer;
    const run = this.p.host.run;
    let files;
    if (t.replicas > 1) {
      files = await ensembleExportFiles(t, this.data, adapter, this.runs.length ? this.combinedRun() : this.lastRun());
      if (this.ensembleFinal) for (const [k, v] of ensembleWindowFiles(this.p, this.spec, this.ensembleFinal, assets, adapter)) files.set(`feng-tu/${k}`, v);
    } else if (this.final) {
      files = fengTuFiles(this.final, assets, { data: this.data.spec, adapter, dashboard: { settings: labSettingsOf(this.spec.instruments.values) } });
    } else {
      files = runFiles({
        model: t.model,
        train: t.config,
        data: this.data.spec,
        adapter,
        result: this.runs.length ? this.combinedRun() : this.lastRun(),
        finalEval: t.history.evals.at(-1) ?? null,
        history: t.history,
        stepsPerEpoch: t.stepsPerEpoch,
        params: await t.mlp.readParams(),
        paramsStep: t.step,
        trainIndices: this.data.trainIndices,
        testIndices: this.data.testIndices,
      });
      const lead = [{ title: 'Training', html: `<p class="note">${t.model.widths.join('-')}, lr ${t.config.lr}, batch ${t.config.batchSize}, ${t.step} steps.</p>`, charts: trainingCharts(t.history) }];
      for (const [k, v] of instrumentReportFiles({ title: 'sgdscope dashboard run', intro: 'Training run with live instruments (the dashboard).', lead, records: this.records(), run, summary: { model: t.model, train: t.config }, assets })) files.set(k, v);
    }
    for (const [k, v] of instrumentFiles(this.records(), run)) files.set(k, v);
    const m = exportMessage(files, this.final ? 'feng-tu' : 'train');
    this.env.post(m, [m.zip.buffer]);
  }
}
