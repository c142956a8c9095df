/**
 * The gradient noise scale with the Hessian, B_noise = tr(HΣ)/(GᵀHG) (McCandlish, Kaplan, Amodei
 * et al. 2018; ../shared/science.md §8), the companion of grad-noise-scale (B_simple per step): every
 * `every` steps, beside training on the side device, at the weights the run has reached, for the
 * whole network and for grad-noise-scale's analysed layer (H its diagonal block):
 *   G          ∇L over the whole training set (exact, one forward/backward pass);
 *   g_j        `batches` minibatch gradients of the run's batch size, drawn as training draws them;
 *   H·[G, d_j] exact Hessian–vector products (the R-operator) over the training set (or a
 *              stratified subsample of `samples`), all directions in one pass, d_j = g_j − G;
 * and src/analysis/curvature/noise-scale.ts's unbiased estimates of tr Σ and tr(HΣ) from the d_j, so
 * B_simple and B_noise come from the same weights and minibatches. The per-step B_simple of
 * grad-noise-scale (smoothed, training's own minibatches) is recorded beside them.
 */
import { HvpEngine } from '../analysis/curvature/hvp-gpu.ts';
import { drawMinibatches } from '../analysis/curvature/minibatch.ts';
import { noiseScale, type NoiseScale } from '../analysis/curvature/noise-scale.ts';
import { mergeSeries, type ChartData } from '../analysis/report/chart-data.ts';
import { fmt } from '../analysis/report/html.ts';
import { registerInstrument } from './registry.ts';
import { int } from './settings.ts';
import type { RunInfo, TableView } from './types.ts';
import { createCurvatureModel, hessianSamples, refreshEvery, refreshSeed, trainingWeights, type CurvatureModel } from './curvature-model.ts';
import type { GradNoiseScaleState } from './grad-noise-scale.ts';
import './grad-noise-scale.ts';

const BLOCK = ['g2', 'tr_sigma', 'tr_sigma_se', 'ghg', 'tr_hsigma', 'tr_hsigma_se', 'b_simple', 'b_noise', 'b_noise_se'];
const COLUMNS = ['step', 'loss', ...BLOCK.map((c) => `${c}_net`), ...BLOCK.map((c) => `${c}_layer`), 'b_simple_step_net', 'b_simple_step_layer', 'layer', 'hessian_rows', 'ms_gradients', 'ms_hessian_net', 'ms_hessian_layer'];
const BATCH_COLUMNS = ['step', 'batch', 'loss', 'd2_net', 'dhd_net', 'd2_layer', 'dhd_layer'];

const blockValues = (s: NoiseScale): number[] => [s.g2, s.trSigma, s.trSigmaSe, s.gHg, s.trHSigma, s.trHSigmaSe, s.bSimple, s.bNoise, s.bNoiseSe];
const pos = (v: number): number | null => (Number.isFinite(v) && v > 0 ? v : null);

function charts(t: TableView, _s: unknown, run: RunInfo): ChartData[] {
  const d = t.steps;
  const n = d.step.length;
  const layer = n && Number.isFinite(d.layer[n - 1]) ? String(d.layer[n - 1]) : '(analysed)';
  const pts = (c: string) => d.step.map((x, i) => ({ x, y: pos(d[c][i]) }));
  const { x, series } = mergeSeries([
    { label: 'B_noise, network', style: 'line+points', points: pts('b_noise_net') },
    { label: `B_noise, layer ${layer}`, style: 'line+points', points: pts('b_noise_layer') },
    { label: 'B_simple, network', style: 'dashed', points: pts('b_simple_net') },
    { label: `B_simple, layer ${layer}`, style: 'dashed', points: pts('b_simple_layer') },
    { label: 'B_simple per step (grad-noise-scale, smoothed)', style: 'points', points: pts('b_simple_step_net') },
  ]);
  const at = (c: string): number => d[c][n - 1];
  const side = (b: number): string => (!Number.isFinite(b) ? '' : run.batchSize < b ? `B = ${run.batchSize} is below it: a larger batch would still cut the steps nearly in proportion` : `B = ${run.batchSize} is above it: larger batches would mostly waste samples`);
  return [
    {
      id: 'b-noise',
      title: 'Critical batch size: B_noise = tr(HΣ)/(GᵀHG)',
      xLabel: 'SGD step',
      yLabel: 'noise scale (samples, log)',
      xLog: false,
      yLog: true,
      x,
      series: [...series, { label: `batch size B = ${run.batchSize}`, style: 'thin', y: x.map(() => run.batchSize) }],
      note: n
        ? `McCandlish et al.: the critical batch size is ≈ B_noise — well below it doubling B nearly halves the steps to a given loss (same samples); far above it extra samples per step are wasted; it grows as the loss falls. Step ${at('step')}: B_noise ≈ ${fmt(at('b_noise_net'), 3)} ± ${fmt(at('b_noise_se_net'), 2)} (network), ${fmt(at('b_noise_layer'), 3)} (layer ${layer}); B_simple ≈ ${fmt(at('b_simple_net'), 3)} at the same weights (B_noise/B_simple = ${fmt(at('b_noise_net') / at('b_simple_net'), 2)}); ${side(at('b_noise_net'))}. Refresh: ${((at('ms_gradients') + at('ms_hessian_net') + at('ms_hessian_layer')) / 1000).toFixed(1)} s.`
        : undefined,
    },
  ];
}

