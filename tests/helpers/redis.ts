/**
 * A real redis-server for the queue tests: Debian's, installed on demand by
 * scripts/ensure-deps.sh, started on a free 127.0.0.1 port with its data (AOF, fsync'ed at every
 * write) in a temporary folder, stopped after. Every wait has a timeout.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';

const ROOT = resolve(import.meta.dirname, '../..');

function redisBinary(): string {
  const found = (): string | null => (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim() || null);
  let bin = found();
  if (!bin) {
    const r = spawnSync('bash', [join(ROOT, 'scripts/ensure-deps.sh'), 'redis'], { encoding: 'utf8', timeout: 600_000 });
    bin = found();
    if (!bin) throw new Error(`redis-server is not installed and scripts/ensure-deps.sh could not install it:\n${r.stdout}${r.stderr}`);
  }
  return bin;
}

/** A port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export async function waitFor<T>(what: string, f: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, everyMs = 100): Promise<T> {
  const t0 = Date.now();
  let last = '';
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = ` (last error: ${(e as Error).message})`;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface RedisServer {
  port: number;
  url(db?: number): string;
  /** Stops the server (SIGTERM: it writes its AOF and exits), waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data folder. */
  start(): Promise<void>;
  /** Stops it and removes its data folder. */
  dispose(): Promise<void>;
  log(): string;
}

export async function startRedis(): Promise<RedisServer> {
  const bin = redisBinary();
  const dir = mkdtempSync(join(tmpdir(), 'sgdscope-redis-'));
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const logFile = join(dir, 'redis.log');
  const start = async (): Promise<void> => {
    proc = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--logfile', logFile, '--daemonize', 'no'], { stdio: 'ignore' });
    const p = proc;
    await waitFor(`redis-server on port ${port}`, async () => {
      if (p.exitCode !== null) throw new Error(`redis-server exited with ${p.exitCode}: ${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : ''}`);
      const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
      c.on('error', () => undefined);
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } finally {
        c.disconnect();
      }
    }, 20_000);
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };
  await start();
  return {
    port,
    url: (db = 0) => `redis://127.0.0.1:${port}/${db}`,
    stop,
    start,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
  };
}
