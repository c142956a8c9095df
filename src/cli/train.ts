/**
 * `sgdscope train`: train an MLP with SGD on the GPU and write a run folder (src/train/run-files.ts:
 * config.json, result.json, metrics.csv, the weights as .npy, the train/test indices).
 *
 * Nothing is lost: the folder is written atomically (src/util/run-dir.ts), metrics.csv streams to
 * disk, a checkpoint of the complete state is written every --save-every (default a minute of
 * work) and at every stop, SIGINT/SIGTERM stop at the next chunk with status "interrupted" and
 * the resume command, a lost GPU device is replaced (src/train/session.ts), and
 * `--resume <folder>` continues bit for bit.
 */
import { adapterRecord, acquireGpu } from '../gpu/device.ts';
import { loadDataset, type LoadedData } from '../data/index.ts';
import { checkRunFitsData } from '../train/config.ts';
import { Trainer, type RunResult } from '../train/trainer.ts';
import { runConfigJson, runFiles, type RunFiles } from '../train/run-files.ts';
import { runTrainSession } from '../train/session.ts';
import { trainerStep, unpackTrainer } from '../train/trainer-state.ts';
import { ensembleConfigs, ensembleFilesAtEnd, ensembleFilesOf, ensembleProgress, ensembleSeeds, ensembleSummary, seedsFromMeta } from './train-ensemble.ts';
import { historyOf, openCommandRunDir, readSettingsMeta, resumeOnly, sessionSink, settingsMeta, type CommandRun } from './run-folder.ts';
import { helpText, parseFlags, UsageError, type FlagValues } from './args.ts';
import { instrumentFlagSpecs, instrumentsFromFlags } from './instrument-flags.ts';
import { startTrainInstruments, type TrainInstruments } from './train-instruments.ts';
import { inputPhase } from './input.ts';
import { StopSignals } from './signals.ts';
import { EXIT } from './exit-codes.ts';
import { ProgressBar, formatDuration } from './progress.ts';
import { TRAIN_FLAGS, resolveTrainSettings, type ResolvedRun } from './train-settings.ts';

export { TRAIN_FLAGS, resolveTrainSettings, parseConfigFile, type ResolvedRun } from './train-settings.ts';

const CMD = 'sgdscope train';

