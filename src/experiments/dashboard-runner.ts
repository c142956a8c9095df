/**
 * The dashboard's experiments (issue 6), run by the engine worker on its side device (never the
 * training device): each turns a validated form (experiment-settings.ts) into the same spec the
 * CLI builds, runs the same analysis function, and returns the same figures (the pure chart-data
 * functions behind each report.html) plus a few summary lines and headline numbers. The run folder
 * of the CLI command (npy, CSV, JSON, report.html) is built only when the user asks to export it.
 *
 *   hessian  `sgdscope hessian` on the network being trained (its last snapshot, or its current
 *            weights when paused or done): top-k Lanczos, SLQ density, Hutchinson trace,
 *            gradient-noise covariance against H in H's eigenbasis and C_ii ∝ H_ii^γ
 *   sweep    `sgdscope sweep` over lrs × batch sizes × weight decays × dropouts × seeds with the
 *            dashboard's model
 *   awd      `sgdscope reproduce awd` (784-30-30-10, the authors' setting) on a scaled grid
 *   toy      `sgdscope reproduce toy-landscape` with the form's valley and noise
 *   batch-increase  `sgdscope reproduce batch-increase` with the dashboard's model on a subsample
 *
 * DOM-free and device-agnostic: the worker passes its side device; tests pass a Node one.
 */
import type { GpuContext } from '../gpu/device.ts';
import { stratifiedSample, subset, type Dataset, type DatasetSpec } from '../data/index.ts';
import type { MlpConfig } from '../nn/config.ts';
import { validateTrainConfig, type TrainConfig } from '../train/config.ts';
import { MlpGpu } from '../nn/mlp-gpu.ts';
import { paramLayout } from '../nn/params.ts';
import { uploadDataset } from '../train/gpu-dataset.ts';
import type { RunFiles } from '../train/run-files.ts';
import type { ReportAssets } from '../analysis/report/assets.ts';
import { finiteMean, type ChartData, type HeatmapData } from '../analysis/report/chart-data.ts';
import { analyseHessian } from './curvature/run.ts';
import { hessianCharts } from './curvature/report.ts';
import { hessianRunFiles } from './curvature/files.ts';
import { DEFAULT_SHARPNESS, validateSweepSpec, type SweepSpec } from './sweep/grid.ts';
import { runSweep } from './sweep/run.ts';
import { sweepFigures, sweepFiles } from './sweep/files.ts';
import { phaseHeatmap } from './sweep/charts.ts';
import { AWD_MODEL, AWD_SCALED, runAwdExperiment, validateAwdSpec, type AwdExperimentSpec } from './awd/run.ts';
import { awdFigures, awdFiles, trends } from './awd/files.ts';
import { TOY_DEFAULT, runToyExperiment, validateToySpec, type ToyExperimentSpec } from './toy/run.ts';
import { toyFigures, toyFiles } from './toy/files.ts';
import { compareSchedules, runBatchIncrease } from './batch-increase/run.ts';
import { batchIncreaseFigures } from './batch-increase/charts.ts';
import { batchIncreaseFiles } from './batch-increase/files.ts';
import type { BatchIncreaseSpec } from './batch-increase/schedule.ts';
import { checkExperiment, type ExperimentKind, type ExperimentRequest } from './dashboard-settings.ts';

/** The network being trained, as the Hessian sees it. */
export interface NetworkState {
  model: MlpConfig;
  params: Float32Array;
  /** SGD steps behind these weights. */
  step: number;
  train: Dataset;
  data: DatasetSpec;
}

export interface ExperimentEnv {
  ctx: GpuContext;
  progress(text: string): void;
  /** The network being trained; throws (with what to do) when there is none. */
  network(): Promise<NetworkState>;
  /** The dashboard's dataset with this many training (and test, or the split's) samples; the indices when known (for an exported run folder). */
  data(trainSize: number, testSize: number | null): Promise<{ train: Dataset; test: Dataset; spec: DatasetSpec; trainIndices?: Uint32Array; testIndices?: Uint32Array }>;
  /** The dashboard's model and base training settings (the sweep varies lr, B and seed). */
  model: MlpConfig;
  train: Partial<TrainConfig>;
}

/** What the page draws: structured-clone safe. */
export interface ExperimentOutcome {
  kind: ExperimentKind;
  title: string;
  charts: ChartData[];
  heatmaps: HeatmapData[];
  /** One finding per line. */
  summary: string[];
  /** Headline numbers by name (tests compare them with a Node run of the same request). */
  numbers: Record<string, number | null>;
  seconds: number;
}

