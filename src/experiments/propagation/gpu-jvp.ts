/**
 * Jacobian–vector products through S random deep networks on the GPU: P primal inputs and T
 * tangent vectors per network pushed through L layers at once (forward-mode differentiation),
 * the squared length of every primal and tangent row read back per layer, and optionally the final
 * tangents. Two experiments use it: the input–output Jacobian's singular values (P = 1, the T = N
 * tangents the identity: the final tangents are the rows of the Jacobian; jacobian.ts) and the
 * length of a great circle of inputs (P = T = M points and their θ-derivatives; curve-length.ts).
 *
 * The network (the convention of meanfield/jacobian-spectrum.ts), width N, h^0 given:
 *   h^l = φ(h^{l−1})·W^l + b^l,   t^l = (φ'(h^{l−1}) ⊙ t^{l−1})·W^l,   l = 1 … L,
 * so t^L = t^0·J with J = D^0 W^1 D^1 ⋯ W^L (row convention), D^l = diag φ'(h^l).
 *   gaussian:    W^l_kn = σ_w/√N·z, b^l_n = σ_b·z', z from Threefry under key (seed + s, l) —
 *                the weights randnet.wgsl regenerates for the same seed and layer;
 *   orthogonal:  W^l = σ_w·Q, Q Haar-orthogonal built on the GPU by Householder products of the
 *                same Threefry draws (shaders/jvp.wgsl), b^l as above.
 * Per layer: draw the (N + 1, N) block [W; b] (one layer is stored at a time, so any depth fits),
 * two dense_forward products per network (primal with the bias, tangents without), and the prep
 * step φ(h), φ'(h) ⊙ t with the row lengths. Work per layer: 2(P + T)N² flops per network, plus
 * (8/3)N³ to build an orthogonal block.
 */
import type { GpuContext } from '../../gpu/device.ts';
import { createStorage, readF32 } from '../../gpu/buffers.ts';
import { SplitSubmits } from '../../gpu/split-submits.ts';
import { DenseForward } from '../../kernels/dense_forward.ts';
import { Jvp, jvpShape, type JvpActivation } from '../../kernels/jvp.ts';
import type { WeightEnsemble } from '../../analysis/meanfield/jacobian-spectrum.ts';
import type { JacobianActivation } from '../../analysis/meanfield/d2-law.ts';
import { checkInt, checkRandomNetworks, type RandomNetworks } from './gpu-propagation.ts';

/** L weight layers: h^0 … h^L are measured. */
export interface JvpSpec extends RandomNetworks {
  activation: JacobianActivation;
  weights: WeightEnsemble;
  /** h^0: (P, N) shared by every network, or (S, P, N) one block per network when primalPerNetwork. */
  primal: Float32Array;
  primalPerNetwork?: boolean;
  /** t^0: (T, N) shared by every network (T a multiple of P), or the N × N identity (P = 1). */
  tangents: Float32Array | 'identity';
  /** Read back t^L (S, T, N). */
  readTangents: boolean;
}

export interface JvpResult {
  spec: JvpSpec;
  pRows: number;
  tRows: number;
  /** (L + 1, S, P): Σ_i (h^l_i)² of each primal row. */
  primalSq: Float64Array;
  /** (L + 1, S, T): Σ_i (t^l_i)² of each tangent row. */
  tangentSq: Float64Array;
  /** t^L, (S, T, N), or null. */
  tangents: Float32Array | null;
  /** GPU wall time (encode, run, read back), s. */
  seconds: number;
  flops: number;
}

export const JVP_LIMITS = { width: [1, 4096], depth: [1, 2000], nets: [1, 64], rows: [1, 8192] } as const;