export async function trainCommand(argv: string[]): Promise<number> {
  const specs = { ...TRAIN_FLAGS, ...instrumentFlagSpecs() };
  const parsed = parseFlags(argv, specs, CMD);
  const { positional } = parsed;
  let flags = parsed.flags;
  if (flags.help) {
    process.stdout.write(helpText(CMD, 'train an MLP with SGD on the GPU and write a run folder', specs));
    return 0;
  }
  if (positional.length) throw new UsageError(`${CMD}: unexpected argument '${positional[0]}' (flags start with --)`);
  const log = (s: string): void => {
    if (!flags.quiet) process.stderr.write(`${s}\n`);
  };
  // From the start: a signal during start-up stops the run at its first chunk, with a checkpoint.
  const signals = new StopSignals(log);
  // Everything checkable without a GPU is checked first (exit 2, no GPU start-up).
  const { cr, run, loaded, seeds } = await inputPhase(async () => {
    if (flags.resume !== undefined) resumeOnly(flags, CMD);
    const settings = flags.resume === undefined ? resolveTrainSettings(flags) : null;
    const freshSeeds = settings ? ensembleSeeds(flags, settings.train.seed) : null;
    if (settings && instrumentsFromFlags(flags, runContext(settings, null)).length && freshSeeds) {
      throw new UsageError(`${CMD}: --instrument watches one network; it cannot be combined with --replicas or --seeds`);
    }
    const loadedFresh = settings ? await loadDataset(settings.data) : null;
    if (settings && loadedFresh) checkRunFitsData(settings.model, settings.train, loadedFresh.train);
    const cr = openCommandRunDir(flags, { kind: 'train', command: CMD, argv, checkpointKind: 'train' });
    try {
      const run: ResolvedRun = settings ?? readSettingsMeta(cr.resume!.meta, cr.dir.resumed!.checkpoint);
      // A resumed run's instruments are the ones it was started with.
      if (cr.resume) flags = { ...flags, ...((cr.resume.meta.instruments as FlagValues | undefined) ?? {}) };
      const loaded = loadedFresh ?? (await loadDataset(run.data));
      if (cr.resume) checkRunFitsData(run.model, run.train, loaded.train);
      cr.checkIndices(loaded);
      const seeds = cr.resume ? seedsFromMeta(cr.resume.meta, cr.dir.resumed!.checkpoint) : freshSeeds;
      return { cr, run, loaded, seeds };
    } catch (e) {
      cr.dir.release();
      throw e;
    }
  });
  const { dir } = cr;
  const ctx = await acquireGpu();
  log(`${CMD}: ${run.model.widths.join('-')} ${run.model.activation}${run.model.bias ? ' +bias' : ''}, lr ${run.train.lr}, B ${run.train.batchSize}, ${seeds ? `an ensemble of ${seeds.length}, seeds ${seeds.join(',')}` : `seed ${run.train.seed}`} on ${ctx.adapterName} (${ctx.runtime})`);
  log(`data: ${loaded.train.name} ${loaded.train.n} train / ${loaded.test.n} test, ${loaded.train.d} features, ${loaded.train.classes} classes`);
  log(`run folder: ${dir.shown} (written in ${dir.work} until it ends)${cr.resume ? `; resuming from step ${trainerStep(cr.resume, 'trainer', 'checkpoint')}` : ''}`);
  const adapter = adapterRecord(ctx);
  const active = instrumentsFromFlags(flags, runContext(run, loaded.train.n));
  const live: { instruments: TrainInstruments | null; started: boolean } = { instruments: null, started: false };
  dir.write('config.json', runConfigJson({ model: run.model, train: run.train, data: loaded.spec, adapter }));

  const bar = new ProgressBar('train');
  let lastEval = '';
  const t0 = performance.now();
  let firstStep: number | null = null;
  const outcome = await runTrainSession(ctx, {
    kind: 'train',
    meta: { ...settingsMeta(run, loaded), instruments: instrumentFlagsOf(flags), ...(seeds ? { seeds } : {}) },
    resume: cr.resume,
    build: async (c) => {
      const trainer = await Trainer.create(c, run.model, seeds ? ensembleConfigs(run, seeds) : run.train, { train: loaded.train, test: loaded.test });
      // Live instruments keep no checkpoints: after a resume or a new device they start again.
      const inst = await startTrainInstruments(trainer, loaded.train, active, log);
      if (inst && (cr.resume || live.started)) log('instruments: they keep no checkpoints, so they observe the run from here on');
      live.instruments = inst;
      live.started = true;
      return { trainer, part: inst ? { hooks: (base) => inst.hooks(base) } : undefined };
    },
    acquire: () => acquireGpu(),
    policy: cr.policy,
    stopRequested: () => signals.requested,
    // An ensemble's metrics.csv (long format, replica-major) is written at the end.
    sink: sessionSink(dir, seeds ? null : 'metrics.csv'),
    log,
    onChunk: (p, trainer) => {
      firstStep ??= p.firstStep - 1;
      if (p.eval) lastEval = ` | train ${p.eval.train.loss.toFixed(4)}/${(100 * p.eval.train.accuracy).toFixed(2)}% test ${p.eval.test ? `${p.eval.test.loss.toFixed(4)}/${(100 * p.eval.test.accuracy).toFixed(2)}%` : '-'}`;
      if (flags.quiet) return;
      const total = trainer.totalSteps;
      const rate = (p.step - firstStep) / Math.max((performance.now() - t0) / 1000, 1e-9);
      const eta = total ? (total - p.step) / rate : NaN;
      if (seeds) return bar.update(p.step, total, ensembleProgress(p, total, rate));
      const loss = p.losses.reduce((a, b) => a + b, 0) / p.losses.length;
      const acc = p.accuracies.reduce((a, b) => a + b, 0) / p.accuracies.length;
      bar.update(p.step, total, `step ${p.step}${total ? `/${total}` : ''} ep ${p.epoch.toFixed(2)} loss ${loss.toFixed(4)} acc ${(100 * acc).toFixed(1)}% ${rate.toFixed(0)} steps/s ETA ${formatDuration(eta)}${lastEval}`);
    },
  });
  bar.done();
  signals.dispose();

  const ensembleInput = (result: RunResult) => ({ run, seeds: seeds!, loaded, adapter, result, stepsPerEpoch: stepsPerEpochOf(loaded, run) });
  if (outcome.kind === 'device-lost') {
    const states = outcome.last ? unpackTrainer(outcome.last, 'trainer', 'checkpoint') : null;
    const st = states?.[0] ?? null;
    const files = states && seeds ? ensembleFilesOf(states, ensembleInput(filesRecord(run, loaded, adapter, null).result)) : st ? runFiles({ ...filesRecord(run, loaded, adapter, null), params: st.params, paramsStep: st.step, history: historyOf(st), stepsPerEpoch: stepsPerEpochOf(loaded, run) }) : new Map();
    return cr.stop('device-lost', `${outcome.reason}; ${st ? `the checkpoint at step ${st.step} is kept` : 'no checkpoint was written yet'}`, st?.step ?? 0, files, EXIT.deviceLost);
  }
  const { trainer, result } = outcome;
  if (outcome.kind === 'stopped') {
    const params = await trainer.mlp.readParams();
    const files = seeds ? ensembleFilesOf(await trainer.captureStates(), ensembleInput(result)) : runFiles({ ...filesRecord(run, loaded, adapter, result), params, paramsStep: result.steps, history: trainer.history, stepsPerEpoch: trainer.stepsPerEpoch });
    // A single run's metrics.csv is streamed to disk; an ensemble's is written here.
    if (!seeds) files.delete('metrics.csv');
    ctx.destroy();
    return cr.stop('interrupted', `interrupted by ${signals.signal} at step ${result.steps}`, result.steps, files, signals.exitCode);
  }
  if (seeds) {
    const { files, finalEvals } = await ensembleFilesAtEnd(trainer, ensembleInput(result));
    cr.finish(files);
    process.stdout.write(`${ensembleSummary(result, finalEvals, seeds.length)}\nrun folder: ${dir.shown}\n`);
    ctx.destroy();
    return result.status === 'diverged' ? EXIT.diverged : EXIT.ok;
  }
  // Weights: the final ones, or after a divergence the last good ones (and which step they are from).
  let params: Float32Array;
  let paramsStep = result.steps;
  let note = '';
  if (result.status === 'diverged') {
    const good = (await trainer.lastGoodParams())!;
    params = good.params;
    paramsStep = good.step;
    note = good.good
      ? `; the weights saved are from step ${good.step}, the last whose minibatch loss (${trainer.history.loss[good.step].toPrecision(4)} at step ${good.step + 1}) was finite and ≤ ${run.train.divergenceLoss}`
      : '; step 1 already diverged: the weights saved are the initial ones (step 0)';
  } else params = await trainer.mlp.readParams();
  const lastEvalRec = trainer.history.evals.at(-1);
  const finalEval = result.status === 'diverged' ? null : lastEvalRec?.step === result.steps ? lastEvalRec : await trainer.evaluate();
  const files = runFiles({ ...filesRecord(run, loaded, adapter, { ...result, message: result.message + note }), finalEval, history: trainer.history, stepsPerEpoch: trainer.stepsPerEpoch, params, paramsStep });
  files.delete('metrics.csv');
  if (live.instruments) {
    for (const [k, v] of await live.instruments.finish({ model: run.model, train: run.train, result }, `${CMD}: ${run.model.widths.join('-')}, lr ${run.train.lr}, B ${run.train.batchSize}`)) files.set(k, v);
    for (const line of live.instruments.lines()) log(line);
  }
  cr.finish(files);
  const summary = finalEval
    ? `; train loss ${finalEval.train.loss.toFixed(4)} acc ${(100 * finalEval.train.accuracy).toFixed(2)}%, test loss ${finalEval.test?.loss.toFixed(4)} acc ${((finalEval.test?.accuracy ?? NaN) * 100).toFixed(2)}%`
    : note;
  process.stdout.write(`${result.message} in ${formatDuration(result.seconds)} (${result.stepsPerSecond.toFixed(0)} steps/s)${summary}\nrun folder: ${dir.shown}\n`);
  ctx.destroy();
  return result.status === 'diverged' ? EXIT.diverged : EXIT.ok;
}