export interface ExperimentRun {
  outcome: ExperimentOutcome;
  /** The CLI's run folder for this result. */
  files(assets: ReportAssets, adapter: { name: string; description: string; runtime: string }): RunFiles;
}

const p4 = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toPrecision(4));

export async function runExperiment(req: ExperimentRequest, env: ExperimentEnv): Promise<ExperimentRun> {
  const t0 = performance.now();
  const run = await (req.kind === 'hessian' ? hessian(req, env) : req.kind === 'sweep' ? sweep(req, env) : req.kind === 'awd' ? awd(req, env) : req.kind === 'batch-increase' ? batchIncrease(req, env) : toy(req, env));
  run.outcome.seconds = (performance.now() - t0) / 1000;
  return run;
}

// ---------------- Hessian of the network being trained ----------------

async function hessian(req: ExperimentRequest, env: ExperimentEnv): Promise<ExperimentRun> {
  const net = await env.network();
  const v = checkExperiment(req, { layers: net.model.widths.length - 1, trainN: net.train.n }).values;
  const layers = v.layers as number[];
  const n = v.samples as number;
  const ds = n >= net.train.n ? net.train : subset(net.train, stratifiedSample(net.train.y, net.train.classes, n, 7, 'hessian.samples'), `${net.train.name}[hessian ${n}]`);
  const classes = net.model.widths[net.model.widths.length - 1];
  const mlp = await MlpGpu.create(env.ctx, net.model, { momentum: false });
  mlp.uploadParams(net.params);
  const data = uploadDataset(env.ctx, 'dashboard.hessian', ds.x, ds.y, ds.d, classes);
  const sizes = paramLayout(net.model).layers;
  const dim = layers.reduce((s, l) => s + sizes[l].size, 0);
  const options = { layers, k: Math.min(v.k as number, dim), slqProbes: v.probes as number, slqSteps: Math.min(v.steps as number, dim), noise: v.noise as boolean, seed: 1 };
  try {
    const a = await analyseHessian(mlp, data, { params: net.params, x: ds.x, y: ds.y }, { ...options, onStage: (stage, detail) => env.progress(`${stage}: ${detail}`) });
    const lam = Array.from(a.lanczos.values);
    const summary = [
      `weights after step ${net.step}; block of layers ${layers.join(', ')} (${a.dim} parameters), mean loss ${p4(a.loss)} over ${a.rows} training samples`,
      `λ1..${Math.min(5, lam.length)} = ${lam.slice(0, 5).map(p4).join(', ')}; ${a.outliers.count} outlier${a.outliers.count === 1 ? '' : 's'} above the bulk edge ${p4(a.outliers.bulkEdge)} (SLQ counts ${a.outliers.slqCountAbove.toFixed(1)} above it)`,
      `trace (Hutchinson) ${p4(a.hutchinson.trace)} ± ${p4(a.hutchinson.stdErr)}; SLQ mean × P ${p4(a.slq.mean * a.dim)}`,
    ];
    if (a.noise?.eigenbasis.fit) summary.push(`noise along H's eigenvectors: v_iᵀCv_i ∝ λ_i^${a.noise.eigenbasis.fit.gamma.toFixed(3)} (Fisher ≈ Hessian near a minimum: slope 1)`);
    if (a.diagonalFit) summary.push(`diagonal: C_ii ∝ H_ii^γ, γ = ${a.diagonalFit.gamma.toFixed(3)} ± ${a.diagonalFit.gammaSE.toFixed(3)} (H_ii from ${a.diagonalSource})`);
    else if (a.diagonalFitError) summary.push(`diagonal fit: ${a.diagonalFitError}`);
    summary.push(`Lanczos ${a.timings.lanczos.toFixed(1)} s (${a.lanczos.iterations} products), ${a.hvp.calls} GPU passes in all`);
    const info = { model: net.model, source: `dashboard run, weights after step ${net.step}`, data: net.data, options };
    return {
      outcome: {
        kind: 'hessian',
        title: `Hessian of layers ${layers.join(', ')} after step ${net.step}`,
        charts: hessianCharts(a),
        heatmaps: [],
        summary,
        numbers: { step: net.step, lambda1: lam[0] ?? null, trace: a.hutchinson.trace, outliers: a.outliers.count, gamma: a.diagonalFit?.gamma ?? null },
        seconds: 0,
      },
      files: (assets, adapter) => hessianRunFiles(a, { ...info, adapter }, assets),
    };
  } finally {
    data.x.destroy();
    data.y.destroy();
  }
}

