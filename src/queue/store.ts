/**
 * The store: a folder every worker machine mounts (NFS, a cloud file share, or a local folder for
 * workers on one machine). Per sweep:
 *
 *   <store>/<sweep id>/sweep.json          the manifest: kind, spec, units (written by the collector)
 *   <store>/<sweep id>/runs/NNNN/          one run folder per run (grid point): its files and
 *                                          record.json (the result record), unit.json (where and when)
 *   <store>/<sweep id>/checkpoints/…       the latest checkpoint of runs in progress
 *   <store>/<sweep id>/failed/NNNN.json    runs whose job failed for good, with the reason
 *   <store>/<sweep id>/runs.csv, report.html, …   the sweep's own files (collect)
 *
 * A run folder is written under a temporary name (runs/.partial-NNNN-…) and renamed when complete;
 * the first rename wins, so a run that two workers both finished (a worker thought dead that was
 * only slow) lands exactly once. A rename within one folder is atomic on POSIX file systems, NFS
 * included.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RunFiles } from '../train/run-files.ts';

export const runName = (index: number): string => String(index).padStart(4, '0');

/** Sweep ids become folder names and Redis job ids: letters, digits, '.', '_', '-'. */
export function checkSweepId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id)) throw new Error(`sweep id '${id}' must be 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  return id;
}

/** Writes `files` into `dir/name` atomically: all of them or none; false when `name` already exists (kept). */
export function writeFolderAtomic(dir: string, name: string, files: RunFiles): boolean {
  mkdirSync(dir, { recursive: true });
  const final = join(dir, name);
  if (existsSync(final)) return false;
  const tmp = join(dir, `.partial-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp);
  try {
    for (const [file, content] of files) writeFileSync(join(tmp, file), content);
    renameSync(tmp, final);
    return true;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    // Someone else renamed theirs first (ENOTEMPTY/EEXIST): theirs stands.
    if (existsSync(final)) return false;
    throw e;
  }
}

/** Replaces one file atomically (temporary name, then rename). */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

export class Store {
  readonly root: string;

  constructor(root: string, flag = '--store') {
    this.root = resolve(root);
    const fail = (why: string): never => {
      throw new Error(`${flag} ${root}: ${why}`);
    };
    if (existsSync(this.root) && !statSync(this.root).isDirectory()) fail('is a file, not a folder');
    try {
      mkdirSync(this.root, { recursive: true });
      const probe = join(this.root, `.write-test-${process.pid}-${randomBytes(4).toString('hex')}`);
      writeFileSync(probe, 'ok');
      renameSync(probe, `${probe}.renamed`);
      rmSync(`${probe}.renamed`);
    } catch (e) {
      fail(`not a writable folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); every worker needs to write its run folders there`);
    }
  }

  sweepDir(id: string): string {
    return join(this.root, checkSweepId(id));
  }

  runsDir(id: string): string {
    return join(this.sweepDir(id), 'runs');
  }

  runDir(id: string, index: number): string {
    return join(this.runsDir(id), runName(index));
  }

  hasRun(id: string, index: number): boolean {
    return existsSync(this.runDir(id, index));
  }

  /** false: the run was already there (another worker finished it first). */
  writeRun(id: string, index: number, files: RunFiles): boolean {
    return writeFolderAtomic(this.runsDir(id), runName(index), files);
  }

  readRunFile(id: string, index: number, name: string): string {
    return readFileSync(join(this.runDir(id, index), name), 'utf8');
  }

  checkpointPath(id: string, index: number, key: string): string {
    const dir = join(this.sweepDir(id), 'checkpoints');
    mkdirSync(dir, { recursive: true });
    return join(dir, `${runName(index)}-${key.replace(/[^A-Za-z0-9]+/g, '_')}.json`);
  }

  /** Drops a finished run's checkpoints. */
  clearCheckpoints(id: string, index: number): void {
    const dir = join(this.sweepDir(id), 'checkpoints');
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)) if (f.startsWith(`${runName(index)}-`)) rmSync(join(dir, f), { force: true });
  }

  writeFailure(id: string, index: number, reason: string): void {
    const dir = join(this.sweepDir(id), 'failed');
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, `${runName(index)}.json`), JSON.stringify({ index, reason }, null, 2) + '\n');
  }

  /** Temporary folders left by workers that died while writing (none are writing once a sweep is complete). */
  removePartials(id: string): number {
    const dir = this.runsDir(id);
    if (!existsSync(dir)) return 0;
    const partial = readdirSync(dir).filter((f) => f.startsWith('.partial-'));
    for (const f of partial) rmSync(join(dir, f), { recursive: true, force: true });
    return partial.length;
  }

  /** Indices of the run folders present. */
  runIndices(id: string): number[] {
    const dir = this.runsDir(id);
    if (!existsSync(dir)) return [];
    return readdirSync(dir).filter((f) => /^\d+$/.test(f)).map(Number).sort((a, b) => a - b);
  }
}

/** unit.json of a run folder: where and when the run was trained, and what the collector needs beside its record. */
export function unitJson(o: { sweep?: string; kind: string; run: number; job?: string; attempt?: number; worker: string; adapter: unknown; startedAt: string; resumedFrom?: Record<string, number>; context: Record<string, unknown> }): string {
  return JSON.stringify({ sweep: o.sweep ?? null, kind: o.kind, run: o.run, job: o.job ?? null, attempt: o.attempt ?? 1, worker: o.worker, adapter: o.adapter, startedAt: o.startedAt, finishedAt: new Date().toISOString(), resumedFrom: o.resumedFrom ?? {}, context: o.context }, null, 2) + '\n';
}
