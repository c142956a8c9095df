import { describe, expect, it } from 'vitest';
import { useGpu, randomArray } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { createStorage, readF32 } from '../src/gpu/buffers.ts';
import { DenseForward } from '../src/kernels/dense_forward.ts';
import { DenseGradInput, DenseGradWeight } from '../src/kernels/dense_backward.ts';
import { denseForwardRef } from '../src/kernels/dense_forward.ref.ts';
import { gradInputRef, gradWeightRef } from '../src/kernels/dense_backward.ref.ts';
import type { Activation } from '../src/kernels/activation.ts';
import { tileKey, type DenseTiles } from '../src/kernels/dense_tiles.ts';

const ctx = useGpu();

// Odd shapes on purpose: none is a multiple of a tile size, plus the seed network's first layer.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [7, 13, 5],
  [33, 65, 17],
  [50, 784, 50],
];
const ACTS: Activation[] = ['identity', 'relu', 'tanh'];
// float32 sums of K products of O(1) numbers: error grows like sqrt(K)·eps·|terms|.
const TOL = { atol: 2e-5, rtol: 2e-4 };

describe('dense_forward: Y = act(X·W + b) against the CPU reference', () => {
  for (const [m, k, n] of SHAPES) {
    for (const act of ACTS) {
      for (const bias of [false, true]) {
        it(`${m}x${k}x${n} ${act}${bias ? ' +bias' : ''}`, async () => {
          const c = ctx();
          const x = randomArray(m * k, 11 + m, 1);
          const w = randomArray((k + (bias ? 1 : 0)) * n, 23 + n, 1 / Math.sqrt(k));
          const fwd = await DenseForward.create(c, { act, bias, shape: { m, k, n } });
          const bx = createStorage(c, 'test.x', x);
          const bw = createStorage(c, 'test.w', w);
          const by = createStorage(c, 'test.y', m * n * 4);
          const batch = new GpuBatch(c, 'test');
          fwd.encode(batch, fwd.bind({ x: bx, w: bw, y: by }), { m, k, n });
          batch.submit();
          const got = await readF32(c, by, 0, m * n);
          assertClose(got, denseForwardRef(x, w, m, k, n, act, bias), { ...TOL, label: `forward ${m}x${k}x${n} ${act}`, cols: n });
        });
      }
    }
  }
});

describe('dense_backward against the CPU reference', () => {
  for (const [m, k, n] of SHAPES) {
    for (const bias of [false, true]) {
      it(`grad_weight ${m}x${k}x${n}${bias ? ' +bias' : ''}`, async () => {
        const c = ctx();
        const x = randomArray(m * k, 5 + k, 1);
        const dz = randomArray(m * n, 7 + m, 0.1);
        const gw = await DenseGradWeight.create(c, { bias, shape: { m, k, n } });
        const rows = k + (bias ? 1 : 0);
        const bx = createStorage(c, 'test.x', x);
        const bdz = createStorage(c, 'test.dz', dz);
        const bdw = createStorage(c, 'test.dw', rows * n * 4);
        const batch = new GpuBatch(c, 'test');
        gw.encode(batch, gw.bind({ x: bx, dz: bdz, dw: bdw }), { m, k, n });
        batch.submit();
        const got = await readF32(c, bdw, 0, rows * n);
        assertClose(got, gradWeightRef(x, dz, m, k, n, bias), { ...TOL, label: `grad_weight ${m}x${k}x${n}`, cols: n });
      });
    }
    for (const act of ACTS) {
      it(`grad_input ${m}x${k}x${n} prev ${act}`, async () => {
        const c = ctx();
        // x plays the previous layer's output, so it must be a possible output of act.
        const raw = randomArray(m * k, 3 + k, 1);
        const x = raw.map((v) => (act === 'relu' ? Math.max(v, 0) : act === 'tanh' ? Math.tanh(v) : v));
        const w = randomArray(k * n, 9 + n, 1 / Math.sqrt(k));
        const dz = randomArray(m * n, 13 + m, 0.1);
        const gi = await DenseGradInput.create(c, { prevAct: act, shape: { m, k, n } });
        const bx = createStorage(c, 'test.x', x);
        const bw = createStorage(c, 'test.w', w);
        const bdz = createStorage(c, 'test.dz', dz);
        const bdx = createStorage(c, 'test.dx', m * k * 4);
        const batch = new GpuBatch(c, 'test');
        gi.encode(batch, gi.bind({ x: bx, w: bw, dz: bdz, dx: bdx }), { m, k, n });
        batch.submit();
        const got = await readF32(c, bdx, 0, m * k);
        assertClose(got, gradInputRef(x, w, dz, m, k, n, act), { ...TOL, label: `grad_input ${m}x${k}x${n} ${act}`, cols: k });
      });
    }
  }
});

