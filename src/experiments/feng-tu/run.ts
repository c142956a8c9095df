/**
 * The Feng–Tu experiment end to end on the GPU (PNAS 118, e2015617118, 2021; ../shared/science.md §1):
 *
 *  1. train   the reference setting with SGD, recording the analysed layer after EVERY step of the
 *             final window into a GPU trajectory buffer (a ring when a stop rule ends the run) and
 *             checkpointing all weights (recorder.ts);
 *  2. the analysis stages of stages.ts — pca, pca-detrended, flatness, fit, temperature,
 *             temperature-vs-loss, mlf — each run by analyseFengTu in turn. A stage that throws is
 *             recorded (stages[name] = { status: 'failed', error }) and the stages that do not need
 *             its result still run; the stages that do are 'skipped' with the reason. After every
 *             stage the caller's onStageDone hook gets the result so far (the CLI writes the run
 *             folder's files there), so nothing a finished stage computed is lost.
 * F_i and T_i are measured for PCs 1, 1 + dirStride, … ≤ k; the authors' code uses k = 1000 of
 * 2,500 and every 10th component (options.ts: AUTHORS_PROTOCOL).
 *
 * w* is the window's mean of the analysed layer; the other layers keep their final values (only the
 * analysed layer was recorded at every step). Every stage's wall time is in `timings` (seconds).
 */
import type { GpuContext } from '../../gpu/device.ts';
import { MlpGpu } from '../../nn/mlp-gpu.ts';
import type { MlpConfig } from '../../nn/config.ts';
import type { TrainConfig } from '../../train/config.ts';
import { Trainer, type History, type RunResult } from '../../train/trainer.ts';
import type { Dataset } from '../../data/dataset.ts';
import { windowMoments } from '../../analysis/numerics/window-scatter.ts';
import { WindowRecorder } from '../../analysis/noise/recorder.ts';
import type { ProbeEvaluator } from '../../analysis/noise/probe-eval.ts';
import { STAGE_INPUTS, type FengTuOptions, type Stage } from './options.ts';
import { planFengTu, type FengTuPlan } from './plan.ts';
import { summarise, type FengTuProgress, type FengTuResult } from './result.ts';
import {
  probesAtSlice,
  stageDetrended,
  stageFit,
  stageFlatness,
  stageMlf,
  stagePca,
  stageTemperature,
  stageTemperatureVsLoss,
  windowScatter,
  type AnalysisBase,
  type PcaStage,
} from './stages.ts';

export { DEFAULT_FENG_TU, AUTHORS_PROTOCOL, ANALYSIS_STAGES, type FengTuOptions, type Stage, type Protocol } from './options.ts';
export type { PrecisePca, FitRange } from './stages.ts';
export { planFengTu, type FengTuPlan } from './plan.ts';
export { hasPca, failedStages, type FengTuProgress, type FengTuResult, type FengTuWithPca, type StageRecord } from './result.ts';

/**
 * A Feng–Tu run whose training is under way or done: its plan (plan.ts: the options with every
 * default resolved, P, T, the window and the route), the trainer and the recorder its training
 * hook must call. Built by prepareFengTu; runFengTu trains it itself, a dashboard drives the
 * trainer (pause, resume, its own live hooks) and calls analyseFengTu when the run has completed.
 */
export interface FengTuSession extends Omit<FengTuPlan, 'P' | 'stepsPerEpoch' | 'checkpointEvery'> {
  ctx: GpuContext;
  /** The network analysed (a single network: in an ensemble, one the replica's final weights are put into). */
  trainer: Trainer;
  /** The analysed network's settings and history when they are not the trainer's own (an ensemble's replica). */
  config?: TrainConfig;
  history?: History;
  recorder: WindowRecorder;
}

/** Plans the run from the trainer's model and settings (planFengTu) and creates the window recorder (of `replica`, in an ensemble). */
export async function prepareFengTu(ctx: GpuContext, trainer: Trainer, options: Partial<FengTuOptions> = {}, replica = 0): Promise<FengTuSession> {
  const plan = planFengTu(trainer.model, trainer.configs[replica], trainer.trainData.n, options);
  const { o, T, windowStart, total, open, route, checkpointEvery } = plan;
  if (plan.stepsPerEpoch !== trainer.stepsPerEpoch || total !== trainer.totalSteps) {
    throw new Error(`Feng–Tu plan: ${plan.stepsPerEpoch} steps per epoch, ${total} steps, but the trainer has ${trainer.stepsPerEpoch}, ${trainer.totalSteps} (internal error)`);
  }
  const recorder = await WindowRecorder.create(ctx, trainer.mlp, { layer: o.layer, windowStart: open ? null : windowStart, T, checkpointEvery, totalSteps: total, replica });
  return { ctx, o, trainer, recorder, route, T, windowStart, total, open };
}

