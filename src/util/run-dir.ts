/**
 * A run folder that is never half-written (Node only). A run writes into `<out>.tmp-<pid>/`, whose
 * result.json says `status: "running"` from the first second; `<out>.lock` refuses a second run
 * into the same folder while this one lives. At the end every file is fsync'ed, result.json is
 * written last with each file's size and SHA-256, and the folder is renamed into place — replacing
 * an older `<out>` whole (with --force or when resuming), never mixing its files with new ones.
 *
 * A run killed outright leaves `<out>.tmp-<pid>/` (status "running", its last checkpoint.bin) and a
 * stale lock; `--resume` finds the newest checkpoint there or in `<out>/` (an interrupted run's
 * folder), copies it into a fresh work folder and carries on. Nothing is deleted that a resume or
 * the user still needs: a new run into an `<out>` with an unfinished sibling is refused without
 * --force.
 */
import { accessSync, closeSync, constants, copyFileSync, cpSync, existsSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, fsyncSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fsyncPath, isRootOrAncestor, makeDirs, removeTree, sha256File, writeAll, writeFileDurable } from './durable-fs.ts';

export const CHECKPOINT_FILE = 'checkpoint.bin';

export interface RunDirOptions {
  /** --out as the user gave it (resolved against the working directory). */
  out: string;
  force: boolean;
  resume: boolean;
  /** The command line, for result.json and the lock. */
  command: string;
  /** The command that resumes this run, printed and stored whenever it stops early. */
  resumeCommand: string;
  /** Reads a checkpoint's progress (e.g. its step) to pick the newest one when resuming; null if unusable. */
  progressOf?: (checkpoint: string) => number | null;
  /** Entries besides the checkpoint that a resume copies from the folder it resumes (e.g. a sweep's runs/). */
  carry?: string[];
}

/** Resuming a run that already completed: nothing to do (the caller exits 0 with this message). */
export class AlreadyComplete extends Error {}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
  command: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

/** Every regular file under `dir`, as paths relative to it, sorted. */
function listFiles(dir: string, under = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, under)).sort()) {
    const rel = under ? join(under, name) : name;
    const st = statSync(join(dir, rel));
    if (st.isDirectory()) out.push(...listFiles(dir, rel));
    else if (st.isFile()) out.push(rel);
  }
  return out;
}

export class RunDir {
  private released = false;

  private constructor(
    /** The run folder (absolute). */
    readonly dir: string,
    /** Where this process writes: `<dir>.tmp-<pid>`. */
    readonly work: string,
    readonly options: RunDirOptions,
    /** When resuming: the checkpoint now in the work folder, and where it came from. */
    readonly resumed: { checkpoint: string; from: string } | null,
    private readonly lock: string,
    readonly started: string,
  ) {}

  /** --out as an absolute path (against the working directory); refuses an empty one. */
  static resolveOut(out: string): string {
    if (typeof out !== 'string' || out.trim() === '') throw new Error(`--out must name a folder, got ${JSON.stringify(out)}`);
    return resolve(out);
  }

