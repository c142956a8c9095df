/**
 * The instrument host: the active instruments of one training run, wired to the trainer. It
 *   - calls each instrument's per-step work at its moment of the step (TrainHooks.onStepGradient /
 *     onStepEncoded) every `every` steps, and brings the numbers back through the ring
 *     (chunk-ring.ts) once per chunk;
 *   - passes chunk starts/ends and evaluations on;
 *   - runs refreshes beside training, one at a time, never awaited by the training loop: an
 *     instrument without needs (or whose needs do not refresh: per-step instruments) every
 *     `refresh.every` steps, then the instruments that need (or use) it, in registration order;
 *     on-demand requests wait for the running refresh (the newest request per
 *     instrument wins);
 *   - keeps every instrument's tables (TableStore) and forwards its updates to `onUpdate` (the
 *     dashboard posts them to the page; the CLI writes files from the stores at the end).
 * Errors of background work go to `onWarning` with the instrument's id; training goes on.
 */
import type { GpuContext } from '../gpu/device.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { createStorage } from '../gpu/buffers.ts';
import type { Dataset } from '../data/dataset.ts';
import type { ChunkPlan, ChunkProgress, Trainer, TrainHooks } from '../train/trainer.ts';
import type { StepView } from '../train/step-view.ts';
import type { Instrument, InstrumentRun, InstrumentUpdate, RunInfo } from './types.ts';
import type { InstrumentValues } from './values.ts';
import type { FinalWindow } from './final-window.ts';
import { ChunkRing } from './chunk-ring.ts';
import { TableStore } from './tables.ts';

export interface HostOptions {
  trainer: Trainer;
  trainSet: Dataset;
  /** The instruments to run (needs included, needs first: registry.withNeeds) and their values. */
  active: { def: Instrument; values: InstrumentValues }[];
  /** The side device, created on first use by whoever owns it. */
  side(): Promise<GpuContext>;
  onUpdate?(id: string, u: InstrumentUpdate): void;
  onWarning?(id: string, message: string): void;
  /** After a refresh that produced something: the step it was due at and each instrument's wall time, ms. */
  onRefresh?(step: number, ms: Record<string, number>): void;
}

interface Live {
  def: Instrument;
  values: InstrumentValues;
  run: InstrumentRun;
  store: TableStore;
  out: GPUBuffer | null;
}

export class InstrumentHost {
  readonly live: Live[] = [];
  private ring: ChunkRing | null = null;
  private busy: Promise<void> | null = null;
  private readonly lastRefresh = new Map<string, number>();
  private readonly requests = new Map<string, { name: string; value: number }>();
  private stopped = false;
  /** The step the run started from (0, or the snapshot a resumed run restarts at). */
  private readonly startStep: number;

  private constructor(
    readonly o: HostOptions,
    readonly run: RunInfo,
  ) {
    this.startStep = o.trainer.step;
  }

  static runInfo(t: Trainer): RunInfo {
    return { lr: t.config.lr, batchSize: t.config.batchSize, stepsPerEpoch: t.stepsPerEpoch, trainSize: t.trainData.n, totalSteps: t.totalSteps };
  }

  static async create(o: HostOptions): Promise<InstrumentHost> {
    const t = o.trainer;
    const host = new InstrumentHost(o, InstrumentHost.runInfo(t));
    for (const { def, values } of o.active) {
      const store = new TableStore(def.id, def.tables);
      const live: Live = { def, values, store, run: {}, out: null };
      live.run = await def.start({
        id: def.id,
        settings: values as never,
        trainer: t,
        trainSet: o.trainSet,
        run: host.run,
        device: t.ctx,
        side: o.side,
        upstream: <T>(id: string): T | null => {
          if (![...(def.needs ?? []), ...(def.uses ?? [])].includes(id)) throw new Error(`instrument ${def.id}: upstream('${id}') but it does not list '${id}' in needs or uses`);
          const up = host.live.find((x) => x.def.id === id);
          return (up?.run.provides?.() as T | undefined) ?? null;
        },
        emit: (u) => host.emit(live, u),
        warn: (m) => host.warn(def.id, new Error(m)),
      });
      const ps = live.run.perStep;
      if (ps) {
        if (!(Number.isInteger(ps.every) && ps.every >= 1)) throw new Error(`instrument ${def.id}: perStep.every must be an integer ≥ 1, got ${ps.every}`);
        const run = ps.consecutive ?? 1;
        if (!(Number.isInteger(run) && run >= 1)) throw new Error(`instrument ${def.id}: perStep.consecutive must be an integer ≥ 1, got ${run}`);
        if (ps.floats > 0) live.out = createStorage(t.ctx, `${def.id}.out`, ps.floats * 4);
      }
      host.live.push(live);
    }
    const shapes = host.live.map((l) => {
      const ps = l.run.perStep;
      return ps && ps.floats > 0 ? { floats: ps.floats, rows: Math.min(t.config.chunkSteps, (Math.ceil(t.config.chunkSteps / ps.every) + 1) * (ps.consecutive ?? 1)) } : { floats: 0, rows: 0 };
    });
    if (shapes.some((s) => s.floats > 0)) host.ring = new ChunkRing(t.ctx, shapes);
    return host;
  }

