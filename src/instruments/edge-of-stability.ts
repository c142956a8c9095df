/**
 * Edge of stability, live (Cohen et al. 2021; Andreyev & Beneventano 2024/25; ../shared/science.md §7).
 * Every `every` steps, beside training on the side device, at the weights the run has reached:
 *
 *   λ_max   the top Hessian eigenvalue of the full training loss (the whole training set, or a
 *           stratified subsample of `samples`), by `iters` Lanczos steps of exact Hessian–vector
 *           products (the R-operator, HvpEngine), warm-started from the previous refresh's top
 *           eigenvector — the eigenvector moves slowly, so a few products track it;
 *   S_B     the batch sharpness E_B[g_Bᵀ H_B g_B / |g_B|²]: each minibatch loss's curvature along
 *           its own gradient, averaged over `batches` minibatches of the run's batch size drawn as
 *           training draws them (src/analysis/curvature/minibatch.ts: one forward/backward and one
 *           Hessian–vector product on B rows each);
 *
 * both against 2/η: a quadratic of curvature λ is stable under a step η only for λ < 2/η.
 * Full-batch GD sharpens until λ_max ≈ 2/η; minibatch SGD keeps λ_max below it while S_B sits at 2/η.
 */
import { lanczosTopK } from '../analysis/curvature/lanczos.ts';
import { HvpEngine } from '../analysis/curvature/hvp-gpu.ts';
import { drawMinibatches } from '../analysis/curvature/minibatch.ts';
import { fmt } from '../analysis/report/html.ts';
import type { ChartData } from '../analysis/report/chart-data.ts';
import { registerInstrument } from './registry.ts';
import { int } from './settings.ts';
import type { RunInfo, TableView } from './types.ts';
import { createCurvatureModel, hessianSamples, refreshEvery, refreshSeed, trainingWeights, type CurvatureModel } from './curvature-model.ts';

const COLUMNS = ['step', 'loss', 'lambda_max', 'lambda_rel_residual', 'lanczos_iters', 'batch_sharpness', 'batch_sharpness_se', 'batch_loss', 'edge', 'hessian_rows', 'ms_lambda', 'ms_batch'];
const BATCH_COLUMNS = ['step', 'batch', 'sharpness', 'grad_sq', 'loss'];
/** Lanczos stops early once the top Ritz value's residual is this small relative to it. */
const RESIDUAL_TOL = 1e-3;

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * The largest data-loss curvature a step is stable on: a quadratic of curvature λ is stable under
 * SGD with heavy-ball momentum β and weight decay wd for λ + wd < 2(1 + β)/η — 2/η for plain SGD.
 */
export const stabilityEdge = (c: { lr: number; momentum: number; weightDecay: number }): number => (2 * (1 + c.momentum)) / c.lr - c.weightDecay;

function charts(t: TableView, _s: unknown, run: RunInfo): ChartData[] {
  const d = t.steps;
  const n = d.step.length;
  const edge = n ? d.edge[n - 1] : 2 / run.lr;
  const last = (c: string): number => d[c][n - 1];
  const pct = (v: number): string => (Number.isFinite(v) ? `${Math.round((100 * v) / edge)}% of the edge` : '–');
  return [
    {
      id: 'edge-of-stability',
      title: 'Edge of stability: sharpness against 2/η',
      xLabel: 'SGD step',
      yLabel: 'curvature (loss per weight², linear)',
      xLog: false,
      yLog: false,
      x: [...d.step],
      series: [
        { label: 'λ_max (full training loss)', style: 'line+points', y: d.lambda_max.map(finite) },
        { label: 'batch sharpness E_B[g_BᵀH_Bg_B/|g_B|²]', style: 'line+points', y: d.batch_sharpness.map(finite) },
        { label: `stability edge ${fmt(edge, 4)} (2/η)`, style: 'dashed', y: d.edge.map(finite) },
        { label: 'training loss (right)', style: 'thin', right: true, y: d.loss.map(finite) },
      ],
      yRight: { label: 'training loss (nats)' },
      note: n
        ? `step ${last('step')}: λ_max = ${fmt(last('lambda_max'), 4)} (${pct(last('lambda_max'))}; ${last('lanczos_iters')} warm-started Lanczos products over ${last('hessian_rows')} samples, ${(last('ms_lambda') / 1000).toFixed(1)} s), batch sharpness = ${fmt(last('batch_sharpness'), 4)} ± ${fmt(last('batch_sharpness_se'), 2)} (${pct(last('batch_sharpness'))}; ${(last('ms_batch') / 1000).toFixed(1)} s). A quadratic of curvature λ is stable for λ < 2/η (with momentum β and weight decay wd: λ + wd < 2(1 + β)/η). SGD keeps λ_max below the edge; the batch sharpness is what reaches it (Andreyev & Beneventano).`
        : undefined,
    },
  ];
}

