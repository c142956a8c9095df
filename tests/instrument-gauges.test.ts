/**
 * The per-sample gauges (src/instruments/gauges.ts, shaders/gauges.wgsl):
 *  - each kernel against plain float64 loops, on shapes that are not multiples of its workgroup
 *    (with a bias row, more samples than threads, padded rows, dead parameters for the GSNR);
 *  - α's quadratic fit on noiseless observations of a known parabola (α follows in closed form);
 *  - the instrument inside a real training run (biases, weight decay) against per-sample gradients
 *    of the same network in float64 (one mlpGradCpu call per sample) at the same weights and
 *    minibatches: loss and variance, |ḡ|², the norm, inner-product and orthogonality tests, the
 *    GSNR of the analysed layer (mean, median, fraction > 1, histogram) and α with its four
 *    observations.
 */
import { describe, expect, it } from 'vitest';
import { randomArray, useGpu } from './helpers/gpu.ts';
import { checkKernel } from './helpers/kernel-check.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { createStorage, readF32 } from '../src/gpu/buffers.ts';
import { Kernel } from '../src/gpu/kernel.ts';
import { Trainer } from '../src/train/trainer.ts';
import { MinibatchSampler } from '../src/train/sampler.ts';
import { Rng } from '../src/util/rng.ts';
import { gaussianMixture } from '../src/data/synthetic.ts';
import { mlpGradCpu } from '../src/nn/mlp-cpu.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { InstrumentHost } from '../src/instruments/host.ts';
import '../src/instruments/all.ts';
import { gauges } from '../src/instruments/gauges.ts';
import { resolveValues } from '../src/instruments/values.ts';
import { alphaOf, fitQuadratic, histMedianLog10 } from '../src/instruments/gauges-math.ts';

const ctx = useGpu();
const HIST = 34;
const LO = -6;
const HI = 2;

/** The histogram bin of a GSNR r (as the kernel bins it). */
function binOf(r: number): number {
  if (!(r > 0)) return 0;
  return Math.min(HIST - 1, Math.max(0, Math.floor(((Math.log10(r) - LO) / (HI - LO)) * (HIST - 2)) + 1));
}

/** GSNR statistics of per-sample gradients g[n][i] (float64), as the kernel defines them. */
function gsnrRef(g: number[][], mean: ArrayLike<number>): { sum: number; defined: number; above: number; hist: number[]; ratios: number[] } {
  const B = g.length;
  const hist = new Array<number>(HIST).fill(0);
  let sum = 0;
  let defined = 0;
  let above = 0;
  const ratios: number[] = [];
  for (let i = 0; i < mean.length; i++) {
    const m2 = g.reduce((a, row) => a + row[i] ** 2, 0) / B;
    if (m2 <= 0) continue;
    const s2 = m2 - mean[i] ** 2;
    const r = s2 > 1e-6 * m2 ? Math.min(mean[i] ** 2 / s2, 1e6) : 1e6;
    ratios.push(r);
    hist[binOf(r)]++;
    sum += r;
    defined++;
    if (r > 1) above++;
  }
  return { sum, defined, above, hist, ratios };
}

