/**
 * Exact Hessian–vector products of an MLP's mean training loss on the GPU (Pearlmutter's
 * R-operator, shaders/hvp.wgsl), for the whole network or a block of layers, over a whole dataset
 * (in row chunks) or one batch (a dataset of B rows), several directions per GPU pass.
 *
 *   L(θ) = (1/M)·Σ_n l_n(θ)  over the M rows of `data`,   H = ∇²L,   H·v exact to float32 round-off
 *
 * What is cached and what is recomputed:
 *   refresh()  forward + softmax-CE + backward over every chunk at the weights in mlp.params, kept
 *              on the GPU (activations a_l and dz_l = ∂L/∂z_l, M·Σwidths floats each). create()
 *              calls it; call it again whenever mlp.params changes.
 *   apply()    the R-passes only: per chunk R-forward from the lowest block layer, R-softmax-CE,
 *              R-backward down to it, accumulating the chunk's share of H·v (the 1/M of the mean is
 *              in dz and R{dz}, so the chunks simply add). Directions go maxVectors per pass.
 *   gradient() ∇L of the block from the cached pass: per chunk and layer [a, 1]ᵀ·dz (dense_backward's
 *              grad_weight) into its own slot, the chunks' slots summed in float64 on the CPU.
 *
 * Vectors are "compact": only the block's parameters, layer after layer in the flat layout's
 * order (each layer's (K + bias)·N block row-major, bias row last), without alignment gaps —
 * dimension `dim`. H_SS·v_S is returned for the block S (the other layers' v is zero and their
 * rows of the product are not formed). toFlat/fromFlat convert to and from the flat layout.
 * The products are BlockOperators (src/analysis/numerics/ritz.ts): column-major n×b in and out, float64
 * on the CPU side, float32 on the GPU.
 */
import { GpuBatch } from '../../gpu/batch.ts';
import { createStorage, readF32, writeBuffer } from '../../gpu/buffers.ts';
import type { BufferResource } from '../../gpu/kernel.ts';
import type { Profiler } from '../../gpu/profiler.ts';
import { RForward, RGradInput, RGradWeight, RSoftmaxCe } from '../../kernels/hvp.ts';
import type { DenseGradInput, DenseGradWeight } from '../../kernels/dense_backward.ts';
import type { Activation } from '../../kernels/activation.ts';
import type { ActivationBuffers, ForwardPlan, MlpGpu } from '../../nn/mlp-gpu.ts';
import type { GpuDataset } from '../../train/gpu-dataset.ts';
import type { BlockOperator } from '../numerics/ritz.ts';

export interface HvpEngineOptions {
  /** Layers of the block (default: all — the whole Hessian). Sorted and deduplicated. */
  layers?: number[];
  /** Rows per chunk, a multiple of 64 (default 2048); a set of at most this many rows is one chunk. */
  chunkRows?: number;
  /** Directions per GPU pass (default 32; lowered if the tangent buffers would exceed 256 MB). */
  maxVectors?: number;
  label?: string;
}

export interface BlockPart {
  layer: number;
  /** Offset of this layer's block in a compact vector, and in the flat layout. */
  offset: number;
  flatOffset: number;
  /** (K + bias)·N. */
  size: number;
  rows: number;
  cols: number;
}

interface Chunk {
  start: number;
  rows: number;
  acts: ActivationBuffers;
  forward: ForwardPlan;
  ce: GPUBindGroup;
  gradInput: { l: number; kernel: DenseGradInput; bg: GPUBindGroup }[];
  /** The block's weight gradients of this chunk, into the chunk's slot of `grad` (gradient()). */
  gradWeight: { l: number; kernel: DenseGradWeight; bg: GPUBindGroup }[];
  rForward: { l: number; bg: GPUBindGroup }[];
  rSoftmax: GPUBindGroup;
  rGradWeight: Map<number, GPUBindGroup>;
  rGradInput: Map<number, GPUBindGroup>;
}

const TANGENT_BYTES = 256 * 2 ** 20;

