/**
 * gzip detection and decompression in Node (zlib, synchronous and fast) and in the
 * browser (DecompressionStream, the only built-in inflater there).
 *
 * Decompression is capped: `limitFor(head)` sees the first bytes of the output (e.g. an IDX
 * header, which says how big the file is) and returns the most bytes the whole output may have.
 * A file that inflates past that is refused without inflating the rest, so a few megabytes of
 * gzip cannot make sgdscope allocate gigabytes.
 */
import { isNode, nodeZlib } from './platform.ts';

/** gzip streams start with the bytes 1f 8b (RFC 1952). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The cap: `head` holds at least `headBytes` bytes of output (fewer only if the whole output is shorter). */
export interface InflateLimit {
  headBytes: (prefix: Uint8Array) => number;
  limitFor: (head: Uint8Array) => number;
}

/** No cap beyond what a typed array may hold. */
const UNCAPPED: InflateLimit = { headBytes: () => 0, limitFor: () => 2 ** 31 };

/** Decompress a whole gzip buffer; errors name `name` (a file name or label). */
export async function gunzip(bytes: Uint8Array, name: string, limit: InflateLimit = UNCAPPED): Promise<Uint8Array> {
  return isNode() ? gunzipNode(bytes, name, limit) : gunzipWeb(bytes, name, limit);
}

function tooLarge(name: string, max: number): Error {
  return new Error(`${name}: decompresses to more than the ${max} bytes its header declares (corrupt file or gzip bomb); refused`);
}

export function gunzipNode(bytes: Uint8Array, name: string, limit: InflateLimit = UNCAPPED): Uint8Array {
  const zlib = nodeZlib(`gunzip ${name}`);
  const failed = (e: unknown): Error => new Error(`${name}: gzip decompression failed (corrupt or truncated .gz?): ${(e as Error).message}`);
  // The head: inflate growing prefixes of the input (without Z_FINISH, so a prefix is no error)
  // until the output covers what limitFor needs. Output per input byte is at most ~1032, so the
  // head costs at most a few megabytes whatever the file holds.
  let head = new Uint8Array(0);
  for (let n = 64; ; n *= 2) {
    try {
      const out = zlib.gunzipSync(bytes.subarray(0, Math.min(n, bytes.length)), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      head = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      throw failed(e);
    }
    if (head.length >= limit.headBytes(head) || n >= bytes.length) break;
  }
  const max = limit.limitFor(head);
  let out: Uint8Array;
  try {
    out = zlib.gunzipSync(bytes, { maxOutputLength: max + 1 });
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? tooLarge(name, max) : failed(e);
  }
  if (out.byteLength > max) throw tooLarge(name, max);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Browser path; exported so Node tests can exercise it too (Node 18+ has DecompressionStream). */
export async function gunzipWeb(bytes: Uint8Array, name: string, limit: InflateLimit = UNCAPPED): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') {
    throw new Error(`${name}: cannot decompress gzip: DecompressionStream is not available in this browser`);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  let max: number | null = null;
  const joined = (): Uint8Array => {
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    // Copy into a fresh ArrayBuffer: Blob rejects views over SharedArrayBuffer, and a Node
    // Buffer's .slice() is a view into a shared pool, not a copy.
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    reader = new Blob([copy.buffer]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  } catch (e) {
    throw new Error(`${name}: gzip decompression failed: ${(e as Error).message}`);
  }
  for (;;) {
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await reader.read();
    } catch (e) {
      throw new Error(`${name}: gzip decompression failed (corrupt or truncated .gz?): ${(e as Error).message}`);
    }
    if (r.done) break;
    parts.push(r.value);
    total += r.value.length;
    if (max === null) {
      const head = joined();
      if (head.length >= limit.headBytes(head)) max = limit.limitFor(head);
    }
    if (max !== null && total > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(name, max);
    }
  }
  const out = joined();
  if (max === null) {
    const m = limit.limitFor(out);
    if (out.length > m) throw tooLarge(name, m);
  }
  return out;
}
