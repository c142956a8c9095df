import { describe, expect, it } from 'vitest';
import { useGpu, randomArray } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { createStorage, readF32, readU32 } from '../src/gpu/buffers.ts';
import { SoftmaxCe } from '../src/kernels/softmax_ce.ts';
import { softmaxCeRef } from '../src/kernels/softmax_ce.ref.ts';
import { Sgd } from '../src/kernels/sgd.ts';
import { createReplicaSettings } from '../src/kernels/replica-settings.ts';
import { sgdRef } from '../src/kernels/sgd.ref.ts';
import { Gather } from '../src/kernels/gather.ts';
import { gatherRef } from '../src/kernels/gather.ref.ts';

const ctx = useGpu();

/** Deterministic integers in [0, n). */
function randomInts(count: number, n: number, seed: number): Uint32Array {
  let s = seed >>> 0 || 1;
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = s % n;
  }
  return out;
}

/** A value no kernel computes, to prove a buffer region was left alone. */
const SENTINEL = -12345.5;

function filled(n: number, v = SENTINEL): Float32Array {
  return new Float32Array(n).fill(v);
}

function expectAllEqual(got: ArrayLike<number>, want: number, label: string): void {
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want) && bad.length < 8) bad.push(`[${i}] = ${got[i]}`);
  if (bad.length) throw new Error(`${label}: expected every value to stay ${want}, but ${bad.join(', ')}`);
}

function expectFinite(got: ArrayLike<number>, label: string): void {
  for (let i = 0; i < got.length; i++) {
    if (!Number.isFinite(got[i])) throw new Error(`${label}: non-finite value ${got[i]} at [${i}]`);
  }
}

// ---------------------------------------------------------------------------------------------
// softmax cross-entropy
// ---------------------------------------------------------------------------------------------

const SLOTS = 5;
const SLOT = 3;
const TAIL = 7; // extra elements after dz / losses that must stay untouched

interface CeRun {
  losses: Float32Array;
  lossesTail: Float32Array;
  dz: Float32Array;
  dzTail: Float32Array;
  metrics: Float32Array;
}

/** Runs one softmax_ce dispatch on (rows, classes) logits into sentinel-filled outputs. */
async function runCe(z: Float32Array, y: Uint32Array, rows: number, classes: number, writeGrad: boolean, slot = SLOT): Promise<CeRun> {
  const c = ctx();
  const ce = await SoftmaxCe.create(c, { writeGrad });
  const bz = createStorage(c, 'test.z', z);
  const by = createStorage(c, 'test.y', y);
  const bdz = createStorage(c, 'test.dz', filled(rows * classes + TAIL));
  const bl = createStorage(c, 'test.losses', filled(rows + TAIL));
  const bm = createStorage(c, 'test.metrics', filled(2 * SLOTS));
  const batch = new GpuBatch(c, 'test');
  ce.encode(batch, ce.bind({ z: bz, y: by, dz: bdz, losses: bl, metrics: bm }), { rows, classes, gradScale: 1 / rows, slot });
  batch.submit();
  const dzAll = await readF32(c, bdz, 0, rows * classes + TAIL);
  const lAll = await readF32(c, bl, 0, rows + TAIL);
  const metrics = await readF32(c, bm, 0, 2 * SLOTS);
  for (const b of [bz, by, bdz, bl, bm]) b.destroy();
  return {
    losses: lAll.subarray(0, rows),
    lossesTail: lAll.subarray(rows),
    dz: dzAll.subarray(0, rows * classes),
    dzTail: dzAll.subarray(rows * classes),
    metrics,
  };
}

/** The metrics of every slot but `slot` must still hold the sentinel. */
function expectOtherSlotsUntouched(metrics: Float32Array, slot: number): void {
  const others = [...metrics].filter((_, i) => i !== 2 * slot && i !== 2 * slot + 1);
  expectAllEqual(others, SENTINEL, `metrics outside slot ${slot}`);
}