export class HvpEngine {
  readonly layers: number[];
  readonly parts: BlockPart[];
  /** Dimension of a compact vector (parameters in the block). */
  readonly dim: number;
  readonly chunkRows: number;
  readonly maxVectors: number;
  /** Mean loss at the last refresh(). */
  loss = NaN;
  /** Operator calls and total directions multiplied, GPU pass wall time (ms). */
  calls = 0;
  columns = 0;
  ms = 0;
  /** Optional per-kernel GPU timing of apply() passes (src/gpu/profiler.ts). */
  profiler: Profiler | null = null;

  private readonly lo: number;
  private readonly v: GPUBuffer;
  private readonly hv: GPUBuffer;
  private readonly metrics: GPUBuffer;
  /** One flat-layout slot per chunk: that chunk's share of ∇L (gradient()). */
  private readonly grad: GPUBuffer;
  private readonly rz: GPUBuffer[] = [];
  private readonly rdz: GPUBuffer[] = [];
  private readonly chunks: Chunk[] = [];
  /** Fastest pass seen per direction count (ms): the gentle wait sleeps through 70% of it. */
  private readonly fastest = new Map<number, number>();
  private readonly owned: GPUBuffer[] = [];

  private constructor(
    readonly mlp: MlpGpu,
    readonly data: GpuDataset,
    layers: number[],
    chunkRows: number,
    maxVectors: number,
    private readonly kernels: { rForward: RForward[]; rSoftmax: RSoftmaxCe; rGradWeight: Map<number, RGradWeight>; rGradInput: Map<number, RGradInput> },
    readonly label: string,
  ) {
    const ctx = mlp.ctx;
    const Ls = mlp.layout.layers;
    this.layers = layers;
    this.lo = layers[0];
    this.chunkRows = chunkRows;
    this.maxVectors = maxVectors;
    let off = 0;
    this.parts = layers.map((l) => {
      const L = Ls[l];
      const p = { layer: l, offset: off, flatOffset: L.offset, size: L.size, rows: L.rows, cols: L.fanOut };
      off += L.size;
      return p;
    });
    this.dim = off;
    const total = mlp.layout.total;
    const own = (b: GPUBuffer): GPUBuffer => (this.owned.push(b), b);
    this.v = own(createStorage(ctx, `${label}.v`, maxVectors * total * 4));
    this.hv = own(createStorage(ctx, `${label}.hv`, maxVectors * total * 4));
    const stub = own(createStorage(ctx, `${label}.stub`, 16));
    const rows = Math.min(chunkRows, data.n);
    for (let l = 0; l < Ls.length; l++) {
      const size = l >= this.lo ? maxVectors * rows * Ls[l].fanOut * 4 : 16;
      this.rz.push(own(createStorage(ctx, `${label}.rz${l}`, size)));
      this.rdz.push(own(createStorage(ctx, `${label}.rdz${l}`, size)));
    }
    const nChunks = Math.ceil(data.n / chunkRows);
    this.metrics = own(createStorage(ctx, `${label}.metrics`, 2 * nChunks * 4));
    this.grad = own(createStorage(ctx, `${label}.grad`, nChunks * total * 4));
    const last = Ls.length - 1;
    const sel = new Set(layers);
    for (let c = 0; c < nChunks; c++) {
      const start = c * chunkRows;
      const r = Math.min(chunkRows, data.n - start);
      const cl = `${label}.chunk${c}`;
      const acts = mlp.allocActivations(rows, true, cl);
      for (const b of [...acts.outs, ...acts.dz, acts.losses]) this.owned.push(b);
      const x: BufferResource = { buffer: data.x, offset: start * data.d * 4, size: r * data.d * 4 };
      const y: BufferResource = { buffer: data.y, offset: start * 4, size: r * 4 };
      const input = (l: number): BufferResource => (l === 0 ? x : acts.outs[l - 1]);
      const forward = mlp.forwardPlan(x, acts, cl);
      const ce = mlp.ceTrain.bind({ z: acts.outs[last], y, dz: acts.dz[last], losses: acts.losses, metrics: this.metrics }, `${cl}.ce`);
      const gradInput: Chunk['gradInput'] = [];
      for (let l = last; l > this.lo; l--) {
        const kernel = mlp.gradInputKernel(l, rows);
        const bg = kernel.bind({ x: acts.outs[l - 1], w: mlp.layerRange(mlp.params, Ls[l]), dz: acts.dz[l], dx: acts.dz[l - 1] }, `${cl}.gradInput${l}`);
        gradInput.push({ l, kernel, bg });
      }
      // Slots start on 256-byte boundaries: total and every layer offset are multiples of 64 floats.
      const gradWeight: Chunk['gradWeight'] = layers.map((l) => {
        const kernel = mlp.gradWeightKernel(l, rows);
        const dw: BufferResource = { buffer: this.grad, offset: (c * total + Ls[l].offset) * 4, size: Ls[l].size * 4 };
        return { l, kernel, bg: kernel.bind({ x: input(l), dz: acts.dz[l], dw }, `${cl}.gradWeight${l}`) };
      });
      const rForward: Chunk['rForward'] = [];
      for (let l = this.lo; l <= last; l++) {
        const k = kernels.rForward[l - this.lo];
        rForward.push({
          l,
          bg: k.bind({ a: input(l), rzin: l > this.lo ? this.rz[l - 1] : stub, w: mlp.layerRange(mlp.params, Ls[l]), v: sel.has(l) ? this.v : stub, rz_out: this.rz[l] }, `${cl}.rForward${l}`),
        });
      }
      const rSoftmax = kernels.rSoftmax.bind({ z: acts.outs[last], rzin: this.rz[last], rdz_out: this.rdz[last] }, `${cl}.rSoftmax`);
      const rGradWeight = new Map<number, GPUBindGroup>();
      const rGradInput = new Map<number, GPUBindGroup>();
      for (let l = last; l >= this.lo; l--) {
        const kw = kernels.rGradWeight.get(l);
        if (kw) {
          rGradWeight.set(l, kw.bind({ a: input(l), rzin: l > this.lo ? this.rz[l - 1] : stub, dz: acts.dz[l], rdz: this.rdz[l], hv: this.hv }, `${cl}.rGradWeight${l}`));
        }
        const ki = kernels.rGradInput.get(l);
        if (ki) {
          rGradInput.set(
            l,
            ki.bind(
              { a: acts.outs[l - 1], rzin: this.rz[l - 1], w: mlp.layerRange(mlp.params, Ls[l]), v: sel.has(l) ? this.v : stub, dz: acts.dz[l], rdz: this.rdz[l], rdx: this.rdz[l - 1] },
              `${cl}.rGradInput${l}`,
            ),
          );
        }
      }
      this.chunks.push({ start, rows: r, acts, forward, ce, gradInput, gradWeight, rForward, rSoftmax, rGradWeight, rGradInput });
    }
  }

