/**
 * An instrument: a live measurement made while a network trains, declared in ONE file (plus its
 * .wgsl when it has GPU work). It says
 *   - its settings (src/instruments/settings.ts), from which the CLI flags, the dashboard's form
 *     fields, URL keys and validation messages are generated;
 *   - when it runs and what it reads, through InstrumentRun (returned by start()): every N steps
 *     inside the training command buffer with the step view (src/train/step-view.ts) and a GPU
 *     ring the framework reads back once per chunk; around chunks; at evaluations; on a refresh
 *     period over a window, or on demand, on the side device (a second GPU device, so training
 *     never waits for it);
 *   - its outputs: typed columnar tables (TableSpec), the charts drawn from them (ChartData, pure
 *     functions) and headline numbers.
 * The framework (src/instruments/host.ts, outputs.ts, the dashboard session and page, the CLI)
 * turns that into flags, run-folder files (CSV/NPY/JSON), a dashboard panel per chart with the PNG
 * button and hover values, the worker↔page messages, a section of report.html and charts.json.
 * docs/extending.md walks through a whole instrument.
 */
import type { GpuContext } from '../gpu/device.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import type { Profiler } from '../gpu/profiler.ts';
import type { Dataset } from '../data/dataset.ts';
import type { ChartData } from '../analysis/report/chart-data.ts';
import type { ChunkPlan, ChunkProgress, EvalRecord, Trainer } from '../train/trainer.ts';
import type { StepView } from '../train/step-view.ts';
import type { SettingsContext, SettingsSpec, SettingsValues } from './settings.ts';
import type { FinalWindow } from './final-window.ts';

export type { StepView, LayerStepView } from '../train/step-view.ts';

/** Columns of one table; NaN marks a missing value. */
export type Columns = Record<string, ArrayLike<number>>;

export interface TableSpec {
  /** 'append': each update adds rows (a time series; its first column is `step`); 'replace': each update is the whole table (a spectrum). */
  mode: 'append' | 'replace';
  /** The columns, in file order; omitted: whatever the updates bring (e.g. one per kernel), first seen first. */
  columns?: string[];
  /** What one row is, for the run folder's instruments.json. */
  about: string;
  /** Run-folder file name without extension (default: the instrument id, then `<id>_<table>`); null: no file. */
  file?: string | null;
  /** Also written as a float64 .npy of shape (rows, columns). */
  npy?: boolean;
}

/** What an instrument sends: tables (by the TableSpec mode), headline values, a status line. */
export interface InstrumentUpdate {
  /** Tables emptied before `tables` are applied (an 'append' series replaced by the final analysis). */
  reset?: string[];
  tables?: Record<string, Columns>;
  /** Text for the headline ids the instrument declares. */
  headline?: Record<string, string>;
  /** 'final': from the run's final analysis (replaces what live refreshes showed). */
  kind?: 'live' | 'final';
  /** A line under the instrument's panels while its charts have nothing to show (why not, what is coming). */
  note?: string;
  /** The current value of an on-demand choice by request name (a marker on the panels whose clicks send it). */
  selected?: Record<string, number>;
}

/** What charts need to know about the run (the page has it from the 'ready' message). */
export interface RunInfo {
  lr: number;
  batchSize: number;
  stepsPerEpoch: number;
  trainSize: number;
  totalSteps: number | null;
}

/** A dashboard panel: one chart of the instrument, by ChartData id (unique over the registry). */
export interface PanelSpec {
  chart: string;
  /** One line under the title: what is plotted, units. */
  caption: string;
  /** A click on a point sends this on-demand request with the point's x (InstrumentRun.request). */
  click?: string;
}