// ---------------- (lr, B) sweep ----------------

async function sweep(req: ExperimentRequest, env: ExperimentEnv): Promise<ExperimentRun> {
  const v = checkExperiment(req, { layers: env.model.widths.length - 1, trainN: null }).values;
  const { train, test, spec: dataSpec } = await env.data(v['train-size'] as number, null);
  const spec: SweepSpec = validateSweepSpec(
    {
      model: env.model,
      train: { ...env.train, epochs: v.epochs as number },
      data: dataSpec,
      grid: { lr: v.lrs as number[], batchSize: v.batches as number[], weightDecay: v['weight-decays'] as number[], dropout: v.dropouts as number[], seed: v.seeds as number[] },
      sharpness: { ...DEFAULT_SHARPNESS, k: v['sharpness-k'] as number, samples: Math.min(DEFAULT_SHARPNESS.samples ?? train.n, train.n) },
      concurrency: 1,
    },
    train.n,
  );
  const r = await runSweep(env.ctx, spec, { train, test }, {
    onRunEnd: (run, done, total) => env.progress(`run ${done}/${total}: lr ${run.point.lr}, B ${run.point.batchSize}, seed ${run.point.seed} — ${run.outcome}${run.testAccuracy !== null ? `, test ${(100 * run.testAccuracy).toFixed(2)}%` : ''}`),
  });
  const fig = sweepFigures(r);
  const summary = [`${r.runs.length} runs of ${env.model.widths.join('-')} on ${train.n} training samples, ${v.epochs} epochs each (${r.seconds.toFixed(0)} s)`];
  for (const b of fig.phase.boundary) {
    summary.push(`B ${b.batchSize}: ${b.minDivergedLr === null ? `every lr trained (up to ${b.maxStableLr})` : `trained up to lr ${b.maxStableLr ?? '—'}, failed (diverged or collapsed) from lr ${b.minDivergedLr}`}`);
  }
  const trained = r.runs.filter((x) => x.outcome === 'trained' && x.sharpness);
  if (trained.length) {
    const byLr = [...new Set(trained.map((x) => x.point.lr))].sort((a, b) => a - b);
    const lam = byLr.map((lr) => finiteMean(trained.filter((x) => x.point.lr === lr).map((x) => x.sharpness![0])));
    summary.push(`λ_max (mean over B and seeds) by lr: ${byLr.map((lr, i) => `${lr}: ${p4(lam[i])}`).join(', ')}`);
  }
  const numbers: Record<string, number | null> = {};
  const extra = (x: (typeof r.runs)[number]): string => `${(v['weight-decays'] as number[]).length > 1 ? `,wd=${x.point.weightDecay}` : ''}${(v.dropouts as number[]).length > 1 ? `,dropout=${x.point.dropout}` : ''}`;
  for (const x of r.runs) numbers[`test@lr=${x.point.lr},B=${x.point.batchSize}${extra(x)},seed=${x.point.seed}`] = x.testAccuracy;
  return {
    outcome: { kind: 'sweep', title: `Sweep: lr ${v.lrs.toString()} × B ${v.batches.toString()}`, charts: fig.charts, heatmaps: [phaseHeatmap(fig.phase)], summary, numbers, seconds: 0 },
    files: (assets, adapter) => sweepFiles(r, assets, { data: dataSpec, adapter }),
  };
}

// ---------------- activity–weight duality ----------------

