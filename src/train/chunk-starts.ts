/**
 * What the trainer keeps to recompute a diverged replica's last good weights, bit for bit: a copy
 * of every replica's weights and velocity at the start of each of the last chunks (on the GPU) and
 * those chunks' minibatch indices (on the CPU). When replica r's first bad minibatch loss is at
 * step d, its last good weights are those after step d − 2 (the last whose loss, measured at step
 * d − 1, was finite and bounded): replay() puts the start of the chunk holding step d − 2 back,
 * runs the ensemble's steps up to it again, takes replica r's weights and then puts every
 * replica's current weights and velocity back, so the run goes on untouched.
 *
 * Three copies are enough: the chunk being read, the one before it (a divergence on a chunk's
 * first step reaches back into it) and the one in flight after it.
 */
import type { GpuContext } from '../gpu/device.ts';
import { GpuBatch } from '../gpu/batch.ts';
import { createStorage, readF32, writeBuffer } from '../gpu/buffers.ts';
import type { MlpGpu } from '../nn/mlp-gpu.ts';
import type { TrainStepPlan } from '../nn/train-step.ts';

const SLOTS = 3;

/** A chunk as encoded: its first step, length, and its indices (steps, R, B). */
export interface ChunkStart {
  firstStep: number;
  steps: number;
  startSlot: number;
  indices: Uint32Array;
}

export class ChunkStarts {
  private readonly copies: GPUBuffer[];
  private scratch: GPUBuffer | null = null;
  private recent: ChunkStart[] = [];
  private counter = 0;
  /** Floats of one copy: R·T weights, then R·T velocity with momentum. */
  private readonly weightFloats: number;

  constructor(private readonly ctx: GpuContext, private readonly mlp: MlpGpu) {
    this.weightFloats = mlp.replicas * mlp.layout.total;
    const floats = this.weightFloats * (mlp.hasMomentum ? 2 : 1);
    this.copies = Array.from({ length: SLOTS }, (_, i) => createStorage(ctx, `train.chunkStart${i}`, floats * 4));
  }

  /** Encodes the copy of the current weights (and velocity) as the start of a new chunk; returns its slot. */
  encodeSave(batch: GpuBatch): number {
    const slot = this.counter++ % SLOTS;
    this.copyState(batch, 'out', this.copies[slot]);
    return slot;
  }

  /** Remembers an encoded chunk (newest last). */
  remember(chunk: ChunkStart): void {
    this.recent = [...this.recent.slice(1 - SLOTS), chunk];
  }

  /**
   * Replica `replica`'s weights after step `target`, recomputed from the start of the chunk that
   * holds it with `plan` (whose indices buffer is `indices`). Every replica's weights and velocity
   * are as before afterwards.
   */
  async replay(plan: TrainStepPlan, indices: GPUBuffer, target: number, replica: number): Promise<Float32Array> {
    const chunk = [...this.recent].reverse().find((c) => c.firstStep <= target && target <= c.firstStep + c.steps);
    if (!chunk) throw new Error(`lastGoodParams: the chunk holding step ${target} is no longer kept (internal error)`);
    const { mlp } = this;
    const T = mlp.layout.total;
    const RB = mlp.replicas * plan.batchSize;
    this.scratch ??= createStorage(this.ctx, 'train.replayScratch', this.copies[0].size + T * 4);
    const batch = new GpuBatch(this.ctx, 'train.lastGood');
    this.copyState(batch, 'out', this.scratch);
    this.copyState(batch, 'in', this.copies[chunk.startSlot]);
    const steps = target - chunk.firstStep;
    // queue.writeBuffer is ordered after the chunks already submitted, which have read theirs.
    if (steps > 0) writeBuffer(this.ctx, indices, chunk.indices);
    for (let s = 0; s < steps; s++) plan.encodeStep(batch, s * RB, s, chunk.firstStep + s + 1);
    const tail = this.copies[0].size;
    batch.copy(mlp.params, replica * mlp.stride * 4, this.scratch, tail, T * 4);
    this.copyState(batch, 'in', this.scratch);
    batch.submit();
    return readF32(this.ctx, this.scratch, tail, T);
  }

  /** 'out': weights (and velocity) into `buf`; 'in': back from it. */
  private copyState(batch: GpuBatch, dir: 'in' | 'out', buf: GPUBuffer): void {
    const { mlp } = this;
    const bytes = this.weightFloats * 4;
    const pairs: [GPUBuffer, number][] = [[mlp.params, 0]];
    if (mlp.hasMomentum) pairs.push([mlp.velocity, bytes]);
    for (const [b, at] of pairs) {
      if (dir === 'out') batch.copy(b, 0, buf, at, bytes);
      else batch.copy(buf, at, b, 0, bytes);
    }
  }
}
