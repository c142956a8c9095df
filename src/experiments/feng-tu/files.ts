/**
 * The run folder of `sgdscope reproduce feng-tu`, as named byte arrays (written by the CLI as each
 * stage ends, offered as downloads by a dashboard):
 *
 *   trajectory.npy               float32 (T, P): the analysed layer after every step of the window
 *   weights_layer{l}.npy         float32 (fan_in, fan_out) at w* (the analysed layer's window mean,
 *                                the other layers' final values); bias_layer{l}.npy with biases
 *   metrics.csv                  per-step training loss/accuracy and the per-epoch evaluations
 *   pca_variance.npy             float64 (k,): σ_i², descending                       (stage pca)
 *   pca_components.npy           float32 (k, P): p_i in the layer layout (row i = PC i + 1)
 *   pca_variance_detrended.npy   float64 (k,): σ_i² of the detrended window      (pca-detrended)
 *   temperature_vs_loss.csv      step, epoch, loss, T_pc{i} for the chosen PCs (temperature-vs-loss)
 *   mlf.csv                      pc, theta, L, L_mu{0..}: the mini-loss-function ensemble   (mlf)
 *   fit_ranges.csv               ψ over nested PC ranges and over local blocks of PCs       (fit)
 *   spectra.csv                  i, sigma2, trusted, F, theta_l, theta_r, T, cumulative,
 *                                sigma2_detrended — whatever the stages so far measured (empty
 *                                where not); trusted = 1 when σ_i² is above the noise floor
 *   summary.json                 stages (done / failed with the error / skipped with why), D90/D99
 *                                per variant, noise floor, alignment, ψ ± SE with its PC range …
 *   report.html                  self-contained charts (uPlot inlined)
 *   train_indices.npy, test_indices.npy      the samples trained and tested on
 *   checkpoints_weights_layer{l}.npy, checkpoint_steps.npy   the weights T(t) and L(t) were
 *                                measured at, stacked per layer, and their steps
 * The first three are written when training ends; each stage's files when it ends; summary.json,
 * spectra.csv and report.html after every stage, so a folder always says which stages are done
 * (summary.json `stages`); the indices and checkpoints at the end.
 */
import { encodeNpy } from '../../util/npy.ts';
import { toCsv } from '../../util/csv.ts';
import { layerBias, layerWeights, paramLayout } from '../../nn/params.ts';
import { indexFiles, metricsCsv, stackedWeightFiles } from '../../train/run-files.ts';
import type { WindowRecorder } from '../../analysis/noise/recorder.ts';
import type { RunFiles } from '../../train/run-files.ts';
import type { VarianceProfile } from '../../analysis/numerics/pca-summary.ts';
import type { NoiseFloor } from '../../analysis/numerics/noise-floor.ts';
import type { FengTuResult, FitRange, Stage } from './run.ts';
import { reportHtml } from './report.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';

function profileJson(p: VarianceProfile | null): unknown {
  if (!p) return null;
  return { label: p.label, firstComponent: p.firstComponent, total: p.total, d90: p.d90, d99: p.d99, d90Text: dText(p.d90, p), d99Text: dText(p.d99, p), ...(p.warnings.length ? { warnings: p.warnings } : {}) };
}

function dText(d: number | null, p: VarianceProfile): string {
  return d === null ? `> ${p.variances.length} (the top ${p.variances.length} do not reach it)` : String(d);
}

function floorJson(f: NoiseFloor | undefined): unknown {
  return f ? { variance: f.variance, relativeToTop: f.relativeToTop, trustedUpTo: f.trustedUpTo, relTol: f.relTol, accumulation: f.accumulation, eigensolver: f.eigensolver, model: f.model } : null;
}

