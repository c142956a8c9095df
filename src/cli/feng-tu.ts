/**
 * `sgdscope reproduce feng-tu`, run through a checkpointed training session: the trainer's state
 * and the window recorder's (trajectory rows, scatter blocks merged, weight checkpoints) are saved
 * on --save-every and at every stop, and once more when training ends, so --resume continues the
 * training bit for bit or, after it, redoes only the analysis. The analysis itself (stages 2–7 of
 * src/analysis/lab/feng-tu.ts) has no checkpoints of its own: a signal during it ends the run from
 * the end-of-training checkpoint.
 */
import { adapterRecord, acquireGpu } from '../gpu/device.ts';
import { loadDataset } from '../data/index.ts';
import { analyseFengTu, prepareFengTu, type FengTuOptions, type FengTuSession, type Stage } from '../experiments/feng-tu/run.ts';
import { fengTuFiles } from '../experiments/feng-tu/files.ts';
import { loadReportAssets } from '../analysis/report/assets.ts';
import type { RecorderState } from '../analysis/noise/recorder.ts';
import { checkRunFitsData } from '../train/config.ts';
import { Trainer } from '../train/trainer.ts';
import { indexFiles, runConfigJson, stackedWeightFiles } from '../train/run-files.ts';
import { runTrainSession } from '../train/session.ts';
import { encodeNpy } from '../util/npy.ts';
import type { CheckpointContents } from '../util/checkpoint-file.ts';
import { openCommandRunDir, readSettingsMeta, resumeOnly, sessionSink, settingsMeta } from './run-folder.ts';
import type { FlagValues } from './args.ts';
import { inputPhase } from './input.ts';
import { StopSignals } from './signals.ts';
import { EXIT } from './exit-codes.ts';
import { ProgressBar, formatDuration } from './progress.ts';
import { resolveTrainSettings } from './train-settings.ts';

const CMD = 'sgdscope reproduce feng-tu';

/** The recorder's state in a checkpoint, under 'recorder'. */
function unpackRecorder(c: CheckpointContents): RecorderState {
  const m = c.meta.recorder as { recorded?: number; blockStart?: number } | undefined;
  const traj = c.arrays['recorder.trajectory'];
  const ck = c.arrays['recorder.checkpoints'];
  if (!m || !(traj instanceof Float32Array) || !(ck instanceof Float32Array)) throw new Error('the checkpoint holds no Feng–Tu window recording');
  return { recorded: m.recorded as number, blockStart: m.blockStart as number, trajectory: traj, checkpoints: ck };
}

