/**
 * Batched full-dataset loss at perturbed weights, L(w* + θ·p_dir), for flatness searches and
 * mini-loss-function slices. Only the analysed layer l is perturbed, so the activations below it
 * are cached: A (M, K) = the layer's input, Z0 = A·W* (+ b*), U = A·[P_0 | … | P_{D−1}] (+ bias
 * rows), computed once per w*. A probe costs the elementwise act(Z0 + θ·U_dir) and the layers
 * above l on M rows; Q probes are stacked into one dispatch per layer (shaders/probe_loss.wgsl).
 *
 * The model's parameter buffer (mlp.params) must hold w* (all layers) when prepare() runs.
 */
import { GpuBatch } from '../../gpu/batch.ts';
import { createStorage, readF32 } from '../../gpu/buffers.ts';
import { roundUp } from '../../gpu/kernel.ts';
import { DurationEstimate } from '../../gpu/sync.ts';
import { DenseForward } from '../../kernels/dense_forward.ts';
import { ProbeLoss, ProbePerturb, ProbePerturbForward } from '../../kernels/probe_loss.ts';
import type { MlpGpu } from '../../nn/mlp-gpu.ts';
import type { GpuDataset } from '../../train/gpu-dataset.ts';
import type { FlatnessProbe } from '../numerics/flatness.ts';
import { FullSetPass } from './full-pass.ts';

export interface ProbeResult {
  /** Mean loss over the dataset, one per probe. */
  means: Float64Array;
  /** Per-row losses (probe-major, probes × M), when asked for. */
  rows: Float32Array | null;
}

interface Slot {
  /** perturb (last layer analysed) or perturb_forward (into the next layer's output). */
  perturbBg: GPUBindGroup;
  /** Dense forward of the layers from l + 2 on. */
  forwardBgs: GPUBindGroup[];
  lossBg: GPUBindGroup;
}

export class ProbeEvaluator {
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly rowsK: number;
  readonly P: number;
  private readonly z0: GPUBuffer;
  private readonly u: GPUBuffer;
  private readonly dirsW: GPUBuffer;
  private readonly y: GPUBuffer;
  private readonly above: GPUBuffer[];
  private readonly probeBuf: GPUBuffer;
  private readonly rowsBuf: GPUBuffer;
  private readonly partialBuf: GPUBuffer;
  private readonly slots: Slot[] = [];
  private readonly z0Bg: GPUBindGroup;
  private readonly uBg: GPUBindGroup;
  readonly chunks: number;
  private readonly partialSlotBytes: number;
  private readonly probeSlotBytes: number;
  /** Device time of the last evaluate, ms (wall clock around submit + read). */
  lastMs = 0;
  probesEvaluated = 0;
  /** Running estimate of GPU time per probe, so read-backs wait gently (src/gpu/sync.ts). */
  private readonly perProbe = new DurationEstimate(0.5);

