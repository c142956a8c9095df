/**
 * One SGD step of an ensemble of R networks (an MlpGpu with R replicas; R = 1 is a single run), as
 * a fixed list of dispatches with their bind groups built once. Each dispatch covers every
 * replica (grid z); each replica has its own minibatch, its own settings (lr, weight decay,
 * momentum, dropout rate and seed: src/kernels/replica-settings.ts) and its own metrics slot.
 *
 * Step of the 3-layer seed network (the default: 8 dispatches): forward ×3 (layer 0 reads its rows
 * of the dataset through the indices: the minibatch gather fused in) → softmax-CE (labels through
 * the indices; loss, accuracy into metrics, dz) → per layer from the top, grad_input (act' fused)
 * and grad_weight applying the SGD step to the layer's weights of every replica (the update fused
 * in). With { gather: 'kernel', update: 'kernel' } — the default on a baseline MlpGpu — the step
 * is the one before the fusions (11 dispatches: gather, forward ×3, softmax-CE, grad_weight ×3,
 * grad_input ×2, one SGD update over every parameter): the same weights, bit for bit.
 *
 * Memory: indices hold (steps, R, B) row numbers (step s of replica r at (s·R + r)·B); metrics get
 * [loss sum, correct] of step slot s, replica r at 2·(s·R + r); activations are (R, B, width).
 *
 * With dropout (the MlpGpu created with { dropout: true }), hidden layer l writes act(z) to
 * acts.outs[l] as usual, then the dropout kernel writes y = act(z) ⊙ mask to dropped[l] and the
 * mask to masks[l]; layer l+1 reads dropped[l] (forward and weight gradient), its grad_input takes
 * act' from acts.outs[l], and the stored mask multiplies dz[l] after it. A replica with rate 0 gets
 * an all-ones mask: the same bits as no dropout. Evaluation never applies dropout.
 */
import type { GpuBatch } from '../gpu/batch.ts';
import { createStorage } from '../gpu/buffers.ts';
import type { DenseGradInput, DenseGradWeight } from '../kernels/dense_backward.ts';
import { createReplicaSettings, writeReplicaSettings, type ReplicaSettings } from '../kernels/replica-settings.ts';
import type { ActivationBuffers, ForwardPlan, MlpGpu } from './mlp-gpu.ts';

export type { ReplicaSettings };

export interface TrainStepOptions {
  /** One record per replica (required before the first update; may be set later with setSettings). */
  settings?: readonly ReplicaSettings[];
  /** Include the dropout dispatches (default: when some replica's dropout rate is > 0). */
  dropout?: boolean;
  /** 'fused' (default): the input layer and the loss read the minibatch through the indices; 'kernel': a gather dispatch first. */
  gather?: 'fused' | 'kernel';
  /** 'fused' (default): each layer's weight gradient applies the SGD step; 'kernel': dW into mlp.grads, then one sgd dispatch. */
  update?: 'fused' | 'kernel';
}

/** Fused gather and update, except on a baseline MlpGpu (the step as it was before them). */
function defaultModes(mlp: MlpGpu): 'fused' | 'kernel' {
  return mlp.baseline ? 'kernel' : 'fused';
}

/** One labelled dispatch of the step, for profiling and the kernel-share benchmark. */
export interface StepDispatch {
  label: string;
  encode(batch: GpuBatch, indexOffset: number, slot: number, step: number): void;
}

export class TrainStepPlan {
  readonly replicas: number;
  /** The gathered minibatch (R, B, inputs) and labels (R, B): with { gather: 'kernel' } only. */
  readonly xb: GPUBuffer | null = null;
  readonly yb: GPUBuffer | null = null;
  readonly acts: ActivationBuffers;
  /** With dropout: per hidden layer, the dropped activation (R, B, width) and its mask. Empty otherwise. */
  readonly dropped: GPUBuffer[] = [];
  readonly masks: GPUBuffer[] = [];
  /** The R replica settings records (sgd.wgsl, dropout.wgsl). */
  readonly settingsBuffer: GPUBuffer;
  readonly hasDropout: boolean;
  readonly fused: boolean;
  /** The SGD step is applied by each layer's weight-gradient kernel (no gradient buffer, no sgd dispatch). */
  readonly fusedUpdate: boolean;
  private settings: readonly ReplicaSettings[] | null = null;
  /** The whole step, in order. */
  private readonly dispatches: StepDispatch[] = [];
  private readonly forwardList: StepDispatch[];
  private readonly backwardList: StepDispatch[];
  private readonly updateDispatch: StepDispatch;

