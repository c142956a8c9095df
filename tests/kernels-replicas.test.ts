/**
 * The replica dimension of the training kernels (shaders/README.md, "Ensembles"): one dispatch over
 * R replicas (grid z, per-replica strides, per-replica settings) against the CPU reference of each
 * replica on its own blocks (src/kernels/replicas.ts: replicaRef), on odd shapes; and bit for bit
 * against the same kernel dispatched on that replica alone (R = 1), and against the other load
 * variants (vec4 X, rows read through indices), which compute the same fma chains.
 */
import { describe, expect, it } from 'vitest';
import { useGpu, randomArray } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import type { GpuContext } from '../src/gpu/device.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { createStorage, readF32, readU32 } from '../src/gpu/buffers.ts';
import { DenseForward } from '../src/kernels/dense_forward.ts';
import { DenseGradInput, DenseGradWeight } from '../src/kernels/dense_backward.ts';
import { denseForwardRef } from '../src/kernels/dense_forward.ref.ts';
import { gradInputRef, gradWeightRef } from '../src/kernels/dense_backward.ref.ts';
import { SoftmaxCe } from '../src/kernels/softmax_ce.ts';
import { softmaxCeRef } from '../src/kernels/softmax_ce.ref.ts';
import { Gather } from '../src/kernels/gather.ts';
import { gatherRef } from '../src/kernels/gather.ref.ts';
import { Dropout } from '../src/kernels/dropout.ts';
import { dropoutMaskRef } from '../src/kernels/dropout.ref.ts';
import { createReplicaSettings } from '../src/kernels/replica-settings.ts';
import { PerSampleMaterialize, PerSampleProject } from '../src/kernels/per_sample_grad.ts';
import { perSampleGradRef, perSampleProjectRef } from '../src/kernels/per_sample_grad.ref.ts';
import { replicaBlock, replicaRef } from '../src/kernels/replicas.ts';
import type { DenseTiles } from '../src/kernels/dense_tiles.ts';

const ctx = useGpu();
const TOL = { atol: 2e-5, rtol: 2e-4 };

function expectSameBits(got: Float32Array, want: Float32Array, label: string): void {
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  expect(a.length, `${label}: length`).toBe(b.length);
  for (let i = 0; i < b.length; i++) {
    if (a[i] !== b[i]) throw new Error(`${label}: [${i}] = ${got[i]}, alone ${want[i]} (bits differ)`);
  }
}

function ints(n: number, max: number, seed: number): Uint32Array {
  const f = randomArray(n, seed, 1);
  return Uint32Array.from(f, (v) => Math.floor(((v + 1) / 2) * max) % max);
}

async function run(c: GpuContext, encode: (b: GpuBatch) => void): Promise<void> {
  const b = new GpuBatch(c, 'test');
  encode(b);
  b.submit();
}

// Weight blocks `stride` floats apart (a parameter layout's total), with a gap after each block.
const blocksOf = (R: number, stride: number, size: number, seed: number, scale: number): Float32Array => {
  const w = new Float32Array(R * stride).fill(NaN);
  for (let r = 0; r < R; r++) w.set(randomArray(size, seed + r, scale), r * stride);
  return w;
};

