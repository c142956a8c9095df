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

/** Headers longer than this are refused, as numpy.load refuses them by default (max_header_size). */
export const NPY_MAX_HEADER = 10000;

/**
 * Reads a .npy file written by numpy or encodeNpy. Everything in the header is checked before
 * memory is allocated — magic, version, header length, dtype, order, every dimension (a
 * non-negative integer), and the shape's byte count against the bytes present (no more, no less)
 * — and every error names `name` (the file).
 */
export function decodeNpy(bytes: Uint8Array, name = 'npy data'): { data: NpyArray; shape: number[] } {
  const fail = (what: string): never => {
    throw new Error(`${name}: ${what}`);
  };
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') {
    fail(`not a .npy file (bad magic; ${bytes.length} bytes)`);
  }
  const major = bytes[6];
  if (major < 1 || major > 3 || bytes[7] !== 0) fail(`unsupported .npy format version ${major}.${bytes[7]} (1.0, 2.0 and 3.0 are read)`);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) fail(`truncated header (${bytes.length} bytes)`);
  const headerLen = major === 1 ? bytes[8] | (bytes[9] << 8) : (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24)) >>> 0;
  if (headerLen > NPY_MAX_HEADER) fail(`header length ${headerLen} exceeds ${NPY_MAX_HEADER} bytes`);
  if (start + headerLen > bytes.length) fail(`truncated header: ${headerLen} header bytes declared, ${bytes.length - start} present`);
  let header = '';
  for (let i = start; i < start + headerLen; i++) header += String.fromCharCode(bytes[i]);
  const dict = /^\s*\{(.*)\}\s*$/s.exec(header)?.[1];
  if (dict === undefined) fail(`header is not a Python dict literal: ${JSON.stringify(header.slice(0, 80))}`);
  const descr = /'descr':\s*'([^']*)'/.exec(dict!)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(dict!)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(dict!)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`header lacks 'descr', 'fortran_order' or 'shape': ${JSON.stringify(dict!.slice(0, 120))}`);
  if (fortran === 'True') fail('Fortran-ordered arrays are not supported');
  const entry = DESCR.find(([, d]) => d === descr) ?? (descr === '<u1' ? DESCR.find(([, d]) => d === '|u1') : undefined);
  if (!entry) fail(`unsupported dtype '${descr}' (read: ${DESCR.map(([, d]) => d).join(', ')})`);
  const dims = shapeText!.split(',').map((t) => t.trim());
  if (dims.at(-1) === '') dims.pop();
  const shape: number[] = [];
  for (const t of dims) {
    if (!/^\d{1,15}$/.test(t)) fail(`shape (${shapeText}) is not a tuple of non-negative integers`);
    shape.push(Number(t));
  }
  const Ctor = entry![0] as unknown as { new (b: ArrayBuffer): NpyArray; BYTES_PER_ELEMENT: number };
  const available = bytes.byteLength - start - headerLen;
  // The product, checked against the bytes present as it grows (no overflow, no huge allocation).
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count * Ctor.BYTES_PER_ELEMENT > available) fail(`truncated: shape (${shape.join(', ')}) of ${descr} needs more than the ${available} data bytes present`);
  }
  const need = count * Ctor.BYTES_PER_ELEMENT;
  if (available > need) fail(`${available - need} trailing bytes after the ${need} data bytes of shape (${shape.join(', ')}) ${descr}`);
  // Copy through byteOffset: `bytes` may be a view into a larger buffer (a Node Buffer from
  // readFileSync shares a memory pool), so its .buffer is not the file.
  const body = new Uint8Array(need);
  body.set(new Uint8Array(bytes.buffer, bytes.byteOffset + start + headerLen, need));
  return { data: new Ctor(body.buffer), shape };
}
