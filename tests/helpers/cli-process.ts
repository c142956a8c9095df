/**
 * The CLI as real processes, for tests that signal, kill and resume them: spawn, wait for a state
 * (never for a time), read a run's checkpoint progress from its work folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { checkpointProgress } from '../../src/train/checkpoint-store.ts';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `sgdscope <args>` in `cwd` (the checkout by default), as node + tsx like the launcher does. */
export function sgdscope(args: string[], cwd = ROOT, env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['--import', `file://${ROOT}/node_modules/tsx/dist/loader.mjs`, join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Runs to the end; returns exit code and output. */
export async function sgdscopeDone(args: string[], cwd = ROOT, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = sgdscope(args, cwd, env);
  const { code } = await r.exit;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

/** Polls `ready` until it returns a value (not null/false), or throws after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, ready: () => T | null | false, timeoutMs = 180_000, pollMs = 100): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = ready();
    if (v !== null && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The progress (step, runs finished) of the newest checkpoint in `<out>.tmp-<pid>/`, or null. */
export function workProgress(out: string, pid: number): number | null {
  const ck = join(`${out}.tmp-${pid}`, 'checkpoint.bin');
  return existsSync(ck) ? checkpointProgress(ck) : null;
}

/** Work folders `<out>.tmp-*` beside `out`. */
export function workFolders(out: string): string[] {
  return readdirSync(dirname(out)).filter((n) => n.startsWith(`${basename(out)}.tmp-`)).map((n) => join(dirname(out), n));
}
