/**
 * How every benchmark here is timed (Node and browser alike).
 *
 * One *call* is whatever a benchmark encodes into a GpuBatch (one dispatch for a kernel, eleven
 * for an SGD step). A *repeat* encodes R calls into one command buffer, submits it, and waits for
 * it; R is chosen so a repeat lasts about `targetMs`. The figure reported is the median over
 * repeats of the per-call time, after a warm-up repeat that is thrown away.
 *
 *  - GPU time, where the adapter has `timestamp-query`: an empty compute pass writes a timestamp
 *    right before the R calls and another right after them, so the R calls (in one pass, or one
 *    pass each) lie between two timestamps. Chrome rounds timestamps to 100 µs, so R calls per
 *    pair (tens of ms), never one. Every repeat's pair is resolved into one buffer, read once.
 *  - Wall time, always: from the start of encoding to onSubmittedWorkDone. It includes encoding,
 *    submission and the wait, i.e. the per-call overhead a real caller pays when it queues R calls.
 *    The wait is gentle (src/gpu/sync.ts): on SwiftShader the GPU is the CPU, and Dawn's busy
 *    polling while a promise is pending would take a core away from the work being timed.
 */
import type { GpuContext } from '../../src/gpu/device.ts';
import { GpuBatch } from '../../src/gpu/batch.ts';
import { readBuffer } from '../../src/gpu/buffers.ts';
import { gentleWait, sleep } from '../../src/gpu/sync.ts';

export interface TimingOptions {
  /** Aimed duration of one repeat, ms. */
  targetMs: number;
  /** Timed repeats (the median is reported). */
  repeats: number;
  /** Upper bound on calls per repeat (uniform arena slots: keep R·dispatches ≤ ~3000). */
  maxCalls: number;
  /** Lower bound on calls per repeat (timestamp quantization; default 1). */
  minCalls?: number;
  /** One compute pass per dispatch instead of one long pass. */
  passPerDispatch?: boolean;
}

export interface Timing {
  /** Median GPU time per call from timestamps, ms (null without timestamp-query). */
  gpuMs: number | null;
  /** Median wall time per call, ms. */
  wallMs: number;
  /** The figure to report: gpuMs when measured, else wallMs. */
  ms: number;
  /** Fastest repeat (per call): what the adapter can do at best, for its peaks. */
  bestMs: number;
  timer: 'timestamp' | 'wall';
  calls: number;
  repeats: number;
  /** Per-repeat values, for the JSON. */
  gpuSamples: number[];
  wallSamples: number[];
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : 0.5 * (s[h - 1] + s[h]);
}

/** True when a wait that slept ~0.9·expectedMs ended so soon after that it probably overslept. */
export function overslept(wallMs: number, expectedMs: number): boolean {
  return expectedMs > 1 && wallMs < 0.9 * expectedMs + 1.5;
}

/** Encodes one call of the benchmarked work. */
export type EncodeCall = (batch: GpuBatch, i: number) => void;

export class GpuTimer {
  private readonly querySet: GPUQuerySet | null;
  private readonly resolveBuf: GPUBuffer | null;
  readonly capacity = 64;

