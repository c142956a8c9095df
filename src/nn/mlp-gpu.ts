/**
 * The MLP on the GPU: parameters, gradients and velocity in flat buffers (src/nn/params.ts), one
 * compiled pipeline per kernel variant, and "plans" — the bind groups of a fixed sequence of
 * dispatches — built once so that encoding a step is only setPipeline/setBindGroup/dispatch.
 *
 * One SGD step (3-layer seed network) is 11 dispatches in one compute pass:
 *   gather → forward ×3 → softmax-CE (loss, accuracy into metrics[slot], dz) →
 *   grad_weight ×3 and grad_input ×2 (act' fused) → one SGD update over all parameters.
 */
import type { GpuContext } from '../gpu/device.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import type { BufferResource } from '../gpu/kernel.ts';
import { createStorage, readF32, writeBuffer } from '../gpu/buffers.ts';
import { DenseForward } from '../kernels/dense_forward.ts';
import { DenseGradInput, DenseGradWeight } from '../kernels/dense_backward.ts';
import { chooseDenseTiles, tileKey } from '../kernels/dense_tiles.ts';
import { SoftmaxCe } from '../kernels/softmax_ce.ts';
import { Sgd } from '../kernels/sgd.ts';
import { Gather } from '../kernels/gather.ts';
import { Dropout } from '../kernels/dropout.ts';
import { validateMlpConfig, type MlpConfig } from './config.ts';
import { paramLayout, type LayerLayout, type ParamLayout } from './params.ts';

export interface SgdHyper {
  lr: number;
  weightDecay: number;
  momentum: number;
}

/** Buffers holding one batch of activations and their gradients, for `rows` samples. */
export interface ActivationBuffers {
  rows: number;
  /** outs[l]: output of layer l, (rows, widths[l+1]); the last is the logits. */
  outs: GPUBuffer[];
  /** dz[l]: dL/dZ of layer l, (rows, widths[l+1]). Training only. */
  dz: GPUBuffer[];
  losses: GPUBuffer;
}

export interface ForwardPlan {
  kernels: DenseForward[];
  bindGroups: GPUBindGroup[];
}

export class MlpGpu {
  readonly layout: ParamLayout;
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly velocity: GPUBuffer;
  // Dense kernels are compiled per register-tile shape, which depends on the batch rows: one
  // instance per (layer, rows) is looked up by key after prepare(rows).
  private readonly forwardKernels = new Map<string, DenseForward>();
  private readonly gradWeightKernels = new Map<string, DenseGradWeight>();
  private readonly gradInputKernels = new Map<string, DenseGradInput>();

  private constructor(
    readonly ctx: GpuContext,
    readonly config: MlpConfig,
    readonly ceTrain: SoftmaxCe,
    readonly ceEval: SoftmaxCe,
    readonly sgd: Sgd,
    readonly gather: Gather,
    readonly hasMomentum: boolean,
    /** The dropout kernels, when created with { dropout: true } (TrainStepPlan's dropout option). */
    readonly dropout: Dropout | null = null,
  ) {
    this.layout = paramLayout(config);
    const bytes = this.layout.total * 4;
    this.params = createStorage(ctx, 'mlp.params', bytes);
    this.grads = createStorage(ctx, 'mlp.grads', bytes);
    this.velocity = createStorage(ctx, 'mlp.velocity', hasMomentum ? bytes : 16);
  }

  static async create(ctx: GpuContext, config: MlpConfig, opts: { momentum: boolean; dropout?: boolean }): Promise<MlpGpu> {
    validateMlpConfig(config);
    const [ceTrain, ceEval, sgd, gather, dropout] = await Promise.all([
      SoftmaxCe.create(ctx, { writeGrad: true }),
      SoftmaxCe.create(ctx, { writeGrad: false }),
      Sgd.create(ctx, { momentum: opts.momentum }),
      Gather.create(ctx),
      opts.dropout ? Dropout.create(ctx) : Promise.resolve(null),
    ]);
    return new MlpGpu(ctx, config, ceTrain, ceEval, sgd, gather, opts.momentum, dropout);
  }

  private act(l: number): 'identity' | MlpConfig['activation'] {
    return l === this.layout.layers.length - 1 ? 'identity' : this.config.activation;
  }

  private key(op: 'forward' | 'grad_weight' | 'grad_input', l: number, rows: number): string {
    const L = this.layout.layers[l];
    return `${l}.${tileKey(chooseDenseTiles(op, rows, L.fanIn, L.fanOut, this.config.bias))}`;
  }