/** Labels: every third row gets its row's argmax (first maximum), so the correct count is neither 0 nor B. */
function makeLabels(z: Float32Array, rows: number, classes: number, seed: number): Uint32Array {
  const y = randomInts(rows, classes, seed);
  for (let r = 0; r < rows; r += 3) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (z[r * classes + c] > z[r * classes + best]) best = c;
    y[r] = best;
  }
  return y;
}

describe('softmax_ce against the float64 reference', () => {
  const SHAPES: [number, number, boolean][] = [
    [1, 2, true],
    [7, 3, true],
    [50, 10, true],
    [33, 17, true],
    [50, 10, false],
    [1000, 10, false],
  ];
  for (const [rows, classes, writeGrad] of SHAPES) {
    it(`${rows}x${classes}${writeGrad ? '' : ' (WRITE_GRAD false)'}`, async () => {
      const z = randomArray(rows * classes, 101 + rows * 31 + classes, 4);
      const y = makeLabels(z, rows, classes, 7 + rows);
      const ref = softmaxCeRef(z, y, rows, classes, 1 / rows);
      const got = await runCe(z, y, rows, classes, writeGrad);

      assertClose(got.losses, ref.losses, { atol: 2e-6, rtol: 2e-6, label: `losses ${rows}x${classes}` });
      expectAllEqual(got.lossesTail, SENTINEL, 'losses past B');
      if (writeGrad) {
        // p = exp(z − lse) has absolute error ~1e-6; dz is p − onehot scaled by 1/B.
        assertClose(got.dz, ref.dz, { atol: 2e-6 / rows, rtol: 1e-5, label: `dz ${rows}x${classes}`, cols: classes });
        expectAllEqual(got.dzTail, SENTINEL, 'dz past B·C');
      } else {
        expectAllEqual(got.dz, SENTINEL, 'dz with WRITE_GRAD false');
      }
      // The loss sum of B float32 values: error grows with B·eps·mean|loss|.
      assertClose([got.metrics[2 * SLOT]], [ref.lossSum], { atol: 1e-5, rtol: 2e-6 * Math.max(1, rows / 10), label: 'metrics loss sum' });
      expect(got.metrics[2 * SLOT + 1]).toBe(ref.correct);
      if (rows > 3) expect(ref.correct).toBeGreaterThan(0); // the data exercises the count
      if (rows > 3) expect(ref.correct).toBeLessThan(rows);
      expectOtherSlotsUntouched(got.metrics, SLOT);
    });
  }

  it('slot 0 and the last slot address the right pair', async () => {
    const rows = 9, classes = 4;
    const z = randomArray(rows * classes, 5, 2);
    const y = makeLabels(z, rows, classes, 3);
    const ref = softmaxCeRef(z, y, rows, classes, 1 / rows);
    for (const slot of [0, SLOTS - 1]) {
      const got = await runCe(z, y, rows, classes, true, slot);
      assertClose([got.metrics[2 * slot]], [ref.lossSum], { atol: 1e-5, rtol: 2e-6, label: `slot ${slot} loss sum` });
      expect(got.metrics[2 * slot + 1]).toBe(ref.correct);
      expectOtherSlotsUntouched(got.metrics, slot);
    }
  });
});

