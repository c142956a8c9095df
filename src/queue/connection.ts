/**
 * Reaching Redis. Before any BullMQ object is made, a short-lived client checks — within a
 * timeout — that the server answers, speaks a Redis new enough for BullMQ (≥ 6.2, as documented),
 * and how it persists; so an unreachable or wrong address is a clear error naming the URL, never
 * a hang. The long-lived connections (bullmqConnection) then reconnect forever on their own, so
 * a Redis restart mid-sweep only pauses the workers.
 */
import { Redis } from 'ioredis';
import { redisOptions, type QueueUrl } from './url.ts';

export const MIN_REDIS = [6, 2, 0];

export interface RedisInfo {
  version: string;
  /** 'yes' when the append-only file is on (the documented set-up: nothing lost on a restart). */
  aof: boolean;
  maxmemoryPolicy: string;
}

function versionAtLeast(v: string, min: number[]): boolean {
  const p = v.split('.').map(Number);
  for (let i = 0; i < min.length; i++) {
    if ((p[i] ?? 0) !== min[i]) return (p[i] ?? 0) > min[i];
  }
  return true;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A one-off connection that fails fast: no retries, no offline queue. */
export function shortLivedClient(q: QueueUrl, timeoutMs: number): Redis {
  const c = new Redis({ ...redisOptions(q), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  c.on('error', () => undefined); // reported through the promises below
  return c;
}

/** Connects, checks the version, reads the persistence settings, disconnects. */
export async function probeRedis(q: QueueUrl, timeoutMs = 5000): Promise<RedisInfo> {
  const c = shortLivedClient(q, timeoutMs);
  let lastError = '';
  c.on('error', (e: Error) => (lastError = e.message));
  try {
    const info = await withTimeout(
      (async () => {
        await c.connect();
        return c.info();
      })(),
      timeoutMs,
      () => `no answer within ${(timeoutMs / 1000).toFixed(1)} s${lastError ? ` (${lastError})` : ''}`,
    );
    const field = (name: string): string => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
    const version = field('redis_version');
    if (!versionAtLeast(version, MIN_REDIS)) throw new Error(`Redis ${version || '(unknown version)'} is too old: BullMQ needs Redis ≥ ${MIN_REDIS.join('.')}`);
    return { version, aof: field('aof_enabled') === '1', maxmemoryPolicy: field('maxmemory_policy') };
  } catch (e) {
    // ioredis rejects with "Connection is closed." and reports the cause (ECONNREFUSED …) as an event.
    const msg = /Connection is closed/.test((e as Error).message) && lastError ? lastError : (e as Error).message;
    const hint = /ECONNREFUSED|no answer|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ETIMEDOUT/.test(msg) ? ' — is redis-server running there and reachable from this machine?' : '';
    throw new Error(`cannot use the queue at ${q.shown}: ${msg}${hint}`);
  } finally {
    c.disconnect();
  }
}

/**
 * Options for BullMQ's own connections: retry forever with a capped back-off (a Redis restart
 * pauses the work, never ends it), and no per-command retry limit (BullMQ's workers need that).
 */
export function bullmqConnection(q: QueueUrl, onRetry?: (attempt: number) => void): Record<string, unknown> {
  return {
    ...redisOptions(q),
    maxRetriesPerRequest: null,
    retryStrategy: (attempt: number) => {
      onRetry?.(attempt);
      return Math.min(200 * attempt, 2000);
    },
  };
}