async function awd(req: ExperimentRequest, env: ExperimentEnv): Promise<ExperimentRun> {
  const v = checkExperiment(req, { layers: AWD_MODEL.widths.length - 1, trainN: null }).values;
  const trainSize = v['train-size'] as number;
  const { train, test, spec: dataSpec } = await env.data(trainSize, Math.max(50, Math.round(trainSize / 2)));
  const maxEpochs = v['max-epochs'] as number;
  const spec: AwdExperimentSpec = validateAwdSpec({
    ...AWD_SCALED,
    model: { ...AWD_MODEL, widths: [train.d, ...AWD_MODEL.widths.slice(1, -1), train.classes] },
    data: dataSpec,
    lrs: v.lrs as number[],
    batchSizes: v.batches as number[],
    weightDecays: v['weight-decays'] as number[],
    maxEpochs,
    // Weight decay for the first two thirds of the epochs, then off to the target loss (as the CLI's 20 of 150).
    weightDecayEpochs: maxEpochs >= 3 ? Math.max(1, Math.min(AWD_SCALED.weightDecayEpochs ?? maxEpochs, Math.floor((2 * maxEpochs) / 3))) : null,
  });
  const r = await runAwdExperiment(env.ctx, spec, { train, test }, {
    onPhase: (p, what) => env.progress(`run ${p.index + 1} (lr ${p.lr}, B ${p.batchSize}, wd ${p.weightDecay}): ${what}`),
  });
  const ts = trends(r);
  const summary = [`${r.runs.length} runs of ${spec.model.widths.join('-')} on ${train.n} train / ${test.n} test samples, to training loss ${spec.targetLoss} or ${maxEpochs} epochs (${r.seconds.toFixed(0)} s)`];
  for (const t of ts) {
    if (t.values.length < 2) continue;
    const claim = t.expected ? (t.holds ? ` — as Feng, Zhang & Tu (${t.expected})` : ` — expected to ${t.expected === 'falls' ? 'fall' : 'rise'}: does not here`) : '';
    summary.push(`${t.factor} factor vs ${t.axis}: ${t.values.map((p) => `${p.x}: ${p4(p.y)}`).join(', ')} (${t.observed})${claim}`);
  }
  const base = r.runs.find((x) => x.point.axis === 'base')?.analysis ?? null;
  if (base) summary.push(`base run: gap ${p4(base.gapMeasured)} measured, ${p4(base.gapPairs)} over pairs = Σ_n decomposition ${p4(base.gapDecomposition)}`);
  const numbers: Record<string, number | null> = {};
  for (const x of r.runs) {
    const key = `lr=${x.point.lr},B=${x.point.batchSize},wd=${x.point.weightDecay}`;
    numbers[`sharpness@${key}`] = x.analysis?.factors.sharpness ?? null;
    numbers[`size@${key}`] = x.analysis?.factors.size ?? null;
  }
  return {
    outcome: { kind: 'awd', title: 'Activity–weight duality', charts: awdFigures(r), heatmaps: [], summary, numbers, seconds: 0 },
    files: (assets, adapter) => awdFiles(r, assets, { data: dataSpec, adapter }),
  };
}

// ---------------- the toy landscape ----------------

/** The form's valley and noise, with the drift and escape runs scaled to the density run's length. */
export function toySpecFrom(values: ExperimentRequest['values']): ToyExperimentSpec {
  const steps = values.steps as number;
  const walkers = values.walkers as number;
  return validateToySpec({
    ...TOY_DEFAULT,
    lamMin: 1,
    lamMax: values['lam-max'] as number,
    lr: values.lr as number,
    delta: values.delta as number,
    kappa: values.kappa as number,
    walkers,
    density: { ...TOY_DEFAULT.density, steps, burnIn: Math.floor(steps / 4) },
    drift: { deltas: TOY_DEFAULT.drift.deltas, steps: Math.max(100, Math.round(steps / 3)) },
    escape: { ...TOY_DEFAULT.escape, walkers: Math.min(walkers, 1024), steps: Math.max(100, Math.min(TOY_DEFAULT.escape.steps, Math.round(steps / 6))) },
  });
}

