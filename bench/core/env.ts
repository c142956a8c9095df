/**
 * The state one benchmark run shares between suites: the GPU context and timer, the options, the
 * adapter's measured peaks, and the rows, step summaries and notes collected so far. The runner
 * (bench/node.ts, bench/page.ts) decides only how a line is printed.
 */
import type { GpuContext } from '../../src/gpu/device.ts';
import { GpuTimer, timeCalls, type EncodeCall, type Timing } from './timing.ts';
import { formatRow, type AdapterPeaks, type Bound, type Row, type StepSummary } from './report.ts';
import type { CheckResult } from './check.ts';

export const SUITES = ['peak', 'matmul', 'backward', 'kernels', 'noise', 'step', 'ensemble', 'tfjs', 'jax'] as const;
export type SuiteName = (typeof SUITES)[number];

export interface BenchOptions {
  /** Suites to run (default: all). */
  suites: SuiteName[];
  /** Matmul ladder rungs to run (default: all). */
  variants: number[] | null;
  /** Run the correctness checks only, no timing (the test uses this). */
  validateOnly: boolean;
  /** Shorter repeats and fewer shapes' peers (a smoke run). */
  quick: boolean;
  /** Aimed duration of one timed repeat, ms. */
  targetMs: number;
  /** Timed repeats per measurement. */
  repeats: number;
  /** Steps per whole-step measurement. */
  stepChunk: number;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  suites: [...SUITES],
  variants: null,
  validateOnly: false,
  quick: false,
  targetMs: 120,
  repeats: 5,
  stepChunk: 200,
};

export interface Printer {
  line(text: string): void;
  row(r: Row): void;
}

export class BenchEnv {
  readonly timer: GpuTimer;
  readonly rows: Row[] = [];
  readonly steps: StepSummary[] = [];
  readonly notes: string[] = [];
  peaks: AdapterPeaks = { fmaGflops: null, cacheGBs: null, dramGBs: null, dispatchGpuMs: null, dispatchWallMs: null, cacheBytes: 16 * 2 ** 20 };

  constructor(readonly ctx: GpuContext, readonly opts: BenchOptions, readonly print: Printer) {
    this.timer = new GpuTimer(ctx);
  }

  has(s: SuiteName): boolean {
    return this.opts.suites.includes(s);
  }

  log(text: string): void {
    this.print.line(text);
  }

  note(text: string): void {
    this.notes.push(text);
    this.print.line(`note: ${text}`);
  }

  emit(r: Row): Row {
    this.rows.push(r);
    this.print.row(r);
    return r;
  }

  time(encode: EncodeCall, o: { maxCalls?: number; minCalls?: number; passPerDispatch?: boolean; targetMs?: number; repeats?: number } = {}): Promise<Timing> {
    return timeCalls(this.timer, encode, {
      targetMs: o.targetMs ?? this.opts.targetMs,
      repeats: o.repeats ?? this.opts.repeats,
      maxCalls: o.maxCalls ?? 2000,
      minCalls: o.minCalls,
      passPerDispatch: o.passPerDispatch,
    });
  }

  /**
   * Roofline placement of `ms` for work of `flops` and `bytes` in `dispatches` dispatches: the % of
   * the adapter's peak (time at the roofline / measured time) and which lower bound dominates.
   */
  roofline(flops: number, bytes: number, dispatches: number, ms: number | null): { peakPct: number | null; bound: Bound } {
    const p = this.peaks;
    if (ms === null || !(ms > 0)) return { peakPct: null, bound: '-' };
    const bw = bytes <= p.cacheBytes ? p.cacheGBs : p.dramGBs;
    const tc = p.fmaGflops ? flops / (p.fmaGflops * 1e6) : 0;
    const tm = bw ? bytes / (bw * 1e6) : 0;
    const td = (p.dispatchGpuMs ?? p.dispatchWallMs ?? 0) * dispatches;
    const best = Math.max(tc, tm);
    const peakPct = best > 0 ? (100 * best) / ms : null;
    const bound: Bound = td >= best && td > 0 ? 'dispatch' : tc >= tm ? (tc > 0 ? 'compute' : '-') : 'memory';
    return { peakPct, bound };
  }
}

/** Everything needed to validate and time one kernel (or a fixed sequence of dispatches). */
export interface KernelCase {
  kernel: string;
  variant: string;
  shape: string;
  /** FLOP of one call, from the formula stated where the case is built. */
  flops: number;
  /** Compulsory bytes moved by one call (inputs read once, outputs written once). */
  bytes: number;
  /** Dispatches per call. */
  dispatches: number;
  /** Runs the work once and compares with the CPU reference. */
  check(): Promise<CheckResult>;
  encode: EncodeCall;
  maxCalls?: number;
  note?: string;
}

/** 'FAIL: …' when WebGPU reported errors since `before` (a measurement of invalid work is void). */
export function gpuErrorsSince(env: BenchEnv, before: number): string | null {
  const errs = env.ctx.uncapturedErrors.slice(before);
  return errs.length ? `FAIL: ${errs.length} WebGPU error(s): ${errs[0].split('\n')[0]}` : null;
}

export async function runCase(env: BenchEnv, c: KernelCase): Promise<Row> {
  let check: CheckResult;
  const errorsBefore = env.ctx.uncapturedErrors.length;
  try {
    check = await c.check();
  } catch (e) {
    check = { ok: false, message: `FAIL: ${(e as Error).message.split('\n')[0]}`, maxErr: Infinity };
  }
  const gpuErr = gpuErrorsSince(env, errorsBefore);
  if (gpuErr) check = { ok: false, message: gpuErr, maxErr: Infinity };
  const base: Row = {
    kernel: c.kernel,
    variant: c.variant,
    shape: c.shape,
    ms: null,
    wallMs: null,
    timer: '-',
    flops: c.flops,
    bytes: c.bytes,
    gflops: null,
    gbs: null,
    peakPct: null,
    bound: '-',
    check: check.message,
    note: c.note,
  };
  if (!check.ok || env.opts.validateOnly) return env.emit(base);
  const t = await env.time(c.encode, { maxCalls: Math.min(c.maxCalls ?? 2000, Math.floor(3000 / c.dispatches)) });
  const { peakPct, bound } = env.roofline(c.flops, c.bytes, c.dispatches, t.ms);
  return env.emit({
    ...base,
    check: gpuErrorsSince(env, errorsBefore) ?? base.check,
    ms: t.ms,
    wallMs: t.wallMs,
    timer: t.timer,
    gflops: c.flops > 0 ? c.flops / (t.ms * 1e6) : null,
    gbs: c.bytes > 0 ? c.bytes / (t.ms * 1e6) : null,
    peakPct,
    bound,
    samples: { gpu: t.gpuSamples, wall: t.wallSamples, calls: t.calls },
  });
}