  /**
   * Compiles the kernels, binds every chunk and runs refresh(). The weights are read from
   * mlp.params (upload them first); `data` must have the model's input width.
   */
  static async create(mlp: MlpGpu, data: GpuDataset, o: HvpEngineOptions = {}): Promise<HvpEngine> {
    const Ls = mlp.layout.layers;
    const label = o.label ?? 'hvp';
    if (data.d !== mlp.inputs) throw new Error(`HvpEngine: ${data.label} has ${data.d} features, the model expects ${mlp.inputs}`);
    if (!(data.n >= 1)) throw new Error(`HvpEngine: ${data.label} has no rows`);
    const layers = [...new Set(o.layers ?? Ls.map((L) => L.index))].sort((a, b) => a - b);
    if (layers.length === 0) throw new Error('HvpEngine: layers must name at least one layer');
    for (const l of layers) {
      if (!(Number.isInteger(l) && l >= 0 && l < Ls.length)) throw new Error(`HvpEngine: layer ${l} is not an integer in [0, ${Ls.length - 1}]`);
    }
    const chunkRows = o.chunkRows ?? 2048;
    if (!(Number.isInteger(chunkRows) && chunkRows >= 64 && chunkRows % 64 === 0)) {
      throw new Error(`HvpEngine: chunkRows must be a positive multiple of 64, got ${chunkRows}`);
    }
    const rows = Math.min(chunkRows, data.n);
    const lo = layers[0];
    const widthSum = Ls.slice(lo).reduce((s, L) => s + L.fanOut, 0);
    const maxWidth = Math.max(...Ls.slice(lo).map((L) => L.fanOut));
    const limit = Math.min(TANGENT_BYTES / (2 * rows * widthSum * 4), mlp.ctx.device.limits.maxStorageBufferBindingSize / (rows * maxWidth * 4));
    const maxVectors = Math.max(1, Math.min(o.maxVectors ?? 32, Math.floor(limit)));
    if (!(Number.isInteger(maxVectors) && maxVectors >= 1)) throw new Error(`HvpEngine: maxVectors must be an integer >= 1, got ${o.maxVectors}`);

    await mlp.prepare(rows, true);
    const ctx = mlp.ctx;
    const bias = mlp.config.bias;
    const sel = new Set(layers);
    const act = (l: number): Activation => (l === 0 ? 'identity' : mlp.config.activation);
    const last = Ls.length - 1;
    const shape = (l: number) => ({ m: rows, k: Ls[l].fanIn, n: Ls[l].fanOut });
    const rForward = Promise.all(
      Ls.slice(lo).map((L) => RForward.create(ctx, { prevAct: act(L.index), bias, hasRin: L.index > lo, hasV: sel.has(L.index), shape: shape(L.index) })),
    );
    const rGradWeight = new Map<number, RGradWeight>();
    const rGradInput = new Map<number, RGradInput>();
    const jobs: Promise<void>[] = [];
    for (let l = last; l >= lo; l--) {
      if (sel.has(l)) jobs.push(RGradWeight.create(ctx, { prevAct: act(l), bias, hasRin: l > lo, shape: shape(l) }).then((k) => void rGradWeight.set(l, k)));
      if (l > lo) jobs.push(RGradInput.create(ctx, { prevAct: mlp.config.activation, hasV: sel.has(l), shape: shape(l) }).then((k) => void rGradInput.set(l, k)));
    }
    const [rf, rs] = await Promise.all([rForward, RSoftmaxCe.create(ctx), ...jobs]);
    const engine = new HvpEngine(mlp, data, layers, chunkRows, maxVectors, { rForward: rf as RForward[], rSoftmax: rs as RSoftmaxCe, rGradWeight, rGradInput }, label);
    await engine.refresh();
    return engine;
  }