/** `resolveOptions`: reproduce.ts's flag → FengTuOptions resolution (passed in, so the two files do not import each other). */
export async function fengTuCommand(flags: FlagValues, argv: string[], resolveOptions: (flags: FlagValues) => Partial<FengTuOptions>): Promise<number> {
  const quiet = !!flags.quiet;
  const log = (s: string): void => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  // From the start: a signal during start-up stops the run at its first chunk, with a checkpoint.
  const signals = new StopSignals(log);
  const { cr, run, options, loaded, assets } = await inputPhase(async () => {
    if (flags.resume !== undefined) resumeOnly(flags, CMD);
    // 30 epochs unless --epochs or a --config file's train.epochs says otherwise.
    if (flags.resume === undefined && flags.epochs === undefined && !flags.config) flags.epochs = 30;
    const fresh = flags.resume === undefined ? { run: resolveTrainSettings(flags), options: resolveOptions(flags) } : null;
    const cr = openCommandRunDir(flags, { kind: 'feng-tu', command: CMD, argv, checkpointKind: 'feng-tu' });
    try {
      const run = fresh?.run ?? readSettingsMeta(cr.resume!.meta, cr.dir.resumed!.checkpoint);
      const options = fresh?.options ?? (cr.resume!.meta.options as Partial<FengTuOptions>);
      const loaded = await loadDataset(run.data);
      checkRunFitsData(run.model, run.train, loaded.train);
      cr.checkIndices(loaded);
      return { cr, run, options, loaded, assets: await loadReportAssets() };
    } catch (e) {
      cr.dir.release();
      throw e;
    }
  });
  const { dir } = cr;
  const ctx0 = await acquireGpu();
  log(`${CMD}: ${run.model.widths.join('-')} ${run.model.activation}${run.model.bias ? ' +bias' : ''}, lr ${run.train.lr}, B ${run.train.batchSize}, ${run.train.epochs} epochs, seed ${run.train.seed} on ${ctx0.adapterName} (${ctx0.runtime})`);
  log(`data: ${loaded.train.name} ${loaded.train.n} train / ${loaded.test.n} test; run folder: ${dir.shown} (written in ${dir.work} until it ends)`);
  dir.write('config.json', runConfigJson({ model: run.model, train: run.train, data: loaded.spec, adapter: adapterRecord(ctx0) }).replace(/\n}\n$/, `,\n  "fengTu": ${JSON.stringify(options)}\n}\n`));

  const t0 = performance.now();
  const trainBar = new ProgressBar('train');
  let lastEval = '';
  let session: FengTuSession | null = null;
  const outcome = await runTrainSession(ctx0, {
    kind: 'feng-tu',
    meta: { ...settingsMeta(run, loaded), options },
    resume: cr.resume,
    build: async (ctx, from) => {
      const trainer = await Trainer.create(ctx, run.model, run.train, { train: loaded.train, test: loaded.test });
      const s = await prepareFengTu(ctx, trainer, options);
      session = s;
      if (from) s.recorder.restore(unpackRecorder(from));
      else s.recorder.recordInitial();
      if (trainer.step === 0 && !from) log(`train: ${s.total} steps, window ${s.windowStart + 1}–${s.total} (${s.T} steps), layer ${s.o.layer} (P = ${s.recorder.P}), ${s.route} route`);
      return {
        trainer,
        part: {
          onStepEncoded: (batch, step) => s.recorder.onStepEncoded(batch, step),
          pack: async (into) => {
            const st = await s.recorder.state(trainer.step);
            into.meta.recorder = { recorded: st.recorded, blockStart: st.blockStart };
            into.arrays['recorder.trajectory'] = st.trajectory;
            into.arrays['recorder.checkpoints'] = st.checkpoints;
          },
        },
      };
    },
    acquire: () => acquireGpu(),
    policy: cr.policy,
    stopRequested: () => signals.requested,
    checkpointAtEnd: true,
    sink: sessionSink(dir, null),
    log,
    onChunk: (p) => {
      if (p.eval) lastEval = ` | train ${p.eval.train.loss.toFixed(4)}/${(100 * p.eval.train.accuracy).toFixed(2)}% test ${p.eval.test ? `${(100 * p.eval.test.accuracy).toFixed(2)}%` : '-'}`;
      if (quiet) return;
      const rate = p.step / Math.max((performance.now() - t0) / 1000, 1e-9);
      const eta = p.totalSteps ? (p.totalSteps - p.step) / rate : NaN;
      const loss = p.losses.reduce((a, b) => a + b, 0) / p.losses.length;
      trainBar.update(p.step, p.totalSteps, `step ${p.step}/${p.totalSteps} ep ${p.epoch.toFixed(1)} loss ${loss.toFixed(4)} ${rate.toFixed(0)} steps/s ETA ${formatDuration(eta)}${lastEval}`);
    },
  });
  trainBar.done();
  if (outcome.kind === 'device-lost') return cr.stop('device-lost', outcome.reason, 0, new Map(), EXIT.deviceLost);
  if (outcome.kind === 'stopped') {
    outcome.ctx.destroy();
    return cr.stop('interrupted', `interrupted by ${signals.signal} while training, at step ${outcome.result.steps}`, outcome.result.steps, new Map(), signals.exitCode);
  }
  const { ctx, result: runResult } = outcome;
  log(`train: ${runResult.message}`);
  // The analysis cannot stop midway: a signal ends the run from the end-of-training checkpoint.
  signals.onRequest = (sig) => process.exit(cr.stop('interrupted', `interrupted by ${sig} during the analysis (training is done and checkpointed)`, runResult.steps, new Map(), signals.exitCode));
  let stageBar: ProgressBar | null = null;
  const result = await analyseFengTu(session!, runResult, {
    onStageStart: (stage: Stage, detail: string) => {
      log(`${stage}: ${detail}`);
      stageBar = quiet ? null : new ProgressBar(stage);
    },
    onStageProgress: (_stage, done, total, detail) => stageBar?.update(done, total, detail),
    onStageEnd: (stage, seconds, detail) => {
      stageBar?.done();
      stageBar = null;
      log(`${stage}: done in ${formatDuration(seconds)}${detail ? ` — ${detail}` : ''}`);
    },
  }, { train: runResult.seconds });
  signals.dispose();
  const files = fengTuFiles(result, assets, { data: loaded.spec, adapter: adapterRecord(ctx) });
  // What numpy needs beyond the lab's files: the samples trained on, the settings with defaults.
  for (const [name, content] of indexFiles(loaded)) files.set(name, content);
  // The weight checkpoints T(t) and L(t) were measured at, stacked per layer, and their steps.
  const rec = session!.recorder;
  const slots = await Promise.all(rec.checkpointSteps.map((_, i) => rec.readCheckpoint(i)));
  for (const [name, content] of stackedWeightFiles(run.model, slots)) files.set(`checkpoints_${name}`, content);
  files.set('checkpoint_steps.npy', encodeNpy(Uint32Array.from(rec.checkpointSteps), [rec.checkpointSteps.length]));
  files.set('config.json', runConfigJson({ model: run.model, train: result.train, data: loaded.spec, adapter: adapterRecord(ctx) }).replace(/\n}\n$/, `,\n  "fengTu": ${JSON.stringify(result.options)}\n}\n`));
  cr.finish(files);
  const s = result.summary;
  const d = (p: typeof s.all | null): string => (p ? `D90 ${p.d90 ?? `>${p.variances.length}`}, D99 ${p.d99 ?? `>${p.variances.length}`}` : '—');
  const fit = result.fit;
  const lines = [
    `${result.run.message}; window steps ${result.window.firstStep}–${result.window.lastStep} (T = ${result.window.T}), layer ${result.layer} (P = ${result.P}), k = ${result.options.k}`,
    `dimensions (of P = ${result.P}): all ${d(s.all)} | PC1 left out ${d(s.pc1Removed)} | detrended ${d(s.detrended)} | |cos(PC1, w*)| ${result.pc1VsMeanWeight?.toFixed(3)}`,
    fit ? `variance–flatness: ψ = ${fit.psi.toFixed(3)} ± ${fit.psiSE.toFixed(3)}, r = ${fit.r.toFixed(3)} (n = ${fit.n}, PC1 left out)` : `variance–flatness: no fit (${result.fitError ?? 'skipped'})`,
    result.anisotropy ? `temperature: max/min ${result.anisotropy.maxOverMin.toPrecision(3)}, Spearman(T, F) ${result.anisotropy.spearmanWithFlatness?.toFixed(3)}` : 'temperature: skipped',
    result.temperatureVsLoss.length ? `T(t) vs L(t): Pearson r(ln T, ln L) ${result.tDirs.map((i, j) => `PC${i} ${result.temperatureLossCorrelation[j].toFixed(3)}`).join(', ')}` : '',
    `time: ${Object.entries(result.timings).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(', ')}; total ${formatDuration((performance.now() - t0) / 1000)}`,
    `run folder: ${dir.shown} (report.html)`,
  ].filter(Boolean);
  process.stdout.write(`${lines.join('\n')}\n`);
  ctx.destroy();
  return EXIT.ok;
}
