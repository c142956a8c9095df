/**
 * `sgdscope reproduce feng-tu`, run through a checkpointed training session: the trainer's state
 * and the window recorder's (trajectory rows, weight checkpoints) are saved on --save-every and at
 * every stop, and once more when training ends. Then the analysis stages
 * (src/experiments/feng-tu/run.ts), each one's files written into the run folder when it ends, and
 * what it computed into analysis-state.json (stage-state.ts).
 *
 * --resume continues the training bit for bit or, after it, runs only the analysis stages that are
 * missing or failed (summary.json stages.<name>), taking the others from analysis-state.json; a
 * stage is computed anew when a stage it reads is. A run whose stages all succeed drops its
 * checkpoint and state; one with a failed stage keeps both, exits 4 with status
 * "completed-with-failed-stages" and the resume command. A signal during the analysis ends the run
 * (status "interrupted") with the stages finished so far kept for the resume.
 */
import { adapterRecord, acquireGpu } from '../gpu/device.ts';
import { loadDataset } from '../data/index.ts';
import { analyseFengTu, failedStages, planFengTu, prepareFengTu, ANALYSIS_STAGES, type FengTuOptions, type FengTuResult, type FengTuSession, type Protocol, type Stage } from '../experiments/feng-tu/run.ts';
import { indexAndCheckpointFiles, overviewFiles, stageFiles, trainFiles } from '../experiments/feng-tu/files.ts';
import { applySavedStage, captureAnalysisState, decodeAnalysisState, encodeAnalysisState, windowKey, type AnalysisState } from '../experiments/feng-tu/stage-state.ts';
import { fengTuLines } from '../experiments/feng-tu/summary-lines.ts';
import { loadReportAssets } from '../analysis/report/assets.ts';
import type { RecorderState } from '../analysis/noise/recorder.ts';
import { checkRunFitsData } from '../train/config.ts';
import { Trainer } from '../train/trainer.ts';
import { runConfigJson } from '../train/run-files.ts';
import { runTrainSession } from '../train/session.ts';
import type { CheckpointContents } from '../util/checkpoint-file.ts';
import { CHECKPOINT_FILE } from '../util/run-dir.ts';
import { openCommandRunDir, readSettingsMeta, resumeOnly, sessionSink, settingsMeta } from './run-folder.ts';
import { UsageError, type FlagValues } from './args.ts';
import { inputPhase } from './input.ts';
import { StopSignals } from './signals.ts';
import { EXIT } from './exit-codes.ts';
import { ProgressBar, formatDuration } from './progress.ts';
import { resolveTrainSettings } from './train-settings.ts';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';

const CMD = 'sgdscope reproduce feng-tu';
/** What the analysis stages finished (stage-state.ts), beside the checkpoint; carried by --resume. */
export const ANALYSIS_STATE_FILE = 'analysis-state.json';

/** The recorder's state in a checkpoint, under 'recorder'. */
function unpackRecorder(c: CheckpointContents): RecorderState {
  const m = c.meta.recorder as { recorded?: number; lastStep?: number } | undefined;
  const traj = c.arrays['recorder.trajectory'];
  const ck = c.arrays['recorder.checkpoints'];
  if (!m || !(traj instanceof Float32Array) || !(ck instanceof Float32Array)) throw new Error('the checkpoint holds no Feng–Tu window recording');
  return { recorded: m.recorded as number, lastStep: m.lastStep as number, trajectory: traj, checkpoints: ck };
}

/**
 * Testing aid: the stages SGDSCOPE_FAIL_STAGES (a comma list) makes throw at their start. Read on
 * every start, a resumed one included, and never stored with the run's options.
 */
export function injectedFailures(): Stage[] | undefined {
  const inject = process.env.SGDSCOPE_FAIL_STAGES;
  if (!inject) return undefined;
  const names = inject.split(',').map((x) => x.trim());
  for (const n of names) if (!(ANALYSIS_STAGES as string[]).includes(n)) throw new UsageError(`SGDSCOPE_FAIL_STAGES: unknown stage '${n}' (stages: ${ANALYSIS_STAGES.join(', ')})`);
  return names as Stage[];
}

function configJson(run: Parameters<typeof runConfigJson>[0], options: Partial<FengTuOptions>): string {
  return runConfigJson(run).replace(/\n}\n$/, `,\n  "fengTu": ${JSON.stringify(options)}\n}\n`);
}