describe('shaders/gauges.wgsl', () => {
  const [B, K, N] = [70, 9, 5];
  const P = (K + 1) * N;
  const scale = 1 / B;
  const a = randomArray(B * K, 1);
  const dz = randomArray(B * N, 2, scale);
  const perSample = (x: Float32Array, d: Float32Array, rows: number, k: number, n: number): number[][] =>
    Array.from({ length: rows }, (_, r) => Array.from({ length: (k + 1) * n }, (_, i) => (Math.floor(i / n) < k ? x[r * k + Math.floor(i / n)] : 1) * (d[r * n + (i % n)] / scale)));
  const uniforms = { rows: B, k: K, n: N, p: P, at: 2, layers: 2, stride: 256, vstride: P + 3, ystride: B * N + 7, grad_scale: scale, decay: 0.1 };

  it('row_dots: S[n, j] = Σ_m Y_j[n, m]·dz[n, m] into the block of the layer', async () => {
    const YS = uniforms.ystride;
    const y = randomArray(3 * YS, 8);
    await checkKernel(ctx(), {
      shader: 'gauges',
      entry: 'row_dots',
      inputs: { dz, ys: y },
      outputs: { s: 5 + 3 * B },
      uniforms: { ...uniforms, at: 5 },
      workgroups: [1],
      reference: () => ({ s: [0, 0, 0, 0, 0, ...Array.from({ length: 3 * B }, (_, i) => Array.from({ length: N }, (_, m) => y[(i % 3) * YS + Math.floor(i / 3) * N + m] * dz[Math.floor(i / 3) * N + m]).reduce((p, q) => p + q, 0))] }),
    });
  });

  it('layer_dots: Σ|g_n|² and the dot products of ḡ, θ, d, then d ← −(ḡ + λθ)', async () => {
    const VS = uniforms.vstride;
    const v = randomArray(3 * VS, 3);
    const kernel = await Kernel.create(ctx(), { shader: 'gauges', entry: 'layer_dots', constants: { HAS_BIAS: true } });
    const bufs = { a: createStorage(ctx(), 'a', a), dz: createStorage(ctx(), 'dz', dz), v: createStorage(ctx(), 'v', v), out: createStorage(ctx(), 'out', 8 * 4) };
    const batch = new GpuBatch(ctx(), 'gauges.test');
    batch.dispatch(kernel, kernel.bindGroup(bufs), uniforms, [1]);
    batch.submit();
    const [out, vAfter] = [await readF32(ctx(), bufs.out, 0, 8), await readF32(ctx(), bufs.v, 0, 3 * VS)];
    const g = perSample(a, dz, B, K, N);
    const dot = (x: number, y: number): number => Array.from({ length: P }, (_, i) => v[x * VS + i] * v[y * VS + i]).reduce((p, q) => p + q, 0);
    const want = [0, 0, g.reduce((s, row) => s + row.reduce((p, q) => p + q * q, 0), 0), dot(0, 0), dot(0, 1), dot(1, 1), dot(1, 2), dot(2, 2)];
    want.forEach((w, i) => expect(Math.abs(out[i] - w), `out[${i}]`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(w)));
    for (let i = 0; i < P; i++) {
      expect(vAfter[i]).toBe(v[i]);
      expect(vAfter[2 * VS + i]).toBeCloseTo(-(v[i] + 0.1 * v[VS + i]), 6);
    }
    // The padding between rows is left alone.
    for (let i = P; i < VS; i++) expect(vAfter[2 * VS + i]).toBe(v[2 * VS + i]);
  });

  it('combine: sums and centred squares of the losses and of the network projections', async () => {
    const stride = 256;
    const s = randomArray(2 * stride, 4, 0.01);
    const losses = randomArray(B, 5);
    const proj = (n: number): number[] => [0, 1, 2].map((j) => (s[3 * n + j] + s[stride + 3 * n + j]) / scale);
    const ref = () => {
      const rows = Array.from({ length: B }, (_, n) => {
        const p = proj(n);
        return [losses[n], p[0], p[0] + 0.1 * p[1], p[2]];
      });
      const out = [0, 0];
      for (let j = 0; j < 4; j++) {
        const m = rows.reduce((acc, r) => acc + r[j], 0) / B;
        out.push(m * B, rows.reduce((acc, r) => acc + (r[j] - m) ** 2, 0));
      }
      return { out };
    };
    await checkKernel(ctx(), { shader: 'gauges', entry: 'combine', inputs: { s, losses }, outputs: { out: 10 }, uniforms, workgroups: [1], reference: ref, atol: 1e-4, rtol: 2e-4 });
  });

  it('gsnr: mean, counts and the histogram of ḡᵢ²/σᵢ², dead parameters left out', async () => {
    const [b, k, n] = [13, 7, 5];
    const x = randomArray(b * k, 6);
    for (let r = 0; r < b; r++) x[r * k + 3] = 0; // input feature 3 is always 0: its N weights get no gradient
    const d = randomArray(b * n, 7, 1 / b);
    // ḡ as training has it (the mean of the per-sample gradients), with a common direction added
    // to some samples so that GSNRs spread over several decades.
    for (let r = 0; r < b; r += 2) for (let m = 0; m < n; m++) d[r * n + m] += 0.3 / b;
    const g = Array.from({ length: b }, (_, r) => Array.from({ length: (k + 1) * n }, (_, i) => (Math.floor(i / n) < k ? x[r * k + Math.floor(i / n)] : 1) * d[r * n + (i % n)] * b));
    const grad = Float32Array.from({ length: (k + 1) * n }, (_, i) => g.reduce((s2, row) => s2 + row[i], 0) / b);
    const ref = gsnrRef(g, grad);
    expect(ref.defined).toBe((k + 1) * n - n);
    await checkKernel(ctx(), {
      shader: 'gauges',
      entry: 'gsnr',
      constants: { HAS_BIAS: true, HIST, LOG_LO: LO, LOG_HI: HI },
      inputs: { a: x, dz: d, grad },
      outputs: { out: 3 + HIST },
      uniforms: { ...uniforms, rows: b, k, n, p: (k + 1) * n, at: 0, grad_scale: 1 / b },
      workgroups: [1],
      reference: () => ({ out: [ref.sum, ref.defined, ref.above, ...ref.hist] }),
      atol: 1e-3,
      rtol: 1e-3,
    });
  });
});