describe('softmax_ce numerical stability with logits of ±1e4', () => {
  it('finite and equal to the reference; exact values where they are known', async () => {
    const C = 5;
    const BIG = 1e4;
    const rowsData: [number[], number][] = [
      [[BIG, -BIG, 0, 0, 0], 0],          // loss ≈ 0, correct
      [[BIG, -BIG, 0, 0, 0], 1],          // loss = 2e4 exactly
      [[BIG, BIG, BIG, BIG, BIG], 2],     // loss = ln 5, first max is 0: not correct
      [[-BIG, -BIG, -BIG, -BIG, -BIG], 0],// loss = ln 5, correct
      [[-BIG, BIG, -BIG, BIG, 0], 1],     // two maxima: loss = ln 2, the first (1) is the label: correct
      [[0, 0, 0, 0, BIG], 4],             // loss ≈ 0, correct
      [[-BIG, -BIG, -BIG, -BIG, 0], 0],   // loss = 1e4 exactly, not correct
      [[BIG, BIG - 1, BIG - 2, BIG - 3, BIG - 4], 4], // a softmax over 1e4-sized numbers with O(1) gaps
    ];
    const rows = rowsData.length;
    const z = new Float32Array(rowsData.flatMap(([r]) => r));
    const y = new Uint32Array(rowsData.map(([, l]) => l));
    const ref = softmaxCeRef(z, y, rows, C, 1 / rows);
    expectFinite(ref.losses, 'reference losses');
    expectFinite(ref.dz, 'reference dz');

    const got = await runCe(z, y, rows, C, true);
    expectFinite(got.losses, 'losses');
    expectFinite(got.dz, 'dz');
    expectFinite([got.metrics[2 * SLOT], got.metrics[2 * SLOT + 1]], 'metrics');

    // float32 tolerance at magnitude 1e4: lse = m + log(s) is rounded to ulp(1e4) = 2^-10 before z[y] is subtracted.
    const ulp = 2 ** -10;
    assertClose(got.losses, ref.losses, { atol: 2 * ulp, rtol: 1e-6, label: 'losses at ±1e4' });
    assertClose(got.dz, ref.dz, { atol: (2 * ulp) / rows, rtol: 1e-5, label: 'dz at ±1e4', cols: C });
    expect(got.losses[1]).toBeCloseTo(2e4, 2);
    expect(got.losses[6]).toBeCloseTo(1e4, 2);
    expect(Math.abs(got.losses[2] - Math.log(5))).toBeLessThan(2 * ulp);
    expect(Math.abs(got.losses[3] - Math.log(5))).toBeLessThan(2 * ulp);
    expect(Math.abs(got.losses[4] - Math.log(2))).toBeLessThan(2 * ulp);
    // Every dz row sums to 0 (softmax sums to 1, minus the one-hot).
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += got.dz[r * C + c];
      expect(Math.abs(s), `dz row ${r} sum`).toBeLessThan((4 * ulp) / rows);
    }
    assertClose([got.metrics[2 * SLOT]], [ref.lossSum], { atol: 4 * ulp, rtol: 1e-6, label: 'loss sum at ±1e4' });
    // Rows 0, 3, 4, 5; a last-maximum argmax would lose rows 3 and 4.
    expect(ref.correct).toBe(4);
    expect(got.metrics[2 * SLOT + 1]).toBe(4);
    expectOtherSlotsUntouched(got.metrics, SLOT);
  });
});

describe('softmax_ce argmax ties: the first maximum counts', () => {
  it('per-case correct flags, one slot per case in one batch', async () => {
    const c = ctx();
    const C = 4;
    // [logits, label, correct?]
    const cases: [number[], number, 0 | 1][] = [
      [[1, 1, 1, 1], 0, 1],
      [[1, 1, 1, 1], 1, 0],
      [[1, 1, 1, 1], 3, 0],
      [[0, 2, 2, 1], 1, 1],
      [[0, 2, 2, 1], 2, 0],
      [[-3, -3, -3, -3], 0, 1],
      [[-1, 5, -1, 5], 3, 0],
      [[-1, 5, -1, 5], 1, 1],
      [[0, 0, 0, 7], 3, 1],
    ];
    const ce = await SoftmaxCe.create(c, { writeGrad: false });
    const metrics = createStorage(c, 'test.metrics', filled(2 * cases.length));
    const batch = new GpuBatch(c, 'test');
    const bufs: GPUBuffer[] = [];
    cases.forEach(([logits, label], i) => {
      const bz = createStorage(c, `test.z${i}`, new Float32Array(logits));
      const by = createStorage(c, `test.y${i}`, new Uint32Array([label]));
      const bdz = createStorage(c, `test.dz${i}`, C * 4);
      const bl = createStorage(c, `test.l${i}`, 4);
      bufs.push(bz, by, bdz, bl);
      ce.encode(batch, ce.bind({ z: bz, y: by, dz: bdz, losses: bl, metrics }), { rows: 1, classes: C, gradScale: 1, slot: i });
    });
    batch.submit();
    const m = await readF32(c, metrics, 0, 2 * cases.length);
    const got = cases.map((_, i) => m[2 * i + 1]);
    const want = cases.map(([, , ok]) => ok);
    expect(got).toEqual(want);
    // The reference agrees (it is the spec).
    expect(cases.map(([z, l]) => softmaxCeRef(z, [l], 1, C, 1).correct)).toEqual(want);
    // And each slot's loss is the one of its case (per-dispatch uniforms).
    const lossRef = cases.map(([z, l]) => softmaxCeRef(z, [l], 1, C, 1).lossSum);
    assertClose(cases.map((_, i) => m[2 * i]), lossRef, { atol: 2e-6, rtol: 2e-6, label: 'per-slot loss' });
    for (const b of [...bufs, metrics]) b.destroy();
  });
});

