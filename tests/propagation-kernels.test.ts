import { describe, expect, it } from 'vitest';
import { useGpu, randomArray } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { Kernel } from '../src/gpu/kernel.ts';
import { createStorage, readF32 } from '../src/gpu/buffers.ts';
import { normalBlock, threefry2x32, READOUT_STREAM } from '../src/kernels/threefry.ts';
import { Randnet, chooseRandnetTiles, type RandnetLayer } from '../src/kernels/randnet.ts';
import { randnetBackwardRef, randnetFillRef, randnetForwardRef } from '../src/kernels/randnet.ref.ts';
import { LayerStats, STATS_ACTIVATIONS, statsStride } from '../src/kernels/layer_stats.ts';
import { deltaRef, gramRef } from '../src/kernels/layer_stats.ref.ts';

const ctx = useGpu();

describe('threefry2x32 (src/kernels/threefry.ts)', () => {
  it('matches the Random123 known-answer vectors', () => {
    const hex = (v: [number, number]) => v.map((x) => x.toString(16).padStart(8, '0')).join(' ');
    expect(hex(threefry2x32(0, 0, 0, 0))).toBe('6b200159 99ba4efe');
    expect(hex(threefry2x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff))).toBe('1cb996fc bb002be7');
    expect(hex(threefry2x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344))).toBe('c4923a9c 483df7a0');
    expect(hex(threefry2x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 13))).toBe('ba3e4725 f27d669e');
  });

  it('gives standard normals: mean, variance, kurtosis and cross-stream correlation', () => {
    const n = 200_000;
    const z = normalBlock(400, 500, 7, 3);
    const z2 = normalBlock(400, 500, 8, 3);
    let m = 0, v = 0, k4 = 0, c = 0;
    for (let i = 0; i < n; i++) { m += z[i]; v += z[i] ** 2; k4 += z[i] ** 4; c += z[i] * z2[i]; }
    m /= n; v /= n; k4 /= n; c /= n;
    expect(Math.abs(m)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(v - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(k4 - 3)).toBeLessThan(5 * Math.sqrt(96 / n));
    expect(Math.abs(c)).toBeLessThan(5 / Math.sqrt(n));
  });
});

// Odd shapes: N odd (the last column pair is half outside), M not a multiple of the tile.
const SHAPES: [number, number, number, number][] = [
  // M, K, N, nets
  [1, 1, 1, 1],
  [3, 13, 7, 2],
  [5, 33, 65, 3],
  [10, 20, 9, 2],
];
// float32 sums of K products of O(1) terms, and float32 Box–Muller vs float64.
const TOL = { atol: 3e-5, rtol: 3e-4 };

describe('randnet.wgsl against the CPU reference', () => {
  for (const [m, k, n, nets] of SHAPES) {
    const layer: RandnetLayer = { m, k, n, nets, seed: 1000 + m, layer: 3, scaleW: 1.3 / Math.sqrt(k), scaleB: 0.2 };
    it(`forward M=${m} K=${k} N=${n} S=${nets}, shared and per-network inputs, at an offset`, async () => {
      const c = ctx();
      const rn = await Randnet.create(c, { tiles: chooseRandnetTiles(m) });
      const xs = randomArray(m * k, 5 + k);
      const xa = randomArray(nets * m * k, 9 + k);
      const off = 64;
      const bx = createStorage(c, 't.x', xs);
      const ba = createStorage(c, 't.a', xa);
      const bh = createStorage(c, 't.h', (off + nets * m * n) * 4);
      const bh2 = createStorage(c, 't.h2', nets * m * n * 4);
      const batch = new GpuBatch(c, 'test');
      rn.encodeForward(batch, rn.bindForward({ a: bx, h: bh }), layer, 0, off);
      rn.encodeForward(batch, rn.bindForward({ a: ba, h: bh2 }), layer, m * k, 0);
      batch.submit();
      const got = await readF32(c, bh, off * 4, nets * m * n);
      assertClose(got, randnetForwardRef(xs, layer, 0), { ...TOL, label: 'forward shared', cols: n });
      const head = await readF32(c, bh, 0, off);
      expect(Array.from(head).every((v) => v === 0)).toBe(true); // nothing written before h_offset
      assertClose(await readF32(c, bh2, 0, nets * m * n), randnetForwardRef(xa, layer, m * k), { ...TOL, label: 'forward per-network', cols: n });
    });

    it(`backward M=${m} K=${k} N=${n} S=${nets} and fill_normal`, async () => {
      const c = ctx();
      const rn = await Randnet.create(c, { tiles: chooseRandnetTiles(m) });
      const d = randomArray(nets * m * n, 3 + n);
      const bd = createStorage(c, 't.d', d);
      const bg = createStorage(c, 't.g', nets * m * k * 4);
      const br = createStorage(c, 't.r', nets * m * n * 4);
      const readout: RandnetLayer = { ...layer, layer: READOUT_STREAM, scaleW: 1 };
      const batch = new GpuBatch(c, 'test');
      rn.encodeBackward(batch, rn.bindBackward({ d: bd, g: bg }), layer);
      rn.encodeFill(batch, rn.bindFill({ g: br }), readout);
      batch.submit();
      assertClose(await readF32(c, bg, 0, nets * m * k), randnetBackwardRef(d, layer), { ...TOL, label: 'backward', cols: k });
      assertClose(await readF32(c, br, 0, nets * m * n), randnetFillRef(readout), { ...TOL, label: 'fill_normal', cols: n });
    });
  }
});

