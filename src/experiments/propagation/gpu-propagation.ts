/**
 * Empirical signal propagation on the GPU: S random deep MLPs (seeds) at once, M inputs each,
 * measuring layer by layer what the mean-field theory (src/analysis/meanfield) predicts.
 *
 * The network (Schoenholz et al. 2017; the convention of meanfield/nngp.ts and propagate-cpu.ts):
 *   h^0 = x·W^0 + b^0,   h^l = φ(h^{l−1})·W^l + b^l   (l = 1 … L−1, width N),
 *   W^l_kn ~ N(0, σ_w²/fan_in),  b^l_n ~ N(0, σ_b²),
 * with weights regenerated on the fly from (seed + s, l) (shaders/randnet.wgsl), so nothing of
 * size N² × L is ever stored: any width × depth fits. Per layer l, network s, inputs a, b:
 *   G^l_ab = (1/N) Σ_i h^l_i(x_a) h^l_i(x_b)     q^l = G_aa, c^l = G_ab/√(G_aa G_bb)
 *   P^l_a  = (1/N) Σ_i φ(h^l_i(x_a))²
 * and, with gradients, the backpropagated δ^l = ∂E/∂h^l of the random linear readout
 * E = Σ_i r_i h^{L−1}_i (r ~ N(0, 1), one per network and input; exact backprop through the same
 * weights):
 *   δ^{L−1} = r,   δ^l = φ'(h^l) ⊙ (W^{l+1} δ^{l+1}),   D^l_a = (1/N) Σ_i (δ^l_i)².
 * The mean-field prediction is D^l = D^{l+1}·σ_w² E[φ'(h^l)²] = D^{l+1}·χ1(q^l) (theory.ts).
 *
 * One layer is 2 dispatches forward (matmul, statistics) and 2 backward; the whole run is
 * encoded into a few command buffers (split by work so that no submit runs for minutes) and the
 * statistics, (L, S, M·M + 2M) floats, are read back once.
 */
import type { GpuContext } from '../../gpu/device.ts';
import { createStorage, readF32 } from '../../gpu/buffers.ts';
import { SplitSubmits } from '../../gpu/split-submits.ts';
import { Randnet, chooseRandnetTiles, type RandnetLayer } from '../../kernels/randnet.ts';
import { LayerStats, statsStride, type StatsActivation } from '../../kernels/layer_stats.ts';
import { READOUT_STREAM } from '../../kernels/threefry.ts';

/** S random networks of width N and L layers: W ~ N(0, σ_w²/N), b ~ N(0, σ_b²); network s uses seed + s. */
export interface RandomNetworks {
  sw2: number;
  sb2: number;
  /** N. */
  width: number;
  /** L (what is measured at which layer: the spec that extends this says). */
  depth: number;
  /** S. */
  nets: number;
  seed: number;
}

/** Pre-activations h^0 … h^{L−1} are measured. */
export interface PropagationSpec extends RandomNetworks {
  /** φ; the names of src/analysis/meanfield ('linear' = identity). */
  activation: 'tanh' | 'relu' | 'erf' | 'linear';
  /** M inputs of dimension d, row-major (M, d). */
  inputs: Float32Array;
  inputDim: number;
  /** Backpropagate the readout gradient too (default true; needs all L layers' h kept). */
  gradients?: boolean;
}

export interface PropagationResult {
  spec: PropagationSpec;
  /** M inputs. */
  m: number;
  /** G (L, S, M, M): pre-activation Gram matrices. */
  gram: Float64Array;
  /** P (L, S, M): mean φ(h)². */
  phi2: Float64Array;
  /** D (L, S, M): mean δ²; NaN without gradients. */
  delta2: Float64Array;
  /** Wall time of the GPU work (encode + run + read back), seconds. */
  seconds: number;
  /** Random weights generated (forward + backward), for throughput figures. */
  weights: number;
}

export const PROPAGATION_LIMITS = { width: [1, 16384], depth: [1, 2000], nets: [1, 64], inputs: [1, 16] } as const;

/** An integer in [lo, hi], or an error naming the field and the range. */
export function checkInt(name: string, v: number, [lo, hi]: readonly [number, number]): void {
  if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new Error(`${name} must be an integer in [${lo}, ${hi}], got ${v}`);
}

