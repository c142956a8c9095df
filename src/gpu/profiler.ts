/**
 * Per-kernel GPU time from timestamp queries: each profiled dispatch runs in its own compute pass
 * whose beginning and end are timestamped. Queries are resolved in batches into one buffer and
 * read back once, so profiling adds passes but no extra round trips.
 *
 * Chrome rounds timestamps to 100 µs unless started with --enable-dawn-features=allow_unsafe_apis
 * or the timestamp-quantization toggle is off; time many dispatches per label when it matters.
 */
import type { GpuContext } from './device.ts';
import { readBuffer } from './buffers.ts';

export interface KernelTiming {
  label: string;
  calls: number;
  totalMs: number;
}

export class Profiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuf: GPUBuffer;
  private labels: string[] = [];
  private resolvedUpTo = 0;
  private readonly totals = new Map<string, { calls: number; ns: number }>();

  constructor(readonly ctx: GpuContext, readonly capacity = 2048) {
    // Two queries per pass; WebGPU caps a query set at 4096 queries.
    if (capacity > 2048) throw new Error(`Profiler: capacity must be at most 2048 passes, got ${capacity}`);
    if (!ctx.hasTimestamps) throw new Error('Profiler: this adapter has no timestamp-query feature');
    this.querySet = ctx.device.createQuerySet({ label: 'profiler.querySet', type: 'timestamp', count: 2 * capacity });
    this.resolveBuf = ctx.device.createBuffer({
      label: 'profiler.resolve',
      size: 2 * capacity * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
  }

  /** Timestamp writes for the next pass, or undefined when the query set is full (read() first). */
  nextPass(label: string): GPUComputePassTimestampWrites | undefined {
    if (this.labels.length >= this.capacity) return undefined;
    const i = this.labels.length;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  resolve(encoder: GPUCommandEncoder): void {
    if (this.labels.length <= this.resolvedUpTo) return;
    // Resolve everything from query 0: the destination offset of resolveQuerySet must be a
    // multiple of 256, so resolving only the new tail at 16·resolvedUpTo would be invalid.
    // Re-resolving the earlier queries rewrites the same values.
    encoder.resolveQuerySet(this.querySet, 0, 2 * this.labels.length, this.resolveBuf, 0);
    this.resolvedUpTo = this.labels.length;
  }

  /** Reads all resolved timestamps, adds them to the totals and empties the query set. */
  async collect(): Promise<void> {
    const n = this.resolvedUpTo;
    if (n === 0) return;
    const data = new BigUint64Array(await readBuffer(this.ctx, this.resolveBuf, 0, 16 * n));
    for (let i = 0; i < n; i++) {
      const dt = Number(data[2 * i + 1] - data[2 * i]);
      const t = this.totals.get(this.labels[i]) ?? { calls: 0, ns: 0 };
      t.calls++;
      t.ns += dt > 0 ? dt : 0;
      this.totals.set(this.labels[i], t);
    }
    this.labels = this.labels.slice(n);
    this.resolvedUpTo = 0;
  }

  timings(): KernelTiming[] {
    return [...this.totals.entries()]
      .map(([label, t]) => ({ label, calls: t.calls, totalMs: t.ns / 1e6 }))
      .sort((a, b) => b.totalMs - a.totalMs);
  }

  reset(): void {
    this.totals.clear();
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuf.destroy();
  }
}