  /** Compiles what the plan needs (mlp.prepare) and builds it. */
  static async create(
    mlp: MlpGpu, batchSize: number, data: { x: GPUBuffer; y: GPUBuffer; n: number }, indices: GPUBuffer, metrics: GPUBuffer, opts: TrainStepOptions = {},
  ): Promise<TrainStepPlan> {
    await TrainStepPlan.prepare(mlp, batchSize, opts);
    return new TrainStepPlan(mlp, batchSize, data, indices, metrics, opts);
  }

  /** Compiles the kernels a plan with these options runs (and only those: mlp.prepare). */
  static prepare(mlp: MlpGpu, batchSize: number, opts: Pick<TrainStepOptions, 'gather' | 'update'> = {}): Promise<void> {
    const d = defaultModes(mlp);
    return mlp.prepare(batchSize, true, { indexed: (opts.gather ?? d) === 'fused', update: (opts.update ?? d) === 'fused' });
  }

  /** Needs `await mlp.prepare(batchSize, true, { indexed, update })` for its gather and update modes; see create(). */
  constructor(
    readonly mlp: MlpGpu,
    readonly batchSize: number,
    readonly data: { x: GPUBuffer; y: GPUBuffer; n: number },
    readonly indices: GPUBuffer,
    readonly metrics: GPUBuffer,
    opts: TrainStepOptions = {},
  ) {
    const ctx = mlp.ctx;
    const B = batchSize;
    const R = mlp.replicas;
    this.replicas = R;
    this.hasDropout = opts.dropout ?? (opts.settings ?? []).some((s) => s.dropout > 0);
    if (this.hasDropout && !mlp.dropout) throw new Error('TrainStepPlan: dropout needs an MlpGpu created with { dropout: true }');
    this.fused = (opts.gather ?? defaultModes(mlp)) === 'fused';
    this.fusedUpdate = (opts.update ?? defaultModes(mlp)) === 'fused';
    this.settingsBuffer = createStorage(ctx, 'train.settings', R * 32);
    if (opts.settings) this.setSettings(opts.settings);
    this.acts = mlp.allocActivations(B, true, 'train');
    const layers = mlp.layout.layers;
    const last = layers.length - 1;
    if (!this.fused) {
      this.xb = createStorage(ctx, 'train.xb', R * B * mlp.inputs * 4);
      this.yb = createStorage(ctx, 'train.yb', R * B * 4);
    }
    if (this.hasDropout) {
      for (let l = 0; l < last; l++) {
        const bytes = R * B * layers[l].fanOut * 4;
        this.dropped.push(createStorage(ctx, `train.dropped${l}`, bytes));
        this.masks.push(createStorage(ctx, `train.mask${l}`, bytes));
      }
    }
    // The input of layer l: the minibatch (the dataset itself when fused), else the previous
    // layer's (dropped) output.
    const input = (l: number): GPUBuffer => (l === 0 ? (this.xb ?? data.x) : this.hasDropout ? this.dropped[l - 1] : this.acts.outs[l - 1]);
    const rows = this.fused ? indices : undefined;
    const forward: ForwardPlan = mlp.forwardPlan(input(0), this.acts, 'train', { inputStride: this.fused ? 0 : B * mlp.inputs, rows, layerInput: input });
    const idx = (off: number) => ({ offset: off, stride: B });
    const span = { replicas: R, wStride: mlp.stride };

    if (!this.fused) {
      const bg = mlp.gather.bind({ data: data.x, labels: data.y, idx: indices, xb: this.xb!, yb: this.yb! }, 'train.gather');
      this.add('gather', (b, off) => mlp.gather.encode(b, bg, { rows: B, dim: mlp.inputs, offset: off, n: data.n, replicas: R }));
    }
    layers.forEach((L, l) => {
      this.add(`forward L${l + 1}`, (b, off) => mlp.encodeForwardLayer(b, forward, l, B, idx(off)));
      if (l < last && this.hasDropout) {
        const bg = mlp.dropout!.bindForward({ h: this.acts.outs[l], y: this.dropped[l], mask: this.masks[l], settings: this.settingsBuffer }, `train.dropout${l}`);
        this.add(`dropout L${l + 1}`, (b, _off, _slot, step) => mlp.dropout!.encodeForward(b, bg, { count: B * L.fanOut, layer: l, step, replicas: R }));
      }
    });
    const ce = this.fused ? mlp.ceIndexed : mlp.ceTrain;
    const ceBg = ce.bind({ z: this.acts.outs[last], y: this.yb ?? data.y, dz: this.acts.dz[last], losses: this.acts.losses, metrics, rows }, 'train.ce');
    this.add('softmax_ce', (b, off, slot) => ce.encode(b, ceBg, { rows: B, classes: mlp.classes, gradScale: 1 / B, slot, replicas: R, idxOffset: off, idxStride: B }));

    const forwardCount = this.dispatches.length;

    // The backward pass: per layer, grad_weight (dW into mlp.grads) and grad_input (dZ of the
    // layer below, act' fused), then dropout's mask on it; the SGD update over everything last.
    // With the update fused (the default), each layer's grad_input runs first (it reads W) and
    // its grad_weight then applies the SGD step to W itself: no gradient buffer, no sgd dispatch.
    const backward: StepDispatch[] = [];
    const fusedBackward: StepDispatch[] = [];
    const noSettings = (): never => {
      throw new Error('TrainStepPlan: no replica settings (lr, weight decay, …) were given; pass { settings } or call setSettings first');
    };
    for (let l = last; l >= 0; l--) {
      const L = layers[l];
      const shape = { m: B, k: L.fanIn, n: L.fanOut, ...span };
      const indexedInput = this.fused && l === 0;
      const xStride = l === 0 && this.fused ? 0 : B * L.fanIn;
      const gwBind = { x: input(l), dz: this.acts.dz[l], dw: mlp.layerSpan(mlp.grads, L), rows: indexedInput ? indices : undefined };
      const below: StepDispatch[] = [];
      if (l > 0) {
        const gi: DenseGradInput = mlp.gradInputKernel(l, B);
        const giBg = gi.bind({ x: this.acts.outs[l - 1], w: mlp.layerSpan(mlp.params, L), dz: this.acts.dz[l], dx: this.acts.dz[l - 1] }, `train.gradInput${l}`);
        below.push({ label: `grad_input L${l + 1}`, encode: (b) => gi.encode(b, giBg, shape) });
        if (this.hasDropout) {
          const bg = mlp.dropout!.bindBackward({ mask: this.masks[l - 1], dz: this.acts.dz[l - 1] }, `train.dropoutBack${l - 1}`);
          below.push({ label: `dropout' L${l}`, encode: (b) => mlp.dropout!.encodeBackward(b, bg, B * L.fanIn, R) });
        }
      }
      if (!this.fusedUpdate) {
        const gw: DenseGradWeight = mlp.gradWeightKernel(l, B, indexedInput);
        const gwBg = gw.bind(gwBind, `train.gradWeight${l}`);
        backward.push({ label: `grad_weight L${l + 1}`, encode: (b, off) => gw.encode(b, gwBg, { ...shape, xStride, idxOffset: off, idxStride: B }) }, ...below);
      } else {
        const gwu: DenseGradWeight = mlp.gradWeightKernel(l, B, indexedInput, true);
        const gwuBg = gwu.bind({ ...gwBind, wu: mlp.layerSpan(mlp.params, L), vel: mlp.hasMomentum ? mlp.layerSpan(mlp.velocity, L) : undefined, settings: this.settingsBuffer }, `train.gradWeightUpdate${l}`);
        fusedBackward.push(...below, {
          label: `grad_weight+sgd L${l + 1}`,
          encode: (b, off) => (this.settings ? gwu.encode(b, gwuBg, { ...shape, xStride, idxOffset: off, idxStride: B }) : noSettings()),
        });
      }
    }
    const sgdBg = mlp.sgd.bind({ w: mlp.params, g: mlp.grads, v: mlp.velocity, hyper: this.settingsBuffer }, 'train.sgd');
    const update: StepDispatch = {
      label: 'sgd',
      encode: (b) => (this.settings ? mlp.sgd.encode(b, sgdBg, { count: mlp.layout.total, stride: mlp.stride, replicas: R }) : noSettings()),
    };
    this.forwardList = this.dispatches.slice(0, forwardCount);
    this.backwardList = backward;
    this.updateDispatch = update;
    this.dispatches.push(...(this.fusedUpdate ? fusedBackward : [...backward, update]));
  }

