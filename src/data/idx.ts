/**
 * Reader for the IDX format of MNIST / Fashion-MNIST (http://yann.lecun.com/exdb/mnist/).
 *
 * Layout, all big-endian:
 *   bytes 0-1  zero
 *   byte  2    type code: 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double
 *   byte  3    number of dimensions k
 *   then k uint32 sizes, then the data, last dimension fastest.
 * A gzip-compressed file (.gz, detected by its magic bytes, not its name) is inflated first.
 * The file must hold exactly header + data: both truncation and trailing bytes are
 * errors, since either means the file is not what its header says.
 */
import { gunzip, isGzip } from './gzip.ts';

export type IdxType = 'ubyte' | 'byte' | 'short' | 'int' | 'float' | 'double';
export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxFile {
  dims: number[];
  type: IdxType;
  /** The third magic byte (0x08..0x0E). */
  typeCode: number;
  /** Native-endian values, product(dims) of them. */
  data: IdxArray;
}

interface TypeInfo {
  type: IdxType;
  size: number;
}

export const IDX_TYPES: ReadonlyMap<number, TypeInfo> = new Map([
  [0x08, { type: 'ubyte', size: 1 }],
  [0x09, { type: 'byte', size: 1 }],
  [0x0b, { type: 'short', size: 2 }],
  [0x0c, { type: 'int', size: 4 }],
  [0x0d, { type: 'float', size: 4 }],
  [0x0e, { type: 'double', size: 8 }],
]);

const hex8 = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');
const hex2 = (v: number): string => '0x' + v.toString(16).padStart(2, '0').toUpperCase();

/** The largest IDX file read (a typed array's reach in every browser). */
export const IDX_MAX_BYTES = 2 ** 31 - 1;

/**
 * The size an IDX header declares (header + data bytes), from the first bytes of the file, or
 * null when they are too few or not an IDX header (parseIdx then says what is wrong).
 */
export function idxDeclaredBytes(head: Uint8Array, name: string): number | null {
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0) return null;
  const info = IDX_TYPES.get(head[2]);
  const ndims = head[3];
  if (!info || ndims === 0 || head.length < 4 + 4 * ndims) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let bytes = info.size;
  for (let k = 0; k < ndims; k++) bytes *= view.getUint32(4 + 4 * k, false);
  const total = 4 + 4 * ndims + bytes;
  if (total > IDX_MAX_BYTES) {
    const dims = Array.from({ length: ndims }, (_, k) => view.getUint32(4 + 4 * k, false));
    throw new Error(`IDX file ${name}: dims [${dims.join(', ')}] of ${info.type} declare ${total} bytes, more than the ${IDX_MAX_BYTES} sgdscope reads`);
  }
  return total;
}

/** Parse IDX bytes, inflating them first if they are gzip (no further than the header's size). `name` is used in error messages. */
export async function readIdx(bytes: Uint8Array | ArrayBuffer, name = 'IDX data'): Promise<IdxFile> {
  let b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (isGzip(b)) {
    b = await gunzip(b, `IDX file ${name}`, {
      headBytes: (p) => (p.length >= 4 ? 4 + 4 * p[3] : 4),
      // Not an IDX header: inflate a little more than the head, enough for parseIdx's message.
      limitFor: (head) => idxDeclaredBytes(head, name) ?? head.length + 1024,
    });
  }
  return parseIdx(b, name);
}

/** Parse uncompressed IDX bytes. */
export function parseIdx(input: Uint8Array, name = 'IDX data'): IdxFile {
  const where = `IDX file ${name}`;
  // A plain Uint8Array view: Node Buffers (a subclass) have a .slice() that does not copy.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.length < 4) throw new Error(`${where}: truncated: ${bytes.length} bytes, too short for the 4-byte magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${where}: bad magic ${hex8(magic)}: the first two bytes must be 0 (not an IDX file, or compressed with something other than gzip?)`);
  }
  const typeCode = bytes[2];
  const info = IDX_TYPES.get(typeCode);
  if (!info) {
    throw new Error(
      `${where}: bad magic ${hex8(magic)}: unknown type code ${hex2(typeCode)} (expected 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float or 0x0E double)`,
    );
  }
  const ndims = bytes[3];
  if (ndims === 0) throw new Error(`${where}: bad magic ${hex8(magic)}: declares 0 dimensions`);
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new Error(`${where}: truncated header: magic ${hex8(magic)} declares ${ndims} dims, expected ${headerBytes} header bytes, got ${bytes.length}`);
  }
  const dims: number[] = [];
  for (let k = 0; k < ndims; k++) dims.push(view.getUint32(4 + 4 * k, false));
  const count = dims.reduce((p, v) => p * v, 1);
  const expected = headerBytes + count * info.size;
  if (expected > IDX_MAX_BYTES) {
    throw new Error(`${where}: dims [${dims.join(', ')}] of ${info.type} declare ${expected} bytes, more than the ${IDX_MAX_BYTES} sgdscope reads`);
  }
  if (bytes.length < expected) {
    throw new Error(`${where}: truncated data: dims [${dims.join(', ')}] of ${info.type} need ${expected} bytes, got ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw new Error(`${where}: ${bytes.length - expected} trailing bytes: dims [${dims.join(', ')}] of ${info.type} need ${expected} bytes, got ${bytes.length}`);
  }
  return { dims, type: info.type, typeCode, data: decode(view, headerBytes, count, info.type, bytes) };
}

/** Big-endian payload → native typed array (always a copy, so the file buffer can be dropped). */
function decode(view: DataView, at: number, count: number, type: IdxType, bytes: Uint8Array): IdxArray {
  switch (type) {
    case 'ubyte':
      return bytes.slice(at, at + count);
    case 'byte':
      return new Int8Array(bytes.slice(at, at + count).buffer);
    case 'short': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(at + 2 * i, false);
      return out;
    }
    case 'int': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(at + 4 * i, false);
      return out;
    }
    case 'float': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(at + 4 * i, false);
      return out;
    }
    case 'double': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(at + 8 * i, false);
      return out;
    }
  }
}
