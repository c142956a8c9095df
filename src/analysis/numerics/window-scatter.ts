/**
 * Float64 moments of a recorded weight window (T rows of P float32 values, row t = step t, in
 * time order) on the CPU: the column means, centred sums of squares and least-squares slopes in t
 * (two passes), the scatter matrix S = Σ_t (x_t − μ)(x_t − μ)ᵀ, and the linearly detrended
 * window's scatter from S by a rank-1 downdate.
 *
 * The means feed the GPU's double-single scatter (precise-scatter.ts), which needs μ exactly;
 * scatterF64 is the CPU route to the same S (and the reference the GPU route is tested against),
 * in WebAssembly SIMD when loadLinalg() has run (wasm/linalg.ts), else in plain JavaScript.
 *
 * Detrending: with d_t = x_t − μ, b = Σ_t (t − t̄)·d_t / S_tt (the per-column slope, S_tt =
 * T(T² − 1)/12) and r_t = d_t − b·(t − t̄), Σ_t r_t r_tᵀ = S − S_tt·b bᵀ exactly, so the detrended
 * spectrum needs no second pass over the window. In float64 the downdate cancels about
 * log10(σ₁²(S)/σ₁²(S_det)) digits; the noise floor of the detrended spectrum says what is left.
 */

import { Arena, linalgIfLoaded, type LinalgExports } from './wasm/linalg.ts';

export interface WindowMoments {
  T: number;
  P: number;
  /** Column means μ_p. */
  mean: Float64Array;
  /** Σ_t (x_tp − μ_p)²: the diagonal of S (its sum is trace S). */
  ss: Float64Array;
  /** Least-squares slope per step, b_p. */
  slope: Float64Array;
  /** S_tt = Σ_t (t − t̄)² = T(T² − 1)/12. */
  stt: number;
}

export function windowMoments(x: ArrayLike<number>, T: number, P: number): WindowMoments {
  if (!(Number.isInteger(T) && T >= 2 && Number.isInteger(P) && P >= 1)) throw new Error(`windowMoments: T must be an integer >= 2 and P >= 1, got T = ${T}, P = ${P}`);
  if (x.length < T * P) throw new Error(`windowMoments: the window needs T·P = ${T * P} values, got ${x.length}`);
  const mean = new Float64Array(P);
  for (let t = 0; t < T; t++) {
    const o = t * P;
    for (let p = 0; p < P; p++) mean[p] += x[o + p];
  }
  for (let p = 0; p < P; p++) {
    mean[p] /= T;
    if (!Number.isFinite(mean[p])) throw new Error(`windowMoments: column ${p} of the window is not finite`);
  }
  const ss = new Float64Array(P);
  const slope = new Float64Array(P);
  const tBar = (T - 1) / 2;
  for (let t = 0; t < T; t++) {
    const o = t * P;
    const w = t - tBar;
    for (let p = 0; p < P; p++) {
      const d = x[o + p] - mean[p];
      ss[p] += d * d;
      slope[p] += w * d;
    }
  }
  const stt = (T * (T * T - 1)) / 12;
  for (let p = 0; p < P; p++) slope[p] /= stt;
  return { T, P, mean, ss, slope, stt };
}

export function traceOf(m: WindowMoments): number {
  let s = 0;
  for (let p = 0; p < m.P; p++) s += m.ss[p];
  return s;
}

/**
 * S (P, P) row-major in float64 on the CPU, rows processed in blocks of `blockRows` (centred and
 * transposed into a P × blockRows panel, so every dot product runs over contiguous memory).
 */
