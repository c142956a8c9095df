/**
 * Per-sample gauges of the Cockpit kind (Schneider, Dangel & Hennig, NeurIPS 2021), live, from the
 * per-sample gradients of each measured minibatch on the GPU:
 *   - gradient signal-to-noise ratio per parameter of the analysed layer, r_i = ḡ_i²/σ_i²
 *     (Liu et al. 2020; Cockpit's MeanGSNR without ε), summarised by its mean, median, the
 *     fraction above 1 and its histogram (pure Gaussian noise: mean r = 1/(B − 3));
 *   - the norm test (Byrd et al. 2012), inner-product and orthogonality tests (Bollapragada, Byrd
 *     & Nocedal 2018) of batch-size adequacy, over the whole network, each as the smallest
 *     threshold the batch passes, against θ (both tests) and ν;
 *   - α, the step's position on a noisy quadratic fit of the minibatch loss along the step (needs
 *     steps t and t + 1: measured in pairs). Valid for momentum 0 only: the fit is along the
 *     momentum-free step −(ḡ + λθ); the panel says so when μ > 0.
 * Formulas: src/instruments/gauges-math.ts; the GPU sums: shaders/gauges.wgsl, the per-sample
 * projections through the training's dense_forward kernel (Y = [A, 1?]·V per direction). With weight decay
 * λ the loss fitted for α is L_B + (λ/2)|θ|², the objective the update descends.
 */
import { Kernel, roundUp } from '../gpu/kernel.ts';
import { DenseForward } from '../kernels/dense_forward.ts';
import { createStorage } from '../gpu/buffers.ts';
import type { ChartData } from '../analysis/report/chart-data.ts';
import { registerInstrument } from './registry.ts';
import { int, num } from './settings.ts';
import type { StepView, TableView } from './types.ts';
import { alphaOf, batchTests, histEdges, histMedianLog10, type FitPoint } from './gauges-math.ts';

const SHADER = 'gauges';
/** GSNR histogram: quarter decades of log10 r over [LOG_LO, LOG_HI), plus under- and overflow. */
const LOG_LO = -6;
const LOG_HI = 2;
const HIST = (LOG_HI - LOG_LO) * 4 + 2;
const HIST_COLS = Array.from({ length: HIST }, (_, b) => `hist_${b}`);
const STEP_COLS = ['step', 'batch', 'f', 'var_f', 'grad_sq', 'sample_sq', 'norm_test', 'inner_test', 'ortho_test', 'norm_batch', 'inner_batch', 'gsnr_mean', 'gsnr_median', 'gsnr_above_1', 'gsnr_dead', ...HIST_COLS];
const ALPHA_COLS = ['step', 'alpha', 'concave', 'tau', 'f0', 'var_f0', 'df0', 'var_df0', 'f1', 'var_f1', 'df1', 'var_df1', 'momentum'];

interface Hyper {
  lr: number;
  weightDecay: number;
  momentum: number;
  batch: number;
}

type Settings = { every: number; layer: number; thetaNorm: number; thetaInner: number; nu: number };