  private constructor(
    readonly mlp: MlpGpu,
    readonly pass: FullSetPass,
    readonly D: number,
    readonly Q: number,
    readonly maxSlots: number,
    private readonly ident: DenseForward,
    private readonly perturb: ProbePerturb | null,
    private readonly fused: ProbePerturbForward | null,
    private readonly loss: ProbeLoss,
  ) {
    const ctx = mlp.ctx;
    const layers = mlp.layout.layers;
    const L = pass.L;
    this.M = pass.rows;
    this.K = L.fanIn;
    this.N = L.fanOut;
    this.rowsK = L.rows;
    this.P = pass.P;
    const M = this.M;
    const N = this.N;
    const maxBinding = ctx.device.limits.maxStorageBufferBindingSize;
    if (M * D * N * 4 > maxBinding) {
      throw new Error(`ProbeEvaluator: U = A·P for ${D} directions needs ${M}·${D}·${N} floats, above maxStorageBufferBindingSize; use fewer directions`);
    }
    this.z0 = createStorage(ctx, 'probe.z0', M * N * 4);
    this.u = createStorage(ctx, 'probe.u', M * D * N * 4);
    this.dirsW = createStorage(ctx, 'probe.dirsW', this.rowsK * D * N * 4);
    // Y is only materialised when the analysed layer is the last one (its output is the logits).
    this.y = createStorage(ctx, 'probe.y', fused ? 16 : Q * M * N * 4);
    this.above = layers.slice(pass.layer + 1).map((Lj) => createStorage(ctx, `probe.out${Lj.index}`, Q * M * Lj.fanOut * 4));
    this.chunks = loss.chunks(M);
    this.probeSlotBytes = roundUp(Q * 2 * 4, 256);
    this.partialSlotBytes = roundUp(Q * this.chunks * 4, 256);
    this.probeBuf = createStorage(ctx, 'probe.probes', maxSlots * this.probeSlotBytes);
    this.partialBuf = createStorage(ctx, 'probe.partial', maxSlots * this.partialSlotBytes);
    this.rowsBuf = createStorage(ctx, 'probe.rows', maxSlots * roundUp(Q * M * 4, 256));
    const Wl = mlp.layerRange(mlp.params, L);
    this.z0Bg = ident.bind({ x: pass.a, w: Wl, y: this.z0 });
    this.uBg = ident.bind({ x: pass.a, w: this.dirsW, y: this.u });
    const logits = this.above.length ? this.above[this.above.length - 1] : this.y;
    const rowSlot = roundUp(Q * M * 4, 256);
    for (let s = 0; s < maxSlots; s++) {
      const probe = { buffer: this.probeBuf, offset: s * this.probeSlotBytes, size: Q * 2 * 4 };
      const perturbBg = fused
        ? fused.bind({ z0: this.z0, u: this.u, probe, w2: mlp.layerRange(mlp.params, layers[pass.layer + 1]), y2: this.above[0] })
        : perturb!.bind({ z0: this.z0, u: this.u, probe, y: this.y });
      const forwardBgs = layers.slice(pass.layer + 2).map((Lj, i) =>
        mlp.forwardKernel(Lj.index, Q * M).bind({ x: this.above[i], w: mlp.layerRange(mlp.params, Lj), y: this.above[i + 1] }),
      );
      const lossBg = loss.bind({
        logits,
        labels: pass.data.y,
        rows: { buffer: this.rowsBuf, offset: s * rowSlot, size: Q * M * 4 },
        partial: { buffer: this.partialBuf, offset: s * this.partialSlotBytes, size: Q * this.chunks * 4 },
      });
      this.slots.push({ perturbBg, forwardBgs, lossBg });
    }
  }

  /**
   * `directions`: D directions in the layer layout, row-major (D, P), unit norm or not (θ is the
   * step along the vector as given). Q: probes per dispatch; maxSlots: dispatch groups per submit.
   */
  static async create(mlp: MlpGpu, data: GpuDataset, layer: number, D: number, opts: { Q?: number; maxSlots?: number } = {}): Promise<ProbeEvaluator> {
    const ctx = mlp.ctx;
    const pass = await FullSetPass.create(mlp, data, layer, 'probe.full');
    const L = pass.L;
    const last = layer === mlp.layout.layers.length - 1;
    const act = last ? 'identity' : mlp.config.activation;
    // Default Q: about 2^17 stacked rows per dispatch (memory Q·M·width floats).
    const Q = opts.Q ?? Math.max(1, Math.min(64, Math.floor(131072 / data.n)));
    const layers = mlp.layout.layers;
    const next = last ? null : layers[layer + 1];
    const [ident, perturb, fused, loss] = await Promise.all([
      DenseForward.create(ctx, { act: 'identity', bias: mlp.config.bias, shape: { m: data.n, k: L.fanIn, n: D * L.fanOut } }),
      last ? ProbePerturb.create(ctx, { act }) : Promise.resolve(null),
      next
        ? ProbePerturbForward.create(ctx, {
            act,
            act2: next.index === layers.length - 1 ? 'identity' : mlp.config.activation,
            bias2: mlp.config.bias,
            shape: { rows: Q * data.n, n: L.fanOut, c: next.fanOut },
          })
        : Promise.resolve(null),
      ProbeLoss.create(ctx),
      mlp.prepare(Q * data.n, false),
    ]);
    return new ProbeEvaluator(mlp, pass, D, Q, opts.maxSlots ?? 8, ident, perturb, fused, loss);
  }