/** What the instruments' flag ranges depend on. */
function runContext(run: ResolvedRun, trainSize: number | null) {
  return { widths: run.model.widths, bias: run.model.bias, batchSize: run.train.batchSize, epochs: run.train.epochs, trainSize, stepsPerEpoch: trainSize === null ? null : Math.floor(trainSize / run.train.batchSize) };
}

/** The instrument flags given (stored in checkpoints, so a resumed run has the same instruments). */
function instrumentFlagsOf(flags: FlagValues): FlagValues {
  const names = Object.keys(instrumentFlagSpecs());
  return Object.fromEntries(Object.entries(flags).filter(([k, v]) => names.includes(k) && v !== undefined));
}

function stepsPerEpochOf(loaded: LoadedData, run: ResolvedRun): number {
  return Math.floor(loaded.train.n / run.train.batchSize);
}

/** The parts of runFiles' record that do not depend on how the run ended. */
function filesRecord(run: ResolvedRun, loaded: LoadedData, adapter: ReturnType<typeof adapterRecord>, result: RunResult | null): Parameters<typeof runFiles>[0] {
  return {
    model: run.model,
    train: run.train,
    data: loaded.spec,
    adapter,
    result: result ?? { status: 'stopped', message: 'running', steps: 0, seconds: 0, stepsPerSecond: 0 },
    finalEval: null,
    history: { loss: [], accuracy: [], evals: [] },
    stepsPerEpoch: stepsPerEpochOf(loaded, run),
    params: new Float32Array(0),
    paramsStep: 0,
    trainIndices: loaded.trainIndices,
    testIndices: loaded.testIndices,
  };
}

export type { RunFiles, CommandRun };
