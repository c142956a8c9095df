/**
 * Files that survive a crash (Node only): a file is written under a temporary name, fsync'ed and
 * renamed over the real one, and the folder is fsync'ed so the rename itself is on disk. A reader
 * therefore sees the old file or the new one, never half of one. Folders are created one level at
 * a time with plain errors (Node's recursive mkdir spins forever on some paths, e.g. under /proc).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, parse } from 'node:path';

export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } catch (e) {
    // Some file systems refuse fsync on a folder (EINVAL); the data files themselves were synced.
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `data` to an open file descriptor. */
export function writeAll(fd: number, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let at = 0;
  while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
}

/** Replaces `path` with `data` atomically and durably (temp file, fsync, rename, fsync of the folder). */
export function writeFileDurable(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.partial-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncPath(dirname(path));
}

/**
 * Creates `dir` and any missing parents, one level at a time, failing at once with the path and the
 * reason when one cannot be created (read-only, not a folder, /proc…). Returns the absolute path.
 */
export function makeDirs(dir: string, what = dir): void {
  const missing: string[] = [];
  let at = dir;
  while (!existsSync(at)) {
    missing.push(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  if (existsSync(at) && !statSync(at).isDirectory()) throw new Error(`${what}: ${at} exists and is not a folder`);
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(d).isDirectory()) continue;
      throw new Error(`${what}: cannot create ${d} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
}

/** SHA-256 of a file, read in 1 MiB pieces (files may be larger than one string). */
export function sha256File(path: string): { sha256: string; bytes: number } {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Removes a folder tree (no error if it is already gone). */
export function removeTree(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** True for the root of the file system or the folder that holds `path` (e.g. the working directory). */
export function isRootOrAncestor(path: string, of: string): boolean {
  if (parse(path).root === path) return true;
  const rel = join(of, '/').startsWith(join(path, '/'));
  return rel;
}