describe('dense kernels over R replicas', () => {
  // [M, K, N, R]: odd shapes; K a multiple of 4 where the vec4 load is tried.
  const SHAPES: [number, number, number, number][] = [
    [7, 12, 5, 3],
    [33, 64, 17, 2],
    [5, 13, 3, 4],
    [50, 784, 50, 2],
  ];
  const TILES: DenseTiles = { TM: 4, TN: 4, WG_X: 4, WG_Y: 8 };
  for (const [m, k, n, R] of SHAPES) {
    for (const bias of [false, true]) {
      it(`forward ${m}x${k}x${n} relu${bias ? '+bias' : ''}, R=${R}: reference, alone, x4, indexed`, async () => {
        const c = ctx();
        const rows = k + (bias ? 1 : 0);
        const wStride = rows * n + 29;
        const x = randomArray(R * m * k, 3 + k, 1);
        const w = blocksOf(R, wStride, rows * n, 7 + n, 1 / Math.sqrt(k));
        const bx = createStorage(c, 'x', x);
        const bw = createStorage(c, 'w', w);
        const out = async (f: DenseForward, o: { R: number; xb?: GPUBuffer; wb?: GPUBufferBinding | GPUBuffer; xStride?: number; rowsIdx?: GPUBuffer; idxStride?: number }): Promise<Float32Array> => {
          const by = createStorage(c, 'y', o.R * m * n * 4);
          await run(c, (b) => f.encode(b, f.bind({ x: o.xb ?? bx, w: o.wb ?? bw, y: by, rows: o.rowsIdx }), { m, k, n, replicas: o.R, xStride: o.xStride, wStride, idxStride: o.idxStride }));
          return readF32(c, by, 0, o.R * m * n);
        };
        const plain = await DenseForward.create(c, { act: 'relu', bias, shape: { m, k, n } });
        const all = await out(plain, { R });
        const ref = replicaRef(R, (r) => denseForwardRef(replicaBlock(x, r, m * k, m * k), replicaBlock(w, r, wStride, rows * n), m, k, n, 'relu', bias));
        assertClose(all, ref, { ...TOL, label: `forward R=${R}`, cols: n });
        // Replica r alone (R = 1 on its blocks) gives the same bits; and so does another tile.
        const small = await DenseForward.create(c, { act: 'relu', bias, tiles: TILES });
        for (let r = 0; r < R; r++) {
          const xr = createStorage(c, 'xr', replicaBlock(x, r, m * k, m * k));
          const alone = await out(plain, { R: 1, xb: xr, wb: { buffer: bw, offset: 0, size: w.byteLength }, xStride: m * k });
          // The weight binding starts at replica 0: give replica r's block its own buffer.
          const wr = createStorage(c, 'wr', replicaBlock(w, r, wStride, rows * n));
          const aloneW = await out(small, { R: 1, xb: xr, wb: wr });
          expectSameBits(all.subarray(r * m * n, (r + 1) * m * n), aloneW, `replica ${r} vs alone`);
          if (r === 0) expectSameBits(all.subarray(0, m * n), alone, 'replica 0 vs alone');
        }
        // Shared input (x_stride 0): every replica reads replica 0's X.
        const shared = await out(plain, { R, xStride: 0 });
        const refShared = replicaRef(R, (r) => denseForwardRef(x.subarray(0, m * k), replicaBlock(w, r, wStride, rows * n), m, k, n, 'relu', bias));
        assertClose(shared, refShared, { ...TOL, label: 'forward, shared X', cols: n });
        // Rows through indices from a "dataset" of 2m rows: the same bits as X gathered by hand.
        const idx = ints(R * m, 2 * m, 11 + m);
        const data = randomArray(2 * m * k, 13 + k, 1);
        const gathered = Float32Array.from({ length: R * m * k }, (_, i) => data[idx[Math.floor(i / k)] * k + (i % k)]);
        const indexed = await DenseForward.create(c, { act: 'relu', bias, shape: { m, k, n }, indexed: true, x4: k % 4 === 0 });
        const viaIdx = await out(indexed, { R, xb: createStorage(c, 'data', data), rowsIdx: createStorage(c, 'idx', idx), idxStride: m, xStride: 0 });
        const viaX = await out(plain, { R, xb: createStorage(c, 'gathered', gathered) });
        expectSameBits(viaIdx, viaX, 'indexed rows vs gathered X');
        if (k % 4 === 0) {
          const x4 = await DenseForward.create(c, { act: 'relu', bias, shape: { m, k, n }, x4: true });
          expectSameBits(await out(x4, { R }), all, 'vec4 X vs scalar X');
        }
      });
    }
    it(`grad_weight (+bias) and grad_input ${m}x${k}x${n}, R=${R}: reference, alone, x4, indexed`, async () => {
      const c = ctx();
      const rows = k + 1;
      const wStride = rows * n + 13;
      const x = randomArray(R * m * k, 5 + k, 1).map((v) => Math.tanh(v));
      const dz = randomArray(R * m * n, 9 + m, 0.1);
      const w = blocksOf(R, wStride, rows * n, 17 + n, 1 / Math.sqrt(k));
      const [bx, bdz, bw] = [createStorage(c, 'x', x), createStorage(c, 'dz', dz), createStorage(c, 'w', w)];
      const gradW = async (g: DenseGradWeight, o: { xb?: GPUBuffer; rowsIdx?: GPUBuffer; xStride?: number } = {}): Promise<Float32Array> => {
        const bdw = createStorage(c, 'dw', new Float32Array(R * wStride).fill(-9));
        await run(c, (b) => g.encode(b, g.bind({ x: o.xb ?? bx, dz: bdz, dw: bdw, rows: o.rowsIdx }), { m, k, n, replicas: R, wStride, xStride: o.xStride, idxStride: m }));
        return readF32(c, bdw, 0, R * wStride);
      };
      const gw = await DenseGradWeight.create(c, { bias: true, shape: { m, k, n } });
      const dw = await gradW(gw);
      for (let r = 0; r < R; r++) {
        const ref = gradWeightRef(replicaBlock(x, r, m * k, m * k), replicaBlock(dz, r, m * n, m * n), m, k, n, true);
        assertClose(dw.subarray(r * wStride, r * wStride + rows * n), ref, { ...TOL, label: `dW replica ${r}`, cols: n });
        // The gap after each block is never written.
        expect(Array.from(dw.subarray(r * wStride + rows * n, (r + 1) * wStride)).every((v) => v === -9)).toBe(true);
      }
      if (k % 4 === 0) {
        const gw4 = await DenseGradWeight.create(c, { bias: true, shape: { m, k, n }, x4: true });
        expectSameBits(await gradW(gw4), dw, 'grad_weight vec4 X vs scalar X');
        const idx = ints(R * m, 3 * m, 19 + m);
        const data = randomArray(3 * m * k, 23 + k, 1);
        const gathered = Float32Array.from({ length: R * m * k }, (_, i) => data[idx[Math.floor(i / k)] * k + (i % k)]);
        const gwi = await DenseGradWeight.create(c, { bias: true, shape: { m, k, n }, x4: true, indexed: true });
        const viaIdx = await gradW(gwi, { xb: createStorage(c, 'data', data), rowsIdx: createStorage(c, 'idx', idx), xStride: 0 });
        expectSameBits(viaIdx, await gradW(gw, { xb: createStorage(c, 'gathered', gathered) }), 'grad_weight indexed rows vs gathered X');
      }
      const gi = await DenseGradInput.create(c, { prevAct: 'tanh', shape: { m, k, n } });
      const bdx = createStorage(c, 'dx', R * m * k * 4);
      await run(c, (b) => gi.encode(b, gi.bind({ x: bx, w: bw, dz: bdz, dx: bdx }), { m, k, n, replicas: R, wStride }));
      const dx = await readF32(c, bdx, 0, R * m * k);
      const refDx = replicaRef(R, (r) => gradInputRef(replicaBlock(x, r, m * k, m * k), replicaBlock(w, r, wStride, rows * n), replicaBlock(dz, r, m * n, m * n), m, k, n, 'tanh'));
      assertClose(dx, refDx, { ...TOL, label: `dX R=${R}`, cols: k });
    });
  }
});

