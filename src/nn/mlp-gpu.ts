/**
 * The MLP on the GPU, as an ensemble of R replicas of one architecture (R = 1: a single network):
 * parameters, gradients and velocity in flat buffers (src/nn/params.ts) with replica r's vector at
 * r·layout.total, one compiled pipeline per kernel variant, and "plans" — the bind groups of a
 * fixed sequence of dispatches — built once so that encoding is only setPipeline/setBindGroup/
 * dispatch. Every dispatch covers all R replicas (the grid's z, shaders/README.md "Ensembles").
 *
 * The training step is src/nn/train-step.ts (TrainStepPlan).
 */
import type { GpuContext } from '../gpu/device.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import type { BufferResource } from '../gpu/kernel.ts';
import { createStorage, readF32, writeBuffer } from '../gpu/buffers.ts';
import { DenseForward } from '../kernels/dense_forward.ts';
import { DenseGradInput, DenseGradWeight } from '../kernels/dense_backward.ts';
import { chooseDenseTiles, tileKey, type DenseTiles } from '../kernels/dense_tiles.ts';
import { SoftmaxCe } from '../kernels/softmax_ce.ts';
import { Sgd } from '../kernels/sgd.ts';
import { Gather } from '../kernels/gather.ts';
import { Dropout } from '../kernels/dropout.ts';
import { validateMlpConfig, type MlpConfig } from './config.ts';
import { paramLayout, type LayerLayout, type ParamLayout } from './params.ts';

/** Buffers holding one batch of activations and their gradients: `rows` samples per replica. */
export interface ActivationBuffers {
  rows: number;
  /** outs[l]: output of layer l, (R, rows, widths[l+1]); the last is the logits. */
  outs: GPUBuffer[];
  /** dz[l]: dL/dZ of layer l, (R, rows, widths[l+1]). Training only. */
  dz: GPUBuffer[];
  /** (R, rows) per-sample losses. */
  losses: GPUBuffer;
}

export interface ForwardPlan {
  kernels: DenseForward[];
  bindGroups: GPUBindGroup[];
  /** Floats between replicas' input rows (0: one input shared by all replicas). */
  inputStride: number;
  /** The input layer reads its rows through an index buffer (a minibatch of a dataset). */
  indexed: boolean;
  /** Rows per replica of the activation buffers (replica r's block starts at r·actsRows rows). */
  actsRows: number;
}

export interface MlpGpuOptions {
  momentum: boolean;
  dropout?: boolean;
  /** R networks of this architecture trained in lockstep (default 1). */
  replicas?: number;
  /**
   * The dense kernels as they were before ensembles (git 6a09fc6): scalar loads and that
   * commit's tile table — the benchmark's baseline rung. The same numbers, bit for bit.
   */
  baseline?: boolean;
}

/** How a kernel variant is asked for: the layer, the rows per replica, and whether its X is indexed. */
type Op = 'forward' | 'grad_weight' | 'grad_input';

export class MlpGpu {
  readonly layout: ParamLayout;
  readonly replicas: number;
  /** R·layout.total floats each; replica r's vector starts at r·layout.total. */
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly velocity: GPUBuffer;
  // Dense kernels are compiled per register-tile shape and load variant, which depend on the rows
  // per replica: one instance per (op, layer, rows, indexed) is looked up after prepare().
  private readonly kernels = new Map<string, DenseForward | DenseGradWeight | DenseGradInput>();

  private constructor(
    readonly ctx: GpuContext,
    readonly config: MlpConfig,
    readonly ceTrain: SoftmaxCe,
    readonly ceEval: SoftmaxCe,
    /** The training softmax-CE reading labels through the minibatch indices (fused gather). */
    readonly ceIndexed: SoftmaxCe,
    readonly sgd: Sgd,
    readonly gather: Gather,
    readonly hasMomentum: boolean,
    replicas: number,
    /** The dropout kernels, when created with { dropout: true } (TrainStepPlan's dropout). */
    readonly dropout: Dropout | null,
    /** MlpGpuOptions.baseline. */
    readonly baseline: boolean,
  ) {
    this.layout = paramLayout(config);
    this.replicas = replicas;
    const bytes = replicas * this.layout.total * 4;
    this.params = createStorage(ctx, 'mlp.params', bytes);
    this.grads = createStorage(ctx, 'mlp.grads', bytes);
    this.velocity = createStorage(ctx, 'mlp.velocity', hasMomentum ? bytes : 16);
  }

  static async create(ctx: GpuContext, config: MlpConfig, opts: MlpGpuOptions): Promise<MlpGpu> {
    validateMlpConfig(config);
    const R = opts.replicas ?? 1;
    if (!(Number.isInteger(R) && R >= 1 && R <= 4096)) throw new Error(`replicas must be an integer in [1, 4096], got ${R}`);
    const [ceTrain, ceEval, ceIndexed, sgd, gather, dropout] = await Promise.all([
      SoftmaxCe.create(ctx, { writeGrad: true }),
      SoftmaxCe.create(ctx, { writeGrad: false }),
      SoftmaxCe.create(ctx, { writeGrad: true, indexed: true }),
      Sgd.create(ctx, { momentum: opts.momentum }),
      Gather.create(ctx),
      opts.dropout ? Dropout.create(ctx) : Promise.resolve(null),
    ]);
    return new MlpGpu(ctx, config, ceTrain, ceEval, ceIndexed, sgd, gather, opts.momentum, R, dropout, opts.baseline ?? false);
  }