export function scatterF64(x: ArrayLike<number>, T: number, P: number, mean: ArrayLike<number>, o: { blockRows?: number; onBlock?: (rowsDone: number) => void; js?: boolean } = {}): Float64Array {
  const wasm = o.js ? null : linalgIfLoaded();
  if (wasm) return scatterWasm(wasm, x, T, P, mean, o);
  const B = Math.max(1, Math.min(o.blockRows ?? 64, T));
  const S = new Float64Array(P * P);
  const D = new Float64Array(P * B);
  for (let t0 = 0; t0 < T; t0 += B) {
    const R = Math.min(B, T - t0);
    for (let t = 0; t < R; t++) {
      const xo = (t0 + t) * P;
      for (let p = 0; p < P; p++) D[p * B + t] = x[xo + p] - mean[p];
    }
    for (let i = 0; i < P; i++) {
      const ai = i * B;
      const si = i * P;
      // Four columns at a time: each panel row of i is loaded once per four dot products.
      let j = i;
      for (; j + 3 < P; j += 4) {
        const a = j * B;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let t = 0; t < R; t++) {
          const di = D[ai + t];
          s0 += di * D[a + t];
          s1 += di * D[a + B + t];
          s2 += di * D[a + 2 * B + t];
          s3 += di * D[a + 3 * B + t];
        }
        S[si + j] += s0;
        S[si + j + 1] += s1;
        S[si + j + 2] += s2;
        S[si + j + 3] += s3;
      }
      for (; j < P; j++) {
        const a = j * B;
        let s0 = 0;
        for (let t = 0; t < R; t++) s0 += D[ai + t] * D[a + t];
        S[si + j] += s0;
      }
    }
    o.onBlock?.(t0 + R);
  }
  for (let i = 0; i < P; i++) for (let j = 0; j < i; j++) S[i * P + j] = S[j * P + i];
  return S;
}

/** scatterF64 with the WebAssembly SYRK panel (linalg-wat.ts syrk_panel): 2×4 blocks of dot products in SIMD. */
function scatterWasm(wasm: LinalgExports, x: ArrayLike<number>, T: number, P: number, mean: ArrayLike<number>, o: { blockRows?: number; onBlock?: (rowsDone: number) => void }): Float64Array {
  const Pp = Math.ceil(P / 4) * 4;
  const B = 2 * Math.max(1, Math.round((o.blockRows ?? 64) / 2));
  const ar = new Arena(wasm);
  const sAt = ar.alloc(Pp * Pp);
  const dAt = ar.alloc(Pp * B);
  ar.view(sAt, Pp * Pp).fill(0);
  for (let t0 = 0; t0 < T; t0 += B) {
    const R = Math.min(B, T - t0);
    const D = ar.view(dAt, Pp * B);
    D.fill(0);
    for (let t = 0; t < R; t++) {
      const xo = (t0 + t) * P;
      for (let p = 0; p < P; p++) D[p * B + t] = x[xo + p] - mean[p];
    }
    wasm.syrk_panel(dAt, sAt, Pp, B, 0, Pp);
    o.onBlock?.(t0 + R);
  }
  const Sp = ar.view(sAt, Pp * Pp);
  const S = new Float64Array(P * P);
  for (let i = 0; i < P; i++) {
    for (let j = i; j < P; j++) {
      const v = Sp[i * Pp + j];
      S[i * P + j] = v;
      S[j * P + i] = v;
    }
  }
  return S;
}

/** The detrended window's scatter S − S_tt·b bᵀ (a new array). */
export function detrendedScatter(S: Float64Array, m: WindowMoments): Float64Array {
  const { P, slope, stt } = m;
  const out = new Float64Array(P * P);
  for (let i = 0; i < P; i++) {
    const c = stt * slope[i];
    const o = i * P;
    for (let j = 0; j < P; j++) out[o + j] = S[o + j] - c * slope[j];
  }
  return out;
}

/** trace(S) − S_tt·|b|²: the detrended window's total sum of squares. */
export function detrendedTrace(m: WindowMoments): number {
  let b2 = 0;
  for (let p = 0; p < m.P; p++) b2 += m.slope[p] * m.slope[p];
  return traceOf(m) - m.stt * b2;
}