/** σ_w², σ_b², N, L, S and the seed, each against its range (an error naming the field). */
export function checkRandomNetworks(s: RandomNetworks, limits: Record<'width' | 'depth' | 'nets', readonly [number, number]>): void {
  if (!(Number.isFinite(s.sw2) && s.sw2 > 0)) throw new Error(`sw2 (σ_w²) must be a finite number in (0, ∞), got ${s.sw2}`);
  if (!(Number.isFinite(s.sb2) && s.sb2 >= 0)) throw new Error(`sb2 (σ_b²) must be a finite number in [0, ∞), got ${s.sb2}`);
  checkInt('width', s.width, limits.width);
  checkInt('depth', s.depth, limits.depth);
  checkInt('nets', s.nets, limits.nets);
  checkInt('seed', s.seed, [0, 0xffffffff]);
}

export function validatePropagationSpec(s: PropagationSpec): { m: number } {
  if (!['tanh', 'relu', 'erf', 'linear'].includes(s.activation)) {
    throw new Error(`activation must be one of tanh, relu, erf, linear; got '${s.activation}'`);
  }
  checkRandomNetworks(s, PROPAGATION_LIMITS);
  checkInt('inputDim', s.inputDim, [1, 1 << 20]);
  if (s.inputs.length === 0 || s.inputs.length % s.inputDim !== 0) {
    throw new Error(`inputs must hold M × inputDim = M × ${s.inputDim} values, got ${s.inputs.length}`);
  }
  const m = s.inputs.length / s.inputDim;
  checkInt('number of inputs M', m, PROPAGATION_LIMITS.inputs);
  return { m };
}

function statsAct(a: PropagationSpec['activation']): StatsActivation {
  return a === 'linear' ? 'identity' : a;
}

/** Compiled kernels for one activation and input count; reusable across specs. */
export class GpuPropagation {
  /** Measured GPU time per unit of work (weights generated × row tiles; ms), for gentle waits (src/gpu/sync.ts); 0 until the first run. */
  private msPerWork = 0;

  private constructor(
    readonly ctx: GpuContext,
    readonly m: number,
    readonly act: StatsActivation,
    private readonly randnet: Randnet,
    private readonly stats: LayerStats,
  ) {}

  static async create(ctx: GpuContext, opts: { activation: PropagationSpec['activation']; inputs: number }): Promise<GpuPropagation> {
    checkInt('number of inputs M', opts.inputs, PROPAGATION_LIMITS.inputs);
    const act = statsAct(opts.activation);
    const [randnet, stats] = await Promise.all([
      Randnet.create(ctx, { tiles: chooseRandnetTiles(opts.inputs), label: 'propagation.randnet' }),
      LayerStats.create(ctx, { act, label: 'propagation.stats' }),
    ]);
    return new GpuPropagation(ctx, opts.inputs, act, randnet, stats);
  }

