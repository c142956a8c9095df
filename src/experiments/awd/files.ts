/**
 * The run folder of `sgdscope reproduce awd`:
 *
 *   config.json      the experiment spec (model, data, base, axes, stop rule, AWD options), adapter
 *   result.json      per run: hyperparameters, training outcome, measured and decomposed gaps,
 *                    duality checks, factors; the trend verdicts; timings
 *   runs.csv         the same, one row per run
 *   spectra.npy      float64 (runs, 7, P): per Hessian direction n (sharpest first) the rows
 *                    λ_n, σ_w,n, σ_g,n, c_n, μ_g,n·μ_w,n + c_n σ_g,n σ_w,n, σ_∇,n, μ_w,n (NaN: not analysed)
 *   pairs.npy        uint32 (pairs, 2): (train index, test index) into the run's train/test sets
 *   pair_loss_change.npy  float64 (runs, pairs): Δl_k = l_test(t(k)) − l_train(k) (NaN: skipped)
 *   charts.json, report.html
 */
import { encodeNpy } from '../../util/npy.ts';
import { toCsv } from '../../util/csv.ts';
import type { RunFiles } from '../../train/run-files.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';
import type { ChartData } from '../../analysis/report/chart-data.ts';
import { esc, fmt, reportPage } from '../../analysis/report/html.ts';
import { cumulativeGap, factorSpectra, factorsVs, fisherVsHessian, gapPredictedVsMeasured } from './charts.ts';
import { onAxis, type AwdExperimentResult, type AwdRun } from './run.ts';

export interface Trend {
  axis: 'lr' | 'batchSize' | 'weightDecay';
  factor: 'sharpness' | 'size';
  /** What the paper reports (null: no claim; the trend is only shown). */
  expected: 'falls' | 'rises' | null;
  values: { x: number; y: number }[];
  /** 'falls' / 'rises' if monotonic, 'mixed' otherwise, 'n/a' with fewer than 2 points. */
  observed: 'falls' | 'rises' | 'mixed' | 'n/a';
  /** Last over first. */
  ratio: number | null;
  holds: boolean;
}

export function trends(r: AwdExperimentResult): Trend[] {
  // Feng, Zhang & Tu: larger lr / smaller B flatten the sharp directions (S_g ↓), weight decay
  // shrinks the solution (S_w ↓). The other two are shown without a claim.
  const want: [Trend['axis'], Trend['factor'], Trend['expected']][] = [
    ['lr', 'sharpness', 'falls'],
    ['batchSize', 'sharpness', 'rises'],
    ['weightDecay', 'size', 'falls'],
    ['lr', 'size', null],
    ['batchSize', 'size', null],
    ['weightDecay', 'sharpness', null],
  ];
  return want.map(([axis, factor, expected]) => {
    const rs = r.runs.filter((x) => x.analysis && onAxis(x.point, axis, r.spec.base));
    const xs = [...new Set(rs.map((x) => x.point[axis]))].sort((a, b) => a - b);
    const values = xs.map((x) => {
      const g = rs.filter((q) => q.point[axis] === x).map((q) => (factor === 'sharpness' ? q.analysis!.factors.sharpness : q.analysis!.factors.size));
      return { x, y: g.reduce((a, b) => a + b, 0) / g.length };
    });
    let observed: Trend['observed'] = 'n/a';
    if (values.length >= 2) {
      const d = values.slice(1).map((v, i) => v.y - values[i].y);
      observed = d.every((v) => v < 0) ? 'falls' : d.every((v) => v > 0) ? 'rises' : 'mixed';
    }
    const ratio = values.length >= 2 ? values[values.length - 1].y / values[0].y : null;
    return { axis, factor, expected, values, observed, ratio, holds: observed === expected };
  });
}

