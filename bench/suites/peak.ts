/**
 * The adapter's own limits, clpeak-style (shaders/bench_peak.wgsl): peak FMA throughput, storage-
 * buffer bandwidth for a cache-sized and a DRAM-sized working set, and the fixed cost of a
 * dispatch. Every later row's "% of peak" and "bound" are read against these.
 *
 *   fma:        FLOP  = threads · ITERS · 8 chains · lanes (4 or 1) · 2
 *   read_sum:   bytes = 16 · n (each vec4 read once; the per-thread outputs are negligible)
 *   copy:       bytes = 2 · 16 · n (read + write)
 *   tiny:       one workgroup, no work: GPU time per dispatch (timestamps) and wall time per
 *               dispatch with many queued (encoding + submission + execution)
 *
 * A peak is the best repeat (clpeak reports the best too): on a machine shared with other work,
 * the median says how busy the machine was, the best what the adapter can do. Rows show both
 * (ms = median; the note has the best).
 */
import { Kernel } from '../../src/gpu/kernel.ts';
import { createStorage, readF32 } from '../../src/gpu/buffers.ts';
import { GpuBatch } from '../../src/gpu/batch.ts';
import type { BenchEnv } from '../core/env.ts';
import type { Row } from '../core/report.ts';

const WG = 64;