export const edgeOfStability = registerInstrument({
  id: 'edge-of-stability',
  title: 'Edge of stability (λ_max and batch sharpness against 2/η)',
  about:
    'λ_max, the top Hessian eigenvalue of the full training loss, by a few Lanczos steps of exact Hessian–vector products warm-started from the last refresh, and the batch sharpness E_B[g_Bᵀ H_B g_B/|g_B|²] of Andreyev & Beneventano (each minibatch loss’s curvature along its own gradient, averaged over minibatches), against 2/η, the largest curvature a step η is stable on. Full-batch GD sharpens until λ_max ≈ 2/η (Cohen et al.); with minibatches λ_max settles below 2/η and the batch sharpness sits at it. Computed beside training on the side device from a copy of the current weights.',
  settings: {
    every: refreshEvery(100),
    iters: int(10, { min: 2, max: 1000 }, 'Lanczos steps (Hessian–vector products over the Hessian samples) per refresh, warm-started from the last top eigenvector'),
    batches: int(16, { min: 1, max: 100000 }, 'minibatches of the run’s batch size averaged into the batch sharpness'),
    samples: hessianSamples('λ_max'),
  },
  dashboardDefault: false,
  tables: {
    steps: { mode: 'append', columns: COLUMNS, about: 'one refresh: the step of the weights, the mean loss over the Hessian samples, λ_max with its Lanczos residual (relative) and products, the batch sharpness (mean ± standard error over the minibatches) and their mean loss, the stability edge 2(1 + β)/η − wd (2/η for plain SGD; the curvatures are those of the data loss), the rows behind H and the wall time of each part (ms)', npy: true },
    minibatches: { mode: 'append', columns: BATCH_COLUMNS, about: 'each minibatch of each refresh: g_BᵀH_Bg_B/|g_B|², |g_B|² and L_B', file: 'edge-of-stability_minibatches' },
  },
  panels: [{ chart: 'edge-of-stability', caption: 'λ_max of the full training loss and the batch sharpness against the step, with the stability edge 2/η (dashed) and the training loss (right axis)' }],
  headline: [
    { id: 'lambda-max', label: 'λ_max' },
    { id: 'batch-sharpness', label: 'batch sharpness' },
  ],
  charts,
  summary: (t, _s, run) => {
    const d = t.steps;
    const n = d.step.length;
    const at = (c: string): number | null => (n ? finite(d[c][n - 1]) : null);
    const max = (c: string): number | null => (n ? finite(Math.max(...d[c].filter(Number.isFinite))) : null);
    return { refreshes: n, lastStep: at('step'), edge: n ? at('edge') : 2 / run.lr, lambdaMax: at('lambda_max'), batchSharpness: at('batch_sharpness'), lambdaMaxPeak: max('lambda_max'), batchSharpnessPeak: max('batch_sharpness'), msPerRefresh: n ? at('ms_lambda')! + at('ms_batch')! : null };
  },
  start(ctx) {
    const { every, iters, batches, samples } = ctx.settings;
    const t = ctx.trainer;
    const weights = trainingWeights(t);
    let model: CurvatureModel | null = null;
    let engine: HvpEngine | null = null;
    let start: Float64Array | null = null;
    const B = t.config.batchSize;
    return {
      perStep: weights.perStep,
      refresh: {
        every,
        async run() {
          const read = weights.read();
          model ??= await createCurvatureModel(await ctx.side(), t, ctx.trainSet, samples, 'eos');
          engine ??= await HvpEngine.create(model.mlp, model.hessian, { maxVectors: 1, label: 'eos.hvp' });
          const { step, params } = await read;
          const m = model;
          m.mlp.uploadParams(params);
          const t0 = performance.now();
          const loss = await engine.refresh();
          let lambda = NaN;
          let residual = NaN;
          let products = 0;
          if (Number.isFinite(loss)) {
            const n = engine.dim;
            const r = await lanczosTopK(engine.operator, { n, k: 1, maxIter: Math.min(iters, n), residualTol: RESIDUAL_TOL, checkEvery: 2, start: start ?? undefined, seed: refreshSeed(t.config.seed, step, 1) });
            lambda = r.values[0];
            residual = r.residualEstimates[0] / Math.abs(lambda || 1);
            products = r.operatorCalls;
            start = r.vectors.slice(0, n);
          }
          const t1 = performance.now();
          const idx = drawMinibatches(m.train.n, B, batches, t.config.sampling, refreshSeed(t.config.seed, step, 2));
          const s = Number.isFinite(loss) ? await m.minibatch.batchSharpness(m.train, idx) : null;
          const t2 = performance.now();
          const row = [step, loss, lambda, residual, products, s?.mean ?? NaN, s?.se ?? NaN, s ? s.losses.reduce((a, v) => a + v, 0) / batches : NaN, stabilityEdge(t.config), m.hessian.n, t1 - t0, t2 - t1];
          const perBatch = s ? Array.from(s.values, (v, j) => [step, j, v, s.gradSq[j], s.losses[j]]) : [];
          ctx.emit({
            tables: {
              steps: Object.fromEntries(COLUMNS.map((c, j) => [c, [row[j]]])),
              minibatches: Object.fromEntries(BATCH_COLUMNS.map((c, j) => [c, perBatch.map((r) => r[j])])),
            },
            headline: { 'lambda-max': Number.isFinite(lambda) ? fmt(lambda, 4) : '–', 'batch-sharpness': s && Number.isFinite(s.mean) ? fmt(s.mean, 4) : '–' },
          });
        },
      },
      dispose() {
        engine?.destroy();
        model?.destroy();
      },
    };
  },
});
