/**
 * The run folder of `sgdscope reproduce feng-tu`, as named byte arrays (written by the CLI,
 * offered as downloads by a dashboard):
 *
 *   trajectory.npy          float32 (T, P): the analysed layer after every step of the window
 *   weights_layer{l}.npy    float32 (fan_in, fan_out) at w* (the analysed layer's window mean, the
 *                           other layers' final values); bias_layer{l}.npy with biases
 *   pca_variance.npy        float64 (k,): σ_i², descending
 *   pca_components.npy      float32 (k, P): p_i in the layer layout (row i = component i + 1)
 *   spectra.csv             i, sigma2, F, theta_l, theta_r, T (+ cumulative, sigma2_detrended);
 *                           F/T empty where not measured, θ empty where that side was not reached
 *   summary.json            D90/D99 per variant, alignment, ψ ± SE and r, T–F relation, timings …
 *   temperature_vs_loss.csv step, epoch, loss, T_pc{i} for the chosen directions
 *   mlf.csv                 pc, theta, L, L_mu{0..} (the mini-loss-function ensemble)
 *   metrics.csv             per-step training loss/accuracy and the per-epoch evaluations
 *   report.html             self-contained charts (uPlot inlined)
 */
import { encodeNpy } from '../../util/npy.ts';
import { toCsv } from '../../util/csv.ts';
import { layerBias, layerWeights, paramLayout } from '../../nn/params.ts';
import { metricsCsv } from '../../train/run-files.ts';
import type { RunFiles } from '../../train/run-files.ts';
import type { VarianceProfile } from '../../analysis/numerics/pca-summary.ts';
import type { FengTuResult } from './run.ts';
import { reportHtml } from './report.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';

function profileJson(p: VarianceProfile | null): unknown {
  if (!p) return null;
  return { label: p.label, firstComponent: p.firstComponent, total: p.total, d90: p.d90, d99: p.d99, d90Text: dText(p.d90, p), d99Text: dText(p.d99, p) };
}

function dText(d: number | null, p: VarianceProfile): string {
  return d === null ? `> ${p.variances.length} (the top ${p.variances.length} do not reach it)` : String(d);
}

export function fengTuSummary(r: FengTuResult, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const fit = r.fit;
  return {
    sgdscope: '0.1.0',
    created: new Date().toISOString(),
    experiment: 'Feng & Tu, PNAS 118, e2015617118 (2021): PCA of the SGD weight trajectory, flatness, inverse variance–flatness relation, noise temperature',
    ...extra,
    model: r.model,
    train: r.train,
    run: { status: r.run.status, message: r.run.message, steps: r.run.steps, seconds: r.run.seconds, stepsPerSecond: r.run.stepsPerSecond },
    finalEval: r.history.evals.at(-1) ?? null,
    layer: { index: r.layer, fanIn: r.fanIn, fanOut: r.fanOut, P: r.P },
    window: { ...r.window, stepsPerEpoch: r.stepsPerEpoch, totalSteps: r.totalSteps },
    k: r.options.k,
    pca: {
      route: r.pca.route,
      method: r.pca.method,
      totalVariance: r.pca.total,
      converged: r.pca.converged,
      iterations: r.pca.iterations,
      operatorCalls: r.pca.operatorCalls,
      maxRelativeResidual: r.pca.maxRelativeResidual,
    },
    D: {
      all: profileJson(r.summary.all),
      pc1Removed: profileJson(r.summary.pc1Removed),
      detrended: profileJson(r.summary.detrended),
    },
    alignment: { pc1VsMeanWeight: r.pc1VsMeanWeight, pc1VsDrift: r.pc1VsDrift },
    flatness: r.flatness
      ? {
          k: r.flatness.k,
          L0: r.flatness.L0,
          directions: r.dirs.length,
          dirStride: r.options.dirStride,
          unreached: r.flatness.directions.filter((d) => d.F === null).map((d) => r.dirs[d.dir] + 1),
          rounds: r.flatness.rounds,
          probes: r.flatness.probes,
        }
      : null,
    fit: fit
      ? { psi: fit.psi, psiSE: fit.psiSE, r: fit.r, n: fit.n, intercept: fit.intercept, relation: 'ln σ² = c − ψ·ln F over the measured PCs, PC1 (the drift) left out', pcs: fit.used.map((j) => r.dirs[j] + 1) }
      : { error: r.fitError },
    temperature: r.temperatures
      ? {
          lr: r.temperatures.lr,
          batchSize: r.train.batchSize,
          populationSize: r.trainSize,
          anisotropy: r.anisotropy,
          vsFlatness: r.tempVsFlatness ? { exponent: r.tempVsFlatness.psi, exponentSE: r.tempVsFlatness.psiSE, r: r.tempVsFlatness.r, relation: 'T ∝ F^(−exponent), PC1 left out' } : null,
        }
      : null,
    temperatureVsLoss: r.temperatureVsLoss.length
      ? { pcs: r.tDirs, checkpoints: r.temperatureVsLoss.length, pearsonLnTLnL: r.temperatureLossCorrelation, correlationFrom: `step ${r.stepsPerEpoch} (the first epoch on)` }
      : null,
    timingsSeconds: r.timings,
  };
}