// ---------------------------------------------------------------------------------------------
// SGD
// ---------------------------------------------------------------------------------------------

describe('sgd against the float64 reference', () => {
  const SIZES = [1, 1000, 70001];
  const PAD = 37; // elements after P that must stay untouched
  // float32 storage of w (and v) after every step vs float64 throughout: a few ulps per step.
  const TOL = { atol: 1e-6, rtol: 1e-6 };
  const MODES = [
    { name: 'plain', momentum: false, steps: 1, lr: 0.1, wd: 0, mu: 0 },
    { name: 'weight decay', momentum: false, steps: 3, lr: 0.05, wd: 0.1, mu: 0 },
    { name: 'momentum + weight decay', momentum: true, steps: 5, lr: 0.03, wd: 0.01, mu: 0.9 },
    { name: 'momentum, no weight decay', momentum: true, steps: 4, lr: 0.2, wd: 0, mu: 0.5 },
  ];
  // Two replicas in one dispatch (grid z), each with its own settings record: the second runs
  // the mode with a larger lr and weight decay, so a replica that read the other's record, or
  // another replica's w, g or v, would be caught.
  for (const P of SIZES) {
    for (const mode of MODES) {
      it(`P=${P} ${mode.name} (${mode.steps} step${mode.steps > 1 ? 's' : ''} in one batch, 2 replicas)`, async () => {
        const c = ctx();
        const R = 2;
        const stride = P + PAD;
        const sgd = await Sgd.create(c, { momentum: mode.momentum });
        const settings = [0, 1].map((r) => ({ lr: mode.lr * (1 + 0.5 * r), weightDecay: mode.wd * (1 + r), momentum: mode.mu * (1 - 0.2 * r), dropout: 0, seed: r }));
        const w0 = randomArray(R * stride, 17 + P, 1);
        // Non-zero also without momentum, so a pipeline that wrote v would be caught.
        const v0 = randomArray(R * stride, 29 + P, 0.5);
        // One gradient per step and replica, copied into g between the dispatches.
        const grads = randomArray(mode.steps * R * stride, 41 + P, 1);
        const wInit = Float32Array.from(w0);
        const vInit = Float32Array.from(v0);
        for (let r = 0; r < R; r++) {
          wInit.fill(SENTINEL, r * stride + P, (r + 1) * stride);
          vInit.fill(SENTINEL, r * stride + P, (r + 1) * stride);
        }
        const bw = createStorage(c, 'test.w', wInit);
        const bv = createStorage(c, 'test.v', vInit);
        const bg = createStorage(c, 'test.g', R * stride * 4);
        const bgrads = createStorage(c, 'test.grads', grads);
        const hyper = createReplicaSettings(c, 'test.settings', settings);
        const bind = sgd.bind({ w: bw, g: bg, v: bv, hyper });
        const batch = new GpuBatch(c, 'test');
        for (let s = 0; s < mode.steps; s++) {
          batch.copy(bgrads, s * R * stride * 4, bg, 0, R * stride * 4);
          sgd.encode(batch, bind, { count: P, stride, replicas: R });
        }
        batch.submit();
        const wAll = await readF32(c, bw, 0, R * stride);
        const vAll = await readF32(c, bv, 0, R * stride);
        for (let r = 0; r < R; r++) {
          const at = r * stride;
          const h = settings[r];
          const wRef = Float64Array.from(w0.subarray(at, at + P));
          const vRef = Float64Array.from(v0.subarray(at, at + P));
          for (let s = 0; s < mode.steps; s++) {
            const g = grads.subarray(s * R * stride + at, s * R * stride + at + P);
            sgdRef(wRef, g, Math.fround(h.lr), Math.fround(h.weightDecay), Math.fround(h.momentum), mode.momentum ? vRef : undefined);
          }
          assertClose(wAll.subarray(at, at + P), wRef, { ...TOL, label: `w P=${P} ${mode.name} replica ${r}` });
          expectAllEqual(wAll.subarray(at + P, at + stride), SENTINEL, `w past P, replica ${r}`);
          if (mode.momentum) {
            assertClose(vAll.subarray(at, at + P), vRef, { ...TOL, label: `v P=${P} ${mode.name} replica ${r}` });
          } else {
            // The momentum-free pipeline must not touch v.
            assertClose(vAll.subarray(at, at + P), v0.subarray(at, at + P), { atol: 0, rtol: 0, label: 'v untouched without momentum' });
          }
          expectAllEqual(vAll.subarray(at + P, at + stride), SENTINEL, `v past P, replica ${r}`);
        }
        for (const b of [bw, bv, bg, bgrads, hyper]) b.destroy();
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
// gather
// ---------------------------------------------------------------------------------------------

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function expectBitEqual(got: Uint32Array, want: Uint32Array, label: string, cols?: number): void {
  expect(got.length, `${label} length`).toBe(want.length);
  const bad: string[] = [];
  let n = 0;
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      n++;
      if (bad.length < 8) bad.push(`${cols ? `(${Math.floor(i / cols)}, ${i % cols})` : `[${i}]`}: got 0x${got[i].toString(16)}, want 0x${want[i].toString(16)}`);
    }
  }
  if (n) throw new Error(`${label}: ${n}/${want.length} differ\n${bad.join('\n')}`);
}

describe('gather against the reference, bit-exact, several offsets in one batch', () => {
  const CASES = [
    { n: 97, d: 13, b: 10, offsets: [0, 10, 7, 30, 53, 87] },
    { n: 200, d: 784, b: 50, offsets: [0, 50, 13, 150, 100] },
  ];
  for (const { n, d, b, offsets } of CASES) {
    it(`N=${n} D=${d} B=${b}, offsets ${offsets.join(',')}`, async () => {
      const c = ctx();
      const data = randomArray(n * d, 3 + n, 100);
      // Values a float conversion or arithmetic would change: -0, a subnormal, ±Inf, the largest float.
      data[0] = -0;
      data[1] = 1e-40;
      data[2] = Infinity;
      data[d] = -Infinity;
      data[d + 1] = 3.4028234663852886e38;
      // Labels use the whole u32 range (a float round trip would lose the low bits).
      const labels = randomInts(n, 0xffffffff, 77 + n);
      labels[n - 1] = 0xffffffff;
      labels[0] = 0x01000001;
      const idxLen = Math.max(...offsets) + b;
      const idx = randomInts(idxLen, n, 5 + d);
      // Repeats, both ends of the dataset, and row 0 / 1 (the special values) in every minibatch.
      for (const off of offsets) {
        idx[off] = 0;
        idx[off + 1] = n - 1;
        idx[off + 2] = 1;
        idx[off + 3] = idx[off + 4];
      }
      expect(new Set(idx).size).toBeLessThan(idx.length);

      const gather = await Gather.create(c);
      const bdata = createStorage(c, 'test.data', data);
      const blabels = createStorage(c, 'test.labels', labels);
      const bidx = createStorage(c, 'test.idx', idx);
      const bxb = createStorage(c, 'test.xb', filled(b * d));
      const byb = createStorage(c, 'test.yb', b * 4);
      const K = offsets.length;
      const outX = createStorage(c, 'test.outX', filled(K * b * d));
      const outY = createStorage(c, 'test.outY', K * b * 4);
      const bind = gather.bind({ data: bdata, labels: blabels, idx: bidx, xb: bxb, yb: byb });
      const batch = new GpuBatch(c, 'test');
      offsets.forEach((offset, k) => {
        gather.encode(batch, bind, { rows: b, dim: d, offset, n });
        batch.copy(bxb, 0, outX, k * b * d * 4, b * d * 4);
        batch.copy(byb, 0, outY, k * b * 4, b * 4);
      });
      batch.submit();
      const gx = await readF32(c, outX, 0, K * b * d);
      const gy = await readU32(c, outY, 0, K * b);

      offsets.forEach((offset, k) => {
        const ref = gatherRef(data, labels, idx, offset, b, d);
        expectBitEqual(bits(gx.subarray(k * b * d, (k + 1) * b * d)), bits(ref.xb), `xb offset ${offset}`, d);
        expectBitEqual(gy.subarray(k * b, (k + 1) * b), ref.yb, `yb offset ${offset}`);
      });
      for (const buf of [bdata, blabels, bidx, bxb, byb, outX, outY]) buf.destroy();
    });
  }
});

// ---------------------------------------------------------------------------------------------
// uniform records
// ---------------------------------------------------------------------------------------------

describe('uniform records: a typo or a missing field is an error naming the field', () => {
  it('packUniforms on softmax_ce', async () => {
    const ce = await SoftmaxCe.create(ctx(), { writeGrad: true });
    const view = new DataView(new ArrayBuffer(256));
    const good = { rows: 4, classes: 3, grad_scale: 0.25, slot: 1, replicas: 1, block_rows: 4, y_stride: 4, idx_offset: 0, idx_stride: 4 };
    expect(() => ce.kernel.packUniforms(good, view, 0)).not.toThrow();
    expect(view.getUint32(0, true)).toBe(4);
    expect(view.getUint32(4, true)).toBe(3);
    expect(view.getFloat32(8, true)).toBe(0.25);
    expect(view.getUint32(12, true)).toBe(1);

    const { grad_scale: _gs, ...noScale } = good;
    expect(() => ce.kernel.packUniforms({ ...noScale, grad_scle: 0.25 }, view, 0)).toThrow(/'grad_scle'/);
    expect(() => ce.kernel.packUniforms(noScale, view, 0)).toThrow(/'grad_scale'.*not given/);
    const { slot: _s, ...noSlot } = good;
    expect(() => ce.kernel.packUniforms(noSlot, view, 0)).toThrow(/'slot'.*not given/);
    // camelCase (the wrapper's spelling) is not the shader's field name.
    expect(() => ce.kernel.packUniforms({ ...noScale, gradScale: 0.25 }, view, 0)).toThrow(/'gradScale'/);
    // A u32 field given a negative or fractional number.
    expect(() => ce.kernel.packUniforms({ ...good, rows: -1 }, view, 0)).toThrow(/'rows'/);
    expect(() => ce.kernel.packUniforms({ ...good, slot: 1.5 }, view, 0)).toThrow(/'slot'/);
  });

  it('batch.dispatch with a bad record (sgd)', async () => {
    const c = ctx();
    const sgd = await Sgd.create(c, { momentum: false });
    const [w, g, v, hyper] = ['w', 'g', 'v', 'hyper'].map((name) => createStorage(c, `test.${name}`, 32));
    const bind = sgd.bind({ w, g, v, hyper });
    const batch = new GpuBatch(c, 'test');
    const base = { count: 4, grid_stride: 256 };
    expect(() => batch.dispatch(sgd.kernel, bind, { ...base, gridStride: 0 }, [1])).toThrow(/'gridStride'/);
    expect(() => batch.dispatch(sgd.kernel, bind, base, [1])).toThrow(/'stride'/);
    expect(() => sgd.encode(batch, bind, { count: 4, replicas: 2 })).toThrow(/2 replicas need stride/);
    expect(batch.totalDispatches).toBe(0);
    for (const b of [w, g, v, hyper]) b.destroy();
  });
});