  store(id: string): TableStore | null {
    return this.live.find((l) => l.def.id === id)?.store ?? null;
  }

  private emit(l: Live, u: InstrumentUpdate): void {
    if (this.stopped) return;
    l.store.apply(u);
    this.o.onUpdate?.(l.def.id, u);
  }

  private warn(id: string, e: unknown): void {
    this.o.onWarning?.(id, (e as Error)?.message ?? String(e));
  }

  /** The hooks to give Trainer.run (merge with others: mergeHooks). */
  hooks(): TrainHooks {
    const step = (moment: StepView['moment']) => (batch: GpuBatch, view: StepView) => {
      this.live.forEach((l, i) => {
        const ps = l.run.perStep;
        if (!ps || (ps.moment ?? 'gradient') !== moment || view.step % ps.every >= (ps.consecutive ?? 1)) return;
        ps.encode(batch, view, l.out as GPUBuffer);
        if (l.out) this.ring!.encodeRow(batch, i, l.out, view.step);
      });
    };
    const atGradient = step('gradient');
    const atUpdate = step('update');
    return {
      // Only the steps some instrument measures take the open (unfused) form of the step; with
      // no per-step instrument, none does.
      ...(this.live.some((l) => l.run.perStep)
        ? {
            onStepGradient: atGradient,
            onStepEncoded: (batch: GpuBatch, _step: number, view?: StepView) => view && atUpdate(batch, view),
            measures: (s: number) => this.live.some((l) => l.run.perStep !== undefined && s % l.run.perStep.every < (l.run.perStep.consecutive ?? 1)),
          }
        : {}),
      onChunkStart: (c: ChunkPlan) => {
        this.ring?.startChunk();
        let asked: ReturnType<NonNullable<NonNullable<InstrumentRun['chunk']>['start']>> = undefined;
        for (const l of this.live) {
          const r = l.run.chunk?.start?.(c);
          if (r && r.profiler && !asked) asked = r;
        }
        return asked;
      },
      onChunkEncoded: (batch, c) => this.ring?.endChunk(batch, c.firstStep),
      onChunk: (p) => this.afterChunk(p),
    };
  }

  private async afterChunk(p: ChunkProgress): Promise<void> {
    const rows = this.ring ? await this.ring.read(p.firstStep - 1) : null;
    for (const [i, l] of this.live.entries()) {
      try {
        const r = rows?.[i];
        if (r && r.steps.length) l.run.perStep?.read?.(r.rows, r.steps);
        await l.run.chunk?.done?.(p);
        if (p.eval) await l.run.eval?.(p.eval);
      } catch (e) {
        this.warn(l.def.id, e);
      }
    }
    this.maybeRefresh(p.step);
  }

