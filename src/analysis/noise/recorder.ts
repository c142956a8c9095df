/**
 * Records what the Feng–Tu analysis needs while training runs, as a Trainer hook
 * (TrainHooks.onStepEncoded), entirely on the GPU inside the training command buffers:
 *
 *  - the analysed layer's block (P floats) after EVERY step of the window, into a (T, P) trajectory
 *    buffer (a buffer copy per step);
 *  - the scatter matrix of the window, merged every `scatterBlock` recorded steps (gpu-scatter.ts,
 *    centred on the window's first snapshot, Chan-merged blocks), when P is small enough for P×P;
 *  - checkpoints of ALL weights every `checkpointEvery` steps (and at step 0), for T_i(t) and L(t).
 *
 * The window is steps windowStart + 1 … windowStart + T (w_t after the update of step t).
 */
import type { GpuContext } from '../../gpu/device.ts';
import { GpuBatch } from '../../gpu/batch.ts';
import { createStorage, readF32, writeBuffer } from '../../gpu/buffers.ts';
import type { MlpGpu } from '../../nn/mlp-gpu.ts';
import type { LayerLayout } from '../../nn/params.ts';
import { GpuScatter } from './gpu-scatter.ts';

export interface RecorderOptions {
  layer: number;
  /** Steps before the window. */
  windowStart: number;
  /** Steps in the window (rows of the trajectory). */
  T: number;
  /** Rows per scatter block; 0: no scatter accumulation (trajectory route). */
  scatterBlock: number;
  /** Checkpoint every this many steps (0: none), up to totalSteps. */
  checkpointEvery: number;
  totalSteps: number;
}

/** What a checkpoint keeps of a recording (WindowRecorder.state / restore). */
export interface RecorderState {
  recorded: number;
  /** Rows merged into the scatter matrix (a multiple of scatterBlock, or T). */
  blockStart: number;
  /** The first `recorded` rows of the trajectory (recorded × P). */
  trajectory: Float32Array;
  /** Weight checkpoints taken so far (slots × all parameters). */
  checkpoints: Float32Array;
}

export class WindowRecorder {
  readonly L: LayerLayout;
  readonly P: number;
  readonly traj: GPUBuffer;
  readonly scatter: GpuScatter | null;
  readonly checkpoints: GPUBuffer | null;
  /** Step of each checkpoint slot (0 = the initial weights). */
  readonly checkpointSteps: number[] = [];
  /** Rows recorded so far. */
  recorded = 0;
  private blockStart = 0;

  private constructor(readonly ctx: GpuContext, readonly mlp: MlpGpu, readonly o: RecorderOptions, scatter: GpuScatter | null, traj: GPUBuffer) {
    this.L = mlp.layout.layers[o.layer];
    this.P = this.L.size;
    this.traj = traj;
    this.scatter = scatter;
    if (o.checkpointEvery > 0) {
      for (let s = 0; s <= o.totalSteps; s += o.checkpointEvery) this.checkpointSteps.push(s);
      if (this.checkpointSteps.at(-1) !== o.totalSteps) this.checkpointSteps.push(o.totalSteps);
      this.checkpoints = createStorage(ctx, 'lab.checkpoints', this.checkpointSteps.length * mlp.layout.total * 4);
    } else this.checkpoints = null;
  }

  static async create(ctx: GpuContext, mlp: MlpGpu, o: RecorderOptions): Promise<WindowRecorder> {
    const layers = mlp.layout.layers;
    if (!(Number.isInteger(o.layer) && o.layer >= 0 && o.layer < layers.length)) throw new Error(`recorder: layer must be in [0, ${layers.length - 1}], got ${o.layer}`);
    if (!(Number.isInteger(o.T) && o.T >= 3)) throw new Error(`recorder: the window needs at least 3 steps, got ${o.T}`);
    if (o.windowStart + o.T > o.totalSteps) throw new Error(`recorder: window ${o.windowStart + 1}…${o.windowStart + o.T} extends past the ${o.totalSteps} training steps`);
    const P = layers[o.layer].size;
    const bytes = o.T * P * 4;
    if (bytes > ctx.device.limits.maxStorageBufferBindingSize) {
      throw new Error(`recorder: a ${o.T}×${P} trajectory (${(bytes / 2 ** 20).toFixed(0)} MiB) exceeds maxStorageBufferBindingSize; shorten the window`);
    }
    const traj = createStorage(ctx, 'lab.trajectory', bytes);
    const scatter = o.scatterBlock > 0 ? await GpuScatter.create(ctx, traj, { buffer: traj, offset: 0, size: P * 4 }, P, o.scatterBlock, 'lab.scatter') : null;
    return new WindowRecorder(ctx, mlp, o, scatter, traj);
  }

