/**
 * JSON that gives back exactly what went in: plain JSON turns NaN and ±Infinity into null, -0 into
 * 0 and typed arrays into objects. Here those are written as {"$n": "NaN" | "Infinity" |
 * "-Infinity" | "-0"} and {"$f64" | "$f32" | "$u32" | "$u8": "<base64 of the bytes>"}, so records
 * kept in a checkpoint (a sweep's finished runs) come back bit for bit.
 */
const TYPED: Record<string, new (b: ArrayBuffer) => Float64Array | Float32Array | Uint32Array | Uint8Array> = { $f64: Float64Array, $f32: Float32Array, $u32: Uint32Array, $u8: Uint8Array };

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function encode(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? v : { $n: Object.is(v, -0) ? '-0' : String(v) };
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const tag = v instanceof Float64Array ? '$f64' : v instanceof Float32Array ? '$f32' : v instanceof Uint32Array ? '$u32' : v instanceof Uint8Array ? '$u8' : null;
    if (!tag) throw new Error(`exact JSON: unsupported typed array ${v.constructor.name}`);
    return { [tag]: toBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
  }
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, encode(x)]));
  return v;
}

function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    const o = v as Record<string, unknown>;
    if (keys.length === 1 && keys[0] === '$n' && typeof o.$n === 'string') return o.$n === '-0' ? -0 : Number(o.$n);
    if (keys.length === 1 && Object.hasOwn(TYPED, keys[0]) && typeof o[keys[0]] === 'string') {
      const bytes = fromBase64(o[keys[0]] as string);
      return new TYPED[keys[0]](bytes.buffer as ArrayBuffer);
    }
    return Object.fromEntries(keys.map((k) => [k, decode(o[k])]));
  }
  return v;
}

/** A JSON-able value holding `v` exactly (for a checkpoint's meta). */
export function toExact(v: unknown): unknown {
  return encode(v);
}

export function fromExact<T>(v: unknown): T {
  return decode(v) as T;
}
