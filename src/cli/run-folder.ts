/**
 * Writing a run folder to disk without ever destroying earlier results: a folder that already
 * holds files is refused unless --force, and each file is written to a temporary name and renamed,
 * so an interrupted write never leaves a half file under the real name.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunFiles } from '../train/run-files.ts';

export function defaultRunDir(kind: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
  return join('runs', `${stamp}-${kind}`);
}

export function prepareRunDir(dir: string, force: boolean): string {
  const abs = resolve(dir);
  if (existsSync(abs) && readdirSync(abs).length > 0 && !force) {
    throw new Error(`--out ${dir}: the folder exists and is not empty; choose another folder or pass --force to overwrite its files`);
  }
  mkdirSync(abs, { recursive: true });
  return abs;
}

export function writeRunFiles(dir: string, files: RunFiles): void {
  for (const [name, content] of files) {
    const path = join(dir, name);
    const tmp = `${path}.partial`;
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  }
}
