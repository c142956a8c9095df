/**
 * gzip detection and decompression in Node (zlib, synchronous and fast) and in the
 * browser (DecompressionStream, the only built-in inflater there).
 */
import { isNode, nodeZlib } from './platform.ts';

/** gzip streams start with the bytes 1f 8b (RFC 1952). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompress a whole gzip buffer; errors name `name` (a file name or label). */
export async function gunzip(bytes: Uint8Array, name: string): Promise<Uint8Array> {
  return isNode() ? gunzipNode(bytes, name) : gunzipWeb(bytes, name);
}

export function gunzipNode(bytes: Uint8Array, name: string): Uint8Array {
  try {
    const out = nodeZlib(`gunzip ${name}`).gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new Error(`${name}: gzip decompression failed (corrupt or truncated .gz?): ${(e as Error).message}`);
  }
}

/** Browser path; exported so Node tests can exercise it too (Node 18+ has DecompressionStream). */
export async function gunzipWeb(bytes: Uint8Array, name: string): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') {
    throw new Error(`${name}: cannot decompress gzip: DecompressionStream is not available in this browser`);
  }
  try {
    // Copy into a fresh ArrayBuffer: Blob rejects views over SharedArrayBuffer, and a Node
    // Buffer's .slice() is a view into a shared pool, not a copy.
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    const stream = new Blob([copy.buffer]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new Error(`${name}: gzip decompression failed (corrupt or truncated .gz?): ${(e as Error).message}`);
  }
}