  constructor(readonly ctx: GpuContext) {
    if (ctx.hasTimestamps) {
      this.querySet = ctx.device.createQuerySet({ label: 'bench.timestamps', type: 'timestamp', count: 2 * this.capacity });
      this.resolveBuf = ctx.device.createBuffer({
        label: 'bench.timestamps.resolve',
        // resolveQuerySet's destination offset must be a multiple of 256: one 256-byte slot per pair.
        size: this.capacity * 256,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
    } else {
      this.querySet = null;
      this.resolveBuf = null;
    }
  }

  get hasTimestamps(): boolean {
    return this.querySet !== null;
  }

  /** An empty pass that writes timestamp `index` at its beginning (begin) or end (end). */
  private mark(batch: GpuBatch, index: number, where: 'begin' | 'end'): void {
    if (!this.querySet) return;
    const enc = batch.rawEncoder();
    const pass = enc.beginComputePass({
      label: `bench.mark${index}`,
      timestampWrites: where === 'begin' ? { querySet: this.querySet, beginningOfPassWriteIndex: index } : { querySet: this.querySet, endOfPassWriteIndex: index },
    });
    pass.end();
  }

  /**
   * Encodes `calls` calls between two timestamps (slot `slot`), submits, and waits. Returns the
   * wall time in ms (encode start → work done).
   */
  async run(encode: EncodeCall, calls: number, slot: number, expectedMs: number, passPerDispatch = false): Promise<number> {
    if (slot >= this.capacity) throw new Error(`GpuTimer: slot ${slot} ≥ capacity ${this.capacity}`);
    const t0 = performance.now();
    const batch = new GpuBatch(this.ctx, 'bench', null, passPerDispatch);
    this.mark(batch, 2 * slot, 'begin');
    for (let i = 0; i < calls; i++) encode(batch, i);
    this.mark(batch, 2 * slot + 1, 'end');
    if (this.querySet && this.resolveBuf) {
      batch.rawEncoder().resolveQuerySet(this.querySet, 2 * slot, 2, this.resolveBuf, 256 * slot);
    }
    batch.submit();
    const spent = performance.now() - t0;
    await gentleWait(Math.max(0, expectedMs - spent), () => this.ctx.device.queue.onSubmittedWorkDone());
    return performance.now() - t0;
  }

  /** GPU durations (ms) of slots [0, n). */
  async read(n: number): Promise<number[]> {
    if (!this.resolveBuf || n === 0) return [];
    const data = new BigUint64Array(await readBuffer(this.ctx, this.resolveBuf, 0, 256 * n));
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const dt = Number(data[32 * i + 1] - data[32 * i]) / 1e6;
      out.push(dt > 0 ? dt : 0);
    }
    return out;
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolveBuf?.destroy();
  }
}

/**
 * Times `encode` as described in the header: one warm-up repeat that also calibrates R, then
 * `repeats` timed repeats of R calls each.
 */
export async function timeCalls(timer: GpuTimer, encode: EncodeCall, o: TimingOptions): Promise<Timing> {
  const ppd = o.passPerDispatch ?? false;
  // Warm-up and calibration, polling (no sleep, so an overestimate cannot feed on itself). The
  // first call pays one-time costs (SwiftShader compiles a pipeline at its first dispatch) and is
  // not used. Then the *marginal* cost per call, from a short and a longer submit, so that a fixed
  // latency of the wait (milliseconds in Chrome, where completion is reported through the GPU
  // process) does not pass for a slow kernel and leave R too small to amortise it.
  const minCalls = Math.max(1, Math.min(o.maxCalls, o.minCalls ?? 1));
  let per = (await timer.run(encode, minCalls, 0, 0, ppd)) / minCalls;
  if (per * minCalls < o.targetMs && minCalls < o.maxCalls) {
    const a = minCalls;
    const ta = await timer.run(encode, a, 0, 0, ppd);
    let b = Math.min(o.maxCalls, Math.max(2 * a, 16));
    let tb = await timer.run(encode, b, 0, 0, ppd);
    per = Math.max((tb - ta) / (b - a), tb / b / 20, 1e-4);
    for (let i = 0; i < 4 && b < o.maxCalls && tb < o.targetMs / 4; i++) {
      const c = Math.min(o.maxCalls, Math.max(2 * b, Math.ceil(o.targetMs / 4 / per)));
      const tc = await timer.run(encode, c, 0, 0, ppd);
      per = Math.max((tc - tb) / (c - b), tc / c / 20, 1e-4);
      b = c;
      tb = tc;
    }
  }
  const R = Math.max(o.minCalls ?? 1, Math.min(o.maxCalls, Math.max(1, Math.round(o.targetMs / Math.max(per, 1e-3)))));
  // A call far longer than the target (a second-long kernel on a software adapter): 3 repeats.
  const repeats = per > 4 * o.targetMs ? Math.min(o.repeats, 3) : o.repeats;
  const walls: number[] = [];
  let expected = 0.5 * per * R;
  for (let r = 0; r < repeats; r++) {
    // A short pause lets other processes' work and Dawn's callbacks drain between repeats.
    await sleep(2);
    let wall = await timer.run(encode, R, r, expected, ppd);
    // Ended within the sleep: the work may have finished earlier, so the wall time is an upper
    // bound only. Repeat with a shorter sleep (twice at most).
    for (let retry = 0; retry < 2 && overslept(wall, expected); retry++) {
      expected *= 0.4;
      wall = await timer.run(encode, R, r, expected, ppd);
    }
    walls.push(wall / R);
    // Sleep through part of the fastest repeat so far, never more: an oversleep would be timed
    // (and on a shared machine the next repeat may well be faster).
    expected = 0.75 * Math.min(...walls) * R;
  }
  const gpu = (await timer.read(repeats)).map((t) => t / R);
  const gpuMs = gpu.length && gpu.every((t) => t > 0) ? median(gpu) : null;
  const wallMs = median(walls);
  return {
    gpuMs,
    wallMs,
    ms: gpuMs ?? wallMs,
    bestMs: gpuMs !== null ? Math.min(...gpu) : Math.min(...walls),
    timer: gpuMs !== null ? 'timestamp' : 'wall',
    calls: R,
    repeats,
    gpuSamples: gpu,
    wallSamples: walls,
  };
}