  /** Runs the S networks and returns the per-layer statistics. */
  async run(spec: PropagationSpec, onProgress?: (fraction: number) => void): Promise<PropagationResult> {
    const { m } = validatePropagationSpec(spec);
    if (m !== this.m || statsAct(spec.activation) !== this.act) {
      throw new Error(`GpuPropagation was compiled for ${this.m} inputs and ${this.act}; got ${m} inputs and ${spec.activation}`);
    }
    const { ctx } = this;
    const t0 = performance.now();
    const N = spec.width;
    const L = spec.depth;
    const S = spec.nets;
    const d = spec.inputDim;
    const grads = spec.gradients ?? true;
    const block = S * m * N; // floats of one layer's (S, M, N) activations
    const stride = statsStride(m);
    const hFloats = grads ? L * block : block;
    const limit = Math.min(ctx.device.limits.maxStorageBufferBindingSize, ctx.device.limits.maxBufferSize);
    if (hFloats * 4 > limit) {
      throw new Error(
        `propagation: keeping the pre-activations of ${L} layers × ${S} networks × ${m} inputs × width ${N} needs ` +
          `${((hFloats * 4) / 2 ** 20).toFixed(0)} MiB, above this adapter's ${(limit / 2 ** 20).toFixed(0)} MiB binding limit; ` +
          'use fewer networks, inputs or layers, or no gradients',
      );
    }
    const label = 'propagation';
    const errorsBefore = ctx.uncapturedErrors.length;
    const bx = createStorage(ctx, `${label}.x`, spec.inputs);
    const bh = createStorage(ctx, `${label}.h`, hFloats * 4);
    const ba = createStorage(ctx, `${label}.a`, block * 4);
    const bstats = createStorage(ctx, `${label}.stats`, L * S * stride * 4);
    const bd = grads ? [createStorage(ctx, `${label}.d0`, block * 4), createStorage(ctx, `${label}.d1`, block * 4)] : [];
    const buffers = [bx, bh, ba, bstats, ...bd];
    try {
      const rn = this.randnet;
      const st = this.stats;
      const fwdX = rn.bindForward({ a: bx, h: bh }, `${label}.forward0`);
      const fwdA = rn.bindForward({ a: ba, h: bh }, `${label}.forward`);
      const gram = st.bindGram({ h: bh, y: ba, stats: bstats }, `${label}.gram`);
      const hOff = (l: number): number => (grads ? l * block : 0);
      const layer = (l: number, k: number): RandnetLayer => ({
        m, k, n: N, nets: S, seed: spec.seed, layer: l, scaleW: Math.sqrt(spec.sw2 / k), scaleB: Math.sqrt(spec.sb2),
      });
      const shape = (l: number) => ({ m, n: N, nets: S, hOffset: hOff(l), statsOffset: l * S * stride });

      // Split into submits of ≲ WORK_PER_SUBMIT generated weights (a few seconds on SwiftShader).
      const WORK_PER_SUBMIT = 2e8;
      const tilesM = Math.ceil(m / rn.tiles.TM);
      const totalWork = S * tilesM * (d * N + (L - 1) * N * N) * (grads ? 2 : 1);
      const split = new SplitSubmits(ctx, label, WORK_PER_SUBMIT, this.msPerWork, onProgress ? (w) => onProgress(w / totalWork) : undefined);
      const account = (w: number): Promise<void> => split.account(w);

      for (let l = 0; l < L; l++) {
        const k = l === 0 ? d : N;
        rn.encodeForward(split.batch, l === 0 ? fwdX : fwdA, layer(l, k), l === 0 ? 0 : m * k, hOff(l));
        st.encodeGram(split.batch, gram, shape(l));
        await account(S * tilesM * k * N);
      }
      if (grads) {
        const [d0, d1] = bd;
        rn.encodeFill(split.batch, rn.bindFill({ g: d0 }, `${label}.readout`), { ...layer(READOUT_STREAM, N), scaleW: 1 });
        st.encodeDelta(split.batch, st.bindDelta({ h: bh, g: d0, stats: bstats }, `${label}.delta0`), shape(L - 1), false);
        const back = [rn.bindBackward({ d: d0, g: d1 }, `${label}.back01`), rn.bindBackward({ d: d1, g: d0 }, `${label}.back10`)];
        const delta = [st.bindDelta({ h: bh, g: d1, stats: bstats }, `${label}.delta1`), st.bindDelta({ h: bh, g: d0, stats: bstats }, `${label}.delta0b`)];
        let cur = 0; // δ^{l+1} is in bd[cur]
        for (let l = L - 2; l >= 0; l--) {
          rn.encodeBackward(split.batch, back[cur], layer(l + 1, N));
          st.encodeDelta(split.batch, delta[cur], shape(l), true);
          cur = 1 - cur;
          await account(S * tilesM * N * N);
        }
      }
      const raw = await readF32(ctx, bstats, 0, L * S * stride, split.submit());
      if (ctx.uncapturedErrors.length > errorsBefore) {
        throw new Error(`WebGPU error during the propagation run:\n${ctx.uncapturedErrors.slice(errorsBefore).join('\n')}`);
      }
      onProgress?.(1);
      const seconds = (performance.now() - t0) / 1000;
      this.msPerWork = (seconds * 1000) / totalWork;
      const gramOut = new Float64Array(L * S * m * m);
      const phi2 = new Float64Array(L * S * m);
      const delta2 = new Float64Array(L * S * m).fill(NaN);
      for (let ls = 0; ls < L * S; ls++) {
        const base = ls * stride;
        for (let i = 0; i < m * m; i++) gramOut[ls * m * m + i] = raw[base + i];
        for (let a = 0; a < m; a++) {
          phi2[ls * m + a] = raw[base + m * m + a];
          if (grads) delta2[ls * m + a] = raw[base + m * m + m + a];
        }
      }
      return { spec, m, gram: gramOut, phi2, delta2, seconds, weights: totalWork / tilesM };
    } finally {
      for (const b of buffers) b.destroy();
    }
  }
}