export async function runPeak(env: BenchEnv): Promise<void> {
  const { ctx } = env;
  env.log('\n## adapter limits (clpeak-style)');
  const ITERS = env.opts.validateOnly ? 16 : 1024;
  const groups = 512; // many workgroups: every core (or SM) gets plenty
  const threads = groups * WG;
  const out = createStorage(ctx, 'peak.out', threads * 16);
  const m = 0.999;
  const c = 1e-3;

  // --- FMA throughput (vec4 and scalar chains; the better one is the adapter's peak).
  let best = 0;
  for (const [entry, lanes] of [['fma_peak', 4], ['mad_peak', 4], ['fma_scalar', 1]] as const) {
    const k = await Kernel.create(ctx, { shader: 'bench_peak', entry, constants: { WG, ITERS } });
    const bg = k.bindGroup({ dst: out });
    const u = { n: threads, stride: threads, m, c };
    const flops = threads * ITERS * 8 * lanes * 2;
    // Check: thread 0's lane 0 against the same recurrence in float64 (a float32 FMA chain
    // contracting towards c/(1 − m) stays within 1e-3 of it).
    const batch = new GpuBatch(ctx, 'peak.check');
    batch.dispatch(k, bg, u, [groups]);
    batch.submit();
    const got = await readF32(ctx, out, 0, 4);
    let ref = 0;
    for (let j = 0; j < 8; j++) {
      let a = j * 0.01;
      for (let i = 0; i < ITERS; i++) a = a * m + c;
      ref += a;
    }
    const ok = Math.abs(got[0] - ref) <= 1e-3 * Math.max(1, Math.abs(ref));
    const check = ok ? `ok (${got[0].toPrecision(6)} vs ${ref.toPrecision(6)})` : `FAIL: ${got[0]} vs ${ref}`;
    const row: Row = {
      kernel: 'peak_fma',
      variant: entry === 'fma_peak' ? '8 vec4 fma() chains' : entry === 'mad_peak' ? '8 vec4 a*m+c chains' : '8 f32 fma() chains',
      shape: `${threads} thr x ${ITERS}`,
      ms: null, wallMs: null, timer: '-', flops, bytes: 0, gflops: null, gbs: null, peakPct: null, bound: 'compute', check,
    };
    if (!ok || env.opts.validateOnly) {
      env.emit(row);
      continue;
    }
    const t = await env.time((b) => b.dispatch(k, bg, u, [groups]), { maxCalls: 200 });
    best = Math.max(best, flops / (t.bestMs * 1e6));
    env.emit({
      ...row, ms: t.ms, wallMs: t.wallMs, timer: t.timer, gflops: flops / (t.ms * 1e6),
      note: `best repeat ${(flops / (t.bestMs * 1e6)).toFixed(2)} GFLOP/s`,
      samples: { gpu: t.gpuSamples, wall: t.wallSamples, calls: t.calls },
    });
  }
  if (best > 0) env.peaks.fmaGflops = best;

  // --- Bandwidth: read and copy, cache-sized and DRAM-sized.
  const read = await Kernel.create(ctx, { shader: 'bench_peak', entry: 'read_sum', constants: { WG } });
  const copy = await Kernel.create(ctx, { shader: 'bench_peak', entry: 'copy', constants: { WG } });
  const sizes: [string, number][] = env.opts.validateOnly
    ? [['1 MiB', 1 << 20]]
    : [['4 MiB', 4 << 20], ['128 MiB', 128 << 20]];
  for (const [label, bytes] of sizes) {
    const n = bytes / 16;
    const src = createStorage(ctx, `peak.src.${label}`, bytes);
    const dst = createStorage(ctx, `peak.dst.${label}`, bytes);
    const init = new Float32Array(n * 4);
    for (let i = 0; i < init.length; i++) init[i] = (i % 97) * 0.25;
    ctx.device.queue.writeBuffer(src, 0, init);
    const rgroups = 256;
    const rthreads = rgroups * WG;
    const readBg = read.bindGroup({ src, dst });
    const copyBg = copy.bindGroup({ src, dst });
    // Checks: copy is exact; read_sum's thread 0 sums src[0], src[stride], … (exact in float32:
    // multiples of 0.25 below 2^22).
    const b = new GpuBatch(ctx, 'peak.bw.check');
    b.dispatch(copy, copyBg, { n, stride: rthreads, m: 0, c: 0 }, [rgroups]);
    b.submit();
    const copied = await readF32(ctx, dst, bytes - 64, 16);
    const copyOk = copied.every((v, i) => v === init[init.length - 16 + i]);
    const b2 = new GpuBatch(ctx, 'peak.bw.check2');
    b2.dispatch(read, readBg, { n, stride: rthreads, m: 0, c: 0 }, [rgroups]);
    b2.submit();
    const r0 = await readF32(ctx, dst, 0, 4);
    const ref0 = [0, 1, 2, 3].map((l) => {
      let s = 0;
      for (let i = 0; i < n; i += rthreads) s += init[4 * i + l];
      return s;
    });
    const readOk = r0.every((v, l) => Math.abs(v - ref0[l]) <= 1e-6 * Math.abs(ref0[l]));
    for (const [k, bg, name, moved, ok] of [
      [read, readBg, 'read_sum', bytes, readOk],
      [copy, copyBg, 'copy', 2 * bytes, copyOk],
    ] as const) {
      const row: Row = {
        kernel: 'peak_bandwidth',
        variant: name,
        shape: label,
        ms: null, wallMs: null, timer: '-', flops: 0, bytes: moved, gflops: null, gbs: null, peakPct: null, bound: 'memory',
        check: ok ? 'ok (exact)' : 'FAIL: wrong values',
      };
      if (!ok || env.opts.validateOnly) {
        env.emit(row);
        continue;
      }
      const t = await env.time((bb) => bb.dispatch(k, bg, { n, stride: rthreads, m: 0, c: 0 }, [rgroups]), { maxCalls: 400 });
      const bestGBs = moved / (t.bestMs * 1e6);
      if (bytes <= env.peaks.cacheBytes) env.peaks.cacheGBs = Math.max(env.peaks.cacheGBs ?? 0, bestGBs);
      else env.peaks.dramGBs = Math.max(env.peaks.dramGBs ?? 0, bestGBs);
      env.emit({
        ...row, ms: t.ms, wallMs: t.wallMs, timer: t.timer, gbs: moved / (t.ms * 1e6),
        note: `best repeat ${bestGBs.toFixed(2)} GB/s`,
        samples: { gpu: t.gpuSamples, wall: t.wallSamples, calls: t.calls },
      });
    }
    src.destroy();
    dst.destroy();
  }

  // A cache-sized working set moves at least as fast as a DRAM-sized one (when the small copy
  // measured slower, its per-dispatch overhead showed, not the memory).
  if (env.peaks.dramGBs !== null) env.peaks.cacheGBs = Math.max(env.peaks.cacheGBs ?? 0, env.peaks.dramGBs);

  // --- Dispatch overhead: a one-workgroup dispatch that does nothing.
  const tiny = await Kernel.create(ctx, { shader: 'bench_peak', entry: 'tiny', constants: { WG } });
  const tsrc = createStorage(ctx, 'peak.tiny.src', 64);
  const tdst = createStorage(ctx, 'peak.tiny.dst', 64);
  const tbg = tiny.bindGroup({ src: tsrc, dst: tdst });
  const row: Row = {
    kernel: 'dispatch', variant: 'empty 1 workgroup', shape: '1x64', ms: null, wallMs: null, timer: '-', flops: 0, bytes: 0,
    gflops: null, gbs: null, peakPct: null, bound: 'dispatch', check: 'ok (no output)',
  };
  if (env.opts.validateOnly) {
    env.emit(row);
    return;
  }
  for (const ppd of [false, true]) {
    const t = await env.time((b) => b.dispatch(tiny, tbg, { n: 0, stride: 1 << 30, m: 0, c: 0 }, [1]), { maxCalls: 2000, passPerDispatch: ppd });
    if (!ppd) {
      env.peaks.dispatchGpuMs = t.gpuMs !== null ? Math.min(...t.gpuSamples) : null;
      env.peaks.dispatchWallMs = Math.min(...t.wallSamples);
    }
    env.emit({
      ...row,
      variant: ppd ? 'empty, pass per dispatch' : 'empty, one pass',
      ms: t.ms, wallMs: t.wallMs, timer: t.timer,
      note: `wall ${(t.wallMs * 1000).toFixed(1)} µs per dispatch with ${t.calls} queued (best repeat: GPU ${(t.bestMs * 1000).toFixed(1)} µs, wall ${(Math.min(...t.wallSamples) * 1000).toFixed(1)} µs)`,
      samples: { gpu: t.gpuSamples, wall: t.wallSamples, calls: t.calls },
    });
  }
  env.log(
    `peaks (best repeats): FMA ${env.peaks.fmaGflops?.toFixed(1) ?? '-'} GFLOP/s, bandwidth ${env.peaks.cacheGBs?.toFixed(1) ?? '-'} GB/s (cache-sized) / ${env.peaks.dramGBs?.toFixed(1) ?? '-'} GB/s (DRAM), dispatch ${env.peaks.dispatchGpuMs !== null ? (env.peaks.dispatchGpuMs * 1000).toFixed(1) : '-'} µs GPU / ${env.peaks.dispatchWallMs !== null ? (env.peaks.dispatchWallMs * 1000).toFixed(1) : '-'} µs wall`,
  );
}
