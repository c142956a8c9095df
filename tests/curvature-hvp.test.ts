/**
 * The R-kernels of the exact Hessian–vector product (shaders/hvp.wgsl):
 *  - each R-kernel against its float64 CPU reference on odd shapes, several directions at once,
 *    every flag combination (R{a} present or not, V present or not, bias, relu/tanh);
 *  - r_softmax_ce at ordinary and ±1e4 logits.
 * The whole product on tiny networks: curvature-hvp-network.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { useGpu, randomArray } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { createStorage, readF32 } from '../src/gpu/buffers.ts';
import { RForward, RGradInput, RGradWeight, RSoftmaxCe } from '../src/kernels/hvp.ts';
import { rForwardRef, rGradInputRef, rGradWeightRef, rSoftmaxCeRef } from '../src/nn/hvp-cpu.ts';
import type { Activation } from '../src/kernels/activation.ts';

const ctx = useGpu();

/** Slice of `vectors` stacked arrays (J, len) → the j-th. */
const part = (a: ArrayLike<number>, j: number, len: number): Float64Array => Float64Array.from({ length: len }, (_, i) => a[j * len + i]);

describe('R-kernels vs CPU references', () => {
  // 1×1×2 and 7×13×5 use 4×4 register tiles, 33×65×17 the 8×8 ones (dense_tiles.ts).
  // Each case compiles its own pipelines, the slow part on SwiftShader: every flag combination on
  // the small tiles, only the all-terms variants on the big ones.
  const CASES: [number, number, number, Activation, boolean[], boolean][] = [
    [1, 1, 2, 'relu', [false], true],
    [7, 13, 5, 'relu', [false, true], true],
    [7, 13, 5, 'tanh', [false, true], true],
    [33, 65, 17, 'tanh', [true], false],
  ];
  const J = 3;
  for (const [M, K, N, act, biases, allFlags] of CASES) {
    {
      it(`r_forward / r_grad_weight / r_grad_input ${M}x${K}x${N}, ${act}, J=${J}`, async () => {
        const c = ctx();
        // a is an activation output (relu: ≥ 0 with zeros; tanh: in (−1, 1)).
        const raw = randomArray(M * K, 11 + M, 1);
        const a = act === 'relu' ? raw.map((v) => Math.max(v, 0)) : raw.map((v) => Math.tanh(2 * v));
        for (const bias of biases) {
          const rows = K + (bias ? 1 : 0);
          const stride = rows * N + 37; // directions sit at an offset inside a longer vector
          const vOff = 29;
          const w = randomArray(rows * N, 3 + K, 0.7);
          const v = randomArray(J * stride, 5 + N, 1);
          const rzin = randomArray(J * M * K, 7, 1);
          const dz = randomArray(M * N, 9, 0.3);
          const rdz = randomArray(J * M * N, 13, 0.3);
          const buf = (x: Float32Array, label: string): GPUBuffer => createStorage(c, label, x);
          const [ba, bw, bv, brz, bdz, brdz] = [buf(a, 'a'), buf(w, 'w'), buf(v, 'v'), buf(rzin, 'rzin'), buf(dz, 'dz'), buf(rdz, 'rdz')];
          const stub = createStorage(c, 'stub', 16);
          const outStride = rows * N + 11;
          const out = createStorage(c, 'out', J * Math.max(M * N, M * K, outStride) * 4);
          const vBlock = (j: number): Float64Array => Float64Array.from({ length: rows * N }, (_, i) => v[j * stride + vOff + i]);
          const shape = { m: M, k: K, n: N, vectors: J };

          for (const [hasRin, hasV] of (allFlags ? [[true, true], [false, true], [true, false]] : [[true, true]]) as [boolean, boolean][]) {
            const f = await RForward.create(c, { prevAct: act, bias, hasRin, hasV, shape });
            const batch = new GpuBatch(c, 't');
            f.encode(batch, f.bind({ a: ba, rzin: hasRin ? brz : stub, w: bw, v: hasV ? bv : stub, rz_out: out }), shape, { offset: vOff, stride });
            batch.submit();
            const got = await readF32(c, out, 0, J * M * N);
            for (let j = 0; j < J; j++) {
              const ref = rForwardRef(a, hasRin ? part(rzin, j, M * K) : null, w, hasV ? vBlock(j) : null, M, K, N, act, bias);
              assertClose(got.subarray(j * M * N, (j + 1) * M * N), ref, { atol: 1e-5, rtol: 1e-5, label: `r_forward rin=${hasRin} v=${hasV} bias=${bias} j=${j}`, cols: N });
            }
          }

          for (const hasRin of allFlags ? [false, true] : [true]) {
            const g = await RGradWeight.create(c, { prevAct: act, bias, hasRin, shape });
            const batch = new GpuBatch(c, 't');
            batch.clear(out);
            const bg = g.bind({ a: ba, rzin: hasRin ? brz : stub, dz: bdz, rdz: brdz, hv: out });
            // Written twice with accumulate: the result must be twice the product.
            g.encode(batch, bg, shape, { offset: 5, stride: outStride, accumulate: false });
            g.encode(batch, bg, shape, { offset: 5, stride: outStride, accumulate: true });
            batch.submit();
            const got = await readF32(c, out, 0, J * outStride);
            for (let j = 0; j < J; j++) {
              const ref = rGradWeightRef(a, hasRin ? part(rzin, j, M * K) : null, dz, part(rdz, j, M * N), M, K, N, act, bias).map((x) => 2 * x);
              assertClose(got.subarray(j * outStride + 5, j * outStride + 5 + rows * N), ref, { atol: 1e-5, rtol: 1e-5, label: `r_grad_weight rin=${hasRin} bias=${bias} j=${j}`, cols: N });
              expect(got[j * outStride + 4]).toBe(0); // nothing written before the block
            }
          }

          for (const hasV of allFlags ? [false, true] : [true]) {
            const g = await RGradInput.create(c, { prevAct: act, hasV, shape });
            const batch = new GpuBatch(c, 't');
            g.encode(batch, g.bind({ a: ba, rzin: brz, w: bw, v: hasV ? bv : stub, dz: bdz, rdz: brdz, rdx: out }), shape, { offset: vOff, stride });
            batch.submit();
            const got = await readF32(c, out, 0, J * M * K);
            for (let j = 0; j < J; j++) {
              const ref = rGradInputRef(a, part(rzin, j, M * K), w, hasV ? vBlock(j) : null, dz, part(rdz, j, M * N), M, K, N, act);
              assertClose(got.subarray(j * M * K, (j + 1) * M * K), ref, { atol: 1e-5, rtol: 1e-5, label: `r_grad_input v=${hasV} bias=${bias} j=${j}`, cols: K });
            }
          }
          for (const b of [ba, bw, bv, brz, bdz, brdz, stub, out]) b.destroy();
        }
      });
    }
  }

  it('r_softmax_ce at ordinary and ±1e4 logits', async () => {
    const c = ctx();
    for (const [M, C, scale] of [[1, 2, 1], [37, 10, 1 / 37], [130, 3, 0.5]] as const) {
      const z = randomArray(M * C, 21 + M, 4);
      if (M > 1) z[3] = 1e4;
      if (M > 1) z[C + 1] = -1e4;
      const rz = randomArray(J * M * C, 23, 1);
      const k = await RSoftmaxCe.create(c);
      const out = createStorage(c, 'out', J * M * C * 4);
      const batch = new GpuBatch(c, 't');
      k.encode(batch, k.bind({ z: createStorage(c, 'z', z), rzin: createStorage(c, 'rz', rz), rdz_out: out }), { m: M, classes: C, vectors: J, scale });
      batch.submit();
      const got = await readF32(c, out, 0, J * M * C);
      for (let j = 0; j < J; j++) {
        assertClose(got.subarray(j * M * C, (j + 1) * M * C), rSoftmaxCeRef(z, part(rz, j, M * C), M, C, scale), { atol: 1e-6, rtol: 1e-5, label: `r_softmax_ce ${M}x${C} j=${j}`, cols: C });
      }
    }
  });
});