export function fengTuFiles(r: FengTuResult, assets: ReportAssets, extra: Record<string, unknown> = {}): RunFiles {
  const files: RunFiles = new Map();
  const { P } = r;
  const k = r.options.k as number;
  files.set('trajectory.npy', encodeNpy(r.trajectory, [r.window.T, P]));
  const layout = paramLayout(r.model);
  for (const L of layout.layers) {
    files.set(`weights_layer${L.index}.npy`, encodeNpy(layerWeights(r.wStarParams, L), [L.fanIn, L.fanOut]));
    const b = layerBias(r.wStarParams, L);
    if (b) files.set(`bias_layer${L.index}.npy`, encodeNpy(b, [L.fanOut]));
  }
  files.set('pca_variance.npy', encodeNpy(Float64Array.from(r.pca.variances), [k]));
  files.set('pca_components.npy', encodeNpy(Float32Array.from(r.pca.components), [k, P]));

  const at = new Map(r.dirs.map((i, j) => [i, j]));
  const rows: (number | null)[][] = [];
  for (let i = 0; i < k; i++) {
    const j = at.get(i);
    const d = j !== undefined ? r.flatness?.directions[j] : undefined;
    rows.push([
      i + 1,
      r.pca.variances[i],
      d?.F ?? null,
      d?.thetaL ?? null,
      d?.thetaR ?? null,
      j !== undefined && r.temperatures ? r.temperatures.T[j] : null,
      r.summary.all.cumulative[i],
      r.pcaDetrended ? r.pcaDetrended.variances[i] : null,
    ]);
  }
  files.set('spectra.csv', toCsv(['i', 'sigma2', 'F', 'theta_l', 'theta_r', 'T', 'cumulative', 'sigma2_detrended'], rows));
  files.set('summary.json', JSON.stringify(fengTuSummary(r, extra), null, 2) + '\n');
  files.set(
    'temperature_vs_loss.csv',
    toCsv(
      ['step', 'epoch', 'loss', ...r.tDirs.map((i) => `T_pc${i}`)],
      r.temperatureVsLoss.map((row) => [row.step, row.step / r.stepsPerEpoch, row.loss, ...Array.from(row.T)]),
    ),
  );
  const nMu = r.mlf[0]?.mini.length ?? 0;
  const mlfRows: (number | null)[][] = [];
  for (const e of r.mlf) {
    for (let j = 0; j < e.theta.length; j++) mlfRows.push([e.dir + 1, e.theta[j], e.full[j], ...e.mini.map((m) => m[j])]);
  }
  files.set('mlf.csv', toCsv(['pc', 'theta', 'L', ...Array.from({ length: nMu }, (_, m) => `L_mu${m}`)], mlfRows));
  files.set('metrics.csv', metricsCsv(r.history, r.stepsPerEpoch));
  files.set('report.html', reportHtml(r, assets, fengTuSummary(r, extra)));
  return files;
}