export function fengTuSummary(r: FengTuResult, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const fit = r.fit;
  const fd = r.fitDetail;
  const c = r.train;
  return {
    sgdscope: '0.1.0',
    created: new Date().toISOString(),
    experiment: 'Feng & Tu, PNAS 118, e2015617118 (2021): PCA of the SGD weight trajectory, flatness, inverse variance–flatness relation, noise temperature',
    ...extra,
    model: r.model,
    train: r.train,
    run: { status: r.run.status, message: r.run.message, steps: r.run.steps, seconds: r.run.seconds, stepsPerSecond: r.run.stepsPerSecond },
    stopRule: c.stopLoss !== null || c.stopAccuracy !== null ? { stopLoss: c.stopLoss, stopAccuracy: c.stopAccuracy, stopAccuracyEpochs: c.stopAccuracyEpochs, epochCap: c.epochs, met: r.run.status === 'target-reached' } : null,
    finalEval: r.history.evals.at(-1) ?? null,
    stages: { train: { status: 'done', seconds: r.timings.train ?? r.run.seconds }, ...r.stages },
    layer: { index: r.layer, fanIn: r.fanIn, fanOut: r.fanOut, P: r.P },
    window: { ...r.window, stepsPerEpoch: r.stepsPerEpoch, totalSteps: r.totalSteps },
    k: r.options.k,
    pca: r.pca
      ? {
          route: r.pca.route,
          method: r.pca.method,
          totalVariance: r.pca.total,
          pc1Share: r.pca.variances[0] / r.pca.total,
          converged: r.pca.converged,
          iterations: r.pca.iterations,
          operatorCalls: r.pca.operatorCalls,
          maxRelativeResidual: r.pca.maxRelativeResidual,
          scatter: r.scatter ? { arithmetic: r.scatter.arithmetic, reason: r.scatter.reason, seconds: r.scatter.ms / 1000 } : null,
          noiseFloor: floorJson(r.pca.floor),
          detrendedNoiseFloor: floorJson(r.pcaDetrended?.floor),
        }
      : null,
    D: r.summary
      ? { all: profileJson(r.summary.all), pc1Removed: profileJson(r.summary.pc1Removed), detrended: profileJson(r.summary.detrended) }
      : null,
    alignment: { pc1VsMeanWeight: r.pc1VsMeanWeight, pc1VsDrift: r.pc1VsDrift },
    flatness: r.flatness
      ? {
          k: r.flatness.k,
          at: r.options.flatAt === 'final' ? 'the final weights' : 'w* (the window mean of the analysed layer)',
          L0: r.flatness.L0,
          directions: r.dirs.length,
          dirStride: r.options.dirStride,
          thetaMax: r.options.flatThetaMax,
          relTol: r.options.flatRelTol,
          absTol: r.options.flatAbsTol,
          unreached: r.flatness.directions.filter((d) => d.F === null).map((d) => r.dirs[d.dir] + 1),
          rounds: r.flatness.rounds,
          probes: r.flatness.probes,
        }
      : null,
    fit: fit && fd
      ? {
          psi: fit.psi,
          psiSE: fit.psiSE,
          r: fit.r,
          n: fit.n,
          intercept: fit.intercept,
          pcRange: `${fd.pcs[0]}–${fd.pcs[fd.pcs.length - 1]}`,
          relation: 'ln σ² = c − ψ·ln F over the measured PCs above the noise floor, PC1 (the drift) left out',
          pcs: fd.pcs,
          excluded: fd.excluded,
          ranges: fd.ranges,
          local: fd.local,
        }
      : { error: r.fitError ?? r.stages.fit?.error ?? null },
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

/** Written when training ends: the window, w*, the training metrics. */
export function trainFiles(r: FengTuResult): RunFiles {
  const files: RunFiles = new Map();
  files.set('trajectory.npy', encodeNpy(r.trajectory, [r.window.T, r.P]));
  for (const L of paramLayout(r.model).layers) {
    files.set(`weights_layer${L.index}.npy`, encodeNpy(layerWeights(r.wStarParams, L), [L.fanIn, L.fanOut]));
    const b = layerBias(r.wStarParams, L);
    if (b) files.set(`bias_layer${L.index}.npy`, encodeNpy(b, [L.fanOut]));
  }
  files.set('metrics.csv', metricsCsv(r.history, r.stepsPerEpoch));
  return files;
}

/** The files of one analysis stage (empty when it has none or did not succeed). */
export function stageFiles(stage: Stage, r: FengTuResult): RunFiles {
  const files: RunFiles = new Map();
  if (r.stages[stage]?.status !== 'done') return files;
  const { P } = r;
  if (stage === 'pca' && r.pca) {
    files.set('pca_variance.npy', encodeNpy(Float64Array.from(r.pca.variances), [r.pca.k]));
    files.set('pca_components.npy', encodeNpy(Float32Array.from(r.pca.components), [r.pca.k, P]));
  } else if (stage === 'pca-detrended' && r.pcaDetrended) {
    files.set('pca_variance_detrended.npy', encodeNpy(Float64Array.from(r.pcaDetrended.variances), [r.pcaDetrended.k]));
  } else if (stage === 'fit' && r.fitDetail) {
    const row = (kind: string, f: FitRange): (string | number)[] => [kind, f.from, f.to, f.n, f.psi, f.psiSE, f.r];
    const rows = [...r.fitDetail.ranges.map((f) => row('nested', f)), ...r.fitDetail.local.map((f) => row('local', f))];
    files.set('fit_ranges.csv', toCsv(['kind', 'pc_from', 'pc_to', 'n', 'psi', 'psi_se', 'r'], rows));
  } else if (stage === 'temperature-vs-loss') {
    files.set(
      'temperature_vs_loss.csv',
      toCsv(['step', 'epoch', 'loss', ...r.tDirs.map((i) => `T_pc${i}`)], r.temperatureVsLoss.map((row) => [row.step, row.step / r.stepsPerEpoch, row.loss, ...Array.from(row.T)])),
    );
  } else if (stage === 'mlf') {
    const nMu = r.mlf[0]?.mini.length ?? 0;
    const rows: (number | null)[][] = [];
    for (const e of r.mlf) for (let j = 0; j < e.theta.length; j++) rows.push([e.dir + 1, e.theta[j], e.full[j], ...e.mini.map((m) => m[j])]);
    files.set('mlf.csv', toCsv(['pc', 'theta', 'L', ...Array.from({ length: nMu }, (_, m) => `L_mu${m}`)], rows));
  }
  return files;
}

/** Rewritten after every stage: summary.json, spectra.csv (once the PCA is done), report.html. */
export function overviewFiles(r: FengTuResult, assets: ReportAssets, extra: Record<string, unknown> = {}): RunFiles {
  const files: RunFiles = new Map();
  const summary = fengTuSummary(r, extra);
  if (r.pca) {
    const at = new Map(r.dirs.map((i, j) => [i, j]));
    const rows: (number | null)[][] = [];
    for (let i = 0; i < r.pca.k; i++) {
      const j = at.get(i);
      const d = j !== undefined ? r.flatness?.directions[j] : undefined;
      rows.push([
        i + 1,
        r.pca.variances[i],
        i < r.pca.floor.trustedUpTo ? 1 : 0,
        d?.F ?? null,
        d?.thetaL ?? null,
        d?.thetaR ?? null,
        j !== undefined && r.temperatures ? r.temperatures.T[j] : null,
        r.summary ? r.summary.all.cumulative[i] : null,
        r.pcaDetrended ? r.pcaDetrended.variances[i] : null,
      ]);
    }
    files.set('spectra.csv', toCsv(['i', 'sigma2', 'trusted', 'F', 'theta_l', 'theta_r', 'T', 'cumulative', 'sigma2_detrended'], rows));
  }
  files.set('summary.json', JSON.stringify(summary, null, 2) + '\n');
  files.set('report.html', reportHtml(r, assets, summary));
  return files;
}

/** Every file of a finished analysis (the dashboard's export; the CLI writes them stage by stage). */
export function fengTuFiles(r: FengTuResult, assets: ReportAssets, extra: Record<string, unknown> = {}): RunFiles {
  const files: RunFiles = new Map(trainFiles(r));
  for (const stage of Object.keys(r.stages) as Stage[]) for (const [n, c] of stageFiles(stage, r)) files.set(n, c);
  for (const [n, c] of overviewFiles(r, assets, extra)) files.set(n, c);
  return files;
}

/** What numpy needs beyond the stages' files: the samples, and the weight checkpoints T(t) and L(t) were measured at. */
export async function indexAndCheckpointFiles(r: FengTuResult, loaded: { trainIndices: Uint32Array; testIndices: Uint32Array }, rec: WindowRecorder): Promise<RunFiles> {
  const files: RunFiles = new Map(indexFiles(loaded));
  const slots = await Promise.all(rec.checkpointSteps.map((_, i) => rec.readCheckpoint(i)));
  for (const [name, content] of stackedWeightFiles(r.model, slots)) files.set(`checkpoints_${name}`, content);
  files.set('checkpoint_steps.npy', encodeNpy(Uint32Array.from(rec.checkpointSteps), [rec.checkpointSteps.length]));
  return files;
}
