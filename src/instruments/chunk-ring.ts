/**
 * The framework's ring for per-step instrument outputs: a GPU buffer with one region per
 * instrument, `rows` rows of `floats` floats each, filled while a chunk is encoded and copied, in
 * the same command buffer, to a staging buffer that is mapped once when the trainer has read that
 * chunk. Staging buffers come from a pool that grows as needed, so it works whatever the number of
 * chunks in flight (the trainer keeps two; nothing here assumes it).
 *
 * Why a copy and not a binding: an instrument's kernel writes into its own small `out` buffer
 * (bound at offset 0), and the framework copies that into the ring row. Binding a ring row
 * directly would need every row to start on a 256-byte boundary (minStorageBufferOffsetAlignment)
 * and one bind group per row; a buffer copy only needs 4-byte alignment.
 */
import type { GpuContext } from '../gpu/device.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { createStorage } from '../gpu/buffers.ts';

interface Region {
  floats: number;
  rows: number;
  /** Byte offset of row 0. */
  at: number;
  used: number;
  steps: number[];
}

interface Pending {
  firstStep: number;
  staging: GPUBuffer;
  regions: { used: number; steps: number[] }[];
}

export class ChunkRing {
  readonly buffer: GPUBuffer | null;
  readonly bytes: number;
  private readonly regions: Region[];
  private readonly free: GPUBuffer[] = [];
  private readonly pending: Pending[] = [];

  /** One region per instrument: floats per row and the most rows one chunk can need. */
  constructor(
    readonly ctx: GpuContext,
    shapes: { floats: number; rows: number }[],
  ) {
    let at = 0;
    this.regions = shapes.map((s) => {
      const r: Region = { floats: s.floats, rows: s.rows, at, used: 0, steps: [] };
      at += s.floats * s.rows * 4;
      return r;
    });
    this.bytes = at;
    this.buffer = at > 0 ? createStorage(ctx, 'instruments.ring', at) : null;
  }

  startChunk(): void {
    for (const r of this.regions) {
      r.used = 0;
      r.steps = [];
    }
  }

  /** Copies `out` (the instrument's measurement of `step`) into the next row of region `i`. */
  encodeRow(batch: GpuBatch, i: number, out: GPUBuffer, step: number): void {
    const r = this.regions[i];
    if (r.floats === 0) return;
    if (r.used >= r.rows) throw new Error(`instruments ring: region ${i} holds ${r.rows} rows per chunk, step ${step} would be row ${r.used + 1}`);
    batch.copy(out, 0, this.buffer!, r.at + r.used * r.floats * 4, r.floats * 4);
    r.used++;
    r.steps.push(step);
  }

  /** At the end of a chunk's encoding: its rows go to a staging buffer in the same command buffer. */
  endChunk(batch: GpuBatch, firstStep: number): void {
    if (!this.buffer || this.regions.every((r) => r.used === 0)) return;
    const staging = this.free.pop() ?? this.ctx.device.createBuffer({ label: 'instruments.ring.staging', size: this.buffer.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    batch.copy(this.buffer, 0, staging, 0, this.bytes);
    this.pending.push({ firstStep, staging, regions: this.regions.map((r) => ({ used: r.used, steps: r.steps })) });
  }

  /**
   * The rows of the chunk that started after step `firstStep` (0-based count of steps before it),
   * per region: null if that chunk wrote none. Chunks before it that were never read (discarded
   * by the trainer) are dropped.
   */
  async read(firstStep: number): Promise<{ rows: Float32Array; steps: number[] }[] | null> {
    while (this.pending.length && this.pending[0].firstStep < firstStep) this.free.push(this.pending.shift()!.staging);
    if (!this.pending.length || this.pending[0].firstStep !== firstStep) return null;
    const p = this.pending.shift()!;
    await p.staging.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(p.staging.getMappedRange(0, this.bytes).slice(0));
    p.staging.unmap();
    this.free.push(p.staging);
    return this.regions.map((r, i) => ({ rows: all.slice(r.at / 4, r.at / 4 + p.regions[i].used * r.floats), steps: p.regions[i].steps }));
  }

  /** Stagings in use or pooled (tests: it grows with the chunks in flight, no further). */
  get stagingCount(): number {
    return this.free.length + this.pending.length;
  }

  destroy(): void {
    this.buffer?.destroy();
    for (const b of this.free) b.destroy();
    for (const p of this.pending) p.staging.destroy();
  }
}