export function awdFigures(r: AwdExperimentResult): ChartData[] {
  const charts: ChartData[] = [];
  const analysed = r.runs.filter((x) => x.analysis);
  if (!analysed.length) return charts;
  for (const axis of ['lr', 'batchSize', 'weightDecay'] as const) {
    if (new Set(analysed.filter((x) => onAxis(x.point, axis, r.spec.base)).map((x) => x.point[axis])).size > 1) charts.push(factorsVs(r.runs, r.spec, axis));
  }
  charts.push(gapPredictedVsMeasured(r.runs));
  const base = analysed.find((x) => x.point.axis === 'base') ?? analysed[0];
  charts.push(cumulativeGap(base));
  charts.push(fisherVsHessian(base));
  charts.push(factorSpectra(r.runs, r.spec, 'lr', 'sigmaG'));
  charts.push(factorSpectra(r.runs, r.spec, 'batchSize', 'sigmaG'));
  charts.push(factorSpectra(r.runs, r.spec, 'weightDecay', 'sigmaW'));
  return charts;
}

function runSummary(x: AwdRun): Record<string, unknown> {
  const a = x.analysis;
  return {
    ...x.point,
    status: x.status,
    message: x.message,
    steps: x.steps,
    epochs: x.epochs,
    trainSeconds: x.trainSeconds,
    analysisSeconds: x.analysisSeconds,
    finalTrainLoss: x.finalTrainLoss,
    weightNorm: x.weightNorm,
    ...(a
      ? {
          trainLoss: a.trainLoss,
          testLoss: a.testLoss,
          testAccuracy: a.testAccuracy,
          gapMeasured: a.gapMeasured,
          gapPairs: a.gapPairs,
          gapDecomposition: a.gapDecomposition,
          gapDecompositionTop: a.gapDecompositionTop,
          gapFirstOrder: a.gapFirstOrder,
          factors: a.factors,
          alternatePairing: a.alternate,
          lambdaMax: a.stats.lambda[0],
          hessianTrace: a.hessianTrace,
          dualityResidualFloat64: a.residual64,
          dualityResidualFloat32: a.residual32,
          dualLossMismatch: a.lossMismatch,
          pairs: a.pairs,
          skippedPairs: a.skipped,
          timings: a.timings,
        }
      : {}),
  };
}

export function awdSummary(r: AwdExperimentResult): Record<string, unknown> {
  return {
    runs: r.runs.length,
    analysed: r.runs.filter((x) => x.analysis).length,
    trainSize: r.trainSize,
    testSize: r.testSize,
    layer: r.spec.awd.layer,
    pairing: r.spec.awd.pairing,
    seconds: r.seconds,
    pairingSeconds: r.pairsSeconds,
    trends: trends(r),
    results: r.runs.map(runSummary),
  };
}

function runsCsv(r: AwdExperimentResult): string {
  const header = [
    'run', 'axis', 'lr', 'batch_size', 'weight_decay', 'seed', 'status', 'steps', 'epochs', 'train_seconds', 'final_train_loss', 'weight_norm',
    'train_loss', 'test_loss', 'test_accuracy', 'gap_measured', 'gap_pairs', 'gap_decomposition', 'gap_decomposition_top', 'gap_first_order',
    'sharpness_factor', 'sharpness_factor_top', 'sharpness_factor_grad', 'size_factor', 'size_factor_top', 'lambda_max', 'hessian_trace',
    'duality_residual_f64', 'duality_residual_f32', 'dual_loss_mismatch', 'pairs', 'analysis_seconds',
    'alt_pairing', 'alt_gap_pairs', 'alt_gap_decomposition', 'alt_sharpness_factor', 'alt_size_factor',
  ];
  const rows = r.runs.map((x) => {
    const a = x.analysis;
    return [
      x.point.index, x.point.axis, x.point.lr, x.point.batchSize, x.point.weightDecay, x.point.seed, x.status, x.steps, x.epochs, x.trainSeconds, x.finalTrainLoss, x.weightNorm,
      a?.trainLoss ?? null, a?.testLoss ?? null, a?.testAccuracy ?? null, a?.gapMeasured ?? null, a?.gapPairs ?? null, a?.gapDecomposition ?? null, a?.gapDecompositionTop ?? null, a?.gapFirstOrder ?? null,
      a?.factors.sharpness ?? null, a?.factors.sharpnessTop ?? null, a?.factors.sharpnessGrad ?? null, a?.factors.size ?? null, a?.factors.sizeTop ?? null, a?.stats.lambda[0] ?? null, a?.hessianTrace ?? null,
      a?.residual64 ?? null, a?.residual32 ?? null, a?.lossMismatch ?? null, a?.pairs ?? null, x.analysisSeconds,
      a?.alternate?.pairing ?? null, a?.alternate?.gapPairs ?? null, a?.alternate?.gapDecomposition ?? null, a?.alternate?.factors.sharpness ?? null, a?.alternate?.factors.size ?? null,
    ];
  });
  return toCsv(header, rows);
}