  /** Compiles the dense kernels for batches of `rows` (forward; with `training`, also backward). */
  async prepare(rows: number, training: boolean): Promise<void> {
    const jobs: Promise<void>[] = [];
    this.layout.layers.forEach((L, l) => {
      const shape = { m: rows, k: L.fanIn, n: L.fanOut };
      const fk = this.key('forward', l, rows);
      if (!this.forwardKernels.has(fk)) {
        jobs.push(DenseForward.create(this.ctx, { act: this.act(l), bias: this.config.bias, shape }).then((k) => void this.forwardKernels.set(fk, k)));
      }
      if (!training) return;
      const wk = this.key('grad_weight', l, rows);
      if (!this.gradWeightKernels.has(wk)) {
        jobs.push(DenseGradWeight.create(this.ctx, { bias: this.config.bias, shape }).then((k) => void this.gradWeightKernels.set(wk, k)));
      }
      const ik = this.key('grad_input', l, rows);
      if (l > 0 && !this.gradInputKernels.has(ik)) {
        jobs.push(DenseGradInput.create(this.ctx, { prevAct: this.config.activation, shape }).then((k) => void this.gradInputKernels.set(ik, k)));
      }
    });
    await Promise.all(jobs);
  }

  private lookup<T>(map: Map<string, T>, op: 'forward' | 'grad_weight' | 'grad_input', l: number, rows: number): T {
    const k = map.get(this.key(op, l, rows));
    if (!k) throw new Error(`MlpGpu: ${op} kernel of layer ${l} for ${rows} rows not compiled; await mlp.prepare(${rows}, ${op !== 'forward'}) first`);
    return k;
  }

  forwardKernel(l: number, rows: number): DenseForward {
    return this.lookup(this.forwardKernels, 'forward', l, rows);
  }

  gradWeightKernel(l: number, rows: number): DenseGradWeight {
    return this.lookup(this.gradWeightKernels, 'grad_weight', l, rows);
  }

  gradInputKernel(l: number, rows: number): DenseGradInput {
    return this.lookup(this.gradInputKernels, 'grad_input', l, rows);
  }

  get inputs(): number {
    return this.config.widths[0];
  }

  get classes(): number {
    return this.config.widths[this.config.widths.length - 1];
  }

  /** A layer's block of a flat buffer (params, grads) as a binding. */
  layerRange(buffer: GPUBuffer, L: LayerLayout): GPUBufferBinding {
    return { buffer, offset: L.offset * 4, size: L.size * 4 };
  }

  uploadParams(flat: Float32Array): void {
    if (flat.length !== this.layout.total) {
      throw new Error(`uploadParams: expected ${this.layout.total} floats (flat layout), got ${flat.length}`);
    }
    writeBuffer(this.ctx, this.params, flat);
    if (this.hasMomentum) writeBuffer(this.ctx, this.velocity, new Float32Array(this.layout.total));
  }

  async readParams(expectedMs = 0): Promise<Float32Array> {
    return readF32(this.ctx, this.params, 0, this.layout.total, expectedMs);
  }

  allocActivations(rows: number, training: boolean, label: string): ActivationBuffers {
    const outs: GPUBuffer[] = [];
    const dz: GPUBuffer[] = [];
    for (const L of this.layout.layers) {
      outs.push(createStorage(this.ctx, `${label}.out${L.index}`, rows * L.fanOut * 4));
      if (training) dz.push(createStorage(this.ctx, `${label}.dz${L.index}`, rows * L.fanOut * 4));
    }
    return { rows, outs, dz, losses: createStorage(this.ctx, `${label}.losses`, rows * 4) };
  }

  /**
   * The forward pass reading `input` (rows ≤ acts.rows, widths[0]) into `acts`: its kernels are
   * chosen for acts.rows, so a shorter last chunk reuses the same plan.
   */
  forwardPlan(input: BufferResource, acts: ActivationBuffers, label: string): ForwardPlan {
    const kernels = this.layout.layers.map((_, l) => this.forwardKernel(l, acts.rows));
    const bindGroups = this.layout.layers.map((L, l) =>
      kernels[l].bind({ x: l === 0 ? input : acts.outs[l - 1], w: this.layerRange(this.params, L), y: acts.outs[l] }, `${label}.forward${l}`),
    );
    return { kernels, bindGroups };
  }