  private add(label: string, encode: StepDispatch['encode']): void {
    this.dispatches.push({ label, encode });
  }

  /**
   * The R replicas' settings. Written with queue.writeBuffer: they apply to the command buffers
   * submitted after this call (and to whatever is being encoded now), not per dispatch.
   */
  setSettings(list: readonly ReplicaSettings[]): void {
    if (list.length !== this.replicas) throw new Error(`TrainStepPlan: ${this.replicas} replica(s) need ${this.replicas} settings records, got ${list.length}`);
    if (!this.hasDropout && list.some((s) => s.dropout > 0)) throw new Error('TrainStepPlan: this plan was built without dropout; build it with { dropout: true } to give a replica a dropout rate');
    writeReplicaSettings(this.mlp.ctx, this.settingsBuffer, list);
    this.settings = list.map((s) => ({ ...s }));
  }

  get replicaSettings(): readonly ReplicaSettings[] | null {
    return this.settings;
  }

  /** The step's dispatches in order, each encodable on its own. */
  get dispatchList(): readonly StepDispatch[] {
    return this.dispatches;
  }

  private checkStep(step: number | undefined): number {
    if (!this.hasDropout) return step ?? 0;
    if (step === undefined) throw new Error('TrainStepPlan: with dropout every step needs its step number (the mask counter)');
    return step;
  }