describe('softmax-CE, gather, dropout and per-sample gradients over R replicas', () => {
  it('softmax_ce: per-replica blocks and metrics slots, shared labels, labels through indices', async () => {
    const c = ctx();
    const [B, C, R, slot, slots] = [37, 10, 3, 2, 4];
    const z = randomArray(R * B * C, 31, 5);
    const y = ints(R * B, C, 37);
    const ce = await SoftmaxCe.create(c, { writeGrad: true });
    const bz = createStorage(c, 'z', z);
    const go = async (k: SoftmaxCe, o: { y: Uint32Array; yStride?: number; rows?: Uint32Array }): Promise<{ dz: Float32Array; losses: Float32Array; m: Float32Array }> => {
      const [bdz, bl, bm] = [createStorage(c, 'dz', R * B * C * 4), createStorage(c, 'l', R * B * 4), createStorage(c, 'm', new Float32Array(2 * slots * R).fill(-1))];
      const rows = o.rows ? createStorage(c, 'rows', o.rows) : undefined;
      await run(c, (b) => k.encode(b, k.bind({ z: bz, y: createStorage(c, 'y', o.y), dz: bdz, losses: bl, metrics: bm, rows }), { rows: B, classes: C, gradScale: 1 / B, slot, replicas: R, yStride: o.yStride }));
      return { dz: await readF32(c, bdz, 0, R * B * C), losses: await readF32(c, bl, 0, R * B), m: await readF32(c, bm, 0, 2 * slots * R) };
    };
    const got = await go(ce, { y });
    for (let r = 0; r < R; r++) {
      const ref = softmaxCeRef(replicaBlock(z, r, B * C, B * C), replicaBlock(y, r, B, B), B, C, 1 / B);
      assertClose(got.dz.subarray(r * B * C, (r + 1) * B * C), ref.dz, { atol: 1e-6, rtol: 1e-5, label: `dz replica ${r}` });
      assertClose(got.losses.subarray(r * B, (r + 1) * B), ref.losses, { atol: 1e-5, rtol: 1e-5, label: `losses replica ${r}` });
      assertClose([got.m[2 * (slot * R + r)], got.m[2 * (slot * R + r) + 1]], [ref.lossSum, ref.correct], { atol: 1e-4, rtol: 1e-5, label: `metrics replica ${r}` });
    }
    // Only slot `slot` was written.
    expect(got.m.filter((v) => v === -1).length).toBe(2 * (slots - 1) * R);
    // Shared labels (y_stride 0) and labels read as y[rows[i]] give the bits of the explicit labels.
    const shared = await go(ce, { y: y.subarray(0, B), yStride: 0 });
    const sharedExplicit = await go(ce, { y: Uint32Array.from({ length: R * B }, (_, i) => y[i % B]) });
    expectSameBits(shared.dz, sharedExplicit.dz, 'shared labels');
    const dataset = ints(3 * B, C, 41);
    const rows = ints(R * B, 3 * B, 43);
    const indexed = await go(await SoftmaxCe.create(c, { writeGrad: true, indexed: true }), { y: dataset, rows });
    const explicit = await go(ce, { y: Uint32Array.from(rows, (i) => dataset[i]) });
    expectSameBits(indexed.dz, explicit.dz, 'labels through indices: dz');
    expectSameBits(indexed.m, explicit.m, 'labels through indices: metrics');
    // A short last chunk: the first 30 rows of each replica's block of B (block_rows = B).
    const short = 30;
    const bm = createStorage(c, 'm', new Float32Array(2 * R).fill(-1));
    const ev = await SoftmaxCe.create(c, { writeGrad: false });
    await run(c, (b) => ev.encode(b, ev.bind({ z: bz, y: createStorage(c, 'y', y), dz: createStorage(c, 'dz', 16), losses: createStorage(c, 'l', R * B * 4), metrics: bm }), { rows: short, blockRows: B, yStride: B, classes: C, gradScale: 0, slot: 0, replicas: R }));
    const mShort = await readF32(c, bm, 0, 2 * R);
    for (let r = 0; r < R; r++) {
      const ref = softmaxCeRef(z.subarray(r * B * C, (r * B + short) * C), y.subarray(r * B, r * B + short), short, C, 0);
      assertClose([mShort[2 * r], mShort[2 * r + 1]], [ref.lossSum, ref.correct], { atol: 1e-4, rtol: 1e-5, label: `short chunk, replica ${r}` });
    }
  });

  it('gather: replica r reads idx[offset + r·B + i], bit-exact', async () => {
    const c = ctx();
    const [N, D, B, R, offset] = [61, 13, 9, 3, 5];
    const data = randomArray(N * D, 47, 10);
    const labels = ints(N, 1000, 53);
    const idx = ints(offset + R * B + 4, N, 59);
    const g = await Gather.create(c);
    const [xb, yb] = [createStorage(c, 'xb', R * B * D * 4), createStorage(c, 'yb', R * B * 4)];
    await run(c, (b) => g.encode(b, g.bind({ data: createStorage(c, 'd', data), labels: createStorage(c, 'l', labels), idx: createStorage(c, 'i', idx), xb, yb }), { rows: B, dim: D, offset, n: N, replicas: R }));
    const ref = gatherRef(data, labels, idx, offset, R * B, D);
    expectSameBits(await readF32(c, xb, 0, R * B * D), ref.xb, 'xb');
    expect(Array.from(await readU32(c, yb, 0, R * B))).toEqual(Array.from(ref.yb));
  });

  it('dropout: each replica draws the mask of its own seed and rate (reference bit for bit)', async () => {
    const c = ctx();
    const [count, R, layer, step] = [101, 3, 1, 77];
    const settings = [{ dropout: 0.3, seed: 5 }, { dropout: 0, seed: 5 }, { dropout: 0.6, seed: 0xfffffff0 }].map((s) => ({ lr: 0.1, weightDecay: 0, momentum: 0, ...s }));
    const d = await Dropout.create(c);
    const h = randomArray(R * count, 61, 2);
    const [bh, by, bm] = [createStorage(c, 'h', h), createStorage(c, 'y', R * count * 4), createStorage(c, 'mask', R * count * 4)];
    const bs = createReplicaSettings(c, 'settings', settings);
    await run(c, (b) => d.encodeForward(b, d.bindForward({ h: bh, y: by, mask: bm, settings: bs }), { count, layer, step, replicas: R }));
    const mask = await readF32(c, bm, 0, R * count);
    const y = await readF32(c, by, 0, R * count);
    settings.forEach((s, r) => {
      const ref = dropoutMaskRef(count, s.dropout, s.seed, layer, step);
      for (let i = 0; i < count; i++) {
        if (mask[r * count + i] !== ref[i]) throw new Error(`replica ${r}: mask[${i}] = ${mask[r * count + i]}, reference ${ref[i]}`);
      }
    });
    // Rate 0: y is h itself (mask 1), so a replica without dropout is the network without it.
    expectSameBits(y.subarray(count, 2 * count), h.subarray(count, 2 * count), 'rate 0 keeps h');
    const dzb = createStorage(c, 'dz', h);
    await run(c, (b) => d.encodeBackward(b, d.bindBackward({ mask: bm, dz: dzb }), count, R));
    expectSameBits(await readF32(c, dzb, 0, R * count), y, 'backward scales by the stored mask');
  });

  it('per-sample gradients, materialised and projected, R = 2 (strided a, δ, V, outputs)', async () => {
    const c = ctx();
    const [M, K, N, J, R, row0] = [11, 5, 4, 3, 2, 2];
    const P = (K + 1) * N;
    const rowsA = M + row0 + 1;
    const a = randomArray(R * rowsA * K, 71, 1);
    const delta = randomArray(R * rowsA * N, 73, 1);
    const v = randomArray(R * J * P, 79, 1);
    const [ba, bd, bv] = [createStorage(c, 'a', a), createStorage(c, 'd', delta), createStorage(c, 'v', v)];
    const span = { m: M, k: K, n: N, row0, replicas: R, aStride: rowsA * K, deltaStride: rowsA * N };
    const mat = await PerSampleMaterialize.create(c, { bias: true });
    const bg = createStorage(c, 'g', R * M * P * 4);
    await run(c, (b) => mat.encode(b, mat.bind({ a: ba, delta: bd, g: bg }), { ...span, outStride: M * P }));
    const slice = (x: Float32Array, r: number, width: number): Float32Array => x.subarray((r * rowsA + row0) * width, (r * rowsA + row0 + M) * width);
    assertClose(await readF32(c, bg, 0, R * M * P), replicaRef(R, (r) => perSampleGradRef(slice(a, r, K), slice(delta, r, N), M, K, N, true)), { ...TOL, label: 'materialize' });
    const proj = await PerSampleProject.create(c, { bias: true, shape: { m: M, j: J } });
    const bs = createStorage(c, 's', R * M * J * 4);
    await run(c, (b) => proj.encode(b, proj.bind({ a: ba, delta: bd, v: bv, s: bs }), { ...span, j: J, vStride: J * P, outStride: M * J }));
    const ref = replicaRef(R, (r) => perSampleProjectRef(slice(a, r, K), slice(delta, r, N), v.subarray(r * J * P, (r + 1) * J * P), M, K, N, J, true));
    assertClose(await readF32(c, bs, 0, R * M * J), ref, { ...TOL, label: 'project' });
  });
});
