/**
 * Full-dataset evaluation (mean loss, accuracy) on the GPU in chunks: each chunk is a forward pass
 * over an aligned slice of the dataset buffer plus the loss-only softmax-CE, which writes the
 * chunk's [loss sum, correct count] to its own metrics slot. One read-back for the whole set.
 * Every replica of the model is evaluated by the same dispatches (all read the one dataset; slot
 * c of replica r at 2·(c·R + r)).
 */
import type { GpuBatch } from '../gpu/batch.ts';
import { createStorage, readF32 } from '../gpu/buffers.ts';
import type { MlpGpu, ActivationBuffers, ForwardPlan } from '../nn/mlp-gpu.ts';
import type { GpuDataset } from './gpu-dataset.ts';

export interface EvalResult {
  loss: number;
  accuracy: number;
  n: number;
}

/** Rows per chunk: a multiple of 64 keeps every slice 256-byte aligned for any feature count. */
export const EVAL_CHUNK = 512;

/**
 * Needs `await mlp.prepare(Evaluator.rowsFor(data.n), false)` before construction.
 */
export class Evaluator {
  static rowsFor(n: number, chunk = EVAL_CHUNK): number {
    return Math.min(chunk, n);
  }

  private readonly acts: ActivationBuffers;
  private readonly metrics: GPUBuffer;
  private readonly chunks: { start: number; rows: number; forward: ForwardPlan; ce: GPUBindGroup }[] = [];

  constructor(readonly mlp: MlpGpu, readonly data: GpuDataset, readonly chunk = EVAL_CHUNK) {
    if (chunk % 64 !== 0) throw new Error(`Evaluator: chunk must be a multiple of 64 rows, got ${chunk}`);
    if (data.d !== mlp.inputs) throw new Error(`Evaluator: ${data.label} has ${data.d} features, the model expects ${mlp.inputs}`);
    const rows = Math.min(chunk, data.n);
    this.acts = mlp.allocActivations(rows, false, `${data.label}.eval`);
    const nChunks = Math.ceil(data.n / chunk);
    this.metrics = createStorage(mlp.ctx, `${data.label}.eval.metrics`, 2 * nChunks * mlp.replicas * 4);
    const last = mlp.layout.layers.length - 1;
    // The loss-only softmax-CE never writes dz, but the binding exists: give it a stub buffer.
    const unusedDz = createStorage(mlp.ctx, `${data.label}.eval.dzUnused`, 16);
    for (let c = 0; c < nChunks; c++) {
      const start = c * chunk;
      const r = Math.min(chunk, data.n - start);
      const x = { buffer: data.x, offset: start * data.d * 4, size: r * data.d * 4 };
      const y = { buffer: data.y, offset: start * 4, size: r * 4 };
      this.chunks.push({
        start,
        rows: r,
        forward: mlp.forwardPlan(x, this.acts, `${data.label}.eval.chunk${c}`),
        ce: mlp.ceEval.bind({ z: this.acts.outs[last], y, dz: unusedDz, losses: this.acts.losses, metrics: this.metrics }, `${data.label}.eval.ce${c}`),
      });
    }
  }

  encode(batch: GpuBatch): void {
    this.chunks.forEach((c, i) => {
      this.mlp.encodeForward(batch, c.forward, c.rows);
      this.mlp.ceEval.encode(batch, c.ce, { rows: c.rows, classes: this.mlp.classes, gradScale: 0, slot: i, replicas: this.mlp.replicas, yStride: 0, blockRows: this.acts.rows });
    });
  }

  /** Floats of per-chunk metrics ([loss sum, correct] per chunk and replica). */
  get metricsFloats(): number {
    return 2 * this.chunks.length * this.mlp.replicas;
  }

  /** Copies the metrics of the last encode into `dst` at byte `offset`, in the same batch. */
  encodeCopyOut(batch: GpuBatch, dst: GPUBuffer, offset: number): void {
    batch.copy(this.metrics, 0, dst, offset, this.metricsFloats * 4);
  }

  /** Mean loss and accuracy of replica `replica` from the per-chunk metrics. */
  reduce(m: Float32Array, replica = 0): EvalResult {
    const R = this.mlp.replicas;
    let loss = 0;
    let correct = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      loss += m[2 * (i * R + replica)];
      correct += m[2 * (i * R + replica) + 1];
    }
    return { loss: loss / this.data.n, accuracy: correct / this.data.n, n: this.data.n };
  }

  /** Every replica's result, replica order. */
  reduceAll(m: Float32Array): EvalResult[] {
    return Array.from({ length: this.mlp.replicas }, (_, r) => this.reduce(m, r));
  }

  /** Reads the metrics written by the last encode (after its batch was submitted): replica 0's result. */
  async read(expectedMs = 0): Promise<EvalResult> {
    return (await this.readAll(expectedMs))[0];
  }

  async readAll(expectedMs = 0): Promise<EvalResult[]> {
    return this.reduceAll(await readF32(this.mlp.ctx, this.metrics, 0, this.metricsFloats, expectedMs));
  }
}