describe('α on a known parabola', () => {
  it('recovers q(s) = 3 + b·s + a·s² from exact observations, whatever their weights, and places the step', () => {
    const [c, bb, aa] = [3, -2, 5];
    const q = (s: number) => c + bb * s + aa * s * s;
    const dq = (s: number) => bb + 2 * aa * s;
    for (const tau of [0.05, 0.2, 0.4]) {
      const start = { f: q(0), varF: 0.3, df: dq(0), varDf: 2 };
      const end = { f: q(tau), varF: 0.01, df: dq(tau), varDf: 0 };
      const mu = fitQuadratic(tau, start, end)!;
      expect(mu[0]).toBeCloseTo(c, 8);
      expect(mu[1]).toBeCloseTo(bb, 8);
      expect(mu[2]).toBeCloseTo(aa, 8);
      // The minimum is at 0.2, the far point at the same height at 0.4: α = −1 + τ/0.2.
      expect(alphaOf(tau, start, end).alpha).toBeCloseTo(tau / 0.2 - 1, 8);
    }
    expect(alphaOf(0.1, { f: 1, varF: 1, df: -1, varDf: 1 }, { f: 0.8, varF: 1, df: -3, varDf: 1 }).concave).toBe(true);
  });

  it('reads the median of a histogram inside its bin', () => {
    const counts = new Array<number>(HIST).fill(0);
    counts[9] = 10; // log10 r ∈ [−4, −3.75)
    counts[10] = 10;
    expect(histMedianLog10(counts, LO, HI)).toBeCloseTo(-3.75, 10);
  });
});

