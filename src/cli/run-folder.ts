/**
 * The run folder of a CLI command (src/util/run-dir.ts does the atomic writing): --out/--force/
 * --resume/--save-every handled the same way by every command, the checkpoint found for a resume,
 * the settings stored in checkpoints, and how a run that stops early (interrupted, device lost)
 * is recorded — status, message and the resume command in result.json and on stderr.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedData } from '../data/index.ts';
import { crc32 } from '../util/zip.ts';
import { isPlainObject } from '../util/keys.ts';
import type { CheckpointContents } from '../util/checkpoint-file.ts';
import { CHECKPOINT_FILE, RunDir } from '../util/run-dir.ts';
import { checkpointProgress, loadCheckpoint, saveCheckpoint } from '../train/checkpoint-store.ts';
import { DEFAULT_SAVE_POLICY, parseSavePolicy, type SavePolicy } from '../train/save-policy.ts';
import type { SessionSink } from '../train/session.ts';
import type { TrainerState } from '../train/trainer-state.ts';
import { History } from '../train/trainer.ts';
import { validateMlpConfig, type MlpConfig } from '../nn/config.ts';
import { validateTrainConfig, type TrainConfig } from '../train/config.ts';
import type { DatasetSpec } from '../data/index.ts';
import { UsageError, type FlagValues } from './args.ts';
import { StopSignals } from './signals.ts';
import { EXIT } from './exit-codes.ts';
import { removeTree } from '../util/durable-fs.ts';
import { fromExact, toExact } from '../util/exact-json.ts';

export function defaultRunDir(kind: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
  return join('runs', `${stamp}-${kind}`);
}

/** A path as a shell word (for the printed resume command). */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** With --resume, the settings come from the checkpoint: only these flags may accompany it. */
export function resumeOnly(flags: FlagValues, command: string, allowed: string[] = ['resume', 'quiet', 'save-every', 'help']): void {
  const extra = Object.keys(flags).filter((k) => flags[k] !== undefined && !allowed.includes(k));
  if (extra.length) throw new UsageError(`${command}: --resume continues with the settings saved in the checkpoint; drop ${extra.map((k) => `--${k}`).join(' ')} (allowed with it: ${allowed.filter((a) => a !== 'help').map((a) => `--${a}`).join(' ')})`);
}

export interface CommandRun {
  dir: RunDir;
  /** The checkpoint to continue from (with --resume). */
  resume: CheckpointContents | null;
  policy: SavePolicy;
  resumeCommand: string;
  /** With --resume: throws if the data reloaded is not the data the checkpoint was trained on. */
  checkIndices(loaded: LoadedData): void;
  /** Records an early stop (interrupted, device-lost): result.json, the resume command; returns `code`. */
  stop(status: string, message: string, step: number, files: Map<string, Uint8Array | string>, code: number): number;
  /** Commits a finished run (its checkpoint removed); result.json from `files` or `result`. */
  finish(files: Map<string, Uint8Array | string>, result?: Record<string, unknown>): void;
}

/**
 * Opens the command's run folder: --out (default runs/<time>-<kind>) with --force, or --resume
 * <folder> (its newest checkpoint, of kind `checkpointKind`, is loaded and checked).
 */
export function openCommandRunDir(flags: FlagValues, o: { kind: string; command: string; argv: string[]; checkpointKind: string; carry?: string[] }): CommandRun {
  const resuming = flags.resume !== undefined;
  const out = (resuming ? flags.resume : flags.out ?? defaultRunDir(o.kind)) as string;
  const explicitPolicy = flags['save-every'] !== undefined ? parseSavePolicy(String(flags['save-every'])) : null;
  const abs = RunDir.resolveOut(out);
  const resumeCommand = `${o.command} --resume ${shellWord(abs)}`;
  const dir = RunDir.open({
    out,
    force: !!flags.force,
    resume: resuming,
    command: [o.command, ...o.argv.map(shellWord)].join(' '),
    resumeCommand,
    progressOf: checkpointProgress,
    carry: o.carry,
  });
  let resume: CheckpointContents | null = null;
  let policy = explicitPolicy ?? DEFAULT_SAVE_POLICY;
  try {
    if (dir.resumed) resume = loadCheckpoint(dir.resumed.checkpoint, o.checkpointKind);
    // A resumed run keeps the --save-every it was started with, unless given again.
    const saved = resume?.meta.savePolicy as SavePolicy | undefined;
    if (!explicitPolicy && saved && typeof saved === 'object') policy = { steps: positiveOrNull(saved.steps), seconds: positiveOrNull(saved.seconds) };
  } catch (e) {
    dir.release();
    throw e;
  }
  const withResult = (files: Map<string, Uint8Array | string>, fields: Record<string, unknown>): Record<string, unknown> => {
    const text = files.get('result.json');
    const base = typeof text === 'string' ? (JSON.parse(text) as Record<string, unknown>) : {};
    return { ...base, ...fields };
  };
  return {
    dir,
    resume,
    policy,
    resumeCommand,
    checkIndices(loaded) {
      const saved = resume?.meta.indices as { train?: number; test?: number } | undefined;
      if (!saved) return;
      const now = indicesDigest(loaded);
      if (saved.train !== now.train || saved.test !== now.test) {
        throw new Error(`${dir.resumed!.checkpoint}: the dataset reloaded from the saved settings does not have the run's train/test samples (dataset files changed?)`);
      }
    },
    stop(status, message, step, files, code) {
      const text = `${message}; resume with: ${resumeCommand}`;
      process.stderr.write(`${text}\nrun folder: ${dir.shown}\n`);
      dir.commit(withResult(files, { status, message: text, steps: step, resume: resumeCommand }), files);
      return code;
    },
    finish(files, result) {
      const ck = dir.path(CHECKPOINT_FILE);
      if (existsSync(ck)) unlinkSync(ck);
      dir.commit(result ?? { status: 'completed', ...withResult(files, {}) }, files);
      // (result.json of a command that writes none, or one without a status, says completed.)
    },
  };
}

const positiveOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null);

/** CRC-32 of the train and test index lists: a checkpoint's proof of which samples it trained on. */
export function indicesDigest(loaded: Pick<LoadedData, 'trainIndices' | 'testIndices'>): { train: number; test: number } {
  const bytes = (a: Uint32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return { train: crc32(bytes(loaded.trainIndices)), test: crc32(bytes(loaded.testIndices)) };
}

/** The settings stored in a training checkpoint (and the indices they select). */
export function settingsMeta(run: { model: MlpConfig; train: TrainConfig }, loaded: LoadedData): Record<string, unknown> {
  return { settings: { model: run.model, train: run.train, data: loaded.spec }, indices: indicesDigest(loaded) };
}

/** The settings back from a checkpoint, checked as a config file's would be. */
export function readSettingsMeta(meta: Record<string, unknown>, where: string): { model: MlpConfig; train: TrainConfig; data: DatasetSpec } {
  const s = meta.settings;
  if (!isPlainObject(s) || !isPlainObject(s.model) || !isPlainObject(s.train) || !isPlainObject(s.data)) throw new Error(`${where}: the checkpoint holds no run settings`);
  return {
    model: validateMlpConfig(s.model as unknown as MlpConfig, `${where}: model`),
    train: validateTrainConfig(s.train as Partial<TrainConfig>, null, `${where}: train`),
    data: s.data as unknown as DatasetSpec,
  };
}

/** Checkpoints to the work folder's checkpoint.bin, metrics to its `metrics` file (null: none). */
export function sessionSink(dir: RunDir, metrics: string | null = 'metrics.csv'): SessionSink {
  let file: ReturnType<RunDir['appender']> | null = null;
  return {
    saveCheckpoint: (c) => saveCheckpoint(dir.path(CHECKPOINT_FILE), c),
    openMetrics: () => {
      if (!metrics) return null;
      file?.close();
      file = dir.appender(metrics);
      return file;
    },
  };
}

/** A History holding a checkpoint's metrics (for metrics.csv of a run that stopped early). */
export function historyOf(st: TrainerState): History {
  const h = new History();
  h.loss = Array.from(st.history.loss);
  h.accuracy = Array.from(st.history.accuracy);
  h.evals = st.history.evals;
  return h;
}

/**
 * For a command without checkpoints: its run folder, and a SIGINT/SIGTERM that ends it at once —
 * the unfinished work folder removed (there is nothing to resume), the lock released, exit
 * 130/143 — rather than a process killed mid-write.
 */
export function openPlainRun(flags: FlagValues, o: { kind: string; command: string; argv: string[] }): CommandRun {
  const cr = openCommandRunDir(flags, { ...o, checkpointKind: o.kind });
  const signals = new StopSignals(() => undefined);
  signals.onRequest = (s) => {
    process.stderr.write(`\n${s}: ${o.command} stopped; it keeps no checkpoints, so the unfinished ${cr.dir.work} is removed (run the command again)\n`);
    removeTree(cr.dir.work);
    cr.dir.release();
    process.exit(EXIT[s]);
  };
  const finish = cr.finish;
  cr.finish = (files, result) => {
    signals.dispose();
    finish(files, result);
  };
  return cr;
}

/**
 * For commands whose long part is a list of independent items (trainability cells, AWD runs): a
 * checkpoint of the items finished so far (exact JSON), rewritten after each one; a signal ends
 * the run at once from it, status "interrupted" with the resume command (an item in progress is
 * done again on --resume). `meta` holds the resolved settings the resume continues with.
 */
export function itemCheckpoints<T>(cr: CommandRun, kind: string, meta: Record<string, unknown>, signals: StopSignals, what: string): { done: T[]; add(item: T): void } {
  const done = cr.resume ? fromExact<T[]>(cr.resume.meta.done) : [];
  if (!Array.isArray(done)) throw new Error(`${cr.dir.resumed!.checkpoint}: the checkpoint holds no list of finished ${what}`);
  const save = (): void => saveCheckpoint(cr.dir.path(CHECKPOINT_FILE), { kind, meta: { ...meta, progress: done.length, done: toExact(done) }, arrays: {} });
  save();
  signals.onRequest = (s) => process.exit(cr.stop('interrupted', `interrupted by ${s} with ${done.length} ${what} finished (kept; the rest run on resume)`, done.length, new Map(), EXIT[s]));
  return {
    done,
    add(item) {
      done.push(item);
      save();
    },
  };
}