// Every register-tile configuration the tile chooser can return, on a shape that is not a
// multiple of any of them (partial tiles on both edges), so a config only used for big shapes in
// practice is still checked here.
const ALL_TILES: DenseTiles[] = [
  { TM: 4, TN: 4, WG_X: 4, WG_Y: 8 },
  { TM: 8, TN: 8, WG_X: 4, WG_Y: 4 },
  { TM: 16, TN: 8, WG_X: 4, WG_Y: 4 },
  { TM: 8, TN: 8, WG_X: 8, WG_Y: 4 },
  { TM: 16, TN: 8, WG_X: 16, WG_Y: 16 },
];

describe('every tile configuration on 37x29x45', () => {
  const [m, k, n] = [37, 29, 45];
  for (const tiles of ALL_TILES) {
    it(`tiles ${tileKey(tiles)}: forward relu+bias, grad_weight +bias, grad_input tanh`, async () => {
      const c = ctx();
      const x = randomArray(m * k, 101, 1);
      const xt = x.map(Math.tanh);
      const w = randomArray((k + 1) * n, 103, 0.3);
      const dz = randomArray(m * n, 107, 0.1);
      const [fwd, gw, gi] = await Promise.all([
        DenseForward.create(c, { act: 'relu', bias: true, tiles }),
        DenseGradWeight.create(c, { bias: true, tiles }),
        DenseGradInput.create(c, { prevAct: 'tanh', tiles }),
      ]);
      const bx = createStorage(c, 'test.x', x);
      const bxt = createStorage(c, 'test.xt', xt);
      const bw = createStorage(c, 'test.w', w);
      const bdz = createStorage(c, 'test.dz', dz);
      const by = createStorage(c, 'test.y', m * n * 4);
      const bdw = createStorage(c, 'test.dw', (k + 1) * n * 4);
      const bdx = createStorage(c, 'test.dx', m * k * 4);
      const batch = new GpuBatch(c, 'test');
      fwd.encode(batch, fwd.bind({ x: bx, w: bw, y: by }), { m, k, n });
      gw.encode(batch, gw.bind({ x: bx, dz: bdz, dw: bdw }), { m, k, n });
      gi.encode(batch, gi.bind({ x: bxt, w: bw, dz: bdz, dx: bdx }), { m, k, n });
      batch.submit();
      assertClose(await readF32(c, by, 0, m * n), denseForwardRef(x, w, m, k, n, 'relu', true), { ...TOL, label: `forward ${tileKey(tiles)}`, cols: n });
      assertClose(await readF32(c, bdw, 0, (k + 1) * n), gradWeightRef(x, dz, m, k, n, true), { ...TOL, label: `grad_weight ${tileKey(tiles)}`, cols: n });
      assertClose(await readF32(c, bdx, 0, m * k), gradInputRef(xt, w, dz, m, k, n, 'tanh'), { ...TOL, label: `grad_input ${tileKey(tiles)}`, cols: k });
    });
  }
});

describe('compare helper', () => {
  it('reports mismatches (the check can fail)', () => {
    expect(() => assertClose([1, 2, 3.5], [1, 2, 3], { atol: 1e-6, rtol: 1e-6, label: 'self-test' })).toThrow(/1\/3 outside.*\[2\]: got 3.5/s);
  });
});
