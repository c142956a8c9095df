/**
 * Counter-based random numbers shared bit-for-bit by shaders/lib/threefry.wgsl (included by the
 * dropout, randnet and toy_walkers shaders) and their CPU references:
 * Threefry-2x32 with 20 rounds (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as
 * 1, 2, 3", SC 2011; the Random123 default, known-answer vectors in the tests).
 *
 * A random network never has to be stored: weight (k, n) of layer l of network `seed` is a pure
 * function of (seed, l, k, n), so the GPU regenerates it wherever it is needed (forward and
 * backward pass) and any width × depth fits in memory. The integer part (threefry2x32) is exact
 * in both languages; the Gaussian transform below runs in float32 on the GPU and float64 here, so
 * the two agree to ~1e-6 absolute (measured: 1.2e-6 max, 1.2e-7 rms), not bitwise.
 */

/** Random123's rotation constants R_32x2 and the Skein key-schedule parity. */
const ROT = [13, 15, 26, 6, 17, 29, 16, 24] as const;
const PARITY = 0x1bd11bda;

/** Threefry-2x32-R of counter (c0, c1) under key (k0, k1): two uniformly random u32. */
export function threefry2x32(c0: number, c1: number, k0: number, k1: number, rounds = 20): [number, number] {
  const ks = [k0 >>> 0, k1 >>> 0, (PARITY ^ k0 ^ k1) >>> 0];
  let x0 = (c0 + ks[0]) >>> 0;
  let x1 = (c1 + ks[1]) >>> 0;
  for (let r = 0; r < rounds; r++) {
    const s = ROT[r % 8];
    x0 = (x0 + x1) >>> 0;
    x1 = ((x1 << s) | (x1 >>> (32 - s))) >>> 0;
    x1 = (x1 ^ x0) >>> 0;
    if ((r + 1) % 4 === 0) {
      const i = (r + 1) / 4;
      x0 = (x0 + ks[i % 3]) >>> 0;
      x1 = (x1 + ks[(i + 1) % 3] + i) >>> 0;
    }
  }
  return [x0, x1];
}

const TWO_M24 = 1 / 16777216;

/**
 * Two independent N(0, 1) draws from counter (c0, c1) (Box–Muller on 24-bit uniforms):
 *   u1 = (x0 >> 8 + 1)·2⁻²⁴ ∈ (0, 1],  θ = π(2·(x1 >> 8)·2⁻²⁴ − 1) ∈ [−π, π),
 *   z0 = √(−2 ln u1) cos θ,  z1 = √(−2 ln u1) sin θ.
 * (The shader evaluates sin/cos by polynomials, its built-ins being only 2⁻¹¹-accurate on Vulkan.)
 * Tails are cut at √(48 ln 2) ≈ 5.77σ (probability 8e-9: irrelevant for second moments).
 */
export function normalPair(c0: number, c1: number, k0: number, k1: number): [number, number] {
  const [x0, x1] = threefry2x32(c0, c1, k0, k1);
  const u1 = ((x0 >>> 8) + 1) * TWO_M24;
  const theta = Math.PI * (2 * (x1 >>> 8) * TWO_M24 - 1);
  const r = Math.sqrt(-2 * Math.log(u1));
  return [r * Math.cos(theta), r * Math.sin(theta)];
}

/** Key word 1 of the readout (output-gradient) stream; layer keys are 0, 1, 2, … below it. */
export const READOUT_STREAM = 0x80000000;

/**
 * Standard normal z[k, n] of a (rows, cols) block under key (k0, k1): pairs of columns share one
 * counter (c0 = ⌊n/2⌋, c1 = k), n even taking z0 and n odd z1. This is the layout the shader uses
 * (a thread's tile starts at an even column), so any element can be regenerated alone.
 */
export function normalAt(k: number, n: number, k0: number, k1: number): number {
  const [z0, z1] = normalPair(n >>> 1, k, k0, k1);
  return n & 1 ? z1 : z0;
}

/** The whole (rows, cols) block row-major, in float64. */
export function normalBlock(rows: number, cols: number, k0: number, k1: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let k = 0; k < rows; k++) {
    for (let n = 0; n < cols; n += 2) {
      const [z0, z1] = normalPair(n >>> 1, k, k0, k1);
      out[k * cols + n] = z0;
      if (n + 1 < cols) out[k * cols + n + 1] = z1;
    }
  }
  return out;
}
