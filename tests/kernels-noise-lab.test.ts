/**
 * Noise-lab kernels against their CPU references, on odd shapes:
 *  - per_sample_grad: materialize and project (with and without a bias row); the mean of the
 *    per-sample gradients equals the batch gradient of dense_backward's grad_weight (dz = δ/M);
 *  - scatter: block-wise Chan-merged accumulation vs a two-pass float64 scatter on data whose
 *    mean is 1e3 × its spread; column statistics; the detrended whole-window scatter;
 *  - probe_loss: perturb and the per-probe segmented loss sums.
 */
import { describe, expect, it } from 'vitest';
import { useGpu, randomArray } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { createStorage, readF32 } from '../src/gpu/buffers.ts';
import { PerSampleMaterialize, PerSampleProject, layerBlockSize } from '../src/kernels/per_sample_grad.ts';
import { perSampleGradRef, perSampleProjectRef } from '../src/kernels/per_sample_grad.ref.ts';
import { DenseGradWeight } from '../src/kernels/dense_backward.ts';
import { gradWeightRef } from '../src/kernels/dense_backward.ref.ts';
import { ScatterKernels } from '../src/kernels/scatter.ts';
import { columnStatsRef, scatterRef } from '../src/kernels/scatter.ref.ts';
import { GpuScatter, encodeCenteredWindow, readWindowStats } from '../src/analysis/noise/gpu-scatter.ts';
import { ProbeLoss, ProbePerturb, ProbePerturbForward } from '../src/kernels/probe_loss.ts';
import { denseForwardRef } from '../src/kernels/dense_forward.ref.ts';
import { probeLossRef, probePerturbRef } from '../src/kernels/probe_loss.ref.ts';
import { Rng } from '../src/util/rng.ts';

const ctx = useGpu();

