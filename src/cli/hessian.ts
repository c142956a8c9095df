/**
 * `sgdscope hessian`: the Hessian of the mean training loss of a trained MLP — top-k eigenpairs
 * (Lanczos on exact GPU Hessian–vector products), SLQ spectral density, Hutchinson trace, outliers
 * above the bulk, gradient-noise covariance against the Hessian — written as a run folder
 * (src/experiments/curvature/files.ts). The weights come from a `sgdscope train` run folder (--run),
 * or, without --run, from training the reference setting here first (its run folder goes to
 * <out>/train). --verify-dense also builds the block explicitly (dim products) and compares the
 * top eigenvalues with a dense float64 eigensolver; the exit status is 4 when they differ by more
 * than 1e-3 relative (the run folder is written either way).
 */
import { adapterRecord, acquireGpu, type GpuContext } from '../gpu/device.ts';
import { loadDataset, type LoadedData } from '../data/index.ts';
import { SEED_MLP, type MlpConfig } from '../nn/config.ts';
import { MlpGpu } from '../nn/mlp-gpu.ts';
import { paramLayout } from '../nn/params.ts';
import { checkRunFitsData, validateTrainConfig, type TrainConfig } from '../train/config.ts';
import { Trainer, type EvalRecord } from '../train/trainer.ts';
import { runTrainSession } from '../train/session.ts';
import { removeTree } from '../util/durable-fs.ts';
import { indexFiles, runFiles, weightFiles } from '../train/run-files.ts';
import { uploadDataset } from '../train/gpu-dataset.ts';
import { checkRunIndices, loadRunFolder } from '../train/run-load.ts';
import { analyseHessian, DEFAULT_HESSIAN_OPTIONS, type HessianAnalysisOptions } from '../experiments/curvature/run.ts';
import { hessianRunFiles } from '../experiments/curvature/files.ts';
import { loadReportAssets } from '../analysis/report/assets.ts';
import { openCommandRunDir, resumeOnly, sessionSink, settingsMeta, type CommandRun } from './run-folder.ts';
import { DECIMAL, helpText, parseFlags, UsageError, type FlagSpec, type FlagValues } from './args.ts';
import { inputPhase } from './input.ts';
import { StopSignals } from './signals.ts';
import { EXIT } from './exit-codes.ts';
import { SAVE_EVERY_HELP } from '../train/save-policy.ts';
import { formatDuration } from './progress.ts';
import { STOP_FLAGS, stopSettings } from './train-settings.ts';

export const HESSIAN_FLAGS: Record<string, FlagSpec> = {
  run: { kind: 'string', help: 'a `sgdscope train` run folder whose final weights and training set are analysed (default: train the reference run here first)' },
  epochs: { kind: 'int', help: 'without --run: epochs of the reference training (default 20; the cap with a stop rule)', range: [1, 100000] },
  ...STOP_FLAGS,
  layer: { kind: 'string', help: "block analysed: a layer index (default 1, the hidden→hidden layer), a comma list, or 'all' (the whole network)" },
  k: { kind: 'int', help: 'top eigenpairs by Lanczos (default 20)', range: [1, 1000] },
  'max-iter': { kind: 'int', help: 'largest Lanczos Krylov dimension (default max(4k + 60, 150), at most the block size)', range: [2, 100000] },
  tol: { kind: 'number', help: 'Lanczos residual tolerance relative to |λ1| (default 1e-6)', range: [0, 0.1, true] },
  probes: { kind: 'int', help: 'SLQ probe vectors (default 8)', range: [1, 4096] },
  steps: { kind: 'int', help: 'Lanczos steps per SLQ probe (default 60)', range: [2, 10000] },
  sigma: { kind: 'number', help: 'SLQ Gaussian broadening relative to the spectral range (default 0.005)', range: [0, 1, true] },
  hutchinson: { kind: 'int', help: 'Hutchinson trace probes (default 64)', range: [2, 100000] },
  'no-noise': { kind: 'bool', help: 'skip the gradient-noise covariance (Fisher) against the Hessian' },
  'verify-dense': { kind: 'bool', help: 'build the block explicitly (one product per parameter), solve it densely in float64 and compare the top eigenvalues' },
  'verify-top': { kind: 'int', help: 'eigenvalues compared by --verify-dense (default 10)', range: [1, 1000] },
  'max-dense': { kind: 'int', help: 'largest block --verify-dense accepts (default 6000: the dense solve is O(n³))', range: [1, 100000] },
  chunk: { kind: 'int', help: 'rows per GPU chunk of the training set, a multiple of 64 (default 2048)', range: [64, 1 << 20] },
  vectors: { kind: 'int', help: 'directions per GPU pass (default 32)', range: [1, 1024] },
  seed: { kind: 'int', help: 'seed of the Lanczos start vector and the probes (default 1)', range: [0, 4294967295] },
  out: { kind: 'string', help: 'run folder (default runs/<time>-hessian)' },
  force: { kind: 'bool', help: 'replace an existing run folder (and discard an unfinished run of it)' },
  resume: { kind: 'string', help: 'continue the interrupted run in this folder (its reference training from the last checkpoint, then the analysis)' },
  'save-every': { kind: 'string', help: SAVE_EVERY_HELP },
  quiet: { kind: 'bool', help: 'no progress messages' },
  help: { kind: 'bool', help: 'show this help' },
};