async function toy(req: ExperimentRequest, env: ExperimentEnv): Promise<ExperimentRun> {
  const v = checkExperiment(req, { layers: 1, trainN: null }).values;
  const spec = toySpecFrom(v);
  const r = await runToyExperiment(env.ctx, spec, { onStage: (what) => env.progress(what) });
  const summary = [`${r.walkerSteps.toExponential(2)} walker-steps in ${r.seconds.toFixed(1)} s (${(r.walkerStepsPerSecond / 1e6).toFixed(1)} M/s)`];
  for (const d of r.densities) {
    summary.push(`${d.noise} noise: ⟨x⟩ = ${d.meanX.toFixed(3)} (effective loss ${d.meanXPredicted.effectiveLoss.toFixed(3)}, adiabatic+ ${d.meanXPredicted.adiabaticPlus.toFixed(3)}, Boltzmann ${d.meanXPredicted.boltzmann.toFixed(3)}; 0.5 = no preference): max density deviation ${d.deviation.adiabaticPlus.toFixed(3)} from adiabatic+`);
  }
  for (const d of r.drifts) summary.push(`drift Δ ${d.delta}, κ ${d.kappa}: ⟨x⟩ ${d.trace[0].meanX.toFixed(3)} → ${d.trace.at(-1)!.meanX.toFixed(3)} (predicted ${d.meanXPredicted.toFixed(3)})`);
  for (const e of r.escapes) summary.push(`escape (${e.noise} noise): half the walkers leave within ${spec.escape.steps} steps at Δ ≈ ${p4(e.halfMeasured)} (predicted ${p4(e.halfPredicted.frozen)} frozen x, ${p4(e.halfPredicted.mixed)} mixed)`);
  const c = r.densities.find((d) => d.noise === 'constant')!;
  return {
    outcome: {
      kind: 'toy',
      title: 'SGD toy landscape',
      charts: toyFigures(r),
      heatmaps: [],
      summary,
      numbers: { meanX: c.meanX, meanXPredicted: c.meanXPredicted.adiabaticPlus, escapeHalf: r.escapes[0].halfMeasured, walkerSteps: r.walkerSteps },
      seconds: 0,
    },
    files: (assets, adapter) => toyFiles(r, assets, { adapter }),
  };
}

// ---------------- increase the batch size instead of decaying the lr ----------------

async function batchIncrease(req: ExperimentRequest, env: ExperimentEnv): Promise<ExperimentRun> {
  const v = checkExperiment(req, { layers: env.model.widths.length - 1, trainN: null }).values;
  const data = await env.data(v['train-size'] as number, null);
  // The dashboard's model, seed and sampling; the schedule's own lr, B and epochs; momentum 0 (schedule.ts).
  const { seed, sampling, chunkSteps } = env.train;
  const base = Object.fromEntries(Object.entries({ seed, sampling, chunkSteps }).filter(([, x]) => x !== undefined)) as Partial<TrainConfig>;
  const spec: BatchIncreaseSpec = {
    model: env.model,
    train: validateTrainConfig({ ...base, lr: v.lr as number, batchSize: v.batch as number, epochs: v.epochs as number }, data.train.n),
    milestones: v.milestones as number[],
    factor: v.factor as number,
    batchRule: v['equal-g'] ? 'equal-g' : 'factor',
    baseline: v.baseline as boolean,
  };
  const r = await runBatchIncrease(env.ctx, spec, data, {
    onPhaseStart: (s, p, shared) => env.progress(`${s.label}, phase ${p.index + 1}/${s.phases.length} (lr ${p4(p.lr)}, B ${p.batchSize}, g ${p4(p.g)})${shared ? ': shared with an earlier schedule' : ''}`),
  });
  const c = compareSchedules(r);
  const summary = [`${spec.model.widths.join('-')} on ${r.trainSize} training samples, ${spec.train.epochs} epochs, milestones ${spec.milestones.join(', ')}, factor ${spec.factor} (${r.seconds.toFixed(0)} s)`];
  for (const x of r.runs) summary.push(`${x.schedule.label}: final test ${p4(c.finalTest[x.schedule.name] ?? null)} in ${x.updates} updates (B ${x.schedule.phases.map((p) => p.batchSize).join(' → ')}, lr ${x.schedule.phases.map((p) => p4(p.lr)).join(' → ')})${x.status === 'diverged' ? ` — ${x.message}` : ''}`);
  summary.push(`(a) vs (b): largest |Δ test accuracy| over the epochs ${p4(c.maxGap)}, mean ${p4(c.meanGap)}; (a) makes ${p4(c.updateRatio)}× the updates of (b)`);
  const numbers: Record<string, number | null> = { maxGap: c.maxGap };
  for (const x of r.runs) {
    numbers[`test@${x.schedule.name}`] = c.finalTest[x.schedule.name] ?? null;
    numbers[`updates@${x.schedule.name}`] = x.updates;
  }
  return {
    outcome: { kind: 'batch-increase', title: 'Increase B instead of decaying lr', charts: batchIncreaseFigures(r), heatmaps: [], summary, numbers, seconds: 0 },
    files: (assets, adapter) => batchIncreaseFiles(r, assets, { data: data.spec, adapter, trainIndices: data.trainIndices, testIndices: data.testIndices }),
  };
}