describe('per_sample_grad', () => {
  const SHAPES: [number, number, number, number][] = [
    // M, K, N, J
    [1, 1, 1, 1],
    [7, 13, 5, 3],
    [37, 9, 11, 6],
  ];
  for (const [M, K, N, J] of SHAPES) {
    for (const bias of [false, true]) {
      it(`materialize and project ${M}x${K}x${N}, J=${J}${bias ? ' +bias' : ''}`, async () => {
        const c = ctx();
        const a = randomArray(M * K, 3 + M, 1);
        const delta = randomArray(M * N, 5 + N, 0.5);
        const P = layerBlockSize(K, N, bias);
        const v = randomArray(J * P, 7 + J, 1);
        const mat = await PerSampleMaterialize.create(c, { bias });
        const proj = await PerSampleProject.create(c, { bias });
        const ba = createStorage(c, 't.a', a);
        const bd = createStorage(c, 't.delta', delta);
        const bv = createStorage(c, 't.v', v);
        const bg = createStorage(c, 't.g', M * P * 4);
        const bs = createStorage(c, 't.s', M * J * 4);
        const batch = new GpuBatch(c, 'test');
        mat.encode(batch, mat.bind({ a: ba, delta: bd, g: bg }), { m: M, k: K, n: N });
        proj.encode(batch, proj.bind({ a: ba, delta: bd, v: bv, s: bs }), { m: M, k: K, n: N, j: J });
        batch.submit();
        assertClose(await readF32(c, bg, 0, M * P), perSampleGradRef(a, delta, M, K, N, bias), { atol: 1e-6, rtol: 1e-6, label: 'G', cols: P });
        assertClose(await readF32(c, bs, 0, M * J), perSampleProjectRef(a, delta, v, M, K, N, J, bias), { atol: 2e-5, rtol: 2e-4, label: 'S', cols: J });
      });
    }
  }

  it('rows from row0 on (chunked materialisation)', async () => {
    const c = ctx();
    const [M, K, N] = [20, 6, 7];
    const a = randomArray(M * K, 91, 1);
    const delta = randomArray(M * N, 92, 1);
    const mat = await PerSampleMaterialize.create(c, { bias: false });
    const bg = createStorage(c, 't.g', 8 * K * N * 4);
    const batch = new GpuBatch(c, 'test');
    mat.encode(batch, mat.bind({ a: createStorage(c, 'a', a), delta: createStorage(c, 'd', delta), g: bg }), { m: 8, k: K, n: N, row0: 5 });
    batch.submit();
    const ref = perSampleGradRef(a, delta, M, K, N, false).slice(5 * K * N, 13 * K * N);
    assertClose(await readF32(c, bg, 0, 8 * K * N), ref, { atol: 1e-6, rtol: 1e-6, label: 'G rows 5..12' });
  });

  it('the mean of the per-sample gradients is the batch gradient of grad_weight (dz = δ/M)', async () => {
    const c = ctx();
    const [M, K, N] = [50, 17, 10];
    for (const bias of [false, true]) {
      const a = randomArray(M * K, 11, 1);
      const delta = randomArray(M * N, 12, 1);
      const P = layerBlockSize(K, N, bias);
      const mat = await PerSampleMaterialize.create(c, { bias });
      const gw = await DenseGradWeight.create(c, { bias });
      const ba = createStorage(c, 'a', a);
      const bg = createStorage(c, 'g', M * P * 4);
      const scaled = delta.map((x) => x / M);
      const bdw = createStorage(c, 'dw', P * 4);
      const batch = new GpuBatch(c, 'test');
      mat.encode(batch, mat.bind({ a: ba, delta: createStorage(c, 'd', delta), g: bg }), { m: M, k: K, n: N });
      gw.encode(batch, gw.bind({ x: ba, dz: createStorage(c, 'dz', scaled), dw: bdw }), { m: M, k: K, n: N });
      batch.submit();
      const G = await readF32(c, bg, 0, M * P);
      const mean = new Float64Array(P);
      for (let r = 0; r < M; r++) for (let p = 0; p < P; p++) mean[p] += G[r * P + p] / M;
      const dw = await readF32(c, bdw, 0, P);
      assertClose(mean, dw, { atol: 1e-6, rtol: 1e-4, label: `mean g_n vs grad_weight${bias ? ' +bias' : ''}` });
      assertClose(dw, gradWeightRef(a, scaled, M, K, N, bias), { atol: 1e-6, rtol: 1e-4, label: 'grad_weight vs ref' });
    }
  });
});

/** Rows with mean ~`mean` per column and fluctuations of size ~`spread` (plus a slow drift). */
function largeMeanRows(T: number, P: number, mean: number, spread: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const base = Array.from({ length: P }, () => mean * (1 + 0.1 * rng.uniform()));
  const x = new Float32Array(T * P);
  for (let t = 0; t < T; t++) {
    for (let p = 0; p < P; p++) x[t * P + p] = base[p] + spread * (rng.normal() + (p % 3 === 0 ? (0.5 * t) / T : 0));
  }
  return x;
}