export function validateJvpSpec(s: JvpSpec): { pRows: number; tRows: number } {
  if (!['tanh', 'relu', 'linear'].includes(s.activation)) throw new Error(`activation must be one of tanh, relu, linear; got '${s.activation}'`);
  if (!['gaussian', 'orthogonal'].includes(s.weights)) throw new Error(`weights must be gaussian or orthogonal, got '${s.weights}'`);
  checkRandomNetworks(s, JVP_LIMITS);
  const N = s.width;
  const blocks = s.primalPerNetwork ? s.nets : 1;
  const what = s.primalPerNetwork ? `nets × P × width = ${s.nets} × P × ${N}` : `P × width = P × ${N}`;
  if (s.primal.length === 0 || s.primal.length % (blocks * N) !== 0) throw new Error(`primal inputs must hold ${what} values, got ${s.primal.length}`);
  const pRows = s.primal.length / (blocks * N);
  let tRows = N;
  if (s.tangents === 'identity') {
    if (pRows !== 1) throw new Error(`identity tangents (the whole Jacobian) need one primal input, got ${pRows}`);
  } else {
    if (s.tangents.length === 0 || s.tangents.length % N !== 0) throw new Error(`tangents must hold T × width = T × ${N} values, got ${s.tangents.length}`);
    tRows = s.tangents.length / N;
  }
  checkInt('primal rows P', pRows, JVP_LIMITS.rows);
  checkInt('tangent rows T', tRows, JVP_LIMITS.rows);
  if (tRows % pRows !== 0) throw new Error(`tangent rows T = ${tRows} must be a multiple of the primal rows P = ${pRows}`);
  return { pRows, tRows };
}

const statsAct = (a: JacobianActivation): JvpActivation => (a === 'linear' ? 'identity' : a);

/** Compiled kernels for one activation; reusable across specs. */
export class GpuJvp {
  /** Measured GPU ms per flop, for gentle waits; 0 until the first large run. */
  private msPerFlop = 0;

  private constructor(readonly ctx: GpuContext, readonly activation: JacobianActivation, private readonly jvp: Jvp) {}

  static async create(ctx: GpuContext, activation: JacobianActivation): Promise<GpuJvp> {
    return new GpuJvp(ctx, activation, await Jvp.create(ctx, { act: statsAct(activation), label: 'jvp' }));
  }

