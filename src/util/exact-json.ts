/**
 * JSON that gives back exactly what went in: plain JSON turns NaN and ±Infinity into null and
 * typed arrays into index-keyed objects. Here a non-finite number becomes {"$num": "NaN"}, and a
 * typed array {"$f32" | "$f64" | "$u32" | "$i32" | "$u8": base64 of its little-endian bytes}; every
 * finite double round-trips bit for bit (JSON's shortest representation does), -0 included via
 * {"$num": "-0"}. Used for result records that another process (a queue worker) writes and a
 * collector reads back to rebuild files byte-identical to an in-process run's.
 */
type Typed = Float32Array | Float64Array | Uint32Array | Int32Array | Uint8Array;

const TAGS: [string, new (b: ArrayBuffer) => Typed][] = [['$f32', Float32Array], ['$f64', Float64Array], ['$u32', Uint32Array], ['$i32', Int32Array], ['$u8', Uint8Array]];

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Base64 by hand: this module also runs in the browser (no Buffer there). */
function toBase64(a: Typed): string {
  const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let out = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < b.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < b.length ? B64[n & 63] : '=');
  }
  return out;
}

function fromBase64(s: string, ctor: new (b: ArrayBuffer) => Typed): Typed {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const bytes = new Uint8Array((s.length / 4) * 3 - pad);
  for (let i = 0, o = 0; i < s.length; i += 4) {
    const at = (k: number): number => B64_INDEX.get(s[i + k]) ?? 0;
    const n = (at(0) << 18) | (at(1) << 12) | (at(2) << 6) | at(3);
    for (const byte of [n >> 16, (n >> 8) & 255, n & 255]) if (o < bytes.length) bytes[o++] = byte;
  }
  return new ctor(bytes.buffer);
}

function tag(v: unknown): unknown {
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { $num: 'NaN' };
    if (!Number.isFinite(v)) return { $num: v > 0 ? 'Infinity' : '-Infinity' };
    return Object.is(v, -0) ? { $num: '-0' } : v;
  }
  if (ArrayBuffer.isView(v)) {
    const t = TAGS.find(([, c]) => v instanceof c);
    if (!t) throw new Error(`exact-json: unsupported array type ${v.constructor.name}`);
    return { [t[0]]: toBase64(v as Typed) };
  }
  if (Array.isArray(v)) return v.map(tag);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = tag(x);
    return out;
  }
  return v;
}

function untag(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(untag);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      if (keys[0] === '$num') return Number(o.$num === '-0' ? -0 : o.$num);
      const t = TAGS.find(([name]) => name === keys[0]);
      if (t) return fromBase64(o[t[0]] as string, t[1]);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = untag(x);
    return out;
  }
  return v;
}

export function encodeExactJson(v: unknown): string {
  return JSON.stringify(tag(v)) + '\n';
}

export function decodeExactJson<T>(text: string): T {
  return untag(JSON.parse(text)) as T;
}

/** The tagged JSON-able value itself (for a field of a checkpoint's JSON header). */
export function toExact(v: unknown): unknown {
  return tag(v);
}

export function fromExact<T>(v: unknown): T {
  return untag(v) as T;
}