export function awdReport(r: AwdExperimentResult, charts: ChartData[], assets: ReportAssets, summary: Record<string, unknown>, adapter: string): string {
  const s = r.spec;
  const tr = trends(r);
  const trendRows = tr
    .map(
      (t) =>
        `<tr><td>${t.factor} factor vs ${t.axis}</td><td>${t.expected ?? '(no claim)'}</td><td><b>${t.observed}</b>${t.expected === null || t.observed === 'n/a' ? '' : t.holds ? ' ✓' : ' ✗'}</td><td>${t.values.map((v) => `${fmt(v.x)}: ${fmt(v.y, 4)}`).join(' → ')}</td><td>${fmt(t.ratio)}</td></tr>`,
    )
    .join('');
  const runRows = r.runs
    .map((x) => {
      const a = x.analysis;
      return `<tr><td>${x.point.index}</td><td>${x.point.axis}</td><td>${fmt(x.point.lr)}</td><td>${x.point.batchSize}</td><td>${fmt(x.point.weightDecay)}</td><td>${x.point.seed}</td><td>${esc(x.message)}</td>` +
        `<td class="num">${fmt(x.epochs, 3)}</td><td class="num">${fmt(a?.trainLoss, 3)}</td><td class="num">${a ? (100 * a.testAccuracy).toFixed(2) + '%' : '—'}</td>` +
        `<td class="num">${fmt(a?.gapMeasured, 4)}</td><td class="num">${fmt(a?.gapPairs, 4)}</td><td class="num">${fmt(a?.gapDecomposition, 4)}</td><td class="num">${fmt(a?.gapFirstOrder, 4)}</td><td class="num">${fmt(a?.alternate?.gapDecomposition, 4)}</td>` +
        `<td class="num">${fmt(a?.factors.sharpness, 4)}</td><td class="num">${fmt(a?.factors.size, 4)}</td><td class="num">${fmt(a?.stats.lambda[0], 4)}</td><td class="num">${fmt(x.weightNorm, 4)}</td>` +
        `<td class="num">${a ? `${a.residual64.toExponential(1)} / ${a.residual32.toExponential(1)}` : '—'}</td></tr>`;
    })
    .join('');
  const intro = `${esc(s.model.widths.join('-'))} ${esc(s.model.activation)}${s.model.bias ? ' with biases' : ', no biases'}, ${r.trainSize} training / ${r.testSize} test samples.
Base run lr ${s.base.lr}, B ${s.base.batchSize}, weight decay ${s.base.weightDecay}; one axis varied at a time (lr ${s.lrs.join(', ')}; B ${s.batchSizes.join(', ')}; weight decay ${s.weightDecays.join(', ')}), seeds ${s.seeds.join(', ')}.
Each run trains until the full training loss ≤ ${s.targetLoss} (at most ${s.maxEpochs} epochs)${s.weightDecayEpochs !== null ? `; weight decay acts during the first ${s.weightDecayEpochs} epochs only, then training continues without it (the authors' protocol)` : ''}.
Analysed layer ${s.awd.layer} (all ${r.runs.find((x) => x.analysis)?.analysis?.P ?? '?'} Hessian directions, exact GPU Hessian–vector products, dense float64 eigensolver); pairs: ${s.awd.pairing === 'train-to-test' ? 'each training sample with its nearest same-class test sample' : 'each test sample with its nearest same-class training sample (as the authors’ code)'} in pixel space${s.awd.both ? ` — the other direction (${s.awd.pairing === 'train-to-test' ? 'test → train' : 'train → test'}) is decomposed too ("other pairing"). Pairing every training sample with its nearest test sample picks the test samples closest to the training data, so its mean loss change underestimates the gap; pairing every test sample with its nearest training sample uses each test sample once, so its mean is test loss − (mean loss of the matched training samples) ≈ the gap` : ''}.
Adapter ${esc(adapter)}; ${r.seconds.toFixed(0)} s in total.`;
  return reportPage({
    title: 'Activity–weight duality: sharpness and size factors of the generalisation gap',
    intro,
    assets,
    summary,
    sections: [
      {
        title: 'Trends',
        html: `<p class="note">Factors = root-sum-squares over all Hessian directions of the spreads across pairs: sharpness S_g = √Σσ_g,n² (loss slopes), size S_w = √Σσ_w,n² (dual weights). Means over seeds; other hyperparameters at the base values.</p>
<table><tr><th>factor</th><th>expected</th><th>observed</th><th>values</th><th>last/first</th></tr>${trendRows}</table>`,
      },
      { title: 'Figures', html: '', charts },
      {
        title: 'Runs',
        html: `<p class="note">gap measured = test − train loss over the full sets; pairs = mean over pairs of l_test(t(k)) − l_train(k) (= l(x_k; W + ΔW_k) − l(x_k; W)); decomposition = Σ_n (μ_g μ_w + c σ_g σ_w) over all directions; first order = mean ∇l_k·ΔW_k. Duality residual: max |a(W + ΔW) − a′W| / max |a′W| in float64 / with ΔW in float32.</p>
<table><tr><th>#</th><th>axis</th><th>lr</th><th>B</th><th>wd</th><th>seed</th><th>training</th><th>epochs</th><th>train loss</th><th>test acc</th><th>gap measured</th><th>gap pairs</th><th>decomposition</th><th>first order</th><th>decomposition, other pairing</th><th>S_g</th><th>S_w</th><th>λ_max</th><th>‖w‖</th><th>duality residual</th></tr>${runRows}</table>`,
      },
    ],
  });
}