describe('scatter', () => {
  it('column_stats matches the two-pass reference (relative to a reference row)', async () => {
    const c = ctx();
    const [T, P] = [23, 37];
    const x = largeMeanRows(T, P, 1000, 1, 4);
    const k = await ScatterKernels.create(c);
    const bx = createStorage(c, 'x', x);
    const stats = createStorage(c, 'stats', 3 * P * 4);
    const out = createStorage(c, 'out', T * P * 4);
    const batch = new GpuBatch(c, 'test');
    encodeCenteredWindow(batch, k, { x: bx, ref: { buffer: bx, offset: 0, size: P * 4 }, stats, out }, T, P, false);
    batch.submit();
    const w = await readWindowStats(c, stats, T, P);
    const ref = columnStatsRef(x, P, 0, T);
    const meanOffset = ref.mean.map((m, p) => m - x[p]);
    assertClose(w.mean, meanOffset, { atol: 1e-4, rtol: 1e-4, label: 'mean − ref' });
    assertClose(w.ss, ref.ss, { atol: 1e-3, rtol: 1e-4, label: 'centred SS' });
    assertClose(w.slope, ref.slope, { atol: 1e-5, rtol: 1e-3, label: 'slope' });
  });

  for (const [T, P, block] of [
    [70, 45, 16],
    [101, 67, 33],
  ] as const) {
    it(`block-wise Chan accumulation, T=${T} P=${P} blocks of ${block}, mean 1e3 × spread, vs float64 two-pass`, async () => {
      const c = ctx();
      const x = largeMeanRows(T, P, 1000, 1, T + P);
      const bx = createStorage(c, 'x', x);
      const sc = await GpuScatter.create(c, bx, { buffer: bx, offset: 0, size: P * 4 }, P, block);
      const batch = new GpuBatch(c, 'test');
      for (let r0 = 0; r0 < T; r0 += block) sc.encodeBlock(batch, r0, Math.min(block, T - r0));
      sc.encodeDiagonal(batch);
      batch.submit();
      const S = await sc.readScatter();
      const ref = scatterRef(x, T, P);
      let maxDiag = 0;
      for (let i = 0; i < P; i++) maxDiag = Math.max(maxDiag, ref.scatter[i * P + i]);
      // Entries are sums of T products of O(1) fluctuations: float32 error ~ 1e-6·maxDiag.
      assertClose(S, ref.scatter, { atol: 2e-5 * maxDiag, rtol: 1e-4, label: 'S', cols: P });
      const off = await sc.readMeanOffset();
      assertClose(Array.from(off, (m, p) => m + x[p]), ref.mean, { atol: 1e-6 * 1000, rtol: 0, label: 'mean' });
      let trace = 0;
      for (let i = 0; i < P; i++) trace += ref.scatter[i * P + i];
      expect(Math.abs((await sc.readTrace()) - trace) / trace).toBeLessThan(1e-5);
      // The naive one-pass formula Σ x xᵀ − T μ μᵀ in float32 loses everything at this mean.
      let naiveErr = 0;
      for (let i = 0; i < 3; i++) {
        let sxx = Math.fround(0);
        for (let t = 0; t < T; t++) sxx = Math.fround(sxx + Math.fround(x[t * P + i] * x[t * P + i]));
        const m = Math.fround(ref.mean[i]);
        naiveErr = Math.max(naiveErr, Math.abs(Math.fround(sxx - Math.fround(T * m * m)) - ref.scatter[i * P + i]) / ref.scatter[i * P + i]);
      }
      expect(naiveErr).toBeGreaterThan(1e-2);
    });
  }

  it('detrended whole-window scatter (center with detrend, accumulate with coef 0)', async () => {
    const c = ctx();
    const [T, P] = [41, 29];
    const x = largeMeanRows(T, P, 500, 0.3, 8);
    const k = await ScatterKernels.create(c);
    const bx = createStorage(c, 'x', x);
    const stats = createStorage(c, 'stats', 3 * P * 4);
    const d = createStorage(c, 'd', T * P * 4);
    const s = createStorage(c, 's', P * P * 4);
    const meanRun = createStorage(c, 'm', P * 4);
    const batch = new GpuBatch(c, 'test');
    encodeCenteredWindow(batch, k, { x: bx, ref: { buffer: bx, offset: 0, size: P * 4 }, stats, out: d }, T, P, true);
    k.encodeAccumulate(batch, k.bindAccumulate({ d_in: d, stats_in: stats, mean_run: meanRun, s }), { rows: T, cols: P, beta: 0, coef: 0 });
    batch.submit();
    const ref = scatterRef(x, T, P, true);
    let maxDiag = 0;
    for (let i = 0; i < P; i++) maxDiag = Math.max(maxDiag, ref.scatter[i * P + i]);
    assertClose(await readF32(c, s, 0, P * P), ref.scatter, { atol: 2e-5 * maxDiag, rtol: 1e-4, label: 'detrended S', cols: P });
  });
});