  /** Uploads the directions (row-major (D, P)) and computes A, Z0 and U at the current mlp.params. */
  async prepare(directions: ArrayLike<number>): Promise<void> {
    const { D, P, N, rowsK } = this;
    if (directions.length !== D * P) throw new Error(`ProbeEvaluator.prepare: directions must be D·P = ${D}·${P} values, got ${directions.length}`);
    const W = new Float32Array(rowsK * D * N);
    for (let d = 0; d < D; d++) {
      for (let r = 0; r < rowsK; r++) {
        for (let c = 0; c < N; c++) W[r * D * N + d * N + c] = directions[d * P + r * N + c];
      }
    }
    this.mlp.ctx.device.queue.writeBuffer(this.dirsW, 0, W);
    const batch = new GpuBatch(this.mlp.ctx, 'probe.prepare');
    this.pass.encodeForward(batch);
    this.ident.encode(batch, this.z0Bg, { m: this.M, k: this.K, n: N });
    this.ident.encode(batch, this.uBg, { m: this.M, k: this.K, n: D * N });
    batch.submit();
    await this.mlp.ctx.device.queue.onSubmittedWorkDone();
  }

  /** Mean full-dataset loss per probe (and per-row losses if `withRows`). */
  async evaluate(probes: FlatnessProbe[], withRows = false): Promise<ProbeResult> {
    const t0 = performance.now();
    const { M, Q, maxSlots } = this;
    const means = new Float64Array(probes.length);
    const rows = withRows ? new Float32Array(probes.length * M) : null;
    const perSubmit = Q * maxSlots;
    for (let start = 0; start < probes.length; start += perSubmit) {
      const part = probes.slice(start, start + perSubmit);
      const nSlots = Math.ceil(part.length / Q);
      const ctx = this.mlp.ctx;
      const batch = new GpuBatch(ctx, 'probe.eval');
      for (let s = 0; s < nSlots; s++) {
        const group = part.slice(s * Q, s * Q + Q);
        const data = new Float32Array(group.length * 2);
        group.forEach((p, i) => {
          if (!(Number.isInteger(p.dir) && p.dir >= 0 && p.dir < this.D)) throw new Error(`ProbeEvaluator: probe direction ${p.dir} outside [0, ${this.D})`);
          if (!Number.isFinite(p.theta)) throw new Error(`ProbeEvaluator: probe θ must be finite, got ${p.theta}`);
          data[2 * i] = p.dir;
          data[2 * i + 1] = p.theta;
        });
        ctx.device.queue.writeBuffer(this.probeBuf, s * this.probeSlotBytes, data);
        this.encodeSlot(batch, s, group.length);
      }
      batch.submit();
      const t1 = performance.now();
      const partial = await readF32(ctx, this.partialBuf, 0, (nSlots * this.partialSlotBytes) / 4, this.perProbe.ms * part.length);
      this.perProbe.update((performance.now() - t1) / part.length);
      for (let i = 0; i < part.length; i++) {
        const s = Math.floor(i / Q);
        const q = i - s * Q;
        let sum = 0;
        const o = (s * this.partialSlotBytes) / 4 + q * this.chunks;
        for (let g = 0; g < this.chunks; g++) sum += partial[o + g];
        means[start + i] = sum / M;
      }
      if (rows) {
        const rowSlot = roundUp(Q * M * 4, 256);
        for (let s = 0; s < nSlots; s++) {
          const n = Math.min(Q, part.length - s * Q);
          const r = await readF32(ctx, this.rowsBuf, s * rowSlot, n * M);
          rows.set(r, (start + s * Q) * M);
        }
      }
    }
    this.lastMs = performance.now() - t0;
    this.probesEvaluated += probes.length;
    return { means, rows };
  }

  private encodeSlot(batch: GpuBatch, s: number, q: number): void {
    const { M, N, mlp } = this;
    const slot = this.slots[s];
    const layers = mlp.layout.layers;
    if (this.fused) {
      this.fused.encode(batch, slot.perturbBg, { m: M, n: N, c: layers[this.pass.layer + 1].fanOut, dirs: this.D, probes: q });
    } else {
      this.perturb!.encode(batch, slot.perturbBg, { m: M, n: N, dirs: this.D, probes: q });
    }
    layers.slice(this.pass.layer + 2).forEach((Lj, i) => mlp.forwardKernel(Lj.index, this.Q * M).encode(batch, slot.forwardBgs[i], { m: q * M, k: Lj.fanIn, n: Lj.fanOut }));
    this.loss.encode(batch, slot.lossBg, { m: M, classes: mlp.classes, probes: q });
  }
}