export async function runFengTu(
  ctx: GpuContext,
  model: MlpConfig,
  train: Partial<TrainConfig>,
  data: { train: Dataset; test: Dataset | null },
  options: Partial<FengTuOptions> = {},
  progress: FengTuProgress = {},
): Promise<FengTuResult> {
  const trainer = await Trainer.create(ctx, model, train, data);
  const session = await prepareFengTu(ctx, trainer, options);
  const { o, recorder, route, T, windowStart, total, open } = session;
  const L = trainer.mlp.layout.layers[o.layer];

  recorder.recordInitial();
  const where = open ? `the last ${T} steps before the stop rule ends the run` : `window ${windowStart + 1}–${total} (${T} steps)`;
  progress.onStageStart?.('train', `${open ? `up to ${total}` : total} steps, ${where}, layer ${o.layer} (${L.fanIn}×${L.fanOut}, P = ${L.size}), ${route} route`);
  const t0 = performance.now();
  const run = await trainer.run({
    onStepEncoded: (batch, step) => recorder.onStepEncoded(batch, step),
    onChunk: (p) => progress.onTrainChunk?.(p, trainer),
  });
  const seconds = (performance.now() - t0) / 1000;
  progress.onStageEnd?.('train', seconds, run.message);
  return analyseFengTu(session, run, progress, { train: seconds });
}

/** Builds what every stage reads: the window in time order, its moments, w*, the analysis model. */
async function analysisBase(session: FengTuSession, run: RunResult): Promise<{ base: AnalysisBase; finalParams: Float32Array }> {
  const { ctx, o, trainer, recorder, route, T } = session;
  if (!(run.status === 'completed' || run.status === 'target-reached') || !recorder.complete) {
    throw new Error(`training did not complete the window (${run.message}; ${recorder.recorded} of ${T} steps recorded); the analysis needs all ${T} steps of the window`);
  }
  recorder.finish(run.steps);
  const L = trainer.mlp.layout.layers[o.layer];
  const P = L.size;
  const finalParams = await trainer.mlp.readParams();
  const trajectory = await recorder.readTrajectory();
  const moments = windowMoments(trajectory, T, P);
  const wStarParams = Float32Array.from(finalParams);
  for (let p = 0; p < P; p++) wStarParams[L.offset + p] = moments.mean[p];
  // The stages evaluate on their own copy of the model, never on the trainer's parameters.
  const mlp = await MlpGpu.create(ctx, trainer.model, { momentum: false });
  mlp.uploadParams(wStarParams);
  const k = o.k as number;
  const dirs: number[] = [];
  for (let i = 0; i < k; i += o.dirStride as number) dirs.push(i);
  const mlfWanted = o.mlfDirs ?? [dirs[Math.min(1, dirs.length - 1)] + 1, dirs[Math.floor(dirs.length / 2)] + 1];
  const mlfDirs = [...new Set(mlfWanted.filter((i) => i >= 1 && i <= k).map((i) => i - 1))];
  const c = session.config ?? trainer.config;
  const base: AnalysisBase = {
    ctx,
    o,
    mlp,
    data: trainer.trainData,
    layer: o.layer,
    L,
    P,
    T,
    k,
    route,
    stepsPerEpoch: trainer.stepsPerEpoch,
    lr: c.lr,
    batchSize: c.batchSize,
    withReplacement: c.sampling === 'replacement',
    seed: c.seed,
    recorder,
    trajectory,
    trajGpu: recorder.chronological(),
    moments,
    wStar: moments.mean,
    drift: moments.slope,
    wStarParams,
    sliceParams: o.flatAt === 'final' ? finalParams : wStarParams,
    dirs,
    mlfDirs,
    probeDirs: [...dirs, ...mlfDirs.filter((i) => !dirs.includes(i))],
    tDirs: [...new Set(o.tDirs.filter((i) => i >= 1 && i <= k))].sort((a, b) => a - b),
  };
  return { base, finalParams };
}