describe('probe_loss', () => {
  it('perturb + loss against the CPU reference (odd M, 3 probes, 2 directions)', async () => {
    const c = ctx();
    const [M, N, D, C] = [301, 7, 2, 7];
    const z0 = randomArray(M * N, 1, 1);
    const u = randomArray(M * D * N, 2, 1);
    const labels = Uint32Array.from({ length: M }, (_, i) => (i * 7) % C);
    const probes = [
      { dir: 0, theta: 0 },
      { dir: 1, theta: 0.7 },
      { dir: 0, theta: -1.3 },
    ];
    const pert = await ProbePerturb.create(c, { act: 'relu' });
    const loss = await ProbeLoss.create(c);
    const by = createStorage(c, 'y', probes.length * M * N * 4);
    const brows = createStorage(c, 'rows', probes.length * M * 4);
    const G = loss.chunks(M);
    const bpart = createStorage(c, 'partial', probes.length * G * 4);
    const pdata = Float32Array.from(probes.flatMap((p) => [p.dir, p.theta]));
    const batch = new GpuBatch(c, 'test');
    pert.encode(batch, pert.bind({ z0: createStorage(c, 'z0', z0), u: createStorage(c, 'u', u), probe: createStorage(c, 'p', pdata), y: by }), { m: M, n: N, dirs: D, probes: 3 });
    // N = C: use the perturbed output directly as logits.
    loss.encode(batch, loss.bind({ logits: by, labels: createStorage(c, 'l', labels), rows: brows, partial: bpart }), { m: M, classes: C, probes: 3 });
    batch.submit();
    const yRef = probePerturbRef(z0, u, probes, M, N, D, 'relu');
    assertClose(await readF32(c, by, 0, yRef.length), yRef, { atol: 1e-6, rtol: 1e-6, label: 'Y', cols: N });
    const lRef = probeLossRef(yRef, labels, 3, M, C);
    assertClose(await readF32(c, brows, 0, 3 * M), lRef.rows, { atol: 1e-5, rtol: 1e-5, label: 'row losses' });
    const part = await readF32(c, bpart, 0, 3 * G);
    const means = [0, 1, 2].map((q) => part.slice(q * G, q * G + G).reduce((a, b) => a + b, 0) / M);
    assertClose(means, lRef.means, { atol: 1e-6, rtol: 1e-5, label: 'probe means' });
  });

  for (const [act, act2, bias2] of [['relu', 'identity', false], ['tanh', 'relu', true]] as const) {
    it(`perturb_forward (fused into the next layer: ${act} → ${act2}${bias2 ? ' +bias' : ''}) vs perturb then dense_forward`, async () => {
      const c = ctx();
      const [M, N, D, C2] = [53, 9, 3, 7];
      const z0 = randomArray(M * N, 31, 1);
      const u = randomArray(M * D * N, 32, 1);
      const w2 = randomArray((N + (bias2 ? 1 : 0)) * C2, 33, 0.5);
      const probes = [
        { dir: 2, theta: 0.4 },
        { dir: 0, theta: -0.9 },
        { dir: 1, theta: 0 },
        { dir: 2, theta: 3.1 },
        { dir: 1, theta: -0.2 },
      ];
      const Q = probes.length;
      const k = await ProbePerturbForward.create(c, { act, act2, bias2, shape: { rows: Q * M, n: N, c: C2 } });
      const y2 = createStorage(c, 'y2', Q * M * C2 * 4);
      const batch = new GpuBatch(c, 'test');
      k.encode(
        batch,
        k.bind({ z0: createStorage(c, 'z0', z0), u: createStorage(c, 'u', u), probe: createStorage(c, 'p', Float32Array.from(probes.flatMap((p) => [p.dir, p.theta]))), w2: createStorage(c, 'w2', w2), y2 }),
        { m: M, n: N, c: C2, dirs: D, probes: Q },
      );
      batch.submit();
      const y = probePerturbRef(z0, u, probes, M, N, D, act);
      const ref = denseForwardRef(y, w2, Q * M, N, C2, act2, bias2);
      assertClose(await readF32(c, y2, 0, Q * M * C2), ref, { atol: 1e-5, rtol: 1e-5, label: 'Y2', cols: C2 });
    });
  }
});