  /** Recomputes the cached forward/backward pass at the weights now in mlp.params; returns the mean loss. */
  async refresh(): Promise<number> {
    const { mlp } = this;
    const Ls = mlp.layout.layers;
    const batch = new GpuBatch(mlp.ctx, `${this.label}.refresh`);
    this.chunks.forEach((c, i) => {
      mlp.encodeForward(batch, c.forward, c.rows);
      mlp.ceTrain.encode(batch, c.ce, { rows: c.rows, classes: mlp.classes, gradScale: 1 / this.data.n, slot: i });
      for (const g of c.gradInput) g.kernel.encode(batch, g.bg, { m: c.rows, k: Ls[g.l].fanIn, n: Ls[g.l].fanOut });
    });
    batch.submit();
    const m = await readF32(mlp.ctx, this.metrics, 0, 2 * this.chunks.length);
    let sum = 0;
    for (let i = 0; i < this.chunks.length; i++) sum += m[2 * i];
    this.loss = sum / this.data.n;
    return this.loss;
  }

  /**
   * ∇L of the block (compact, float64) at the weights of the last refresh(): the mean loss over
   * the engine's rows, as H is. One GPU pass of the weight-gradient kernels over the cached pass.
   */
  async gradient(): Promise<Float64Array> {
    const { mlp } = this;
    const Ls = mlp.layout.layers;
    const total = mlp.layout.total;
    const batch = new GpuBatch(mlp.ctx, `${this.label}.gradient`);
    for (const c of this.chunks) for (const g of c.gradWeight) g.kernel.encode(batch, g.bg, { m: c.rows, k: Ls[g.l].fanIn, n: Ls[g.l].fanOut });
    batch.submit();
    const slots = await readF32(mlp.ctx, this.grad, 0, this.chunks.length * total);
    const out = new Float64Array(this.dim);
    for (let c = 0; c < this.chunks.length; c++) for (const p of this.parts) for (let i = 0; i < p.size; i++) out[p.offset + i] += slots[c * total + p.flatOffset + i];
    return out;
  }