  /** Floats between consecutive replicas' parameter (gradient, velocity) vectors. */
  get stride(): number {
    return this.layout.total;
  }

  private act(l: number): 'identity' | MlpConfig['activation'] {
    return l === this.layout.layers.length - 1 ? 'identity' : this.config.activation;
  }

  /**
   * Whether layer l reads its input as vec4 (fan-in a multiple of 4). The choice depends on the
   * layer alone, never on R, and changes no bit of the result (dense_forward.wgsl's header).
   */
  x4(l: number): boolean {
    return !this.baseline && this.layout.layers[l].fanIn % 4 === 0;
  }

  private tiles(op: Op, l: number, rows: number): DenseTiles {
    const L = this.layout.layers[l];
    return chooseDenseTiles(op, rows, L.fanIn, L.fanOut, this.config.bias, { baseline: this.baseline, software: this.ctx.isSoftware, x4: this.x4(l) });
  }

  private key(op: Op, l: number, rows: number, indexed: boolean, update = false): string {
    return `${op}.${l}.${indexed ? 'i' : ''}${update ? 'u' : ''}${tileKey(this.tiles(op, l, rows))}`;
  }

  /**
   * Compiles the dense kernels for batches of `rows` per replica (forward; with `training`, also
   * backward), only the variants asked for: each costs 0.5–3 s to compile on SwiftShader, so a
   * plan that never runs one must not pay for it. `indexed`: the input layer's forward and weight
   * gradient read a dataset's rows through minibatch indices (TrainStepPlan's fused gather)
   * instead of a gathered minibatch. `update`: the weight gradients apply the SGD step themselves
   * (TrainStepPlan's fused update) instead of storing dW. Ask again with other options for the
   * other variants (StepEncoder's open form does, when an instrument needs step views).
   */
  async prepare(rows: number, training: boolean, opts: { indexed?: boolean; update?: boolean } = {}): Promise<void> {
    const jobs: Promise<void>[] = [];
    const want = (op: Op, l: number, indexed: boolean, fused = false): void => {
      const key = this.key(op, l, rows, indexed, fused);
      if (this.kernels.has(key)) return;
      const L = this.layout.layers[l];
      const shape = { m: rows, k: L.fanIn, n: L.fanOut };
      const bias = this.config.bias;
      const x4 = this.x4(l);
      const tiles = this.tiles(op, l, rows);
      const made: Promise<DenseForward | DenseGradWeight | DenseGradInput> =
        op === 'forward' ? DenseForward.create(this.ctx, { act: this.act(l), bias, shape, tiles, x4, indexed })
          : op === 'grad_weight' ? DenseGradWeight.create(this.ctx, { bias, shape, tiles, x4, indexed, update: fused ? { momentum: this.hasMomentum } : undefined })
            : DenseGradInput.create(this.ctx, { prevAct: this.config.activation, shape, tiles });
      jobs.push(made.then((k) => void this.kernels.set(key, k)));
    };
    this.layout.layers.forEach((_, l) => {
      const indexed = opts.indexed === true && l === 0;
      want('forward', l, indexed);
      if (!training) return;
      want('grad_weight', l, indexed, opts.update === true);
      if (l > 0) want('grad_input', l, false);
    });
    await Promise.all(jobs);
  }

  private lookup(op: Op, l: number, rows: number, indexed: boolean, update = false): DenseForward | DenseGradWeight | DenseGradInput {
    const k = this.kernels.get(this.key(op, l, rows, indexed, update));
    if (!k) throw new Error(`MlpGpu: ${op} kernel of layer ${l} for ${rows} rows${indexed ? ' (indexed)' : ''}${update ? ' (fused update)' : ''} not compiled; await mlp.prepare(${rows}, ${op !== 'forward'}${indexed || update ? `, { indexed: ${indexed}, update: ${update} }` : ''}) first`);
    return k;
  }

  forwardKernel(l: number, rows: number, indexed = false): DenseForward {
    return this.lookup('forward', l, rows, indexed) as DenseForward;
  }

  /** `update`: the variant that applies the SGD step itself (prepare with { update: true }). */
  gradWeightKernel(l: number, rows: number, indexed = false, update = false): DenseGradWeight {
    return this.lookup('grad_weight', l, rows, indexed, update) as DenseGradWeight;
  }

  gradInputKernel(l: number, rows: number): DenseGradInput {
    return this.lookup('grad_input', l, rows, false) as DenseGradInput;
  }

  get inputs(): number {
    return this.config.widths[0];
  }

  get classes(): number {
    return this.config.widths[this.config.widths.length - 1];
  }