/**
 * The analysis stages once training has completed the window (`run`: the training's result;
 * `timings`: stage times already measured, e.g. { train }). A stage's failure does not end the
 * analysis (see the header); only a run that did not record the whole window throws.
 */
export async function analyseFengTu(
  session: FengTuSession,
  run: RunResult,
  progress: FengTuProgress = {},
  timings: Record<string, number> = {},
  /** A resumed run: puts a stage an earlier attempt finished back into `r` and returns true (the
   * stage is then not run again), or returns false (stage-state.ts; the CLI's --resume). */
  restore?: (stage: Exclude<Stage, 'train'>, r: FengTuResult) => boolean,
): Promise<FengTuResult> {
  const { o, trainer, T } = session;
  const { base, finalParams } = await analysisBase(session, run);
  const spe = trainer.stepsPerEpoch;
  const w = session.recorder.window;
  const r: FengTuResult = {
    options: o,
    model: trainer.model,
    train: session.config ?? trainer.config,
    run,
    history: session.history ?? trainer.history,
    stepsPerEpoch: spe,
    totalSteps: run.steps,
    window: { firstStep: w.firstStep, lastStep: w.lastStep, T, epochs: T / spe },
    layer: o.layer,
    fanIn: base.L.fanIn,
    fanOut: base.L.fanOut,
    P: base.P,
    trainSize: trainer.trainData.n,
    trainer,
    finalParams,
    wStarParams: base.wStarParams,
    wStar: base.wStar,
    drift: base.drift,
    trajectory: base.trajectory,
    stages: {},
    pca: null,
    scatter: null,
    pcaDetrended: null,
    summary: null,
    pc1VsMeanWeight: null,
    pc1VsDrift: null,
    flatness: null,
    fit: null,
    fitError: null,
    fitDetail: null,
    dirs: base.dirs,
    L0: null,
    temperatures: null,
    anisotropy: null,
    tempVsFlatness: null,
    tDirs: base.tDirs,
    temperatureVsLoss: [],
    temperatureLossCorrelation: [],
    mlf: [],
    timings,
  };

  await progress.onStageDone?.('train', r);

  /** Runs `f` as stage `name` unless a stage it needs did not succeed; records the outcome. */
  // A stage is taken from an earlier attempt only if no stage it reads is computed anew.
  const recomputed = new Set<Stage>();
  const stage = async (name: Stage, needs: { ok: boolean; why: string }, detail: string, f: (progress: (done: number, total: number | null, d: string) => void) => Promise<string | void>): Promise<void> => {
    const t0 = performance.now();
    if (name !== 'train' && !STAGE_INPUTS[name].some((d) => recomputed.has(d)) && restore?.(name, r)) {
      if (name === 'pca' || name === 'pca-detrended') summarise(r);
      progress.onStageEnd?.(name, 0, `taken from the earlier attempt (${r.stages[name]?.detail ?? 'done'})`);
    } else if (!needs.ok) {
      r.stages[name] = { status: 'skipped', seconds: 0, error: needs.why };
    } else {
      progress.onStageStart?.(name, detail);
      try {
        if (o.failStages?.includes(name)) throw new Error(`failure injected by the test hook (failStages / SGDSCOPE_FAIL_STAGES)`);
        recomputed.add(name);
        const end = await f((done, total, d) => progress.onStageProgress?.(name, done, total, d));
        const s = (performance.now() - t0) / 1000;
        timings[name] = s;
        r.stages[name] = { status: 'done', seconds: s, ...(end ? { detail: end } : {}) };
        progress.onStageEnd?.(name, s, end ?? '');
      } catch (e) {
        const s = (performance.now() - t0) / 1000;
        r.stages[name] = { status: 'failed', seconds: s, error: (e as Error).message ?? String(e) };
        progress.onStageEnd?.(name, s, `FAILED: ${(e as Error).message}`);
      }
    }
    await progress.onStageDone?.(name, r);
  };
  const asked = (skip: boolean | undefined): { ok: boolean; why: string } => ({ ok: !skip, why: 'not asked (options.skip)' });
  const after = (dep: Stage, skip?: boolean): { ok: boolean; why: string } =>
    skip ? asked(true) : r.stages[dep]?.status === 'done' ? { ok: true, why: '' } : { ok: false, why: `needs stage '${dep}', which ${r.stages[dep]?.status ?? 'did not run'}` };
  const { k, P, dirs } = base;

  let pcaStage: PcaStage | null = null;
  await stage('pca', { ok: true, why: '' }, `top ${k} of ${P} (${base.route}, ${base.route === 'covariance' ? `precise scatter, ${o.eig}` : 'randomised subspace'})`, async (p) => {
    pcaStage = await stagePca(base, p);
    r.pca = pcaStage.pca;
    r.scatter = pcaStage.scatter;
    summarise(r);
    const f = pcaStage.pca.floor;
    return `σ1² = ${r.pca.variances[0].toExponential(3)}, total ${r.pca.total.toExponential(3)}, scatter ${pcaStage.scatter.arithmetic}; noise floor ${f.variance.toExponential(2)} (${f.relativeToTop.toExponential(1)}·σ1²): PCs 1–${f.trustedUpTo} trusted to ${f.relTol}`;
  });
  await stage('pca-detrended', after('pca', o.skip?.detrended), 'PCA of the linearly detrended window', async (p) => {
    // A PCA taken from an earlier attempt (--resume) left no scatter matrix: compute it again.
    const ps = pcaStage ?? { pca: r.pca!, S: base.route === 'covariance' ? (await windowScatter(base, p)).S : null, scatter: r.scatter! };
    r.pcaDetrended = await stageDetrended(base, ps);
    summarise(r);
    return `σ1² = ${r.pcaDetrended.variances[0].toExponential(3)}, total ${r.pcaDetrended.total.toExponential(3)}`;
  });
  if (pcaStage) (pcaStage as PcaStage).S = null; // 8·P² bytes no stage needs any more

  let evaluator: ProbeEvaluator | null = null;
  const probes = async (): Promise<ProbeEvaluator> => (evaluator ??= await probesAtSlice(base, r.pca!));
  const D = dirs.length;
  await stage('flatness', after('pca', o.skip?.flatness), `F_i for ${D} directions (PCs ${dirs[0] + 1}…${dirs[D - 1] + 1}${(o.dirStride as number) > 1 ? ` every ${o.dirStride}` : ''}), k = ${o.flatK.toPrecision(4)}`, async (p) => {
    r.flatness = await stageFlatness(base, await probes(), p);
    r.L0 = r.flatness.L0;
    return `${r.flatness.rounds} rounds, ${r.flatness.probes} probes, L0 = ${r.flatness.L0.toPrecision(4)}`;
  });
  await stage('fit', after('flatness', o.skip?.flatness), 'σ_i² ∝ F_i^(−ψ) over the trusted PCs, PC1 left out, and over PC ranges', async () => {
    const f = stageFit(base, r.pca!, r.flatness!);
    r.fitDetail = f;
    r.fit = f.fit;
    r.fitError = f.error;
    if (!f.fit) throw new Error(f.error ?? 'no fit');
    return `ψ = ${f.fit.psi.toFixed(3)} ± ${f.fit.psiSE.toFixed(3)} over PCs ${f.pcs[0]}–${f.pcs[f.pcs.length - 1]} (n = ${f.fit.n})`;
  });
  await stage('temperature', after('pca', o.skip?.temperature), `T_i at w* from ${base.data.n} per-sample gradients × ${D} directions`, async () => {
    const F = r.flatness ? r.flatness.directions.map((d) => d.F) : null;
    const t = await stageTemperature(base, r.pca!, F);
    r.temperatures = t.temperatures;
    r.anisotropy = t.anisotropy;
    r.tempVsFlatness = t.vsFlatness;
    return `L(w*) = ${t.loss.toPrecision(4)}`;
  });
  await stage('temperature-vs-loss', after('pca', o.skip?.temperatureVsLoss || base.tDirs.length === 0), `T_i(t), L(t) at ${session.recorder.checkpointSteps.length} checkpoints for PCs ${base.tDirs.join(', ')}`, async (p) => {
    const t = await stageTemperatureVsLoss(base, r.pca!, p);
    r.temperatureVsLoss = t.rows;
    r.temperatureLossCorrelation = t.correlation;
  });
  await stage('mlf', after('pca', o.skip?.mlf || base.mlfDirs.length === 0), `L_μ(w* + θ p_i) for ${o.mlfBatches} minibatches, PCs ${base.mlfDirs.map((i) => i + 1).join(', ')}`, async () => {
    r.mlf = await stageMlf(base, await probes(), r.flatness);
  });
  if (base.trajGpu !== session.recorder.traj) base.trajGpu.destroy();
  return r;
}
