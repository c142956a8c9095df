/**
 * Messages between the kernel lab page (src/ui/kernel-lab/) and its engine worker
 * (src/kernel-lab/lab.worker.ts), and the experiment a link carries (LabSpec).
 */
import type { AdapterPeaks, BenchResult, Row } from '../../bench/core/report.ts';
import type { Params, ProblemId } from './catalog.ts';
import type { OutputCheck } from './compare.ts';

/** Everything that defines an experiment: what the URL carries. */
export interface LabSpec {
  problem: ProblemId;
  params: Params;
  source: string;
  entry: string;
  /** Values of the kernel's {{KEY}} template keys (only when it has some). */
  template: Record<string, number>;
  /** Override constants the user set (the problem's own, e.g. ACT, are added by the engine). */
  overrides: Record<string, number | boolean>;
  /** Workgroups along x, y, z as expressions (bench/core/grid.ts). */
  grid: string[];
}

export interface RunOptions {
  /** Check against the reference only. */
  validateOnly: boolean;
  /** Shorter repeats (targetMs 40, 3 repeats): a first look; numbers are noisier. */
  quick: boolean;
  /** Ids of the problem's start kernels to time beside yours (sgdscope's own rungs). */
  compare: string[];
  /** Also time TensorFlow.js's WebGPU backend on the same device and shapes. */
  tfjs: boolean;
}

export interface Diagnostic {
  /** 1-based line and column in the editor's text (column 0: the whole line). */
  line: number;
  col: number;
  length: number;
  severity: 'error' | 'warning' | 'info';
  message: string;
  /** 'kernel.wgsl:12:5: error: …' with the line quoted (src/gpu/compile-errors.ts). */
  text: string;
}

export interface EntryInfo {
  name: string;
  bindings: { name: string; binding: number; kind: string; type: string }[];
  uniformFields: string[];
  overrides: { name: string; type: string; init: string | null }[];
  workgroupSize: string[];
}

export interface Inspection {
  entries: EntryInfo[];
  /** The {{KEY}} names the text uses. */
  templateKeys: string[];
  /** Why the text could not be read (the compiler says more when it runs). */
  error: string | null;
}

export type Stage = 'source' | 'compile' | 'bind' | 'pipeline' | 'grid' | 'validate' | 'peaks' | 'time' | 'compare' | 'peer';

export interface LabResult {
  spec: LabSpec;
  options: RunOptions;
  /** The bench results format (bench/results/*.json): adapter, peaks, rows, notes. */
  bench: BenchResult;
  /** How many times faster your kernel is than each comparison (their ms / yours; > 1: yours is faster). */
  ratios: { label: string; ratio: number; basis: 'gpu' | 'wall' }[];
}

export interface AdapterSummary {
  name: string;
  description: string;
  timestamps: boolean;
  isSoftware: boolean;
}

export type ToWorker =
  | { type: 'inspect'; id: number; source: string }
  | { type: 'start'; id: number; problem: ProblemId; params: Params; start: string }
  | { type: 'run'; id: number; spec: LabSpec; options: RunOptions }
  /** Destroys the device, as a lost GPU would (for trying the recovery path). */
  | { type: 'lose-device' };

export type FromWorker =
  | { type: 'ready'; adapter: AdapterSummary }
  | { type: 'fatal'; message: string }
  | { type: 'inspected'; id: number; inspection: Inspection }
  | { type: 'started'; id: number; spec: LabSpec; label: string }
  | { type: 'stage'; id: number; stage: Stage; text: string }
  | { type: 'log'; id: number; text: string }
  | { type: 'diagnostics'; id: number; diagnostics: Diagnostic[] }
  /** The kernel is wrong: it does not compile, bind, or match the reference. */
  | { type: 'invalid'; id: number; stage: Stage; messages: string[]; checks?: OutputCheck[] }
  | { type: 'checked'; id: number; checks: OutputCheck[]; summary: string; guard: string }
  | { type: 'row'; id: number; row: Row; role: 'yours' | 'sgdscope' | 'peer' }
  | { type: 'peaks'; id: number; peaks: AdapterPeaks }
  | { type: 'done'; id: number; result: LabResult }
  /** The lab could not finish: a watchdog timeout, or an error of the lab itself. */
  | { type: 'failed'; id: number; stage: Stage; message: string; watchdog: boolean }
  | { type: 'lost'; message: string };