  /** Starts the refreshes that are due at `step` (nothing if one is running). */
  maybeRefresh(step: number, force = false): void {
    if (this.busy || this.stopped) return;
    const due = this.live.filter((l) => {
      const every = l.run.refresh?.every;
      if (!l.run.refresh || this.followsUpstream(l) || every === undefined) return false;
      return force ? this.lastRefresh.get(l.def.id) !== step : step - (this.lastRefresh.get(l.def.id) ?? this.startStep) >= every;
    });
    if (!due.length) return void this.serveRequests();
    for (const l of due) this.lastRefresh.set(l.def.id, step);
    this.background(async () => {
      const done = new Set<string>();
      const ms: Record<string, number> = {};
      const on = new Set(this.live.map((l) => l.def.id));
      for (const l of this.live) {
        const roots = due.includes(l);
        const deps = [...(l.def.needs ?? []), ...(l.def.uses ?? []).filter((u) => on.has(u))];
        const after = deps.length > 0 && deps.every((n) => done.has(n));
        if (!l.run.refresh || !(roots || after) || this.stopped) continue;
        const t0 = performance.now();
        try {
          if ((await l.run.refresh.run()) !== false) {
            done.add(l.def.id);
            ms[l.def.id] = performance.now() - t0;
          }
        } catch (e) {
          this.warn(l.def.id, e);
        }
      }
      if (done.size && !this.stopped) this.o.onRefresh?.(step, ms);
    });
  }

  /** Whether `l` refreshes right after instruments it needs (those that refresh); otherwise on its own `every`. */
  private followsUpstream(l: Live): boolean {
    return (l.def.needs ?? []).some((n) => this.live.find((x) => x.def.id === n)?.run.refresh);
  }

  /**
   * An on-demand request (a panel click: its name and the point's x), for every instrument that
   * takes requests (each ignores names it does not know); served when no refresh runs, the newest
   * value per name.
   */
  request(name: string, value: number): void {
    this.requests.set(name, { name, value });
    if (!this.busy) this.serveRequests();
  }

  private serveRequests(): void {
    if (this.busy || !this.requests.size || this.stopped) return;
    const [key, r] = this.requests.entries().next().value!;
    this.requests.delete(key);
    const takers = this.live.filter((l) => l.run.request);
    this.background(async () => {
      for (const l of takers) await l.run.request!(r.name, r.value).catch((e: unknown) => this.warn(l.def.id, e));
    });
  }

  private background(work: () => Promise<void>): void {
    this.busy = work().finally(() => {
      this.busy = null;
      this.serveRequests();
    });
  }

  /** Resolves when no refresh or request is running. */
  async idle(): Promise<void> {
    while (this.busy) await this.busy;
  }

  get isBusy(): boolean {
    return this.busy !== null;
  }

  /** The run's final analysis, for the instruments that show it. */
  async final(f: FinalWindow): Promise<void> {
    await this.idle();
    for (const l of this.live) {
      try {
        l.run.final?.(f);
      } catch (e) {
        this.warn(l.def.id, e);
      }
    }
  }

  /** After training: waits for background work; with `closing`, a last refresh at `step` first. */
  async finish(step: number, closing: boolean): Promise<void> {
    await this.idle();
    if (closing) {
      this.maybeRefresh(step, true);
      await this.idle();
    }
  }

  /** Stops posting and background work (a newer run replaced this one, the device was lost). */
  stop(): void {
    this.stopped = true;
    this.requests.clear();
  }

  dispose(): void {
    this.stop();
    for (const l of this.live) {
      l.run.dispose?.();
      l.out?.destroy();
    }
    this.ring?.destroy();
  }
}

/** Several consumers' hooks as one (called in the order given). */
export function mergeHooks(...all: TrainHooks[]): TrainHooks {
  // Per-step view hooks only when some consumer has them: without, every step runs fused.
  const viewing = all.some((h) => h.onStepGradient || h.measures);
  return {
    ...(viewing
      ? {
          onStepGradient: (b: GpuBatch, v: StepView) => all.forEach((h) => h.onStepGradient?.(b, v)),
          measures: (s: number) => all.some((h) => (h.measures ? h.measures(s) : h.onStepGradient !== undefined)),
        }
      : {}),
    onStepEncoded: (b, s, v) => all.forEach((h) => h.onStepEncoded?.(b, s, v)),
    onChunkStart: (c) => {
      let asked: ReturnType<NonNullable<TrainHooks['onChunkStart']>> = undefined;
      for (const h of all) {
        const r = h.onChunkStart?.(c);
        if (r && r.profiler && !asked) asked = r;
      }
      return asked;
    },
    onChunkEncoded: (b, c) => all.forEach((h) => h.onChunkEncoded?.(b, c)),
    onChunk: async (p) => {
      for (const h of all) await h.onChunk?.(p);
    },
    shouldStop: () => all.some((h) => h.shouldStop?.() ?? false),
  };
}
