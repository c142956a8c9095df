/**
 * The sgdscope command line as child processes: one-shot commands (run to their end, with a
 * timeout) and long-running workers (spawned, logs kept, stopped or killed by the test).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export function sgdscope(args: string[], timeoutMs = 300_000): CliResult {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - t0) / 1000 };
}

/** The same, without blocking the test's event loop (workers spawned by the test keep running). */
export function sgdscopeAsync(args: string[], timeoutMs = 300_000): Promise<CliResult> {
  const t0 = performance.now();
  return new Promise((res) => {
    const p = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (status) => {
      clearTimeout(t);
      res({ status, stdout, stderr, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

export interface WorkerProc {
  proc: ChildProcess;
  log(): string;
  /** SIGTERM, then wait for the exit (SIGKILL after the timeout); returns the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** Waits for the exit (SIGKILL after the timeout); returns the exit code. */
  exit(timeoutMs?: number): Promise<number | null>;
}

export function startWorker(args: string[]): WorkerProc {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.on('data', (d) => (log += d));
  proc.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return {
    proc,
    log: () => log,
    stop: async (timeoutMs = 60_000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    exit: async (timeoutMs = 60_000) => {
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    kill: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** A python3 that has numpy (for the independent checks of saved weights): the PATH one, else Debian's (python3-numpy). */
export function pythonWithNumpy(): string {
  for (const py of ['python3', '/usr/bin/python3']) if (spawnSync(py, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0) return py;
  throw new Error('no python3 with numpy: apt-get install python3-numpy (scripts/ensure-deps.sh does this)');
}
