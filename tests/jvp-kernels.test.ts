/**
 * shaders/jvp.wgsl against its CPU reference (src/kernels/jvp.ref.ts) on odd shapes: the drawn
 * weight block, the Householder build of a Haar-orthogonal block (and that it is orthogonal), and
 * the per-row prep step, with blocks at padded per-network strides.
 */
import { describe, expect, it } from 'vitest';
import { useGpu, randomArray } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { createStorage, readF32 } from '../src/gpu/buffers.ts';
import { Jvp, JVP_ACTIVATIONS, jvpShape, type JvpShape } from '../src/kernels/jvp.ts';
import { jvpFillRef, orthogonalRef, prepRef } from '../src/kernels/jvp.ref.ts';
import { randnetWeights } from '../src/kernels/randnet.ref.ts';

const ctx = useGpu();

/** Network s's unpadded block of `len` floats out of a buffer read back whole. */
const block = (all: Float32Array, s: number, stride: number, len: number): Float32Array => all.subarray(s * stride, s * stride + len);

async function drawBlocks(shape: JvpShape, orthogonal: boolean, sigmaW: number, sigmaB: number, seed: number, layer: number): Promise<Float32Array> {
  const c = ctx();
  const jvp = await Jvp.create(c, { act: 'tanh' });
  const S = shape.nets;
  const z = createStorage(c, 't.z', S * shape.wStride * 4);
  const w = createStorage(c, 't.w', S * shape.wStride * 4);
  const coef = createStorage(c, 't.coef', 3 * shape.n * S * 4);
  const batch = new GpuBatch(c, 't');
  const N = shape.n;
  jvp.encodeFill(batch, jvp.bindFill({ z }), shape, orthogonal ? { seed, layer, scaleW: 1, scaleB: 1 } : { seed, layer, scaleW: Math.sqrt(sigmaW ** 2 / N), scaleB: sigmaB });
  if (orthogonal) jvp.encodeOrthogonal(batch, jvp.bindHouseholder({ z, coef }), jvp.bindOrthogonal({ z, coef, w }), shape, sigmaW, sigmaB);
  batch.submit();
  const out = await readF32(c, orthogonal ? w : z, 0, S * shape.wStride);
  for (const b of [z, w, coef]) b.destroy();
  return out;
}

describe('jvp.wgsl against the CPU reference', () => {
  for (const [n, nets] of [[1, 1], [7, 2], [13, 3], [37, 2]] as const) {
    it(`fill: the Gaussian block [W; b] is randnet's, N=${n}, S=${nets}`, async () => {
      const shape = jvpShape(n, nets, 1, 1);
      const sw = 1.3;
      const got = await drawBlocks(shape, false, sw, 0.2, 77, 5);
      for (let s = 0; s < nets; s++) {
        const ref = jvpFillRef(n, s, { seed: 77, layer: 5, scaleW: sw / Math.sqrt(n), scaleB: 0.2 });
        assertClose(block(got, s, shape.wStride, (n + 1) * n), ref, { atol: 3e-6, rtol: 1e-5, label: `fill s=${s}`, cols: n });
        const rn = randnetWeights({ m: 1, k: n, n, nets, seed: 77, layer: 5, scaleW: sw / Math.sqrt(n), scaleB: 0.2 }, s);
        assertClose(ref, rn, { atol: 1e-15, rtol: 0, label: 'the same networks as randnet' });
      }
    });

    it(`orthogonal: σ_w·Q (Householder products of the draws) and the bias row, N=${n}, S=${nets}`, async () => {
      const shape = jvpShape(n, nets, 1, 1);
      const sw = 1.5;
      const got = await drawBlocks(shape, true, sw, 0.3, 91, 2);
      for (let s = 0; s < nets; s++) {
        const raw = jvpFillRef(n, s, { seed: 91, layer: 2, scaleW: 1, scaleB: 1 });
        const ref = orthogonalRef(raw, n, sw, 0.3);
        const w = block(got, s, shape.wStride, (n + 1) * n);
        assertClose(w, ref, { atol: 2e-5 * Math.sqrt(n), rtol: 1e-4, label: `orthogonal s=${s}`, cols: n });
        // Qᵀ Q = I (the reference, float64) and σ_w² I (the GPU block, float32)
        for (const [m, scale, tol] of [[ref, sw, 1e-12], [w, sw, 3e-5 * Math.sqrt(n)]] as const) {
          let worst = 0;
          for (let a = 0; a < n; a++) {
            for (let b = 0; b < n; b++) {
              let dot = 0;
              for (let i = 0; i < n; i++) dot += m[i * n + a] * m[i * n + b];
              worst = Math.max(worst, Math.abs(dot / scale ** 2 - (a === b ? 1 : 0)));
            }
          }
          expect(worst).toBeLessThan(tol);
        }
      }
    });
  }

  for (const act of JVP_ACTIVATIONS) {
    for (const [n, nets, p, t] of [[9, 2, 1, 5], [65, 3, 2, 6], [70, 1, 3, 3]] as const) {
      it(`prep ${act}: φ(h), φ'(h)⊙t and squared lengths, N=${n}, S=${nets}, P=${p}, T=${t}, at a stats offset`, async () => {
        const c = ctx();
        const jvp = await Jvp.create(c, { act });
        const shape = jvpShape(n, nets, p, t);
        const hIn = randomArray(nets * shape.hStride, 3 + n, 2.5);
        const tIn = randomArray(nets * shape.tStride, 5 + n, 1.5);
        const bh = createStorage(c, 't.h', hIn);
        const bt = createStorage(c, 't.t', tIn);
        const by = createStorage(c, 't.y', nets * shape.hStride * 4);
        const bu = createStorage(c, 't.u', nets * shape.tStride * 4);
        const off = 7;
        const bs = createStorage(c, 't.stats', (off + nets * (p + t)) * 4);
        const batch = new GpuBatch(c, 't');
        jvp.encodePrep(batch, jvp.bindPrep({ h: bh, t: bt, y: by, u: bu, stats: bs }), shape, off);
        batch.submit();
        const [y, u, stats] = await Promise.all([readF32(c, by, 0, nets * shape.hStride), readF32(c, bu, 0, nets * shape.tStride), readF32(c, bs, 0, off + nets * (p + t))]);
        for (let s = 0; s < nets; s++) {
          const ref = prepRef(act, block(hIn, s, shape.hStride, p * n), block(tIn, s, shape.tStride, t * n), n, p, t);
          const tol = { atol: 2e-6, rtol: 2e-5 };
          assertClose(block(y, s, shape.hStride, p * n), ref.y, { ...tol, label: `y s=${s}`, cols: n });
          assertClose(block(u, s, shape.tStride, t * n), ref.u, { ...tol, label: `u s=${s}`, cols: n });
          assertClose(stats.subarray(off + s * (p + t), off + (s + 1) * (p + t)), ref.stats, { atol: 1e-5, rtol: 1e-5, label: `stats s=${s}` });
        }
        for (const b of [bh, bt, by, bu, bs]) b.destroy();
      });
    }
  }

  it('refuses tangent rows that are not a multiple of the primal rows', () => {
    expect(() => jvpShape(8, 1, 3, 4)).toThrow(/multiple of the primal rows/);
  });
});