  /**
   * Forward and loss only (no update): the minibatch loss at the current weights (with dropout:
   * under the mask of `step`). `indexOffset`: replica 0's first index of this step (s·R·B).
   */
  encodeForwardLoss(batch: GpuBatch, indexOffset: number, slot: number, step?: number): void {
    const s = this.checkStep(step);
    for (const d of this.forwardList) d.encode(batch, indexOffset, slot, s);
  }

  /**
   * Backward pass into mlp.grads (after encodeForwardLoss). `indexOffset`: the step's, when the
   * input layer reads its minibatch through the indices (its weight gradient reads them too).
   */
  encodeBackward(batch: GpuBatch, indexOffset = 0): void {
    this.checkOpen('encodeBackward');
    for (const d of this.backwardList) d.encode(batch, indexOffset, 0, 0);
  }

  /** The SGD update from mlp.grads (after encodeBackward). */
  encodeUpdate(batch: GpuBatch): void {
    this.checkOpen('encodeUpdate');
    this.updateDispatch.encode(batch, 0, 0, 0);
  }

  // A fused-update plan has no gradient buffer pass: its weight-gradient kernels apply the step
  // (and only those are compiled). The open form is a plan of its own (StepEncoder.prepare).
  private checkOpen(what: string): void {
    if (this.fusedUpdate) throw new Error(`TrainStepPlan.${what}: this plan fuses the update into the weight gradient (no gradient in mlp.grads); create it with { update: 'kernel' } for the open form`);
  }

  /** One full SGD step on the minibatches at indexOffset; `step` (1-based) keys the dropout mask. */
  encodeStep(batch: GpuBatch, indexOffset: number, slot: number, step?: number): void {
    const s = this.checkStep(step);
    for (const d of this.dispatches) d.encode(batch, indexOffset, slot, s);
  }
}