export interface Instrument<S extends SettingsSpec = SettingsSpec> {
  /** kebab-case; the CLI name (`--instrument <id>`) and the prefix of its flags and files. */
  id: string;
  title: string;
  /** One paragraph: what it measures and how to read it (report section, --help, docs). */
  about: string;
  /** Prefix of validation messages (default: id). */
  where?: string;
  settings: S;
  /** Cross-field checks; a message per bad key. `c` is null where the run is not known yet. */
  check?(values: SettingsValues<S>, c: SettingsContext | null): Partial<Record<string, string>>;
  /** Instruments whose results this one reads (ctx.upstream): enabled with it, run before it. */
  needs?: string[];
  /**
   * Instruments whose results this one reads when they run anyway (ctx.upstream; null when they
   * are off): not enabled by it; when one is on, this instrument's refresh runs right after it.
   */
  uses?: string[];
  /** On by default on the dashboard (default true). The CLI runs only what --instrument names. */
  dashboardDefault?: boolean;
  tables: Record<string, TableSpec>;
  panels: PanelSpec[];
  /** Numbers shown in the dashboard's header and the report: element id (unique) and label. */
  headline?: { id: string; label: string }[];
  /** The charts, from the tables so far (pure; must accept empty tables); `kind`: the last update's. */
  charts(t: TableView, s: SettingsValues<S>, run: RunInfo, kind: 'live' | 'final'): ChartData[];
  /** Key numbers for instruments.json and the report (pure). */
  summary?(t: TableView, s: SettingsValues<S>, run: RunInfo): Record<string, number | string | null>;
  /** Builds the GPU side for one training run. */
  start(ctx: InstrumentContext<S>): Promise<InstrumentRun> | InstrumentRun;
}

/** Tables as the charts read them: column name → values (number[]; NaN = missing). */
export type TableView = Record<string, Record<string, number[]>>;

export interface InstrumentContext<S extends SettingsSpec = SettingsSpec> {
  id: string;
  settings: SettingsValues<S>;
  trainer: Trainer;
  /** The training set on the CPU (the trainer's order). */
  trainSet: Dataset;
  run: RunInfo;
  /** The training device (the trainer's). */
  device: GpuContext;
  /** The side device: created on first use, shared by every instrument; never the training queue. */
  side(): Promise<GpuContext>;
  /** The latest `provides()` of an instrument this one `needs` or `uses`, or null before its first result (or when it is off). */
  upstream<T>(id: string): T | null;
  emit(u: InstrumentUpdate): void;
  /** A problem that does not stop the run (printed by the CLI, logged by the dashboard). */
  warn(message: string): void;
}

export interface PerStepWork {
  /** Steps between measurements: steps with step % every === 0 are measured. */
  every: number;
  /**
   * Consecutive steps measured from each of those (default 1): steps t with t % every <
   * consecutive, e.g. 2 for a quantity that pairs step t with step t + 1.
   */
  consecutive?: number;
  /** 'gradient' (default): after the backward pass, params = θ_{t−1}; 'update': after the update, params = θ_t. */
  moment?: StepView['moment'];
  /** Floats written per measured step into `out`; they come back in read(). 0: nothing to read back. */
  floats: number;
  /** Encodes the measurement of one step into the training command buffer. `out` holds `floats` floats (offset 0). */
  encode(batch: GpuBatch, view: StepView, out: GPUBuffer): void;
  /** Once per chunk: the measured steps and their rows (steps.length × floats, row-major). */
  read?(rows: Float32Array, steps: number[]): void;
}

export interface InstrumentRun {
  perStep?: PerStepWork;
  /** Around each chunk of steps: `start` may ask for its dispatches to be timed. */
  chunk?: { start?(c: ChunkPlan): { profiler?: Profiler } | void; done?(p: ChunkProgress): void | Promise<void> };
  /** After each full train/test evaluation has been read. */
  eval?(e: EvalRecord): void | Promise<void>;
  /**
   * Analysis beside training on the side device, one refresh at a time (a refresh due while one
   * runs is skipped): every `every` steps for an instrument that needs none (or needs only
   * instruments without a refresh, e.g. per-step ones), else right after the instruments it needs
   * (and those it uses that are on) have refreshed. run() resolving to false means nothing new (e.g. a
   * window still too short): the instruments that need this one then skip this refresh.
   */
  refresh?: { every?: number; run(): Promise<boolean | void> };
  /** On-demand work (a panel click): queued behind a running refresh; a newer request replaces a waiting one. */
  request?(name: string, value: number): Promise<void>;
  /** The run's final analysis (dashboard: the Feng–Tu lab's), to show instead of live refreshes. */
  final?(f: FinalWindow): void;
  /** What instruments that need this one read (ctx.upstream). */
  provides?(): unknown;
  dispose?(): void;
}