  /** Copies the current (initial) weights into checkpoint slot 0; call before training. */
  recordInitial(): void {
    if (!this.checkpoints) return;
    const batch = new GpuBatch(this.ctx, 'lab.checkpoint0');
    batch.copy(this.mlp.params, 0, this.checkpoints, 0, this.mlp.layout.total * 4);
    batch.submit();
  }

  /** The TrainHooks.onStepEncoded hook. */
  onStepEncoded(batch: GpuBatch, step: number): void {
    const { o, P } = this;
    const t = step - o.windowStart - 1;
    if (t >= 0 && t < o.T) {
      batch.copy(this.mlp.params, this.L.offset * 4, this.traj, t * P * 4, P * 4);
      this.recorded = t + 1;
      if (this.scatter) {
        const rows = t + 1 - this.blockStart;
        if (rows === o.scatterBlock || t + 1 === o.T) {
          this.scatter.encodeBlock(batch, this.blockStart, rows);
          this.blockStart = t + 1;
        }
      }
    }
    if (this.checkpoints && o.checkpointEvery > 0) {
      const slot = this.checkpointSteps.indexOf(step);
      if (slot > 0) {
        const total = this.mlp.layout.total;
        batch.copy(this.mlp.params, 0, this.checkpoints, slot * total * 4, total * 4);
      }
    }
  }

  /**
   * The recording after `step` training steps, for a checkpoint (no chunk in flight): the rows
   * recorded so far, how many of them the scatter matrix has merged, and the weight checkpoints
   * taken up to `step`. The scatter matrix itself is not stored: restore() merges the same rows in
   * the same blocks again, which gives it back bit for bit.
   */
  async state(step: number): Promise<RecorderState> {
    const total = this.mlp.layout.total;
    const slots = this.checkpoints ? this.checkpointSteps.filter((s) => s <= step).length : 0;
    return {
      recorded: this.recorded,
      blockStart: this.blockStart,
      trajectory: this.recorded > 0 ? await readF32(this.ctx, this.traj, 0, this.recorded * this.P) : new Float32Array(0),
      checkpoints: slots > 0 ? await readF32(this.ctx, this.checkpoints!, 0, slots * total) : new Float32Array(0),
    };
  }

  /** Continues a recording from state() (on a fresh recorder of the same options, before training resumes). */
  restore(st: RecorderState): void {
    const { o, P } = this;
    const total = this.mlp.layout.total;
    const ok = Number.isInteger(st.recorded) && st.recorded >= 0 && st.recorded <= o.T && Number.isInteger(st.blockStart) && st.blockStart >= 0 && st.blockStart <= st.recorded;
    if (!ok || st.trajectory.length !== st.recorded * P || st.checkpoints.length % total !== 0 || st.checkpoints.length / total > this.checkpointSteps.length) {
      throw new Error(`recorder.restore: state of ${st.recorded} rows (${st.trajectory.length} floats, block at ${st.blockStart}) and ${st.checkpoints.length} checkpoint floats does not fit a window of ${o.T} × ${P}`);
    }
    if (st.recorded > 0) writeBuffer(this.ctx, this.traj, st.trajectory);
    if (st.checkpoints.length > 0) writeBuffer(this.ctx, this.checkpoints!, st.checkpoints);
    this.recorded = st.recorded;
    if (this.scatter && st.blockStart > 0) {
      const batch = new GpuBatch(this.ctx, 'lab.scatter.restore');
      for (let row = 0; row < st.blockStart; row += o.scatterBlock) this.scatter.encodeBlock(batch, row, Math.min(o.scatterBlock, st.blockStart - row));
      batch.submit();
    }
    this.blockStart = st.blockStart;
  }

  get complete(): boolean {
    return this.recorded === this.o.T;
  }

  async readTrajectory(): Promise<Float32Array> {
    return readF32(this.ctx, this.traj, 0, this.o.T * this.P);
  }

  async readCheckpoint(slot: number): Promise<Float32Array> {
    if (!this.checkpoints) throw new Error('recorder: no checkpoints were recorded');
    const total = this.mlp.layout.total;
    return readF32(this.ctx, this.checkpoints, slot * total * 4, total);
  }

  /** Copies checkpoint `slot` into the model's parameter buffer (in `batch`). */
  encodeLoadCheckpoint(batch: GpuBatch, slot: number): void {
    if (!this.checkpoints) throw new Error('recorder: no checkpoints were recorded');
    const total = this.mlp.layout.total;
    batch.copy(this.checkpoints, slot * total * 4, this.mlp.params, 0, total * 4);
  }
}