  /** One replica's block of layer L in a flat buffer (params, grads) as a binding. */
  layerRange(buffer: GPUBuffer, L: LayerLayout, replica = 0): GPUBufferBinding {
    this.checkReplica(replica);
    return { buffer, offset: (replica * this.stride + L.offset) * 4, size: L.size * 4 };
  }

  /**
   * Layer L's blocks of every replica as one binding: from replica 0's block through replica
   * R−1's, the blocks `stride` floats apart (the kernels' w_stride). With R = 1, layerRange.
   */
  layerSpan(buffer: GPUBuffer, L: LayerLayout): GPUBufferBinding {
    return { buffer, offset: L.offset * 4, size: ((this.replicas - 1) * this.stride + L.size) * 4 };
  }

  private checkReplica(r: number): void {
    if (!(Number.isInteger(r) && r >= 0 && r < this.replicas)) throw new Error(`replica must be an integer in [0, ${this.replicas - 1}], got ${r}`);
  }

  /**
   * Sets the parameters: `flat` holds layout.total floats per replica (all R of them, replica-
   * major), or those of one replica when `replica` is given. Momentum's velocity restarts at 0.
   */
  uploadParams(flat: Float32Array, replica?: number): void {
    const T = this.stride;
    const count = replica === undefined ? this.replicas : 1;
    if (flat.length !== count * T) {
      throw new Error(`uploadParams: expected ${count * T} floats (${count === 1 ? '' : `${count} replicas × `}the flat layout's ${T}), got ${flat.length}`);
    }
    if (replica !== undefined) this.checkReplica(replica);
    const at = (replica ?? 0) * T * 4;
    writeBuffer(this.ctx, this.params, flat, at);
    if (this.hasMomentum) writeBuffer(this.ctx, this.velocity, new Float32Array(count * T), at);
  }

  /** The parameters of every replica (R·layout.total floats), or of one replica. */
  async readParams(expectedMs = 0, replica?: number): Promise<Float32Array> {
    if (replica === undefined) return readF32(this.ctx, this.params, 0, this.replicas * this.stride, expectedMs);
    this.checkReplica(replica);
    return readF32(this.ctx, this.params, replica * this.stride * 4, this.stride, expectedMs);
  }

  allocActivations(rows: number, training: boolean, label: string): ActivationBuffers {
    const R = this.replicas;
    const outs: GPUBuffer[] = [];
    const dz: GPUBuffer[] = [];
    for (const L of this.layout.layers) {
      outs.push(createStorage(this.ctx, `${label}.out${L.index}`, R * rows * L.fanOut * 4));
      if (training) dz.push(createStorage(this.ctx, `${label}.dz${L.index}`, R * rows * L.fanOut * 4));
    }
    return { rows, outs, dz, losses: createStorage(this.ctx, `${label}.losses`, R * rows * 4) };
  }

  /**
   * The forward pass reading `input` (rows ≤ acts.rows per replica, widths[0] features) into
   * `acts`: its kernels are chosen for acts.rows, so a shorter last chunk reuses the same plan.
   * `inputStride` (default 0): floats between replicas' inputs, 0 when they all read one input
   * (an evaluation set). `layerInput(l)` may replace the input of layers l > 0 (dropout's output).
   */
  forwardPlan(input: BufferResource, acts: ActivationBuffers, label: string, opts: { inputStride?: number; rows?: BufferResource; layerInput?: (l: number) => BufferResource } = {}): ForwardPlan {
    const indexed = opts.rows !== undefined;
    const kernels = this.layout.layers.map((_, l) => this.forwardKernel(l, acts.rows, indexed && l === 0));
    const bindGroups = this.layout.layers.map((L, l) => {
      const x = l === 0 ? input : (opts.layerInput?.(l) ?? acts.outs[l - 1]);
      return kernels[l].bind({ x, w: this.layerSpan(this.params, L), y: acts.outs[l], rows: indexed && l === 0 ? opts.rows : undefined }, `${label}.forward${l}`);
    });
    return { kernels, bindGroups, inputStride: opts.inputStride ?? 0, indexed, actsRows: acts.rows };
  }

  /**
   * Encodes layer l of a forward plan for `rows` rows per replica; `idx`: the first minibatch index
   * of replica 0 and the indices between replicas, for an indexed input layer.
   */
  encodeForwardLayer(batch: GpuBatch, plan: ForwardPlan, l: number, rows: number, idx?: { offset: number; stride: number }): void {
    const L = this.layout.layers[l];
    const A = plan.actsRows;
    plan.kernels[l].encode(batch, plan.bindGroups[l], {
      m: rows, k: L.fanIn, n: L.fanOut, replicas: this.replicas,
      xStride: l === 0 ? plan.inputStride : A * L.fanIn,
      wStride: this.stride,
      yStride: A * L.fanOut,
      idxOffset: idx?.offset,
      idxStride: idx?.stride,
    });
  }

  /** The whole forward plan for `rows` (≤ plan.actsRows) rows per replica. */
  encodeForward(batch: GpuBatch, plan: ForwardPlan, rows: number, idx?: { offset: number; stride: number }): void {
    this.layout.layers.forEach((_, l) => this.encodeForwardLayer(batch, plan, l, rows, idx));
  }
}