  encodeForward(batch: GpuBatch, plan: ForwardPlan, rows: number): void {
    this.layout.layers.forEach((L, l) => plan.kernels[l].encode(batch, plan.bindGroups[l], { m: rows, k: L.fanIn, n: L.fanOut }));
  }
}

/** Inverted dropout on every hidden activation during training (src/kernels/dropout.ts). */
export interface DropoutSetting {
  /** Drop probability p of each hidden unit, per sample and step. */
  rate: number;
  /** Key of the mask stream (the run's seed): masks are a pure function of (seed, layer, step, unit). */
  seed: number;
}

/**
 * Everything one training step binds, for a batch of B rows gathered from a dataset on the GPU.
 * `metrics` receives [loss sum, correct] of each step at 2·slot. Needs `await mlp.prepare(B, true)`.
 *
 * With `dropout` (rate > 0; the MlpGpu must be created with { dropout: true }), hidden layer l
 * writes act(z) to acts.outs[l] as usual, then the dropout kernel writes y = act(z) ⊙ mask to
 * dropped[l] and the mask to masks[l]; layer l+1 reads dropped[l] (forward and weight gradient),
 * its grad_input takes act' from acts.outs[l], and the stored mask multiplies dz[l] after it:
 *   gather → [forward l → dropout l]… → softmax-CE → [grad_weight l, grad_input l, mask dz[l−1]]… → SGD.
 * Evaluation never applies dropout (inverted dropout needs no rescaling at test time).
 */
export class TrainStepPlan {
  readonly xb: GPUBuffer;
  readonly yb: GPUBuffer;
  readonly acts: ActivationBuffers;
  /** With dropout: per hidden layer, the dropped activation (B, width) and its mask. Empty otherwise. */
  readonly dropped: GPUBuffer[] = [];
  readonly masks: GPUBuffer[] = [];
  private readonly gatherBg: GPUBindGroup;
  private readonly forward: ForwardPlan;
  private readonly ceBg: GPUBindGroup;
  private readonly gradWeight: { kernel: DenseGradWeight; bindGroup: GPUBindGroup }[];
  private readonly gradInput: ({ kernel: DenseGradInput; bindGroup: GPUBindGroup } | null)[];
  private readonly sgdBg: GPUBindGroup;
  private readonly dropoutFwd: GPUBindGroup[] = [];
  private readonly dropoutBwd: GPUBindGroup[] = [];
  readonly dropout: DropoutSetting | null;

  constructor(
    readonly mlp: MlpGpu,
    readonly batchSize: number,
    readonly data: { x: GPUBuffer; y: GPUBuffer; n: number },
    readonly indices: GPUBuffer,
    readonly metrics: GPUBuffer,
    opts: { dropout?: DropoutSetting | null } = {},
  ) {
    const ctx = mlp.ctx;
    const B = batchSize;
    this.dropout = opts.dropout && opts.dropout.rate > 0 ? opts.dropout : null;
    if (this.dropout && !mlp.dropout) throw new Error('TrainStepPlan: dropout needs an MlpGpu created with { dropout: true }');
    this.xb = createStorage(ctx, 'train.xb', B * mlp.inputs * 4);
    this.yb = createStorage(ctx, 'train.yb', B * 4);
    this.acts = mlp.allocActivations(B, true, 'train');
    const layers = mlp.layout.layers;
    const last = layers.length - 1;
    if (this.dropout) {
      for (let l = 0; l < last; l++) {
        const bytes = B * layers[l].fanOut * 4;
        this.dropped.push(createStorage(ctx, `train.dropped${l}`, bytes));
        this.masks.push(createStorage(ctx, `train.mask${l}`, bytes));
        this.dropoutFwd.push(mlp.dropout!.bindForward({ h: this.acts.outs[l], y: this.dropped[l], mask: this.masks[l] }, `train.dropout${l}`));
        this.dropoutBwd.push(mlp.dropout!.bindBackward({ mask: this.masks[l], dz: this.acts.dz[l] }, `train.dropoutBack${l}`));
      }
    }
    // The input layer l reads: the gathered batch, else the previous layer's (dropped) output.
    const layerInput = (l: number): GPUBuffer => (l === 0 ? this.xb : this.dropout ? this.dropped[l - 1] : this.acts.outs[l - 1]);
    this.gatherBg = mlp.gather.bind({ data: data.x, labels: data.y, idx: indices, xb: this.xb, yb: this.yb }, 'train.gather');
    if (this.dropout) {
      const kernels = layers.map((_, l) => mlp.forwardKernel(l, B));
      const bindGroups = layers.map((L, l) => kernels[l].bind({ x: layerInput(l), w: mlp.layerRange(mlp.params, L), y: this.acts.outs[l] }, `train.forward${l}`));
      this.forward = { kernels, bindGroups };
    } else {
      this.forward = mlp.forwardPlan(this.xb, this.acts, 'train');
    }
    this.ceBg = mlp.ceTrain.bind(
      { z: this.acts.outs[last], y: this.yb, dz: this.acts.dz[last], losses: this.acts.losses, metrics },
      'train.ce',
    );
    this.gradWeight = layers.map((L, l) => {
      const kernel = mlp.gradWeightKernel(l, B);
      const bindGroup = kernel.bind({ x: layerInput(l), dz: this.acts.dz[l], dw: mlp.layerRange(mlp.grads, L) }, `train.gradWeight${l}`);
      return { kernel, bindGroup };
    });
    this.gradInput = layers.map((L, l) => {
      if (l === 0) return null;
      const kernel = mlp.gradInputKernel(l, B);
      const bindGroup = kernel.bind(
        { x: this.acts.outs[l - 1], w: mlp.layerRange(mlp.params, L), dz: this.acts.dz[l], dx: this.acts.dz[l - 1] },
        `train.gradInput${l}`,
      );
      return { kernel, bindGroup };
    });
    this.sgdBg = mlp.sgd.bind({ w: mlp.params, g: mlp.grads, v: mlp.velocity }, 'train.sgd');
  }