  /** A compact vector (dim) in the flat parameter layout (zeros elsewhere), float32. */
  toFlat(vec: ArrayLike<number>, out = new Float32Array(this.mlp.layout.total), outOffset = 0): Float32Array {
    if (vec.length < this.dim) throw new Error(`HvpEngine.toFlat: need ${this.dim} values, got ${vec.length}`);
    for (const p of this.parts) for (let i = 0; i < p.size; i++) out[outOffset + p.flatOffset + i] = vec[p.offset + i];
    return out;
  }

  /** The block's entries of a flat-layout vector, as a compact float64 vector. */
  fromFlat(flat: ArrayLike<number>, flatOffset = 0, out = new Float64Array(this.dim), outOffset = 0): Float64Array {
    for (const p of this.parts) for (let i = 0; i < p.size; i++) out[outOffset + p.offset + i] = flat[flatOffset + p.flatOffset + i];
    return out;
  }

  /** H·V for V column-major dim×b (b any count; split into passes of maxVectors). */
  async apply(V: Float64Array, b: number): Promise<Float64Array> {
    const n = this.dim;
    if (!(Number.isInteger(b) && b >= 1) || V.length < n * b) throw new Error(`HvpEngine.apply: V must hold dim·b = ${n}·${b} values, got ${V.length}`);
    const out = new Float64Array(n * b);
    for (let j0 = 0; j0 < b; j0 += this.maxVectors) {
      const J = Math.min(this.maxVectors, b - j0);
      const r = await this.pass(V.subarray(j0 * n, (j0 + J) * n), J);
      out.set(r, j0 * n);
    }
    return out;
  }

  /** apply() as a BlockOperator for the eigensolvers. */
  get operator(): BlockOperator {
    return (V, b) => this.apply(V, b);
  }

  private async pass(V: Float64Array, J: number): Promise<Float64Array> {
    const t0 = performance.now();
    const { mlp } = this;
    const Ls = mlp.layout.layers;
    const total = mlp.layout.total;
    const n = this.dim;
    const flat = new Float32Array(J * total);
    for (let j = 0; j < J; j++) this.toFlat(V.subarray(j * n, (j + 1) * n), flat, j * total);
    writeBuffer(mlp.ctx, this.v, flat);
    const batch = new GpuBatch(mlp.ctx, `${this.label}.apply`, this.profiler);
    batch.clear(this.hv, 0, J * total * 4);
    const last = Ls.length - 1;
    const place = (l: number) => ({ offset: Ls[l].offset, stride: total });
    for (const c of this.chunks) {
      const shape = (l: number) => ({ m: c.rows, k: Ls[l].fanIn, n: Ls[l].fanOut, vectors: J });
      for (const f of c.rForward) this.kernels.rForward[f.l - this.lo].encode(batch, f.bg, shape(f.l), place(f.l));
      this.kernels.rSoftmax.encode(batch, c.rSoftmax, { m: c.rows, classes: mlp.classes, vectors: J, scale: 1 / this.data.n });
      for (let l = last; l >= this.lo; l--) {
        const gw = c.rGradWeight.get(l);
        if (gw) this.kernels.rGradWeight.get(l)!.encode(batch, gw, shape(l), { ...place(l), accumulate: true });
        const gi = c.rGradInput.get(l);
        if (gi) this.kernels.rGradInput.get(l)!.encode(batch, gi, shape(l), place(l));
      }
    }
    batch.submit();
    const res = await readF32(mlp.ctx, this.hv, 0, J * total, 0.7 * (this.fastest.get(J) ?? 0));
    const out = new Float64Array(J * n);
    for (let j = 0; j < J; j++) this.fromFlat(res, j * total, out, j * n);
    const ms = performance.now() - t0;
    this.fastest.set(J, Math.min(this.fastest.get(J) ?? Infinity, ms));
    this.calls++;
    this.columns += J;
    this.ms += ms;
    return out;
  }

  /** Frees the engine's own GPU buffers (not the model's or the dataset's). */
  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
  }
}