export function awdFiles(r: AwdExperimentResult, assets: ReportAssets, meta: { data: unknown; adapter: { name: string; description: string; runtime: string } }): RunFiles {
  const files: RunFiles = new Map();
  const charts = awdFigures(r);
  const summary = awdSummary(r);
  files.set('config.json', JSON.stringify({ sgdscope: '0.1.0', created: new Date().toISOString(), kind: 'reproduce-awd', spec: { ...r.spec, data: meta.data }, adapter: meta.adapter }, null, 2) + '\n');
  files.set('result.json', JSON.stringify(summary, null, 2) + '\n');
  files.set('runs.csv', runsCsv(r));
  const first = r.runs.find((x) => x.analysis)?.analysis;
  if (first) {
    const P = first.P;
    const R = r.runs.length;
    const spectra = new Float64Array(R * 7 * P).fill(NaN);
    r.runs.forEach((x, i) => {
      const s = x.analysis?.stats;
      if (!s) return;
      [s.lambda, s.sigmaW, s.sigmaG, s.c, s.term, s.sigmaD, s.muW].forEach((row, j) => spectra.set(row, (i * 7 + j) * P));
    });
    files.set('spectra.npy', encodeNpy(spectra, [R, 7, P]));
    // Pairs of the first analysed run (the same pairing for every run; pairs with a = 0 may differ).
    const pr = first.perPair;
    const pairs = new Uint32Array(2 * pr.train.length);
    pr.train.forEach((k, i) => ((pairs[2 * i] = k), (pairs[2 * i + 1] = pr.test[i])));
    files.set('pairs.npy', encodeNpy(pairs, [pr.train.length, 2]));
    const index = new Map(Array.from(pr.train, (k, i) => [`${k}|${pr.test[i]}`, i]));
    const dl = new Float64Array(R * pr.train.length).fill(NaN);
    r.runs.forEach((x, i) => {
      const q = x.analysis?.perPair;
      if (!q) return;
      q.train.forEach((k, m) => {
        const at = index.get(`${k}|${q.test[m]}`);
        if (at !== undefined) dl[i * pr.train.length + at] = q.deltaLoss[m];
      });
    });
    files.set('pair_loss_change.npy', encodeNpy(dl, [R, pr.train.length]));
  }
  files.set('charts.json', JSON.stringify(charts) + '\n');
  files.set('report.html', awdReport(r, charts, assets, summary, `${meta.adapter.name} (${meta.adapter.runtime})`));
  return files;
}