  private checkStep(step: number | undefined): number {
    if (!this.dropout) return 0;
    if (step === undefined) throw new Error('TrainStepPlan: with dropout every step needs its step number (the mask counter)');
    return step;
  }

  /** Forward and loss only (no update): the minibatch loss at the current weights (with dropout: under the mask of `step`). */
  encodeForwardLoss(batch: GpuBatch, indexOffset: number, slot: number, step?: number): void {
    const { mlp, batchSize: B } = this;
    const s = this.checkStep(step);
    mlp.gather.encode(batch, this.gatherBg, { rows: B, dim: mlp.inputs, offset: indexOffset, n: this.data.n });
    if (this.dropout) {
      const layers = mlp.layout.layers;
      layers.forEach((L, l) => {
        this.forward.kernels[l].encode(batch, this.forward.bindGroups[l], { m: B, k: L.fanIn, n: L.fanOut });
        if (l < layers.length - 1) {
          mlp.dropout!.encodeForward(batch, this.dropoutFwd[l], { count: B * L.fanOut, rate: this.dropout!.rate, seed: this.dropout!.seed, layer: l, step: s });
        }
      });
    } else {
      mlp.encodeForward(batch, this.forward, B);
    }
    mlp.ceTrain.encode(batch, this.ceBg, { rows: B, classes: mlp.classes, gradScale: 1 / B, slot });
  }

  /** Backward pass into mlp.grads (after encodeForwardLoss). */
  encodeBackward(batch: GpuBatch): void {
    const { mlp, batchSize: B } = this;
    const layers = mlp.layout.layers;
    for (let l = layers.length - 1; l >= 0; l--) {
      const L = layers[l];
      const shape = { m: B, k: L.fanIn, n: L.fanOut };
      this.gradWeight[l].kernel.encode(batch, this.gradWeight[l].bindGroup, shape);
      const gi = this.gradInput[l];
      if (gi) gi.kernel.encode(batch, gi.bindGroup, shape);
      if (gi && this.dropout) mlp.dropout!.encodeBackward(batch, this.dropoutBwd[l - 1], B * L.fanIn);
    }
  }

  encodeUpdate(batch: GpuBatch, h: SgdHyper): void {
    this.mlp.sgd.encode(batch, this.sgdBg, { count: this.mlp.layout.total, lr: h.lr, weightDecay: h.weightDecay, momentum: h.momentum });
  }

  /** One full SGD step on the minibatch idx[indexOffset .. indexOffset + B); `step` (1-based) keys the dropout mask. */
  encodeStep(batch: GpuBatch, indexOffset: number, slot: number, h: SgdHyper, step?: number): void {
    this.encodeForwardLoss(batch, indexOffset, slot, step);
    this.encodeBackward(batch);
    this.encodeUpdate(batch, h);
  }
}