function charts(t: TableView, s: Settings, run: { batchSize: number }): ChartData[] {
  const d = t.steps;
  const x = [...d.step];
  const pos = (v: number): number | null => (Number.isFinite(v) && v > 0 ? v : null);
  const lastOf = (c: string): number => d[c].at(-1) ?? NaN;
  const f3 = (v: number): string => (Number.isFinite(v) ? v.toPrecision(3) : '–');
  const tests: ChartData = {
    id: 'gauges-tests',
    title: 'Batch-size tests (norm, inner product, orthogonality)',
    xLabel: 'SGD step',
    yLabel: 'value / threshold (log); ≤ 1: the batch is large enough',
    xLog: false,
    yLog: true,
    x,
    series: [
      { label: `norm test θ_norm/${s.thetaNorm}`, style: 'line+points', y: d.norm_test.map((v) => pos(v / s.thetaNorm)) },
      { label: `inner product θ_ip/${s.thetaInner}`, style: 'line+points', y: d.inner_test.map((v) => pos(v / s.thetaInner)) },
      { label: `orthogonality ν_orth/${s.nu}`, style: 'line+points', y: d.ortho_test.map((v) => pos(v / s.nu)) },
      { label: 'threshold', style: 'dashed', y: x.map(() => 1) },
    ],
    note: x.length
      ? `step ${x.at(-1)}: θ_norm ${f3(lastOf('norm_test'))} (θ = ${s.thetaNorm}), θ_ip ${f3(lastOf('inner_test'))} (θ = ${s.thetaInner}), ν_orth ${f3(lastOf('ortho_test'))} (ν = ${s.nu}); the norm test asks for B ≈ ${f3(lastOf('norm_batch'))}, the inner-product test for B ≈ ${f3(lastOf('inner_batch'))} (B in use ${run.batchSize}). Byrd et al. 2012; Bollapragada et al. 2018.`
      : undefined,
  };
  // GSNR of a parameter whose per-sample gradients are pure Gaussian noise: χ²₁/χ²_{B−1}, mean 1/(B − 3).
  const noise = 1 / Math.max(1, run.batchSize - 3);
  const gsnr: ChartData = {
    id: 'gauges-gsnr',
    title: `Gradient signal-to-noise ratio of layer ${s.layer}`,
    xLabel: 'SGD step',
    yLabel: 'GSNR ḡᵢ²/σᵢ² over parameters (log)',
    xLog: false,
    yLog: true,
    x,
    series: [
      { label: 'mean', style: 'line+points', y: d.gsnr_mean.map(pos) },
      { label: 'median', style: 'line+points', y: d.gsnr_median.map(pos) },
      { label: `pure noise: mean 1/(B − 3) = ${noise.toPrecision(2)}`, style: 'dashed', y: x.map(() => noise) },
      { label: 'fraction of parameters with GSNR > 1', style: 'thin', right: true, y: d.gsnr_above_1.map((v) => (Number.isFinite(v) ? v : null)) },
    ],
    yRight: { label: 'fraction with GSNR > 1', range: [0, 1] },
    note: x.length
      ? `step ${x.at(-1)}: mean ${f3(lastOf('gsnr_mean'))}, median ${f3(lastOf('gsnr_median'))}, ${(100 * lastOf('gsnr_above_1')).toFixed(1)}% above 1, ${(100 * lastOf('gsnr_dead')).toFixed(1)}% without gradient (dead units); σᵢ² is the variance of the B per-sample gradients (Cockpit's convention)`
      : undefined,
  };
  const edges = histEdges(HIST, LOG_LO, LOG_HI);
  const counts = HIST_COLS.map((c) => d[c].at(-1) ?? NaN);
  const total = counts.reduce((a, v) => a + (Number.isFinite(v) ? v : 0), 0);
  const hist: ChartData = {
    id: 'gauges-gsnr-hist',
    title: `Distribution of the GSNR over layer ${s.layer}'s parameters`,
    xLabel: 'log10 GSNR (bin centre; the end bins hold everything beyond)',
    yLabel: 'fraction of parameters',
    xLog: false,
    yLog: false,
    x: total > 0 ? edges.map((e, b) => (b === 0 ? LOG_LO - 0.125 : b === HIST - 1 ? LOG_HI + 0.125 : e + 0.125)) : [],
    series: [{ label: x.length ? `step ${x.at(-1)}` : 'latest step', style: 'line+points', y: total > 0 ? counts.map((c) => c / total) : [] }],
    marks: total > 0 ? [{ x: Math.log10(noise), label: 'pure noise (mean)' }, { x: 0, label: 'GSNR 1' }] : [],
    note: total > 0 ? `${total} parameters with a gradient at step ${x.at(-1)}; median log10 GSNR ${f3(lastOf('gsnr_median') > 0 ? Math.log10(lastOf('gsnr_median')) : NaN)}` : undefined,
  };
  const a = t.alpha;
  const mu = a.momentum.at(-1) ?? 0;
  const finite = a.alpha.filter(Number.isFinite);
  const sorted = [...finite].sort((p, q) => p - q);
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
  const alpha: ChartData = {
    id: 'gauges-alpha',
    title: 'α: where each step lands on the minibatch loss along it',
    xLabel: 'SGD step',
    yLabel: 'α (−1: no move, 0: the fitted minimum, 1: the other side)',
    xLog: false,
    yLog: false,
    x: [...a.step],
    series: [
      { label: 'α', style: 'points', y: a.alpha.map((v) => (Number.isFinite(v) ? v : null)) },
      { label: 'minimum of the fit', style: 'dashed', y: a.step.map(() => 0) },
    ],
    note: a.step.length
      ? `${mu > 0 ? `Momentum μ = ${mu} > 0: α is valid for momentum 0 only (the fit is along the momentum-free step −(ḡ + λθ), not the step taken). ` : ''}median α ${f3(median)} over ${finite.length} steps (${a.concave.filter((v) => v === 1).length} concave fits left out); α > 0: the step overshoots the valley floor of the fitted parabola, α < 0: it stops short (Cockpit)`
      : undefined,
  };
  return [tests, gsnr, hist, alpha];
}