export function parseLayers(spec: string | undefined, model: MlpConfig): number[] {
  const count = model.widths.length - 1;
  if (spec === undefined) {
    if (count < 2) throw new UsageError(`sgdscope hessian: the model has ${count} layer; give --layer 0 or --layer all`);
    return [1];
  }
  if (spec === 'all') return Array.from({ length: count }, (_, i) => i);
  const parts = spec.split(',').map((s) => s.trim());
  const layers = parts.map((s) => {
    const v = DECIMAL.test(s) ? Number(s) : NaN;
    if (s === '' || !Number.isInteger(v) || v < 0 || v >= count) {
      throw new UsageError(`sgdscope hessian: --layer must be 'all' or layer indices in [0, ${count - 1}] (the model has ${count} layers), got '${spec}'`);
    }
    return v;
  });
  return [...new Set(layers)].sort((a, b) => a - b);
}

const CMD = 'sgdscope hessian';

export async function hessianCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, HESSIAN_FLAGS, CMD);
  if (parsed.flags.help) {
    process.stdout.write(helpText(CMD, 'Hessian spectrum, trace, density and gradient-noise covariance of a trained MLP; writes a run folder', HESSIAN_FLAGS));
    return 0;
  }
  if (parsed.positional.length) throw new UsageError(`${CMD}: unexpected argument '${parsed.positional[0]}' (flags start with --)`);
  const quiet = !!parsed.flags.quiet;
  const log = (s: string): void => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  // From the start: a signal during start-up stops the run at its first chunk, with a checkpoint.
  const signals = new StopSignals(log);
  // Bad input is found before the GPU starts: flags, the --run folder (read and checked whole), the
  // reference training's data, the --out/--resume folder.
  const setup = await inputPhase(async () => {
    if (parsed.flags.resume !== undefined) resumeOnly(parsed.flags, CMD);
    const cr = openCommandRunDir(parsed.flags, { kind: 'hessian', command: CMD, argv, checkpointKind: 'hessian' });
    try {
      // A resumed run takes the flags it was started with from its checkpoint.
      const flags: FlagValues = cr.resume ? (cr.resume.meta.flags as FlagValues) : parsed.flags;
      if (flags.run !== undefined && flags.epochs !== undefined) throw new UsageError(`${CMD}: --epochs only applies without --run (the run folder already holds trained weights)`);
      if (flags.run !== undefined && Object.keys(STOP_FLAGS).some((f) => flags[f] !== undefined)) throw new UsageError(`${CMD}: the stop-rule flags only apply without --run (the run folder already holds trained weights)`);
      if (flags.chunk !== undefined && (flags.chunk as number) % 64 !== 0) throw new UsageError(`${CMD}: --chunk must be a multiple of 64, got ${flags.chunk}`);
      const run = flags.run !== undefined ? loadRunFolder(flags.run as string) : null;
      const model = run ? run.model : SEED_MLP;
      const layers = parseLayers(flags.layer as string | undefined, model);
      const dim = layers.reduce((s, l) => s + paramLayout(model).layers[l].size, 0);
      const maxDense = (flags['max-dense'] as number | undefined) ?? 6000;
      if (flags['verify-dense'] && dim > maxDense) {
        throw new UsageError(`${CMD}: --verify-dense on a block of ${dim} parameters exceeds --max-dense ${maxDense} (the dense solve is O(n³)); choose a smaller --layer or raise --max-dense`);
      }
      const maxIter = flags['max-iter'] as number | undefined;
      const k = Math.min((flags.k as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.k, dim);
      if (maxIter !== undefined && Math.min(maxIter, dim) < k) throw new UsageError(`${CMD}: --max-iter ${Math.min(maxIter, dim)} is below --k ${k}`);
      const train = run ? run.train : validateTrainConfig({ epochs: (flags.epochs as number | undefined) ?? 20, ...stopSettings(flags) });
      const loaded = await loadDataset(run ? run.data : { kind: 'mnist10k' });
      if (run) checkRunIndices(run, loaded);
      else checkRunFitsData(model, train, loaded.train);
      cr.checkIndices(loaded);
      return { cr, flags, run, model, layers, dim, k, train, loaded };
    } catch (e) {
      cr.dir.release();
      throw e;
    }
  });
  const { cr, flags, run, model, layers, dim, loaded } = setup;
  const { dir } = cr;
  const t0 = performance.now();
  const stamp = (): string => `[${((performance.now() - t0) / 1000).toFixed(1)} s]`;

  const ctx0 = await acquireGpu();
  let ctx = ctx0;
  let params: Float32Array;
  let source: string;
  let finalEval: unknown = null;
  if (run) {
    params = run.params;
    source = run.dir;
    finalEval = (run.result as { final?: unknown } | null)?.final ?? null;
    const status = (run.result as { status?: unknown } | null)?.status;
    log(`${CMD}: ${model.widths.join('-')} from ${run.dir}, ${loaded.train.n} training samples, on ${ctx.adapterName} (${ctx.runtime})`);
    if (status === 'diverged') log(`note: that run diverged; its saved weights are the last good ones (step ${(run.result as { weightsFromStep?: unknown }).weightsFromStep})`);
  } else {
    // The reference training, checkpointed like `sgdscope train` (its files go to <out>/train).
    const trained = await trainReference(ctx, setup, signals, log);
    if (trained.kind !== 'trained') return trained.code;
    ({ ctx, params, finalEval } = trained);
    source = 'trained here (train/)';
    log(`${stamp()} ${trained.message}`);
  }
  // The analysis has no checkpoints of its own: a signal now ends the run from the last one.
  signals.onRequest = (sig) => {
    if (run) {
      process.stderr.write(`${CMD} stopped by ${sig}; the analysis keeps no checkpoints: run it again\n`);
      removeTree(dir.work);
      dir.release();
    } else cr.stop('interrupted', `interrupted by ${sig} during the analysis (the training is done and checkpointed)`, 0, new Map(), signals.exitCode);
    process.exit(signals.exitCode);
  };

  const mlp = await MlpGpu.create(ctx, model, { momentum: false });
  mlp.uploadParams(params);
  const classes = model.widths[model.widths.length - 1];
  const data = uploadDataset(ctx, 'hessian.train', loaded.train.x, loaded.train.y, model.widths[0], classes);
  const options: Partial<HessianAnalysisOptions> = {
    layers,
    k: setup.k,
    lanczosMaxIter: flags['max-iter'] !== undefined ? Math.min(flags['max-iter'] as number, dim) : undefined,
    residualTol: (flags.tol as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.residualTol,
    slqProbes: (flags.probes as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.slqProbes,
    slqSteps: (flags.steps as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.slqSteps,
    sigmaRel: (flags.sigma as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.sigmaRel,
    hutchinsonProbes: (flags.hutchinson as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.hutchinsonProbes,
    noise: !flags['no-noise'],
    verifyDense: !!flags['verify-dense'],
    verifyTop: (flags['verify-top'] as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.verifyTop,
    chunkRows: flags.chunk as number | undefined,
    maxVectors: flags.vectors as number | undefined,
    seed: (flags.seed as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.seed,
    onStage: (stage, detail) => log(`${stamp()} ${stage}: ${detail}`),
  };
  const analysis = await analyseHessian(mlp, data, { params, x: loaded.train.x, y: loaded.train.y }, options);
  signals.dispose();
  const { onStage: _drop, ...recorded } = options;
  void _drop;
  const assets = await loadReportAssets();
  const files = hessianRunFiles(analysis, { model, source, train: setup.train, data: loaded.spec, options: recorded as Record<string, unknown>, adapter: adapterRecord(ctx), finalEval }, assets);
  // Self-contained: the weights analysed and the samples (without --run they are in train/).
  if (run) for (const [name, content] of [...weightFiles(model, params), ...indexFiles(loaded)]) files.set(name, content);
  cr.finish(files);
  const top = Array.from(analysis.lanczos.values.slice(0, 5), (v) => v.toPrecision(4)).join(', ');
  let msg = `layers ${layers.join(',')} (${dim} parameters): λ1..5 = ${top}; trace ${analysis.hutchinson.trace.toPrecision(5)} ± ${analysis.hutchinson.stdErr.toPrecision(2)}; ${analysis.outliers.count} outliers above ${analysis.outliers.bulkEdge.toPrecision(3)}`;
  if (analysis.diagonalFit) msg += `; C_ii ∝ H_ii^${analysis.diagonalFit.gamma.toFixed(3)}`;
  if (analysis.dense) {
    const d = analysis.dense;
    msg += `\ndense check: top ${d.dense.length} max relative error ${d.maxRelErr.toExponential(2)} (${d.maxRelErr <= 1e-3 ? 'within' : 'NOT within'} 1e-3); Lanczos ${analysis.timings.lanczos.toFixed(1)} s vs build ${d.buildSeconds.toFixed(1)} s + dense solve ${d.solveSeconds.toFixed(1)} s`;
  }
  process.stdout.write(`${msg}\nin ${formatDuration((performance.now() - t0) / 1000)}; run folder: ${dir.shown}\n`);
  const errors = [...ctx.uncapturedErrors];
  ctx.destroy();
  if (errors.length) throw new Error(`WebGPU errors:\n${errors.join('\n')}`);
  return analysis.dense && analysis.dense.maxRelErr > 1e-3 ? EXIT.verifyFailed : EXIT.ok;
}

type Setup = { cr: CommandRun; flags: FlagValues; model: MlpConfig; train: TrainConfig; loaded: LoadedData };

/**
 * Without --run: trains the reference run through a checkpointed session (--save-every, signals,
 * device loss), writes its run folder to <out>/train, and checkpoints the end of training so a
 * resume goes straight to the analysis.
 */
async function trainReference(
  ctx: GpuContext,
  s: Setup,
  signals: StopSignals,
  log: (m: string) => void,
): Promise<{ kind: 'trained'; ctx: GpuContext; params: Float32Array; finalEval: EvalRecord; message: string } | { kind: 'stopped'; code: number }> {
  const { cr, model, train, loaded } = s;
  log(`${CMD}: training the reference run first (${model.widths.join('-')}, lr ${train.lr}, B ${train.batchSize}, ${train.epochs} epochs on ${loaded.train.name}) on ${ctx.adapterName}`);
  const outcome = await runTrainSession(ctx, {
    kind: 'hessian',
    meta: { ...settingsMeta({ model, train }, loaded), flags: { ...s.flags, run: undefined } },
    resume: cr.resume,
    build: (c) => Trainer.create(c, model, train, { train: loaded.train, test: loaded.test }).then((trainer) => ({ trainer })),
    acquire: () => acquireGpu(),
    policy: cr.policy,
    stopRequested: () => signals.requested,
    checkpointAtEnd: true,
    sink: sessionSink(cr.dir, 'train/metrics.csv'),
    log,
  });
  if (outcome.kind === 'device-lost') return { kind: 'stopped', code: cr.stop('device-lost', outcome.reason, 0, new Map(), EXIT.deviceLost) };
  if (outcome.kind === 'stopped') {
    outcome.ctx.destroy();
    return { kind: 'stopped', code: cr.stop('interrupted', `interrupted by ${signals.signal} while training, at step ${outcome.result.steps}`, outcome.result.steps, new Map(), signals.exitCode) };
  }
  const { trainer, result } = outcome;
  const params = await trainer.mlp.readParams();
  const ev = trainer.history.evals.at(-1)?.step === result.steps ? trainer.history.evals.at(-1)! : await trainer.evaluate();
  const files = runFiles({ model, train, data: loaded.spec, adapter: adapterRecord(outcome.ctx), result, finalEval: ev, history: trainer.history, stepsPerEpoch: trainer.stepsPerEpoch, params, paramsStep: result.steps, trainIndices: loaded.trainIndices, testIndices: loaded.testIndices });
  files.delete('metrics.csv');
  for (const [name, content] of files) cr.dir.write(`train/${name}`, content);
  if (result.status === 'diverged') {
    outcome.ctx.destroy();
    cr.finish(new Map(), { status: 'diverged', message: `the reference training diverged (${result.message}); nothing to analyse` });
    process.stderr.write(`${CMD}: the reference training diverged (${result.message}); nothing to analyse\n`);
    return { kind: 'stopped', code: EXIT.diverged };
  }
  return { kind: 'trained', ctx: outcome.ctx, params, finalEval: ev, message: `${result.message}; train loss ${ev.train.loss.toFixed(4)}, test accuracy ${ev.test ? (100 * ev.test.accuracy).toFixed(2) : '-'}%` };
}
