/**
 * Measuring a peer library (TensorFlow.js, jax-js) against sgdscope on the same adapter, fairly on
 * a shared, noisy 2-core machine:
 *
 *  - throughput, not latency: each repeat queues R calls (R chosen so a repeat lasts ~targetMs),
 *    flushes the library's queue, and waits for the device to go idle, gently (sleep through most
 *    of the expected time before creating the promise that makes Dawn poll). Both sides are waited
 *    for the same way;
 *  - paired: repeats of sgdscope and of the peer alternate (A B A B …), so a burst of load from
 *    other processes hits both; the ratio is of the two medians.
 */
import type { GpuContext } from '../../src/gpu/device.ts';
import { GpuBatch } from '../../src/gpu/batch.ts';
import { gentleWait, sleep } from '../../src/gpu/sync.ts';
import type { EncodeCall } from './timing.ts';
import { median, overslept } from './timing.ts';

/** Queues `calls` calls of some work and returns when they are queued (not finished). */
export type Enqueue = (calls: number) => void | Promise<void>;

export interface QueuedTimer {
  /** Wall ms per call, one repeat of `calls` calls. */
  repeat(calls: number, expectedMs: number): Promise<number>;
}

/** A repeat = enqueue R calls, flush, wait (gently) until `idle()` resolves. */
export function queuedTimer(enqueue: Enqueue, flush: () => void, idle: () => Promise<unknown>): QueuedTimer {
  return {
    async repeat(calls: number, expectedMs: number): Promise<number> {
      const t0 = performance.now();
      await enqueue(calls);
      flush();
      const spent = performance.now() - t0;
      await gentleWait(Math.max(0, expectedMs - spent), idle);
      return (performance.now() - t0) / calls;
    },
  };
}

/** One repeat, redone with a shorter sleep when it probably overslept (see timing.ts). */
async function careful(t: QueuedTimer, calls: number, expectedMs: number): Promise<number> {
  let e = expectedMs;
  let per = await t.repeat(calls, e);
  for (let retry = 0; retry < 2 && overslept(per * calls, e); retry++) {
    e *= 0.4;
    per = await t.repeat(calls, e);
  }
  return per;
}

/** Calls per repeat for ~targetMs, from a short polled probe. */
export async function calibrate(t: QueuedTimer, targetMs: number, maxCalls: number): Promise<{ calls: number; perCall: number }> {
  // Warm-up (compilation, first allocations), then the marginal cost per call from two or more
  // submits of different sizes, so a fixed sync latency does not pass for per-call cost.
  let per = await t.repeat(1, 0);
  if (per >= 1000 || maxCalls <= 1) return { calls: 1, perCall: per };
  const ta = await t.repeat(1, 0);
  let b = Math.min(maxCalls, 8);
  let tb = (await t.repeat(b, 0)) * b;
  per = Math.max((tb - ta) / (b - 1), tb / b / 20, 1e-4);
  for (let i = 0; i < 5 && b < maxCalls && tb < targetMs / 4; i++) {
    const c = Math.min(maxCalls, Math.max(2 * b, Math.ceil(targetMs / 4 / per)));
    const tc = (await t.repeat(c, 0)) * c;
    per = Math.max((tc - tb) / (c - b), tc / c / 20, 1e-4);
    b = c;
    tb = tc;
  }
  return { calls: Math.max(1, Math.min(maxCalls, Math.round(targetMs / per))), perCall: per };
}

export interface Paired {
  aMs: number;
  bMs: number;
  /** b / a: how many times faster a is than b (per call). */
  ratio: number;
  aSamples: number[];
  bSamples: number[];
  aCalls: number;
  bCalls: number;
}

/** Alternating repeats of a and b; medians of each. */
export async function paired(a: QueuedTimer, b: QueuedTimer, o: { targetMs: number; repeats: number; maxCallsA: number; maxCallsB: number }): Promise<Paired> {
  const ca = await calibrate(a, o.targetMs, o.maxCallsA);
  const cb = await calibrate(b, o.targetMs, o.maxCallsB);
  const as: number[] = [];
  const bs: number[] = [];
  let ea = 0.5 * ca.perCall * ca.calls;
  let eb = 0.5 * cb.perCall * cb.calls;
  // Calls of seconds (a peer's 1024³ matmul on a software adapter): 3 repeats. Short calls are
  // cheap to repeat and the most exposed to bursts of load: at least 7.
  const slowest = Math.max(ca.perCall, cb.perCall);
  const repeats = slowest > 1000 ? Math.min(3, o.repeats) : slowest < 5 ? Math.max(7, o.repeats) : o.repeats;
  for (let r = 0; r < repeats; r++) {
    await sleep(2);
    as.push(await careful(a, ca.calls, ea));
    ea = 0.75 * Math.min(...as) * ca.calls;
    await sleep(2);
    bs.push(await careful(b, cb.calls, eb));
    eb = 0.75 * Math.min(...bs) * cb.calls;
  }
  const aMs = median(as);
  const bMs = median(bs);
  return { aMs, bMs, ratio: bMs / aMs, aSamples: as, bSamples: bs, aCalls: ca.calls, bCalls: cb.calls };
}

/** One side alone (a CPU peer, or a peer when sgdscope is not being compared). */
export async function solo(t: QueuedTimer, o: { targetMs: number; repeats: number; maxCalls: number }): Promise<{ ms: number; samples: number[]; calls: number }> {
  const c = await calibrate(t, o.targetMs, o.maxCalls);
  const xs: number[] = [];
  let e = 0.5 * c.perCall * c.calls;
  const repeats = c.perCall > 1000 ? Math.min(3, o.repeats) : o.repeats;
  for (let r = 0; r < repeats; r++) {
    await sleep(2);
    xs.push(await careful(t, c.calls, e));
    e = 0.75 * Math.min(...xs) * c.calls;
  }
  return { ms: median(xs), samples: xs, calls: c.calls };
}

/** sgdscope side of a paired measurement: R calls in one GpuBatch, one submit. */
export function sgdscopeTimer(ctx: GpuContext, encode: EncodeCall): QueuedTimer {
  let batch: GpuBatch | null = null;
  return queuedTimer(
    (calls) => {
      batch = new GpuBatch(ctx, 'bench.paired');
      for (let i = 0; i < calls; i++) encode(batch, i);
    },
    () => batch!.submit(),
    () => ctx.device.queue.onSubmittedWorkDone(),
  );
}
