/**
 * The checkpoint file: one file holding a JSON description (what kind of state, its small fields)
 * and named binary arrays (weights, velocity, permutations, histories), so a state of any size is
 * written by one atomic rename. Layout, little-endian:
 *
 *   "SGDSCKPT"  u32 version (1)  u32 H  H bytes of JSON  zero padding to a multiple of 8
 *   the arrays, each starting at a multiple of 8 bytes (offsets in the JSON, from the data start)
 *   u32 CRC-32 of every byte before it
 *
 * JSON: { kind, meta, arrays: [{ name, dtype: 'f32'|'f64'|'u32'|'u8', length, offset }] }.
 * Reading checks every length, offset and the CRC before returning anything, and every error
 * names the file: a truncated, swapped or corrupted checkpoint is refused, never half-read.
 */
import { crc32 } from './zip.ts';
import { isPlainObject } from './keys.ts';

export type CheckpointArray = Float32Array | Float64Array | Uint32Array | Uint8Array;

export interface CheckpointContents {
  /** What the state belongs to, e.g. 'train', 'sweep', 'feng-tu'. */
  kind: string;
  /** Small fields (JSON): step, settings, generator states, finished runs… */
  meta: Record<string, unknown>;
  arrays: Record<string, CheckpointArray>;
}

const MAGIC = 'SGDSCKPT';
const VERSION = 1;
const DTYPES: Record<string, new (b: ArrayBuffer) => CheckpointArray> = { f32: Float32Array, f64: Float64Array, u32: Uint32Array, u8: Uint8Array };

function dtypeOf(a: CheckpointArray): string {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Uint8Array) return 'u8';
  throw new Error('checkpoint: unsupported array type');
}

const pad8 = (n: number): number => Math.ceil(n / 8) * 8;

export function encodeCheckpoint(c: CheckpointContents): Uint8Array {
  const list: { name: string; dtype: string; length: number; offset: number }[] = [];
  let dataBytes = 0;
  for (const [name, a] of Object.entries(c.arrays)) {
    list.push({ name, dtype: dtypeOf(a), length: a.length, offset: dataBytes });
    dataBytes = pad8(dataBytes + a.byteLength);
  }
  const json = new TextEncoder().encode(JSON.stringify({ kind: c.kind, meta: c.meta, arrays: list }));
  const dataStart = pad8(16 + json.length);
  const out = new Uint8Array(dataStart + dataBytes + 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  for (const e of list) {
    const a = c.arrays[e.name];
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), dataStart + e.offset);
  }
  view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/** The JSON part only (kind, meta), checked, without reading the arrays' bytes past the header. */
export function decodeCheckpointHeader(bytes: Uint8Array, name: string): { kind: string; meta: Record<string, unknown>; arrays: { name: string; dtype: string; length: number; offset: number }[]; dataStart: number } {
  const fail = (what: string): never => {
    throw new Error(`${name}: not a usable sgdscope checkpoint: ${what}`);
  };
  if (bytes.length < 20) fail(`${bytes.length} bytes, too short`);
  if (String.fromCharCode(...bytes.subarray(0, 8)) !== MAGIC) fail('bad magic (not a checkpoint file)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) fail(`format version ${version}; this sgdscope reads version ${VERSION}`);
  const h = view.getUint32(12, true);
  if (16 + h > bytes.length) fail(`truncated header (${h} bytes declared, ${bytes.length - 16} present)`);
  let head: unknown;
  try {
    head = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + h)));
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(head) || typeof head.kind !== 'string' || !isPlainObject(head.meta) || !Array.isArray(head.arrays)) fail('header lacks kind, meta or arrays');
  const h2 = head as { kind: string; meta: Record<string, unknown>; arrays: unknown[] };
  const arrays = h2.arrays.map((e, i) => {
    const a = e as { name?: unknown; dtype?: unknown; length?: unknown; offset?: unknown };
    if (!isPlainObject(e) || typeof a.name !== 'string' || typeof a.dtype !== 'string' || !Object.hasOwn(DTYPES, a.dtype) || !Number.isSafeInteger(a.length) || (a.length as number) < 0 || !Number.isSafeInteger(a.offset) || (a.offset as number) < 0) {
      fail(`array entry ${i} is malformed: ${JSON.stringify(e)?.slice(0, 120)}`);
    }
    return a as { name: string; dtype: string; length: number; offset: number };
  });
  return { kind: h2.kind, meta: h2.meta, arrays, dataStart: pad8(16 + h) };
}

export function decodeCheckpoint(bytes: Uint8Array, name: string): CheckpointContents {
  const { kind, meta, arrays, dataStart } = decodeCheckpointHeader(bytes, name);
  const fail = (what: string): never => {
    throw new Error(`${name}: not a usable sgdscope checkpoint: ${what}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 4;
  const out: Record<string, CheckpointArray> = {};
  for (const e of arrays) {
    const Ctor = DTYPES[e.dtype] as unknown as { new (b: ArrayBuffer): CheckpointArray; BYTES_PER_ELEMENT: number };
    const at = dataStart + e.offset;
    const n = e.length * Ctor.BYTES_PER_ELEMENT;
    if (at % 8 !== 0 || at + n > end) fail(`array '${e.name}' (${e.length} ${e.dtype}) runs past the end of the file (truncated?)`);
    if (Object.hasOwn(out, e.name)) fail(`array '${e.name}' appears twice`);
    const copy = new Uint8Array(n);
    copy.set(bytes.subarray(at, at + n));
    out[e.name] = new Ctor(copy.buffer);
  }
  const stored = view.getUint32(end, true);
  const actual = crc32(bytes.subarray(0, end));
  if (stored !== actual) fail(`checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)}): the file is corrupted or truncated`);
  return { kind, meta, arrays: out };
}
