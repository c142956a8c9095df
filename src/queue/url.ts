/**
 * The queue's address: redis://[user:password@]host[:port][/db] (rediss:// for TLS), as every
 * multi-run command's --queue and `sgdscope worker --queue` take it. A malformed URL is refused
 * here, before anything connects, with the part that is wrong and an example of a good one.
 */
export interface QueueUrl {
  /** The URL as given (its password masked in `shown`). */
  url: string;
  shown: string;
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
}

const EXAMPLE = 'redis://127.0.0.1:6379/0';

export function parseQueueUrl(raw: string, flag = '--queue'): QueueUrl {
  const bad = (why: string): never => {
    throw new Error(`${flag} '${raw}': ${why} (expected redis://host:port/db, e.g. ${EXAMPLE})`);
  };
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return bad('not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') bad(`the scheme must be redis:// or rediss://, got ${u.protocol}//`);
  if (!u.hostname) bad('no host');
  const port = u.port === '' ? 6379 : Number(u.port);
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) bad(`the port must be in [1, 65535], got ${u.port}`);
  const path = u.pathname.replace(/^\//, '');
  if (!/^\d*$/.test(path)) bad(`the database must be a number after the host (/0 … /15 on a default Redis), got '/${path}'`);
  const db = path === '' ? 0 : Number(path);
  if (db > 100000) bad(`the database number ${db} is too large`);
  if (u.search || u.hash) bad('no ?query or #fragment is understood');
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const shown = `${u.protocol}//${username ? `${username}${password ? ':***' : ''}@` : password ? ':***@' : ''}${u.host}/${db}`;
  return { url: raw, shown, host, port, db, username, password, tls: u.protocol === 'rediss:' };
}

/** ioredis connection options for a parsed URL. */
export function redisOptions(q: QueueUrl): { host: string; port: number; db: number; username?: string; password?: string; tls?: object } {
  return { host: q.host, port: q.port, db: q.db, ...(q.username ? { username: q.username } : {}), ...(q.password ? { password: q.password } : {}), ...(q.tls ? { tls: {} } : {}) };
}