  static open(o: RunDirOptions): RunDir {
    const dir = RunDir.resolveOut(o.out);
    if (isRootOrAncestor(dir, process.cwd())) {
      throw new Error(`--out ${o.out}: that is ${dir === process.cwd() ? 'the working directory' : 'a folder holding the working directory'}; a run folder must be a folder of its own (e.g. runs/x)`);
    }
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`--out ${o.out}: ${dir} exists and is not a folder`);
    const parent = dirname(dir);
    makeDirs(parent, `--out ${o.out}`);
    try {
      accessSync(parent, constants.W_OK);
    } catch {
      throw new Error(`--out ${o.out}: cannot write into ${parent}`);
    }
    const lock = `${dir}.lock`;
    takeLock(lock, o);
    try {
      return RunDir.prepare(dir, lock, o);
    } catch (e) {
      unlinkSync(lock);
      throw e;
    }
  }

  private static prepare(dir: string, lock: string, o: RunDirOptions): RunDir {
    const parent = dirname(dir);
    const base = basename(dir);
    // Work folders of earlier processes on this folder that are no longer running.
    let stale = readdirSync(parent)
      .map((name) => /^(.*)\.(tmp|old)-(\d+)$/.exec(name))
      .filter((m): m is RegExpExecArray => m !== null && m[1] === base && Number(m[3]) !== process.pid && !alive(Number(m[3])))
      .map((m) => join(parent, m[0]));
    const work = `${dir}.tmp-${process.pid}`;
    const started = new Date().toISOString();
    let resumed: RunDir['resumed'] = null;
    if (o.resume) {
      const candidates = [dir, ...stale].filter((d) => existsSync(join(d, CHECKPOINT_FILE)));
      const progress = (d: string): number => o.progressOf?.(join(d, CHECKPOINT_FILE)) ?? -1;
      const usable = candidates.map((d) => ({ d, p: progress(d) })).filter((c) => c.p >= 0);
      if (usable.length === 0) {
        const result = existsSync(dir) ? readJson(join(dir, 'result.json')) : null;
        if (result && result.status !== 'running' && result.status !== 'interrupted' && result.status !== 'device-lost') {
          throw new AlreadyComplete(`${dir}: the run has already ended (status ${JSON.stringify(result.status)}); nothing to resume`);
        }
        const why = candidates.length ? `its checkpoint${candidates.length > 1 ? 's are' : ' is'} unreadable (${candidates.map((d) => join(d, CHECKPOINT_FILE)).join(', ')})` : 'no checkpoint was found there or in an unfinished work folder beside it';
        throw new Error(`--resume ${o.out}: cannot resume: ${why}`);
      }
      // The furthest checkpoint; on a tie the committed folder's.
      const best = usable.reduce((a, b) => (b.p > a.p ? b : a));
      makeWork(work);
      const checkpoint = join(work, CHECKPOINT_FILE);
      copyFileSync(join(best.d, CHECKPOINT_FILE), `${checkpoint}.partial`);
      fsyncPath(`${checkpoint}.partial`);
      renameSync(`${checkpoint}.partial`, checkpoint);
      for (const name of o.carry ?? []) if (existsSync(join(best.d, name))) cpSync(join(best.d, name), join(work, name), { recursive: true });
      fsyncPath(work);
      resumed = { checkpoint, from: best.d };
      // The other unfinished folders are superseded by the copy now on disk.
      for (const d of stale) removeTree(d);
    } else {
      // An unfinished folder without a checkpoint holds nothing a resume could use.
      for (const d of stale.filter((d) => !existsSync(join(d, CHECKPOINT_FILE)))) removeTree(d);
      stale = stale.filter((d) => existsSync(d));
      if (stale.length && !o.force) {
        const what = stale.map((d) => {
          const r = readJson(join(d, 'result.json'));
          return `${d}${existsSync(join(d, CHECKPOINT_FILE)) ? ' (holds a checkpoint)' : ''}${r?.status ? `, status ${r.status}` : ''}`;
        });
        throw new Error(`--out ${o.out}: an earlier run into this folder did not finish: ${what.join('; ')}. Resume it with '${o.resumeCommand}', or pass --force to discard it`);
      }
      if (existsSync(dir) && readdirSync(dir).length > 0 && !o.force) {
        throw new Error(`--out ${o.out}: the folder exists and is not empty; choose another folder or pass --force to replace it`);
      }
      for (const d of stale) removeTree(d);
      makeWork(work);
    }
    const run = new RunDir(dir, work, o, resumed, lock, started);
    // Whatever ends the process short of SIGKILL (an error, process.exit) gives the lock back.
    process.once('exit', () => run.release());
    run.setStatus({ status: 'running', message: resumed ? `resumed from ${resumed.from}` : 'running' });
    return run;
  }

  path(name: string): string {
    return join(this.work, name);
  }

  /** Writes a file of the work folder atomically and durably. */
  write(name: string, data: Uint8Array | string): void {
    makeDirs(dirname(this.path(name)));
    writeFileDurable(this.path(name), data);
  }

  /** result.json of the work folder: status and whatever the caller adds; pid and command always. */
  setStatus(fields: Record<string, unknown>): void {
    this.write('result.json', `${JSON.stringify({ ...fields, pid: process.pid, started: this.started, command: this.options.command, resume: this.options.resumeCommand }, null, 2)}\n`);
  }

  /** An append-only text file in the work folder (metrics.csv), fsync'ed on sync() and at commit. */
  appender(name: string, truncate = true): { append(text: string): void; sync(): void; close(): void } {
    makeDirs(dirname(this.path(name)));
    const fd = openSync(this.path(name), truncate ? 'w' : 'a');
    let open = true;
    return {
      append: (text) => writeAll(fd, text),
      sync: () => fsyncSync(fd),
      close: () => {
        if (!open) return;
        open = false;
        fsyncSync(fd);
        closeSync(fd);
      },
    };
  }

  /**
   * Ends the run: writes `files` (except result.json), then result.json from `result` with the
   * list of every file in the folder and its SHA-256, and renames the work folder into place.
   */
  commit(result: Record<string, unknown>, files: Map<string, Uint8Array | string> = new Map()): void {
    for (const [name, content] of files) if (name !== 'result.json') this.write(name, content);
    const listing: Record<string, { bytes: number; sha256: string }> = {};
    for (const rel of listFiles(this.work)) {
      if (rel === 'result.json' || rel.includes('.partial')) continue;
      listing[rel] = sha256File(join(this.work, rel));
    }
    this.write('result.json', `${JSON.stringify({ ...result, command: this.options.command, started: this.started, ended: new Date().toISOString(), files: listing }, null, 2)}\n`);
    fsyncPath(this.work);
    const old = `${this.dir}.old-${process.pid}`;
    if (existsSync(this.dir)) renameSync(this.dir, old);
    renameSync(this.work, this.dir);
    fsyncPath(dirname(this.dir));
    removeTree(old);
    this.release();
  }

  /** Gives up the lock, leaving the work folder (status and checkpoint) for a later --resume. */
  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      unlinkSync(this.lock);
    } catch {
      // Already gone: nothing to release.
    }
  }

  /** The run folder relative to the working directory, for messages. */
  get shown(): string {
    const rel = relative(process.cwd(), this.dir);
    return rel && !rel.startsWith('..') ? rel : this.dir;
  }
}

function makeWork(work: string): void {
  removeTree(work);
  makeDirs(work);
}

/** Creates the lock file, or takes over one whose process is gone; refuses a live one. */
function takeLock(lock: string, o: RunDirOptions): void {
  const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command: o.command };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeAll(fd, `${JSON.stringify(info)}\n`);
      fsyncSync(fd);
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`--out ${o.out}: cannot create the lock ${lock} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const held = readJson(lock) as Partial<LockInfo> | null;
    // An unreadable lock may be one being written this instant: only an old one is stale.
    if (!held && Date.now() - statSync(lock).mtimeMs < 10_000) throw new Error(`--out ${o.out}: another sgdscope run is starting in this folder (${lock})`);
    const pid = Number(held?.pid);
    const otherHost = held?.host !== undefined && held.host !== hostname();
    if (held && Number.isInteger(pid) && (otherHost || alive(pid))) {
      throw new Error(`--out ${o.out}: another sgdscope run (pid ${pid}${otherHost ? ` on ${held.host}` : ''}, started ${held.started}: ${held.command}) is writing this folder; wait for it to end or stop it (${lock})`);
    }
    unlinkSync(lock);
  }
  throw new Error(`--out ${o.out}: cannot take the lock ${lock}`);
}