/** `resolveOptions`: reproduce.ts's flag → FengTuOptions resolution (passed in, so the two files do not import each other). */
export async function fengTuCommand(flags: FlagValues, argv: string[], resolveOptions: (flags: FlagValues) => Partial<FengTuOptions>): Promise<number> {
  const quiet = !!flags.quiet;
  const log = (s: string): void => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  // From the start: a signal during start-up stops the run at its first chunk, with a checkpoint.
  const signals = new StopSignals(log);
  const { cr, run, options, protocol, loaded, assets, failStages } = await inputPhase(async () => {
    if (flags.resume !== undefined) resumeOnly(flags, CMD);
    const fresh = flags.resume === undefined ? { run: resolveTrainSettings(flags), options: resolveOptions(flags), protocol: (flags.protocol as Protocol | undefined) ?? 'sgdscope' } : null;
    const failStages = injectedFailures();
    const cr = openCommandRunDir(flags, { kind: 'feng-tu', command: CMD, argv, checkpointKind: 'feng-tu', carry: [ANALYSIS_STATE_FILE] });
    try {
      const meta = cr.resume?.meta;
      const run = fresh?.run ?? readSettingsMeta(meta!, cr.dir.resumed!.checkpoint);
      const options = fresh?.options ?? (meta!.options as Partial<FengTuOptions>);
      const protocol = fresh?.protocol ?? ((meta!.protocol as Protocol | undefined) ?? 'sgdscope');
      const loaded = await loadDataset(run.data);
      // The run's shape (P, T, k, window) is checked here, so a k or window that cannot fit is bad input before the GPU starts.
      planFengTu(run.model, checkRunFitsData(run.model, run.train, loaded.train), loaded.train.n, options);
      cr.checkIndices(loaded);
      return { cr, run, options, protocol, loaded, assets: await loadReportAssets(), failStages };
    } catch (e) {
      cr.dir.release();
      throw e;
    }
  });
  const { dir } = cr;
  const ctx0 = await acquireGpu();
  const cap = run.train.stopLoss !== null || run.train.stopAccuracy !== null ? ' (cap)' : '';
  log(`${CMD}: ${run.model.widths.join('-')} ${run.model.activation}${run.model.bias ? ' +bias' : ''}, lr ${run.train.lr}, B ${run.train.batchSize}, ${run.train.epochs} epochs${cap}, seed ${run.train.seed}, protocol ${protocol} on ${ctx0.adapterName} (${ctx0.runtime})`);
  log(`data: ${loaded.train.name} ${loaded.train.n} train / ${loaded.test.n} test; run folder: ${dir.shown} (written in ${dir.work} until it ends)`);
  dir.write('config.json', configJson({ model: run.model, train: run.train, data: loaded.spec, adapter: adapterRecord(ctx0) }, options));

  const t0 = performance.now();
  const trainBar = new ProgressBar('train');
  let lastEval = '';
  let session: FengTuSession | null = null;
  const outcome = await runTrainSession(ctx0, {
    kind: 'feng-tu',
    meta: { ...settingsMeta(run, loaded), options, protocol },
    resume: cr.resume,
    build: async (ctx, from) => {
      const trainer = await Trainer.create(ctx, run.model, run.train, { train: loaded.train, test: loaded.test });
      const s = await prepareFengTu(ctx, trainer, { ...options, failStages });
      session = s;
      if (from) s.recorder.restore(unpackRecorder(from));
      else s.recorder.recordInitial();
      const where = s.open ? `the last ${s.T} steps before the stop rule ends the run` : `window ${s.windowStart + 1}–${s.total} (${s.T} steps)`;
      if (!from) log(`train: ${s.open ? 'up to ' : ''}${s.total} steps, ${where}, layer ${s.o.layer} (P = ${s.recorder.P}), ${s.route} route`);
      return {
        trainer,
        part: {
          onStepEncoded: (batch, step) => s.recorder.onStepEncoded(batch, step),
          pack: async (into) => {
            const st = await s.recorder.state(trainer.step);
            into.meta.recorder = { recorded: st.recorded, lastStep: st.lastStep };
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
      if (p.eval) lastEval = ` | train ${p.eval.train.loss.toExponential(2)}/${(100 * p.eval.train.accuracy).toFixed(2)}% test ${p.eval.test ? `${(100 * p.eval.test.accuracy).toFixed(2)}%` : '-'}`;
      if (quiet) return;
      const rate = (p.step - (cr.resume ? (cr.resume.meta.progress as number) : 0)) / Math.max((performance.now() - t0) / 1000, 1e-9);
      const eta = p.totalSteps ? (p.totalSteps - p.step) / rate : NaN;
      const loss = p.losses.reduce((a, b) => a + b, 0) / p.losses.length;
      trainBar.update(p.step, p.totalSteps, `step ${p.step}/${p.totalSteps}${cap} ep ${p.epoch.toFixed(1)} loss ${loss.toFixed(4)} ${rate.toFixed(0)} steps/s ETA${cap} ${formatDuration(eta)}${lastEval}`);
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

  // The stages an earlier attempt finished (carried from the folder resumed).
  const stateFile = dir.path(ANALYSIS_STATE_FILE);
  let saved: AnalysisState | null = null;
  const restore = (name: Exclude<Stage, 'train'>, r: FengTuResult): boolean => {
    if (saved === null && existsSync(stateFile)) {
      try {
        saved = decodeAnalysisState(readFileSync(stateFile, 'utf8'), stateFile, windowKey(r));
      } catch (e) {
        // An unreadable state costs only time: every stage runs again.
        log(`note: ${(e as Error).message}; every stage runs again`);
        saved = { window: windowKey(r), stages: {} };
      }
    }
    const s = saved?.stages[name];
    if (!s) return false;
    applySavedStage(r, name, s);
    return true;
  };
  // A signal now ends the run: the checkpoint and the stages finished so far stay for --resume.
  signals.onRequest = (sig) => process.exit(cr.stop('interrupted', `interrupted by ${sig} during the analysis (training is done and checkpointed; finished stages are kept)`, runResult.steps, new Map(), signals.exitCode));
  const extra = { protocol, data: loaded.spec, adapter: adapterRecord(ctx) };
  let stageBar: ProgressBar | null = null;
  const result = await analyseFengTu(
    session!,
    runResult,
    {
      onStageStart: (stage: Stage, detail: string) => {
        log(`${stage}: ${detail}`);
        stageBar = quiet ? null : new ProgressBar(stage);
      },
      onStageProgress: (_stage, done, total, detail) => stageBar?.update(done, total, detail),
      onStageEnd: (stage, seconds, detail) => {
        stageBar?.done();
        stageBar = null;
        log(`${stage}: ${detail.startsWith('FAILED') ? 'failed' : 'done'} in ${formatDuration(seconds)}${detail ? ` — ${detail}` : ''}`);
      },
      // Each stage's files as soon as it ends, the overview (summary.json with every stage's
      // status, spectra.csv, report.html) after each, and the state a resume continues from.
      onStageDone: (stage, r) => {
        const files = stage === 'train' ? trainFiles(r) : stageFiles(stage, r);
        for (const [name, content] of [...files, ...overviewFiles(r, assets, extra)]) dir.write(name, content);
        if (stage !== 'train' && !r.stages[stage]?.resumed) dir.write(ANALYSIS_STATE_FILE, encodeAnalysisState(captureAnalysisState(r)));
      },
    },
    { train: runResult.seconds },
    restore,
  );
  signals.dispose();
  const files = await indexAndCheckpointFiles(result, loaded, session!.recorder);
  files.set('config.json', configJson({ model: run.model, train: result.train, data: loaded.spec, adapter: adapterRecord(ctx) }, options));
  const failed = failedStages(result);
  const lines = fengTuLines(result);
  const total = formatDuration((performance.now() - t0) / 1000);
  ctx.destroy();
  if (failed.length === 0) {
    if (existsSync(stateFile)) unlinkSync(stateFile);
    cr.finish(files);
    process.stdout.write(`${[...lines, `total ${total}; run folder: ${dir.shown} (report.html)`].join('\n')}\n`);
    return EXIT.ok;
  }
  // Completed with failed stages: the checkpoint and the finished stages stay, for --resume.
  const message = `completed with ${failed.length} failed stage${failed.length > 1 ? 's' : ''} (${failed.join(', ')}; summary.json stages.<name>.error); run the missing ones with: ${cr.resumeCommand}`;
  if (!existsSync(dir.path(CHECKPOINT_FILE))) throw new Error(`${CMD}: the end-of-training checkpoint is missing from ${dir.work} (internal error)`);
  dir.commit({ status: 'completed-with-failed-stages', message, steps: runResult.steps, failedStages: failed, resume: cr.resumeCommand }, files);
  process.stdout.write(`${[...lines, `total ${total}; run folder: ${dir.shown} (report.html); ${message} (exit status ${EXIT.failedStages})`].join('\n')}\n`);
  return EXIT.failedStages;
}
