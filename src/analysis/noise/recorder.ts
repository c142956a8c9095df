/**
 * Records what the Feng–Tu analysis needs while training runs, as a Trainer hook
 * (TrainHooks.onStepEncoded), entirely on the GPU inside the training command buffers:
 *
 *  - the analysed layer's block (P floats) after EVERY step of the window, into a (T, P) trajectory
 *    buffer (a buffer copy per step). When the run's length is known (windowStart given), the
 *    window is steps windowStart + 1 … windowStart + T and row t is step windowStart + 1 + t. When
 *    it is not (a stop rule ends the run), every step is written into a ring of T rows — step s
 *    into row (s − 1) mod T — and the window is the last T steps, whenever training stops;
 *    readTrajectory and chronological() put the rows back in time order;
 *  - checkpoints of ALL weights every `checkpointEvery` steps up to totalSteps (the run's length,
 *    or its cap), at step 0, and — through finish() — at the step training actually ended.
 *
 * The recorder only ever reads the model's parameter buffer. In an ensemble (an MlpGpu with R
 * replicas) a recorder follows one replica (`replica`): its rows and checkpoints are that
 * replica's parameters; checkpoints load into an analysis model's buffer (encodeLoadCheckpoint's target).
 */
import type { GpuContext } from '../../gpu/device.ts';
import { GpuBatch } from '../../gpu/batch.ts';
import { createStorage, readF32, writeBuffer } from '../../gpu/buffers.ts';
import type { MlpGpu } from '../../nn/mlp-gpu.ts';
import type { LayerLayout } from '../../nn/params.ts';

export interface RecorderOptions {
  layer: number;
  /** Steps before the window; null: the run's length is not known in advance (ring mode). */
  windowStart: number | null;
  /** Steps in the window (rows of the trajectory). */
  T: number;
  /** Checkpoint every this many steps (0: none), up to totalSteps. */
  checkpointEvery: number;
  /** The run's length, or its cap when a stop rule may end it earlier. */
  totalSteps: number;
  /** The replica recorded, in an ensemble (default 0). */
  replica?: number;
}

/** What a checkpoint keeps of a recording (WindowRecorder.state / restore). */
export interface RecorderState {
  recorded: number;
  /** The last step recorded (0: none yet). */
  lastStep: number;
  /** The first `recorded` rows of the trajectory buffer (recorded × P): in a ring, rows in ring
   * order (step s in row (s − 1) mod T), the whole ring once it is full. */
  trajectory: Float32Array;
  /** Weight checkpoints taken so far (slots × all parameters). */
  checkpoints: Float32Array;
}

export class WindowRecorder {
  readonly L: LayerLayout;
  readonly P: number;
  readonly traj: GPUBuffer;
  readonly checkpoints: GPUBuffer | null;
  /** Step of each checkpoint slot (slot 0 = the initial weights). */
  readonly checkpointSteps: number[] = [];
  /** Rows recorded so far (at most T). */
  recorded = 0;
  /** The last step recorded into the trajectory (0: none yet). */
  lastStep = 0;

  /** Byte offset of the recorded replica's parameters in mlp.params. */
  private readonly from: number;

  private constructor(readonly ctx: GpuContext, readonly mlp: MlpGpu, readonly o: RecorderOptions, traj: GPUBuffer) {
    this.from = (o.replica ?? 0) * mlp.stride * 4;
    this.L = mlp.layout.layers[o.layer];
    this.P = this.L.size;
    this.traj = traj;
    if (o.checkpointEvery > 0) {
      for (let s = 0; s <= o.totalSteps; s += o.checkpointEvery) this.checkpointSteps.push(s);
      if (this.checkpointSteps.at(-1) !== o.totalSteps) this.checkpointSteps.push(o.totalSteps);
      // One spare slot: the step a stop rule ends the run at (finish()).
      const slots = this.checkpointSteps.length + (o.windowStart === null ? 1 : 0);
      this.checkpoints = createStorage(ctx, 'lab.checkpoints', slots * mlp.layout.total * 4);
    } else this.checkpoints = null;
  }