export const bNoise = registerInstrument({
  id: 'b-noise',
  title: 'Gradient noise scale with the Hessian (B_noise)',
  about:
    'B_noise = tr(HΣ)/(GᵀHG) (McCandlish et al. 2018), the critical batch size: below it doubling the batch nearly halves the steps needed, far above it extra samples are wasted. G is the gradient over the whole training set, Σ the per-sample gradient covariance (estimated without bias from minibatch gradients drawn as training draws them), H the Hessian through exact Hessian–vector products; for the network and grad-noise-scale’s analysed layer, with B_simple = tr Σ/|G|² at the same weights. Beside training on the side device, from a copy of the current weights.',
  needs: ['grad-noise-scale'],
  settings: {
    every: refreshEvery(200),
    batches: int(24, { min: 2, max: 100000 }, 'minibatch gradients per refresh behind tr Σ and tr(HΣ) (one Hessian–vector product each)'),
    samples: hessianSamples('H (G always uses the whole set)'),
  },
  dashboardDefault: false,
  tables: {
    steps: { mode: 'append', columns: COLUMNS, about: 'one refresh, for the network (_net) and the analysed layer (_layer): |G|², tr Σ, GᵀHG, tr(HΣ) with standard errors, B_simple, B_noise; grad-noise-scale’s smoothed per-step B_simple at that time; rows behind H; wall time of the gradients and of each Hessian pass (ms)', npy: true },
    minibatches: { mode: 'append', columns: BATCH_COLUMNS, about: 'each minibatch j of each refresh: L_B, |d_j|² and d_jᵀHd_j (d_j = g_j − G) of the network and the layer; tr Σ ≈ c·mean |d_j|², tr(HΣ) ≈ c·mean d_jᵀHd_j with c = B/(1 − B/M) (shuffle) or B', file: 'b-noise_minibatches' },
  },
  panels: [{ chart: 'b-noise', caption: 'B_noise = tr(HΣ)/(GᵀHG) and B_simple = tr Σ/|G|² of the network and the analysed layer at the same weights (log), with the per-step B_simple and the batch size in use' }],
  headline: [{ id: 'b-noise-headline', label: 'B_noise' }],
  charts,
  summary: (t) => {
    const d = t.steps;
    const n = d.step.length;
    const at = (c: string): number | null => (n && Number.isFinite(d[c][n - 1]) ? d[c][n - 1] : null);
    return { refreshes: n, lastStep: at('step'), bNoiseNetwork: at('b_noise_net'), bNoiseLayer: at('b_noise_layer'), bSimpleNetwork: at('b_simple_net'), bSimpleLayer: at('b_simple_layer'), loss: at('loss'), msPerRefresh: n ? at('ms_gradients')! + at('ms_hessian_net')! + at('ms_hessian_layer')! : null };
  },
  start(ctx) {
    const { every, batches: K, samples } = ctx.settings;
    const t = ctx.trainer;
    const weights = trainingWeights(t);
    const B = t.config.batchSize;
    const fpc = t.config.sampling === 'shuffle' ? 1 - B / t.trainData.n : 1;
    let model: CurvatureModel | null = null;
    let engines: { g: HvpEngine; h: HvpEngine; block: HvpEngine } | null = null;
    const build = async (layer: number): Promise<{ m: CurvatureModel; e: { g: HvpEngine; h: HvpEngine; block: HvpEngine } }> => {
      const m = (model ??= await createCurvatureModel(await ctx.side(), t, ctx.trainSet, samples, 'bnoise'));
      if (!engines) {
        const same = m.hessian === m.all;
        const g = await HvpEngine.create(m.mlp, m.all, { maxVectors: same ? 32 : 1, label: 'bnoise.g' });
        const h = same ? g : await HvpEngine.create(m.mlp, m.hessian, { label: 'bnoise.h' });
        engines = { g, h, block: await HvpEngine.create(m.mlp, m.hessian, { layers: [layer], label: 'bnoise.block' }) };
      }
      return { m, e: engines };
    };
    return {
      perStep: weights.perStep,
      refresh: {
        every,
        async run() {
          const read = weights.read();
          const up = ctx.upstream<GradNoiseScaleState>('grad-noise-scale');
          if (!up) throw new Error('b-noise: grad-noise-scale is not running (it is what b-noise needs)');
          const { m, e } = await build(up.layer);
          const { step, params } = await read;
          m.mlp.uploadParams(params);
          const t0 = performance.now();
          const loss = await e.g.refresh();
          if (!Number.isFinite(loss)) return void ctx.emit({ tables: { steps: { step: [step], loss: [loss], layer: [up.layer] } } });
          const G = await e.g.gradient();
          const n = e.g.dim;
          const V = new Float64Array((K + 1) * n);
          V.set(G);
          const idx = drawMinibatches(m.train.n, B, K, t.config.sampling, refreshSeed(t.config.seed, step, 3));
          const losses: number[] = [];
          for (let j = 0; j < K; j++) {
            await m.minibatch.load(m.train, idx.subarray(j * B, (j + 1) * B));
            const g = await m.minibatch.gradient();
            losses.push(g.loss);
            for (let i = 0; i < n; i++) V[(j + 1) * n + i] = g.grad[i] - G[i];
          }
          const t1 = performance.now();
          if (e.h !== e.g) await e.h.refresh();
          const HV = await e.h.apply(V, K + 1);
          const net = noiseScale({ G, HG: HV.subarray(0, n), D: V.subarray(n), HD: HV.subarray(n), dim: n, batchSize: B, sampling: fpc });
          const t2 = performance.now();
          // The layer's block: its slice of every vector, times H_SS.
          const part = e.g.parts.find((p) => p.layer === up.layer)!;
          const nb = e.block.dim;
          const Vb = new Float64Array((K + 1) * nb);
          for (let j = 0; j <= K; j++) Vb.set(V.subarray(j * n + part.offset, j * n + part.offset + nb), j * nb);
          await e.block.refresh();
          const HVb = await e.block.apply(Vb, K + 1);
          const lay = noiseScale({ G: Vb.subarray(0, nb), HG: HVb.subarray(0, nb), D: Vb.subarray(nb), HD: HVb.subarray(nb), dim: nb, batchSize: B, sampling: fpc });
          const t3 = performance.now();
          const row = [step, loss, ...blockValues(net), ...blockValues(lay), up.bSimpleNetwork, up.bSimpleLayer, up.layer, m.hessian.n, t1 - t0, t2 - t1, t3 - t2];
          const perBatch = losses.map((l, j) => [step, j, l, net.d2[j], net.dHd[j], lay.d2[j], lay.dHd[j]]);
          ctx.emit({
            tables: {
              steps: Object.fromEntries(COLUMNS.map((c, j) => [c, [row[j]]])),
              minibatches: Object.fromEntries(BATCH_COLUMNS.map((c, j) => [c, perBatch.map((r) => r[j])])),
            },
            headline: { 'b-noise-headline': Number.isFinite(net.bNoise) ? fmt(net.bNoise, 3) : '–' },
          });
        },
      },
      dispose() {
        if (engines) for (const x of new Set([engines.g, engines.h, engines.block])) x.destroy();
        model?.destroy();
      },
    };
  },
});