describe('layer_stats.wgsl against the CPU reference', () => {
  for (const act of STATS_ACTIVATIONS) {
    for (const [m, n, nets] of [[1, 1, 1], [3, 70, 2], [4, 257, 3]] as const) {
      it(`${act}: gram and delta, M=${m} N=${n} S=${nets}`, async () => {
        const c = ctx();
        const ls = await LayerStats.create(c, { act });
        const stride = statsStride(m);
        const hOff = 16;
        const sOff = 8; // a later layer's block
        const h = randomArray(hOff + nets * m * n, 17 + n, 2.5);
        const g = randomArray(nets * m * n, 29 + n, 1);
        const bh = createStorage(c, 't.h', h);
        const by = createStorage(c, 't.y', nets * m * n * 4);
        const bg = createStorage(c, 't.g', g);
        const bg2 = createStorage(c, 't.g2', g);
        const bs = createStorage(c, 't.stats', (sOff + nets * stride) * 4);
        const bs2 = createStorage(c, 't.stats2', nets * stride * 4);
        const shape = { m, n, nets, hOffset: hOff, statsOffset: sOff };
        const batch = new GpuBatch(c, 'test');
        ls.encodeGram(batch, ls.bindGram({ h: bh, y: by, stats: bs }), shape);
        ls.encodeDelta(batch, ls.bindDelta({ h: bh, g: bg, stats: bs }), shape, true);
        ls.encodeDelta(batch, ls.bindDelta({ h: bh, g: bg2, stats: bs2 }), { ...shape, statsOffset: 0 }, false);
        batch.submit();
        const hl = h.subarray(hOff);
        const ref = gramRef(hl, act, m, n, nets);
        const dr = deltaRef(hl, g, act, m, n, nets, true);
        const dr0 = deltaRef(hl, g, act, m, n, nets, false);
        for (let s = 0; s < nets; s++) for (let a = 0; a < m; a++) ref.stats[s * stride + m * m + m + a] = dr.d[s * m + a];
        assertClose(await readF32(c, bs, sOff * 4, nets * stride), ref.stats, { atol: 1e-5, rtol: 1e-4, label: `stats ${act}`, cols: stride });
        assertClose(await readF32(c, by, 0, nets * m * n), ref.y, { atol: 1e-6, rtol: 1e-5, label: `phi ${act}`, cols: n });
        assertClose(await readF32(c, bg, 0, nets * m * n), dr.delta, { atol: 1e-6, rtol: 1e-5, label: `delta ${act}`, cols: n });
        assertClose(await readF32(c, bg2, 0, nets * m * n), g, { atol: 0, rtol: 0, label: 'delta without derivative leaves g' });
        const s2 = await readF32(c, bs2, 0, nets * stride);
        for (let s = 0; s < nets; s++) for (let a = 0; a < m; a++) expect(s2[s * stride + m * m + m + a]).toBeCloseTo(dr0.d[s * m + a], 5);
      });
    }
  }
});

describe('Kernel.create caches compiled kernels per device (src/gpu/kernel.ts)', () => {
  it('returns the same Kernel for the same spec and a new one for other constants', async () => {
    const spec = { shader: 'layer_stats', entry: 'gram', constants: { ACT: 2 } };
    const a = await Kernel.create(ctx(), spec);
    const b = await Kernel.create(ctx(), { ...spec, constants: { ACT: 2 } });
    const c = await Kernel.create(ctx(), { ...spec, constants: { ACT: 1 } });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  it('does not cache a failure', async () => {
    const bad = { shader: 'layer_stats', entry: 'nope' };
    await expect(Kernel.create(ctx(), bad)).rejects.toThrow(/no @compute entry point 'nope'/);
    await expect(Kernel.create(ctx(), bad)).rejects.toThrow(/no @compute entry point 'nope'/);
  });
});