describe('the gauges instrument', () => {
  it('measures GSNR, the batch-size tests and α as float64 per-sample gradients do', async () => {
    const model: MlpConfig = { widths: [6, 5, 4, 3], activation: 'tanh', bias: true, init: { kind: 'pytorch' } };
    const data = gaussianMixture({ classes: 3, d: 6, n: 90, sep: 1, seed: 4 });
    const train = { lr: 0.2, batchSize: 9, steps: 2, epochs: null, seed: 7, chunkSteps: 1, weightDecay: 0.03 };
    const trainer = await Trainer.create(ctx(), model, train, { train: data, test: null });
    const theta0 = Float64Array.from(await trainer.mlp.readParams());
    const values = resolveValues(gauges, { every: 1, layer: 1, thetaNorm: 0.9, thetaInner: 0.9, nu: 5.84 }, null);
    const host = await InstrumentHost.create({ trainer, trainSet: data, active: [{ def: gauges, values }], side: () => Promise.reject(new Error('no side device here')) });
    await trainer.run(host.hooks());
    await host.finish(trainer.step, false);
    const t = host.store('gauges')!.data;
    expect(t.steps.step).toEqual([1, 2]);
    expect(t.alpha.step).toEqual([1]);

    const B = train.batchSize;
    const lam = train.weightDecay;
    const idx = new MinibatchSampler(data.n, B, 'shuffle', new Rng(train.seed).fork()).next(2);
    const layout = trainer.mlp.layout;
    const blocks = layout.layers.flatMap((L) => Array.from({ length: L.size }, (_, i) => L.offset + i));
    const dot = (x: ArrayLike<number>, y: ArrayLike<number>): number => blocks.reduce((s, i) => s + x[i] * y[i], 0);
    const perSample = (theta: Float64Array, step: number) =>
      Array.from(idx.subarray((step - 1) * B, step * B), (i) => {
        const r = mlpGradCpu(model, theta, data.x.subarray(i * 6, i * 6 + 6), [data.y[i]], 1);
        return { g: r.grad, loss: r.forward.losses[0] };
      });
    const meanVar = (v: number[]) => {
      const m = v.reduce((p, q) => p + q, 0) / v.length;
      return { m, v: v.reduce((p, q) => p + (q - m) ** 2, 0) / (v.length - 1) };
    };
    const close = (got: number, want: number, rtol = 2e-4, what = '') => expect(Math.abs(got - want), `${what}: ${got} vs ${want}`).toBeLessThanOrEqual(rtol * Math.abs(want) + 1e-6);

    const s1 = perSample(theta0, 1);
    const gbar = theta0.map((_, i) => s1.reduce((a, s) => a + s.g[i], 0) / B);
    const gg = dot(gbar, gbar);
    // The tests, from the per-sample vectors directly.
    const norm = Math.sqrt(s1.reduce((a, s) => a + dot(s.g.map((v, i) => v - gbar[i]), s.g.map((v, i) => v - gbar[i])), 0) / (B - 1) / (B * gg));
    const inner = Math.sqrt(s1.reduce((a, s) => a + (dot(s.g, gbar) - gg) ** 2, 0) / (B - 1) / (B * gg * gg));
    const ortho = Math.sqrt(s1.reduce((a, s) => { const r = s.g.map((v, i) => v - (dot(s.g, gbar) / gg) * gbar[i]); return a + dot(r, r); }, 0) / (B - 1) / (B * gg));
    const row = (c: string) => t.steps[c][0];
    const lossStats = meanVar(s1.map((s) => s.loss));
    close(row('f'), lossStats.m, 1e-5, 'f');
    close(row('var_f'), lossStats.v, 1e-3, 'var_f');
    close(row('grad_sq'), gg, 2e-4, '|ḡ|²');
    close(row('norm_test'), norm, 2e-4, 'norm test');
    close(row('inner_test'), inner, 1e-3, 'inner-product test');
    close(row('ortho_test'), ortho, 2e-4, 'orthogonality test');
    // GSNR of layer 1.
    const L1 = layout.layers[1];
    const g1 = s1.map((s) => Array.from(s.g.subarray(L1.offset, L1.offset + L1.size)));
    const ref = gsnrRef(g1, gbar.subarray(L1.offset, L1.offset + L1.size));
    close(row('gsnr_mean'), ref.sum / ref.defined, 1e-3, 'mean GSNR');
    close(row('gsnr_above_1'), ref.above / ref.defined, 1e-9, 'fraction > 1');
    expect(row('gsnr_dead')).toBe(0);
    expect(Array.from({ length: HIST }, (_, b) => t.steps[`hist_${b}`][0])).toEqual(ref.hist);
    const sorted = [...ref.ratios].sort((p, q) => p - q);
    // The median read from quarter-decade bins: within its bin of the exact median.
    expect(Math.abs(Math.log10(row('gsnr_median')) - Math.log10((sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2))).toBeLessThan(0.25);

    // α: the step θ1 = θ0 − η(ḡ + λθ0), the loss L_B + (λ/2)|θ|² and its slope along it at both ends.
    const u = theta0.map((th, i) => gbar[i] + lam * th);
    const nu = Math.sqrt(dot(u, u));
    const dHat = u.map((v) => -v / nu);
    const theta1 = theta0.map((th, i) => th - train.lr * u[i]);
    const s2 = perSample(theta1, 2);
    const ends = [[s1, theta0], [s2, theta1]] as const;
    const [start, end] = ends.map(([ss, th]) => {
      const f = meanVar(ss.map((s) => s.loss));
      const slopes = meanVar(ss.map((s) => dot(s.g.map((v, i) => v + lam * th[i]), dHat)));
      return { f: f.m + (lam / 2) * dot(th, th), varF: f.v, df: slopes.m, varDf: slopes.v };
    });
    const a = t.alpha;
    close(a.tau[0], train.lr * nu, 1e-4, 'τ');
    close(a.f0[0], start.f, 1e-5, 'f0');
    close(a.df0[0], start.df, 2e-4, 'df0');
    close(a.var_df0[0], start.varDf, 1e-3, 'var df0');
    close(a.f1[0], end.f, 1e-5, 'f1');
    close(a.var_f1[0], end.varF, 1e-3, 'var f1');
    close(a.df1[0], end.df, 1e-3, 'df1');
    close(a.var_df1[0], end.varDf, 1e-3, 'var df1');
    const want = alphaOf(train.lr * nu, start, end);
    expect(Math.abs(a.alpha[0] - want.alpha)).toBeLessThan(2e-3);
    console.log(`step 1: θ_norm ${norm.toFixed(3)}, θ_ip ${inner.toFixed(3)}, ν_orth ${ortho.toFixed(3)}, mean GSNR ${(ref.sum / ref.defined).toFixed(4)}, α ${a.alpha[0].toFixed(4)} (float64 ${want.alpha.toFixed(4)})`);
    host.dispose();
  });
});