  async run(spec: JvpSpec, onProgress?: (fraction: number) => void): Promise<JvpResult> {
    const { pRows: P, tRows: T } = validateJvpSpec(spec);
    if (spec.activation !== this.activation) throw new Error(`GpuJvp was compiled for ${this.activation}; got ${spec.activation}`);
    const { ctx, jvp } = this;
    const t0 = performance.now();
    const N = spec.width;
    const L = spec.depth;
    const S = spec.nets;
    const orth = spec.weights === 'orthogonal';
    const shape = jvpShape(N, S, P, T);
    const limit = Math.min(ctx.device.limits.maxStorageBufferBindingSize, ctx.device.limits.maxBufferSize);
    const biggest = 4 * S * Math.max(shape.tStride, shape.wStride);
    if (biggest > limit) {
      throw new Error(`jvp: ${S} networks × ${Math.max(T, N + 1)} rows × width ${N} need ${(biggest / 2 ** 20).toFixed(0)} MiB in one buffer, above this adapter's ${(limit / 2 ** 20).toFixed(0)} MiB; use fewer networks or a smaller width`);
    }
    const [dPrimal, dTangent] = await Promise.all([
      DenseForward.create(ctx, { act: 'identity', bias: true, shape: { m: P, k: N, n: N }, label: `jvp.primal.${P}` }),
      DenseForward.create(ctx, { act: 'identity', bias: false, shape: { m: T, k: N, n: N }, label: `jvp.tangent.${T}` }),
    ]);
    const label = 'jvp';
    const errorsBefore = ctx.uncapturedErrors.length;
    const h0 = new Float32Array(S * shape.hStride);
    const t0v = new Float32Array(S * shape.tStride);
    for (let s = 0; s < S; s++) {
      h0.set(spec.primalPerNetwork ? spec.primal.subarray(s * P * N, (s + 1) * P * N) : spec.primal, s * shape.hStride);
      if (spec.tangents === 'identity') for (let i = 0; i < N; i++) t0v[s * shape.tStride + i * N + i] = 1;
      else t0v.set(spec.tangents, s * shape.tStride);
    }
    const rowsPerLayer = S * (P + T);
    const bh = createStorage(ctx, `${label}.h`, h0);
    const bt = createStorage(ctx, `${label}.t`, t0v);
    const by = createStorage(ctx, `${label}.y`, h0.byteLength);
    const bu = createStorage(ctx, `${label}.u`, t0v.byteLength);
    const bw = createStorage(ctx, `${label}.w`, 4 * S * shape.wStride);
    const bz = orth ? createStorage(ctx, `${label}.z`, 4 * S * shape.wStride) : null;
    const bc = orth ? createStorage(ctx, `${label}.coef`, 4 * 3 * N * S) : null;
    const bstats = createStorage(ctx, `${label}.stats`, 4 * (L + 1) * rowsPerLayer);
    const buffers = [bh, bt, by, bu, bw, bstats, ...(bz ? [bz] : []), ...(bc ? [bc] : [])];
    try {
      const prep = jvp.bindPrep({ h: bh, t: bt, y: by, u: bu, stats: bstats }, `${label}.prep`);
      const fill = jvp.bindFill({ z: bz ?? bw }, `${label}.fill`);
      const house = bz && bc ? jvp.bindHouseholder({ z: bz, coef: bc }) : null;
      const ortho = bz && bc ? jvp.bindOrthogonal({ z: bz, coef: bc, w: bw }) : null;
      const at = (buffer: GPUBuffer, s: number, stride: number, len: number): GPUBufferBinding => ({ buffer, offset: 4 * s * stride, size: 4 * len });
      const nets = Array.from({ length: S }, (_, s) => ({
        primal: dPrimal.bind({ x: at(by, s, shape.hStride, P * N), w: at(bw, s, shape.wStride, (N + 1) * N), y: at(bh, s, shape.hStride, P * N) }),
        tangent: dTangent.bind({ x: at(bu, s, shape.tStride, T * N), w: at(bw, s, shape.wStride, (N + 1) * N), y: at(bt, s, shape.tStride, T * N) }),
      }));
      const layerFlops = S * (2 * (P + T) * N * N + (orth ? (8 / 3) * N ** 3 : 0));
      const totalFlops = L * layerFlops;
      const split = new SplitSubmits(ctx, label, 4e9, this.msPerFlop, onProgress ? (w) => onProgress(w / totalFlops) : undefined);
      jvp.encodePrep(split.batch, prep, shape, 0);
      for (let l = 1; l <= L; l++) {
        if (orth) {
          jvp.encodeFill(split.batch, fill, shape, { seed: spec.seed, layer: l, scaleW: 1, scaleB: 1 });
          jvp.encodeOrthogonal(split.batch, house!, ortho!, shape, Math.sqrt(spec.sw2), Math.sqrt(spec.sb2));
        } else {
          jvp.encodeFill(split.batch, fill, shape, { seed: spec.seed, layer: l, scaleW: Math.sqrt(spec.sw2 / N), scaleB: Math.sqrt(spec.sb2) });
        }
        for (const b of nets) {
          dPrimal.encode(split.batch, b.primal, { m: P, k: N, n: N });
          dTangent.encode(split.batch, b.tangent, { m: T, k: N, n: N });
        }
        jvp.encodePrep(split.batch, prep, shape, l * rowsPerLayer);
        await split.account(layerFlops);
      }
      const expectMs = split.submit();
      const rawStats = await readF32(ctx, bstats, 0, (L + 1) * rowsPerLayer, expectMs);
      const tangents = spec.readTangents ? await readF32(ctx, bt, 0, S * shape.tStride) : null;
      if (ctx.uncapturedErrors.length > errorsBefore) {
        throw new Error(`WebGPU error during the Jacobian–vector products:\n${ctx.uncapturedErrors.slice(errorsBefore).join('\n')}`);
      }
      onProgress?.(1);
      const seconds = (performance.now() - t0) / 1000;
      // Only runs whose work dwarfs the fixed costs (compiles, read-back) teach the rate: a small
      // run's ms per flop would make the next big run sleep far past its end.
      if (totalFlops >= 1e9) this.msPerFlop = (seconds * 1000) / totalFlops;
      const primalSq = new Float64Array((L + 1) * S * P);
      const tangentSq = new Float64Array((L + 1) * S * T);
      for (let ls = 0; ls < (L + 1) * S; ls++) {
        for (let r = 0; r < P; r++) primalSq[ls * P + r] = rawStats[ls * (P + T) + r];
        for (let r = 0; r < T; r++) tangentSq[ls * T + r] = rawStats[ls * (P + T) + P + r];
      }
      let packed: Float32Array | null = null;
      if (tangents) {
        packed = new Float32Array(S * T * N);
        for (let s = 0; s < S; s++) packed.set(tangents.subarray(s * shape.tStride, s * shape.tStride + T * N), s * T * N);
      }
      return { spec, pRows: P, tRows: T, primalSq, tangentSq, tangents: packed, seconds, flops: totalFlops };
    } finally {
      for (const b of buffers) b.destroy();
    }
  }
}