  static async create(ctx: GpuContext, mlp: MlpGpu, o: RecorderOptions): Promise<WindowRecorder> {
    const layers = mlp.layout.layers;
    if (!(Number.isInteger(o.layer) && o.layer >= 0 && o.layer < layers.length)) throw new Error(`recorder: layer must be in [0, ${layers.length - 1}], got ${o.layer}`);
    if (!(Number.isInteger(o.T) && o.T >= 3)) throw new Error(`recorder: the window needs at least 3 steps, got ${o.T}`);
    const r = o.replica ?? 0;
    if (!(Number.isInteger(r) && r >= 0 && r < mlp.replicas)) throw new Error(`recorder: replica must be in [0, ${mlp.replicas - 1}], got ${r}`);
    if (o.T > o.totalSteps) throw new Error(`recorder: a window of ${o.T} steps is longer than the ${o.totalSteps} training steps`);
    if (o.windowStart !== null && o.windowStart + o.T > o.totalSteps) {
      throw new Error(`recorder: window ${o.windowStart + 1}…${o.windowStart + o.T} extends past the ${o.totalSteps} training steps`);
    }
    const P = layers[o.layer].size;
    const bytes = o.T * P * 4;
    if (bytes > ctx.device.limits.maxStorageBufferBindingSize) {
      throw new Error(`recorder: a ${o.T}×${P} trajectory (${(bytes / 2 ** 20).toFixed(0)} MiB) exceeds maxStorageBufferBindingSize; shorten the window`);
    }
    return new WindowRecorder(ctx, mlp, o, createStorage(ctx, 'lab.trajectory', bytes));
  }

  get ring(): boolean {
    return this.o.windowStart === null;
  }

  /** Copies the current (initial) weights into checkpoint slot 0; call before training. */
  recordInitial(): void {
    if (!this.checkpoints) return;
    const batch = new GpuBatch(this.ctx, 'lab.checkpoint0');
    batch.copy(this.mlp.params, this.from, this.checkpoints, 0, this.mlp.layout.total * 4);
    batch.submit();
  }

  /** The TrainHooks.onStepEncoded hook. */
  onStepEncoded(batch: GpuBatch, step: number): void {
    const { o, P } = this;
    const row = o.windowStart === null ? (step - 1) % o.T : step - o.windowStart - 1;
    if (row >= 0 && row < o.T) {
      batch.copy(this.mlp.params, this.from + this.L.offset * 4, this.traj, row * P * 4, P * 4);
      this.recorded = Math.min(o.T, o.windowStart === null ? step : row + 1);
      this.lastStep = step;
    }
    if (this.checkpoints && o.checkpointEvery > 0) {
      const slot = this.checkpointSteps.indexOf(step);
      if (slot > 0) {
        const total = this.mlp.layout.total;
        batch.copy(this.mlp.params, this.from, this.checkpoints, slot * total * 4, total * 4);
      }
    }
  }

  /**
   * The recording after `step` training steps, for a checkpoint (no chunk in flight): the rows
   * recorded so far (their buffer rows, ring or not) and the weight checkpoints taken up to `step`.
   * The scatter matrix is computed after training from the trajectory, so it needs no state.
   */
  async state(step: number): Promise<RecorderState> {
    const total = this.mlp.layout.total;
    const slots = this.checkpoints ? this.checkpointSteps.filter((s) => s <= step).length : 0;
    return {
      recorded: this.recorded,
      lastStep: this.lastStep,
      trajectory: this.recorded > 0 ? await readF32(this.ctx, this.traj, 0, this.recorded * this.P) : new Float32Array(0),
      checkpoints: slots > 0 ? await readF32(this.ctx, this.checkpoints!, 0, slots * total) : new Float32Array(0),
    };
  }

