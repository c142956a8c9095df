/**
 * NumPy .npy files (format version 1.0): little-endian float32/float64/int32/uint32/uint8 arrays,
 * C order. `numpy.load` reads what `encodeNpy` writes; `decodeNpy` reads those types back.
 */
export type NpyArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

const DESCR: [new (...a: never[]) => NpyArray, string][] = [
  [Float32Array, '<f4'],
  [Float64Array, '<f8'],
  [Int32Array, '<i4'],
  [Uint32Array, '<u4'],
  [Uint8Array, '|u1'],
];

export function encodeNpy(data: NpyArray, shape: number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`npy: shape [${shape.join(', ')}] holds ${count} values, data has ${data.length}`);
  const descr = DESCR.find(([ctor]) => data instanceof ctor)?.[1];
  if (!descr) throw new Error('npy: unsupported array type');
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

export function decodeNpy(bytes: Uint8Array): { data: NpyArray; shape: number[] } {
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') {
    throw new Error('npy: not a .npy file (bad magic)');
  }
  const major = bytes[6];
  const headerLen = major === 1 ? bytes[8] | (bytes[9] << 8) : bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24);
  const start = major === 1 ? 10 : 12;
  const header = String.fromCharCode(...bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (fortran) throw new Error('npy: Fortran-ordered arrays are not supported');
  const entry = DESCR.find(([, d]) => d === descr);
  if (!entry) throw new Error(`npy: unsupported dtype ${descr}`);
  const Ctor = entry[0] as unknown as { new (b: ArrayBuffer): NpyArray; BYTES_PER_ELEMENT: number };
  const count = shape.reduce((a, b) => a * b, 1);
  const need = count * Ctor.BYTES_PER_ELEMENT;
  const available = bytes.byteLength - start - headerLen;
  if (available < need) throw new Error(`npy: truncated: ${available} bytes for ${count} values`);
  // Copy through byteOffset: `bytes` may be a view into a larger buffer (a Node Buffer from
  // readFileSync shares a memory pool), so its .buffer is not the file.
  const body = new Uint8Array(need);
  body.set(new Uint8Array(bytes.buffer, bytes.byteOffset + start + headerLen, need));
  return { data: new Ctor(body.buffer), shape };
}
