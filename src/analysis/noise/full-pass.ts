/**
 * One forward + backward pass of the MLP over a WHOLE dataset on the GPU, keeping per-sample
 * quantities: the input a (M, K) of a chosen layer l and the per-sample output gradient
 * δ (M, N) = dl_n/dz_n of that layer (softmax − onehot backpropagated without the 1/M), from which
 * shaders/per_sample_grad.wgsl forms or projects per-sample gradients. The mean loss comes out too.
 *
 * Uses the model's own parameter buffer (mlp.params): load the weights to analyse there first.
 * Rows are processed in one go (M up to ~10⁵ fits every buffer here: activations are M·width).
 */
import type { GpuContext } from '../../gpu/device.ts';
import { GpuBatch } from '../../gpu/batch.ts';
import type { BufferResource } from '../../gpu/kernel.ts';
import { createStorage, readF32 } from '../../gpu/buffers.ts';
import type { ActivationBuffers, ForwardPlan, MlpGpu } from '../../nn/mlp-gpu.ts';
import type { DenseGradInput } from '../../kernels/dense_backward.ts';
import type { LayerLayout } from '../../nn/params.ts';
import type { GpuDataset } from '../../train/gpu-dataset.ts';
import { PerSampleProject, layerBlockSize } from '../../kernels/per_sample_grad.ts';

export class FullSetPass {
  readonly acts: ActivationBuffers;
  readonly metrics: GPUBuffer;
  readonly L: LayerLayout;
  /** Parameters of the analysed layer's block, (K + bias)·N. */
  readonly P: number;
  private readonly forward: ForwardPlan;
  private readonly ceBg: GPUBindGroup;
  private readonly gradInput: { kernel: DenseGradInput; bg: GPUBindGroup }[];

  /** Compiles the dense kernels for M rows (mlp.prepare) and binds the pass. */
  static async create(mlp: MlpGpu, data: GpuDataset, layer: number, label = 'lab.full'): Promise<FullSetPass> {
    const layers = mlp.layout.layers;
    if (!(Number.isInteger(layer) && layer >= 0 && layer < layers.length)) {
      throw new Error(`FullSetPass: layer must be an integer in [0, ${layers.length - 1}], got ${layer}`);
    }
    await mlp.prepare(data.n, true);
    return new FullSetPass(mlp, data, layer, label);
  }

  private constructor(readonly mlp: MlpGpu, readonly data: GpuDataset, readonly layer: number, label: string) {
    const layers = mlp.layout.layers;
    this.L = layers[layer];
    this.P = layerBlockSize(this.L.fanIn, this.L.fanOut, mlp.config.bias);
    const M = data.n;
    this.acts = mlp.allocActivations(M, true, label);
    this.metrics = createStorage(mlp.ctx, `${label}.metrics`, 16);
    this.forward = mlp.forwardPlan(data.x, this.acts, label);
    const last = layers.length - 1;
    this.ceBg = mlp.ceTrain.bind({ z: this.acts.outs[last], y: data.y, dz: this.acts.dz[last], losses: this.acts.losses, metrics: this.metrics }, `${label}.ce`);
    this.gradInput = [];
    for (let j = last; j > layer; j--) {
      const Lj = layers[j];
      const kernel = mlp.gradInputKernel(j, M);
      const bg = kernel.bind({ x: this.acts.outs[j - 1], w: mlp.layerRange(mlp.params, Lj), dz: this.acts.dz[j], dx: this.acts.dz[j - 1] }, `${label}.gradInput${j}`);
      this.gradInput.push({ kernel, bg });
    }
  }

  get rows(): number {
    return this.data.n;
  }

  /** Input of the analysed layer, (M, K). */
  get a(): BufferResource {
    return this.layer === 0 ? this.data.x : this.acts.outs[this.layer - 1];
  }

  /** Per-sample dl/dz of the analysed layer, (M, N) (valid after encodeBackward). */
  get delta(): GPUBuffer {
    return this.acts.dz[this.layer];
  }

  encodeForward(batch: GpuBatch): void {
    this.mlp.encodeForward(batch, this.forward, this.rows);
  }

  /** Forward, per-sample softmax-CE gradient (scale 1), backward down to the analysed layer. */
  encodeBackward(batch: GpuBatch): void {
    const { mlp } = this;
    const layers = mlp.layout.layers;
    const M = this.rows;
    this.encodeForward(batch);
    mlp.ceTrain.encode(batch, this.ceBg, { rows: M, classes: mlp.classes, gradScale: 1, slot: 0 });
    let i = 0;
    for (let j = layers.length - 1; j > this.layer; j--) {
      const Lj = layers[j];
      const g = this.gradInput[i++];
      g.kernel.encode(batch, g.bg, { m: M, k: Lj.fanIn, n: Lj.fanOut });
    }
  }

  /** Mean loss of the last encodeBackward (after its batch was submitted). */
  async readLoss(): Promise<number> {
    const m = await readF32(this.mlp.ctx, this.metrics, 0, 2);
    return m[0] / this.rows;
  }
}

/**
 * Per-sample gradient projections S[n, j] = ∇l_n·v_j over the whole dataset at the current
 * weights, for J directions v_j in the analysed layer (row-major (J, P), layer layout).
 */
export class PerSampleProjector {
  readonly v: GPUBuffer;
  readonly s: GPUBuffer;
  private readonly bg: GPUBindGroup;

  private constructor(readonly pass: FullSetPass, readonly kernel: PerSampleProject, readonly J: number) {
    const ctx = pass.mlp.ctx;
    this.v = createStorage(ctx, 'lab.project.v', J * pass.P * 4);
    this.s = createStorage(ctx, 'lab.project.s', pass.rows * J * 4);
    this.bg = kernel.bind({ a: pass.a, delta: pass.delta, v: this.v, s: this.s });
  }

  static async create(pass: FullSetPass, J: number): Promise<PerSampleProjector> {
    const kernel = await PerSampleProject.create(pass.mlp.ctx, { bias: pass.mlp.config.bias, shape: { m: pass.rows, j: J } });
    return new PerSampleProjector(pass, kernel, J);
  }

  setDirections(dirs: ArrayLike<number>): void {
    const P = this.pass.P;
    if (dirs.length !== this.J * P) throw new Error(`PerSampleProjector: directions must be J·P = ${this.J}·${P} values, got ${dirs.length}`);
    const ctx: GpuContext = this.pass.mlp.ctx;
    ctx.device.queue.writeBuffer(this.v, 0, Float32Array.from(dirs));
  }

  /** Full pass + projections; returns S (M, J) row-major and the mean loss. */
  async run(): Promise<{ s: Float32Array; loss: number }> {
    const { pass } = this;
    const batch = new GpuBatch(pass.mlp.ctx, 'lab.project');
    pass.encodeBackward(batch);
    this.kernel.encode(batch, this.bg, { m: pass.rows, k: pass.L.fanIn, n: pass.L.fanOut, j: this.J });
    batch.submit();
    const loss = await pass.readLoss();
    const s = await readF32(pass.mlp.ctx, this.s, 0, pass.rows * this.J);
    return { s, loss };
  }
}