  /** Continues a recording from state() (on a fresh recorder of the same options, before training resumes). */
  restore(st: RecorderState): void {
    const { o, P } = this;
    const total = this.mlp.layout.total;
    const ok = Number.isInteger(st.recorded) && st.recorded >= 0 && st.recorded <= o.T && Number.isInteger(st.lastStep) && st.lastStep >= st.recorded && st.lastStep <= o.totalSteps;
    if (!ok || st.trajectory.length !== st.recorded * P || st.checkpoints.length % total !== 0 || st.checkpoints.length / total > this.checkpointSteps.length) {
      throw new Error(`recorder.restore: state of ${st.recorded} rows (${st.trajectory.length} floats, last step ${st.lastStep}) and ${st.checkpoints.length} checkpoint floats does not fit a window of ${o.T} × ${P}`);
    }
    if (st.recorded > 0) writeBuffer(this.ctx, this.traj, st.trajectory);
    if (st.checkpoints.length > 0) writeBuffer(this.ctx, this.checkpoints!, st.checkpoints);
    this.recorded = st.recorded;
    this.lastStep = st.lastStep;
  }

  get complete(): boolean {
    return this.recorded === this.o.T;
  }

  /** Steps of the recorded window (after training). */
  get window(): { firstStep: number; lastStep: number } {
    return { firstStep: this.lastStep - this.recorded + 1, lastStep: this.lastStep };
  }

  /**
   * After training ended at `finalStep` (with the final weights in the model): drops the planned
   * checkpoints past it and, if it is not one of them, checkpoints it into the spare slot.
   */
  finish(finalStep: number): void {
    if (!this.checkpoints) return;
    while (this.checkpointSteps.length > 1 && this.checkpointSteps.at(-1)! > finalStep) this.checkpointSteps.pop();
    if (this.checkpointSteps.at(-1) === finalStep) return;
    const total = this.mlp.layout.total;
    const slot = this.checkpointSteps.length;
    if ((slot + 1) * total * 4 > this.checkpoints.size) throw new Error(`recorder: no checkpoint slot left for step ${finalStep}`);
    const batch = new GpuBatch(this.ctx, 'lab.checkpointFinal');
    batch.copy(this.mlp.params, this.from, this.checkpoints, slot * total * 4, total * 4);
    batch.submit();
    this.checkpointSteps.push(finalStep);
  }

  /** Rows of the ring in time order: the oldest row first (0 when the ring has not wrapped). */
  private get oldestRow(): number {
    return this.ring && this.lastStep > this.o.T ? this.lastStep % this.o.T : 0;
  }

  /** The window, rows in time order. */
  async readTrajectory(): Promise<Float32Array> {
    const { P } = this;
    const raw = await readF32(this.ctx, this.traj, 0, this.o.T * P);
    const first = this.oldestRow;
    if (first === 0) return raw;
    const out = new Float32Array(raw.length);
    out.set(raw.subarray(first * P), 0);
    out.set(raw.subarray(0, first * P), (this.o.T - first) * P);
    return out;
  }

  /** The window on the GPU with rows in time order (the trajectory itself, or a reordered copy). */
  chronological(): GPUBuffer {
    const first = this.oldestRow;
    if (first === 0) return this.traj;
    const { P, o } = this;
    const out = createStorage(this.ctx, 'lab.trajectory.chronological', o.T * P * 4);
    const batch = new GpuBatch(this.ctx, 'lab.trajectory.reorder');
    batch.copy(this.traj, first * P * 4, out, 0, (o.T - first) * P * 4);
    batch.copy(this.traj, 0, out, (o.T - first) * P * 4, first * P * 4);
    batch.submit();
    return out;
  }

  async readCheckpoint(slot: number): Promise<Float32Array> {
    if (!this.checkpoints) throw new Error('recorder: no checkpoints were recorded');
    const total = this.mlp.layout.total;
    return readF32(this.ctx, this.checkpoints, slot * total * 4, total);
  }

  /** Copies checkpoint `slot` into `target` (an analysis model's parameter buffer; default: the recorded model's, a single network's). */
  encodeLoadCheckpoint(batch: GpuBatch, slot: number, target: GPUBuffer = this.mlp.params): void {
    if (!this.checkpoints) throw new Error('recorder: no checkpoints were recorded');
    if (target === this.mlp.params && this.from !== 0) throw new Error("recorder: a replica's checkpoint loads into an analysis model, not the ensemble");
    const total = this.mlp.layout.total;
    batch.copy(this.checkpoints, slot * total * 4, target, 0, total * 4);
  }
}
