/**
 * The WebAssembly float64 kernels of linalg-wat.ts, compiled once per process (wabt, the npm
 * package, turns the text into a module; Node 20 and every current browser run 128-bit SIMD),
 * with a growable memory the callers lay their arrays out in (Arena). loadLinalg() resolves to
 * null where WebAssembly SIMD is not available; callers then run their JavaScript twins, which
 * compute the same thing (tests compare both).
 */
import { LINALG_WAT } from './linalg-wat.ts';

export interface LinalgExports {
  memory: WebAssembly.Memory;
  dot(x: number, y: number, n: number): number;
  axpy(a: number, x: number, y: number, n: number): void;
  fused_row(L: number, v: number, w: number, u: number, y: number, n: number, vi: number, wi: number, ui: number): number;
  reflect(V: number, Z: number, len: number, beta: number, g: number, stride: number): void;
  mgs(x: number, Z: number, n: number, count: number): void;
  syrk_panel(D: number, S: number, P: number, B: number, i0: number, i1: number): void;
}

let pending: Promise<LinalgExports | null> | null = null;
let loaded: LinalgExports | null = null;

async function compile(): Promise<LinalgExports | null> {
  if (typeof WebAssembly === 'undefined') return null;
  const wabt = await (await import('wabt')).default();
  const mod = wabt.parseWat('linalg.wat', LINALG_WAT, { simd: true });
  try {
    const bytes = new Uint8Array(mod.toBinary({}).buffer);
    if (!WebAssembly.validate(bytes)) return null;
    const { instance } = await WebAssembly.instantiate(bytes);
    return instance.exports as unknown as LinalgExports;
  } finally {
    mod.destroy();
  }
}

/** The kernels (null without WebAssembly SIMD); compiled on the first call. */
export function loadLinalg(): Promise<LinalgExports | null> {
  pending ??= compile().then(
    (k) => (loaded = k),
    () => (loaded = null),
  );
  return pending;
}

/** The kernels if loadLinalg() has finished and succeeded, else null (synchronous callers). */
export function linalgIfLoaded(): LinalgExports | null {
  return loaded;
}

/** Byte offsets of float64 arrays laid out one after another in the module's memory. */
export class Arena {
  private top = 0;
  constructor(readonly k: LinalgExports) {}

  /** Room for n doubles (16-byte aligned); the memory grows as needed. */
  alloc(n: number): number {
    const at = this.top;
    this.top += Math.ceil((n * 8) / 16) * 16;
    const need = this.top - this.k.memory.buffer.byteLength;
    if (need > 0) this.k.memory.grow(Math.ceil(need / 65536));
    return at;
  }

  /** A Float64Array over n doubles at byte offset `at` (valid until the next alloc). */
  view(at: number, n: number): Float64Array {
    return new Float64Array(this.k.memory.buffer, at, n);
  }
}
