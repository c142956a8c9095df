/**
 * What the queue needs to know about an experiment to spread it over workers — one QueueKind per
 * multi-run command (kinds/*.ts): how to check a spec that arrives in a job, cut it into units of
 * work (one run each; several when runs are trained together as one ensemble), run one unit on a
 * worker's GPU, and assemble the experiment's run folder from the units' records (collect).
 *
 * A unit covers one or more runs, each with its index in the experiment and its own run folder in
 * the store (runs/NNNN/: its files, record.json = its record in exact JSON, unit.json = where and
 * when it ran). The in-process commands call the same per-run code; collect gives the same files.
 */
import type { GpuContext, AdapterRecord } from '../gpu/device.ts';
import type { LoadedData, DatasetSpec } from '../data/index.ts';
import type { RunFiles } from '../train/run-files.ts';
import type { ReportAssets } from '../analysis/report/assets.ts';
import type { TrainControl } from '../experiments/train-control.ts';
import type { RungBoard } from '../experiments/sweep/asha.ts';
import type { Progress } from './checkpoint.ts';

export type KindName = 'sweep' | 'awd' | 'signal-propagation' | 'feng-tu';

/** A worker's long-lived resources: its GPU, loaded datasets, and per-spec objects (probes) kept for the next job. */
export interface WorkerEnv {
  gpu(): Promise<GpuContext>;
  data(spec: DatasetSpec): Promise<LoadedData>;
  /** A value kept under `key` while jobs of the same spec keep coming (a few at most; the oldest destroyed). */
  cached<T>(key: string, make: () => Promise<T>, destroy: (v: T) => void): Promise<T>;
  adapter(): Promise<AdapterRecord>;
}

/** What one run of a unit needs from the queue: its training control, rung board and progress channel. */
export interface RunIo {
  control: TrainControl;
  board: RungBoard;
  progress(p: Progress): void;
}

export interface RunOutput<R> {
  index: number;
  record: R;
  /** The run's folder (record.json and unit.json are added by the worker). */
  files: RunFiles;
  /** One line for logs and the job's result. */
  summary: string;
  /** Numbers the collector needs beside the records (sizes of the data, …). */
  context: Record<string, unknown>;
}

export interface CollectInput<S, R> {
  spec: S;
  /** Records by run index, ascending; failed runs are missing. */
  records: R[];
  failed: { index: number; reason: string }[];
  /** unit.json of the first run: its context (data sizes, data spec, …) and adapter. */
  context: Record<string, unknown>;
  adapter: AdapterRecord;
  /** Wall time from the first run's start to the last one's end. */
  seconds: number;
  assets: ReportAssets;
  /** The folder the files go to. */
  dir: string;
  /** For kinds whose collect runs GPU stages of its own (signal propagation). */
  env: WorkerEnv | null;
}

export interface QueueKind<S = unknown, U = unknown, R = unknown> {
  name: KindName;
  /** Checks a spec (from a job or a manifest); throws naming the field. */
  check(spec: unknown): S;
  units(spec: S): U[];
  /** The run indices a unit covers. */
  runsOf(unit: U): number[];
  label(unit: U): string;
  run(env: WorkerEnv, spec: S, unit: U, io: (index: number) => RunIo): Promise<RunOutput<R>[]>;
  /** Reads a record back from record.json. */
  decode(text: string, where: string): R;
  collect(input: CollectInput<S, R>): Promise<RunFiles>;
  /** Whether collect needs a GPU (env). */
  collectNeedsGpu: boolean;
}

/** A spec or unit that cannot run anywhere (e.g. a batch larger than the dataset): the job fails at once, not retried. */
export class InputError extends Error {}