export const gauges = registerInstrument({
  id: 'gauges',
  title: 'Per-sample gauges (GSNR, batch-size tests, α)',
  about:
    "Cockpit's per-sample gauges from each measured minibatch's per-sample gradients on the GPU: the gradient signal-to-noise ratio ḡᵢ²/σᵢ² of every parameter of the analysed layer (mean, median, fraction > 1, histogram); the norm test (Byrd et al. 2012) and the inner-product and orthogonality tests (Bollapragada et al. 2018) of batch-size adequacy over the whole network, each as the smallest threshold the batch passes (θ for the first two, ν for the third); α, the step's position on a quadratic fitted to the noisy minibatch loss and slope at both ends of the step (steps are measured in pairs t, t + 1; valid for momentum 0 only).",
  settings: {
    every: int(10, { min: 1, max: 1e6 }, 'measure steps t and t + 1 for every t divisible by N'),
    layer: int(1, (c) => ({ min: 0, max: Math.max(0, c.widths.length - 2) }), 'the layer whose per-parameter GSNR is measured (the tests and α use the whole network)'),
    thetaNorm: num(0.9, { min: 0, max: 100, minExclusive: true }, 'threshold θ of the norm test'),
    thetaInner: num(0.9, { min: 0, max: 100, minExclusive: true }, 'threshold θ of the inner-product test'),
    nu: num(5.84, { min: 0, max: 1e4, minExclusive: true }, 'threshold ν of the orthogonality test (Bollapragada et al.: tan 80° ≈ 5.84)'),
  },
  tables: {
    steps: { mode: 'append', columns: STEP_COLS, about: `one measured step: B, minibatch loss f and per-sample variance, |ḡ|², Σ|g_n|²/B, norm/inner-product/orthogonality test values and the batches the first two ask for, GSNR of the analysed layer (mean, median, fraction > 1, fraction without gradient) and its histogram hist_0 … hist_${HIST - 1} (parameters per bin of log10 GSNR: below ${LOG_LO}, quarter decades up to ${LOG_HI}, above)`, npy: true },
    alpha: { mode: 'append', columns: ALPHA_COLS, file: 'gauges_alpha', about: 'one pair of steps t, t + 1: α of step t, concave fit (1), step length τ, and the four observations of the fit with their per-sample variances (loss f and slope df along the step at both ends), momentum', npy: true },
  },
  panels: [
    { chart: 'gauges-tests', caption: 'norm, inner-product and orthogonality tests over the network, each divided by its threshold: ≤ 1 the batch passes' },
    { chart: 'gauges-gsnr', caption: 'mean and median GSNR of the analysed layer’s parameters (log), the pure-noise mean 1/(B − 3), and the fraction above 1 (right)' },
    { chart: 'gauges-gsnr-hist', caption: 'histogram of log10 GSNR over the analysed layer’s parameters at the latest measured step' },
    { chart: 'gauges-alpha', caption: 'α of each measured step: −1 no move, 0 the minimum of the fitted parabola, 1 the other side' },
  ],
  headline: [{ id: 'gauges-alpha-median', label: 'α' }],
  charts,
  summary: (t) => {
    const d = t.steps;
    const mean = (c: string, tbl = d): number | null => {
      const v = tbl[c].filter(Number.isFinite);
      return v.length ? v.reduce((p, q) => p + q, 0) / v.length : null;
    };
    return {
      measurements: d.step.length,
      meanNormTest: mean('norm_test'),
      meanInnerTest: mean('inner_test'),
      meanOrthoTest: mean('ortho_test'),
      meanGsnrMean: mean('gsnr_mean'),
      meanGsnrAbove1: mean('gsnr_above_1'),
      alphas: t.alpha.alpha.filter(Number.isFinite).length,
      meanAlpha: mean('alpha', t.alpha),
    };
  },
  async start(ctx) {
    const { every, layer } = ctx.settings;
    const t = ctx.trainer;
    const bias = t.model.bias;
    const layers = t.mlp.layout.layers;
    const L = layers.length;
    const B = t.config.batchSize;
    const constants = { HAS_BIAS: bias };
    const [dots, combine, gsnr, rowDots, ...dense] = await Promise.all([
      Kernel.create(ctx.device, { shader: SHADER, entry: 'layer_dots', constants }),
      Kernel.create(ctx.device, { shader: SHADER, entry: 'combine', constants }),
      Kernel.create(ctx.device, { shader: SHADER, entry: 'gsnr', constants: { ...constants, HIST, LOG_LO, LOG_HI } }),
      Kernel.create(ctx.device, { shader: SHADER, entry: 'row_dots', constants }),
      ...layers.map((Ly) => DenseForward.create(ctx.device, { act: 'identity', bias, shape: { m: B, k: Ly.fanIn, n: Ly.fanOut } })),
    ]);
    // Per layer: V = (ḡ, θ, d) and Y = (Y_0, Y_1, Y_2), rows 256-byte aligned (bound at offsets);
    // the layers' S = (B, 3) projections at floats l·stride of one buffer. Y and S are sized for
    // the batch in use and rebuilt, with every bind group, when it or the step view's buffers change.
    const vstride = layers.map((Ly) => roundUp(Ly.size, 64));
    const dirs = layers.map((_, l) => createStorage(ctx.device, `gauges.dirs${l}`, 3 * vstride[l] * 4));
    const owned: GPUBuffer[] = [...dirs];
    const at = { combine: 6 * L, gsnr: 6 * L + 8 };
    const floats = at.gsnr + 3 + HIST;
    type Built = { key: unknown[]; ystride: number[]; stride: number; dense: GPUBindGroup[][]; rowDots: GPUBindGroup[]; dots: GPUBindGroup[]; combine: GPUBindGroup; gsnr: GPUBindGroup };
    let built: Built | null = null;
    const build = (view: StepView, out: GPUBuffer): Built => {
      const key = [view.batchSize, view.losses, out, ...view.layers.flatMap((Ly) => [Ly.input, Ly.outputGrad, Ly.grad.buffer])];
      if (built && built.key.length === key.length && built.key.every((k, i) => k === key[i])) return built;
      const nb = view.batchSize;
      const ls = view.layers;
      const ystride = ls.map((Ly) => roundUp(nb * Ly.fanOut, 64));
      const ys = ls.map((Ly) => createStorage(ctx.device, `gauges.y${Ly.index}`, 3 * ystride[Ly.index] * 4));
      const stride = 3 * nb;
      const proj = createStorage(ctx.device, 'gauges.projections', L * stride * 4);
      // Earlier ones may still be in a command buffer being encoded: freed at dispose.
      owned.push(...ys, proj);
      return (built = {
        key,
        ystride,
        stride,
        dense: ls.map((Ly) => [0, 1, 2].map((j) => dense[Ly.index].bind({ x: Ly.input, w: { buffer: dirs[Ly.index], offset: j * vstride[Ly.index] * 4, size: Ly.size * 4 }, y: { buffer: ys[Ly.index], offset: j * ystride[Ly.index] * 4, size: nb * Ly.fanOut * 4 } }, `gauges.y${Ly.index}.${j}`))),
        rowDots: ls.map((Ly) => rowDots.bindGroup({ dz: Ly.outputGrad, ys: ys[Ly.index], s: proj }, `gauges.rowDots${Ly.index}`)),
        dots: ls.map((Ly) => dots.bindGroup({ a: Ly.input, dz: Ly.outputGrad, v: dirs[Ly.index], out }, `gauges.dots${Ly.index}`)),
        combine: combine.bindGroup({ s: proj, losses: view.losses, out }, 'gauges.combine'),
        gsnr: gsnr.bindGroup({ a: ls[layer].input, dz: ls[layer].outputGrad, grad: ls[layer].grad, out }, 'gauges.gsnr'),
      });
    };
    const hyper = new Map<number, Hyper>();
    let pending: { step: number; tau: number; start: FitPoint; momentum: number } | null = null;
    return {
      perStep: {
        every,
        consecutive: 2,
        floats,
        encode(batch, view, out) {
          const ls = view.layers;
          const g = build(view, out);
          hyper.set(view.step, { lr: view.lr, weightDecay: view.weightDecay, momentum: view.momentum, batch: view.batchSize });
          for (const Ly of ls) {
            batch.copy(view.grads, Ly.offset * 4, dirs[Ly.index], 0, Ly.size * 4);
            batch.copy(view.params, Ly.offset * 4, dirs[Ly.index], vstride[Ly.index] * 4, Ly.size * 4);
          }
          const u = (Ly: (typeof ls)[number], where: number) => ({ rows: view.batchSize, k: Ly.fanIn, n: Ly.fanOut, p: Ly.size, at: where, layers: L, stride: g.stride, vstride: vstride[Ly.index], ystride: g.ystride[Ly.index], grad_scale: Ly.outputGradScale, decay: view.weightDecay });
          // Y_j = [A, 1?]·V_j (reads d of the previous measured step), S, then the dot products (which replace d).
          for (const Ly of ls) for (let j = 0; j < 3; j++) dense[Ly.index].encode(batch, g.dense[Ly.index][j], { m: view.batchSize, k: Ly.fanIn, n: Ly.fanOut });
          for (const Ly of ls) batch.dispatch(rowDots, g.rowDots[Ly.index], u(Ly, Ly.index * g.stride), [1]);
          for (const Ly of ls) batch.dispatch(dots, g.dots[Ly.index], u(Ly, 6 * Ly.index), [1]);
          batch.dispatch(combine, g.combine, u(ls[0], at.combine), [1]);
          batch.dispatch(gsnr, g.gsnr, u(ls[layer], at.gsnr), [1]);
        },
        read(rows, steps) {
          const cols: Record<string, number[]> = Object.fromEntries(STEP_COLS.map((c) => [c, []]));
          const alpha: Record<string, number[]> = Object.fromEntries(ALPHA_COLS.map((c) => [c, []]));
          steps.forEach((step, r) => {
            const row = rows.subarray(r * floats, (r + 1) * floats);
            const h = hyper.get(step)!;
            hyper.delete(step);
            const nb = h.batch;
            const sum = (j: number): number => layers.reduce((acc, _, l) => acc + row[6 * l + j], 0);
            const [sampleSq, gg, gt, tt, td, dd] = [0, 1, 2, 3, 4, 5].map(sum);
            const c = row.subarray(at.combine, at.combine + 8);
            const lam = h.weightDecay;
            const f = c[0] / nb;
            const varF = c[1] / (nb - 1);
            // α's end: this step's minibatch at its weights (where the previous step ended), along that step's d.
            if (pending && pending.step === step - 1 && dd > 0) {
              const nd = Math.sqrt(dd);
              const end: FitPoint = { f: f + (lam / 2) * tt, varF, df: (c[6] / nb + lam * td) / nd, varDf: c[7] / (nb - 1) / dd };
              const a = alphaOf(pending.tau, pending.start, end);
              const vals = [pending.step, a.alpha, a.concave ? 1 : 0, pending.tau, pending.start.f, pending.start.varF, pending.start.df, pending.start.varDf, end.f, end.varF, end.df, end.varDf, pending.momentum];
              ALPHA_COLS.forEach((k, j) => alpha[k].push(vals[j]));
            }
            // α's start: this step, along its own momentum-free direction d = −(ḡ + λθ).
            const u2 = gg + 2 * lam * gt + lam * lam * tt;
            const nu = Math.sqrt(u2);
            pending = u2 > 0 ? { step, tau: h.lr * nu, momentum: h.momentum, start: { f: f + (lam / 2) * tt, varF, df: -(c[4] / nb + lam * (gt + lam * tt)) / nu, varDf: c[5] / (nb - 1) / u2 } } : null;
            const tests = batchTests(nb, sampleSq, gg, c[3]);
            const g = row.subarray(at.gsnr, at.gsnr + 3 + HIST);
            const P = layers[layer].size;
            const median = histMedianLog10(g.subarray(3), LOG_LO, LOG_HI);
            const vals: number[] = [
              step, nb, f, varF, gg, sampleSq / nb, tests.normTest, tests.innerTest, tests.orthoTest,
              (nb * tests.normTest ** 2) / ctx.settings.thetaNorm ** 2, (nb * tests.innerTest ** 2) / ctx.settings.thetaInner ** 2,
              g[1] > 0 ? g[0] / g[1] : NaN, 10 ** median, g[1] > 0 ? g[2] / g[1] : NaN, (P - g[1]) / P, ...g.subarray(3),
            ];
            STEP_COLS.forEach((k, j) => cols[k].push(vals[j]));
          });
          const finite = alpha.alpha.filter(Number.isFinite);
          ctx.emit({ tables: { steps: cols, alpha }, ...(finite.length ? { headline: { 'gauges-alpha-median': finite.at(-1)!.toFixed(2) } } : {}) });
        },
      },
      dispose: () => {
        for (const b of owned) b.destroy();
      },
    };
  },
});
