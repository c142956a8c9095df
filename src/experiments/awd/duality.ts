/**
 * Activity–weight duality (Feng, Zhang & Tu, Nat. Mach. Intell. 5, 908 (2023)) for one dense
 * layer z = a·W (+ b) of a trained network (our layout: W is (K, N), a a row vector; the paper
 * writes z = Wa with W (N, K) — the same map).
 *
 * For a pair (training sample k, test sample t(k), same label): a = a_k, a' = a_t(k) the layer's
 * inputs, Δa = a' − a. The minimal (Frobenius) weight change with (W + ΔW)ᵀ-action a ↦ a':
 *
 *   u_k  = Δa·W                        (N)  the change of the pre-activation
 *   ΔW_k = a_k ⊗ u_k / ‖a_k‖²          (K, N)   [paper: ΔW* = (W Δa) aᵀ/‖a‖²]
 *   a_k·(W + ΔW_k) = a_k·W + u_k = a'·W   exactly (checked: float64 and with ΔW rounded to f32)
 *
 * With a bias, a is extended by a 1 (and Δa by a 0). So the test sample's loss equals the training
 * sample's loss at the dual weights: Δl_k = l(x_k; W + ΔW_k) − l(x_k; W) = l_test(t(k)) − l_train(k)
 * (computed both ways). Loss slopes along the dual weights (the authors' g_k: a secant, so that
 * g_k·ΔW_k = Δl_k exactly) and the first-order gradient ∇l_k = a_k ⊗ δ_k:
 *
 *   G_k = (Δl_k/‖ΔW_k‖²)·ΔW_k,          ∇l_k·ΔW_k = δ_k·u_k   (first-order prediction of Δl_k)
 *
 * Projected on the orthonormal eigenvectors v_n of the layer's training-loss Hessian,
 * w_kn = v_n·ΔW_k, g_kn = v_n·G_k, the mean over pairs splits per direction:
 *
 *   (1/M)Σ_k Δl_k = Σ_n (1/M)Σ_k g_kn w_kn = Σ_n (μ_g,n μ_w,n + c_n σ_g,n σ_w,n)
 *
 * (population mean/std over pairs, c_n their correlation): exact when all P directions are
 * included, so the decomposition of the gap is checked against the measured gap, and the sum
 * truncated to the top directions shows where the gap lives. σ_g,n is the sharpness factor
 * (σ_g,n² ~ λ_n: Fisher ≈ Hessian), σ_w,n the size factor (spread of the dual weights).
 */
import type { MlpConfig } from '../../nn/config.ts';
import { paramLayout } from '../../nn/params.ts';
import { lossFromLayer, type LayerRecord } from './network-cpu.ts';
import type { Pairs } from './pairing.ts';

export interface DualWeights {
  /** Pairs used (those with ‖a_k‖ > 0), indices into the Pairs arrays. */
  used: Uint32Array;
  /** Pairs skipped because the layer input of the training sample is all zero. */
  skipped: number;
  /** Rows of the layer block (K + bias) and columns N; P = rows·N. */
  rows: number;
  N: number;
  P: number;
  /** (M, P) the dual weights ΔW_k in the layer layout, float32 (for the GPU projection). */
  dW: Float32Array;
  /** (M, P) per-sample gradients ∇l_k = a_k ⊗ δ_k of the training samples, float32. */
  grad: Float32Array;
  /** Per pair: ‖ΔW_k‖, losses, Δl, first-order prediction. */
  dwNorm: Float64Array;
  trainLoss: Float64Array;
  testLoss: Float64Array;
  /** l(x_k; W + ΔW_k), computed through the dual weights. */
  dualLoss: Float64Array;
  deltaLoss: Float64Array;
  firstOrder: Float64Array;
  /** max_k max_j |a_k(W + ΔW_k) − a'_k W|_j / max|a'W| in float64, and with ΔW rounded to float32. */
  residual64: number;
  residual32: number;
  /** max_k |l(x_k; W + ΔW_k) − l_test(t(k))|. */
  lossMismatch: number;
}

export function dualWeights(c: MlpConfig, params: ArrayLike<number>, layer: number, train: LayerRecord, test: LayerRecord, trainY: ArrayLike<number>, pairs: Pairs): DualWeights {
  const layout = paramLayout(c);
  const L = layout.layers[layer];
  const K = L.fanIn;
  const N = L.fanOut;
  const bias = L.biasOffset !== null;
  const rows = K + (bias ? 1 : 0);
  const P = rows * N;
  const used: number[] = [];
  for (let p = 0; p < pairs.train.length; p++) {
    const k = pairs.train[p];
    let s = bias ? 1 : 0;
    for (let i = 0; i < K; i++) s += train.a[k * K + i] ** 2;
    if (s > 0) used.push(p);
  }
  const M = used.length;
  const dW = new Float32Array(M * P);
  const grad = new Float32Array(M * P);
  const dwNorm = new Float64Array(M);
  const trainLoss = new Float64Array(M);
  const testLoss = new Float64Array(M);
  const dualLoss = new Float64Array(M);
  const deltaLoss = new Float64Array(M);
  const firstOrder = new Float64Array(M);
  let residual64 = 0;
  let residual32 = 0;
  let scale = 0;
  let lossMismatch = 0;
  const W = (i: number, j: number): number => params[L.offset + i * N + j];
  const aAug = new Float64Array(rows);
  const u = new Float64Array(N);
  const zDual = new Float64Array(N);
  const zDual32 = new Float64Array(N);
  for (let m = 0; m < M; m++) {
    const p = used[m];
    const k = pairs.train[p];
    const t = pairs.test[p];
    let a2 = 0;
    for (let i = 0; i < K; i++) {
      aAug[i] = train.a[k * K + i];
      a2 += aAug[i] * aAug[i];
    }
    if (bias) {
      aAug[K] = 1;
      a2 += 1;
    }
    // u = Δa·W (the bias row does not move: Δa_aug has a 0 there).
    u.fill(0);
    for (let i = 0; i < K; i++) {
      const da = test.a[t * K + i] - train.a[k * K + i];
      if (da === 0) continue;
      for (let j = 0; j < N; j++) u[j] += da * W(i, j);
    }
    let nrm2 = 0;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < N; j++) {
        const v = (aAug[i] * u[j]) / a2;
        dW[m * P + i * N + j] = v;
        nrm2 += v * v;
        grad[m * P + i * N + j] = aAug[i] * train.delta[k * N + j];
      }
    }
    dwNorm[m] = Math.sqrt(nrm2);
    // (W + ΔW)ᵀ-action on a, in float64 and with ΔW as stored (float32), against a'·W.
    for (let j = 0; j < N; j++) {
      let s64 = bias ? params[L.biasOffset! + j] : 0;
      let s32 = s64;
      for (let i = 0; i < K; i++) {
        const a = aAug[i];
        if (a === 0) continue;
        s64 += a * (W(i, j) + (a * u[j]) / a2);
        s32 += a * (W(i, j) + dW[m * P + i * N + j]);
      }
      if (bias) {
        s64 += u[j] / a2;
        s32 += dW[m * P + K * N + j];
      }
      zDual[j] = s64;
      zDual32[j] = s32;
      const target = test.z[t * N + j];
      scale = Math.max(scale, Math.abs(target));
      residual64 = Math.max(residual64, Math.abs(s64 - target));
      residual32 = Math.max(residual32, Math.abs(s32 - target));
    }
    const label = trainY[k];
    trainLoss[m] = train.loss[k];
    testLoss[m] = test.loss[t];
    dualLoss[m] = lossFromLayer(c, params, layer, zDual, label).loss;
    lossMismatch = Math.max(lossMismatch, Math.abs(dualLoss[m] - testLoss[m]));
    deltaLoss[m] = dualLoss[m] - trainLoss[m];
    let fo = 0;
    for (let j = 0; j < N; j++) fo += train.delta[k * N + j] * u[j];
    firstOrder[m] = fo;
  }
  return {
    used: Uint32Array.from(used),
    skipped: pairs.train.length - M,
    rows,
    N,
    P,
    dW,
    grad,
    dwNorm,
    trainLoss,
    testLoss,
    dualLoss,
    deltaLoss,
    firstOrder,
    residual64: scale > 0 ? residual64 / scale : residual64,
    residual32: scale > 0 ? residual32 / scale : residual32,
    lossMismatch,
  };
}

export interface DirectionStats {
  /** Hessian eigenvalue λ_n (descending). */
  lambda: Float64Array;
  muW: Float64Array;
  sigmaW: Float64Array;
  /** Secant loss slopes G_k (exact decomposition). */
  muG: Float64Array;
  sigmaG: Float64Array;
  c: Float64Array;
  /** μ_g μ_w + c σ_g σ_w per direction, and its running sum over n. */
  term: Float64Array;
  cumulative: Float64Array;
  /** First-order gradient slopes ∇l_k: mean, std, correlation with w, term. */
  muD: Float64Array;
  sigmaD: Float64Array;
  cD: Float64Array;
  termD: Float64Array;
}

/**
 * Per-direction statistics from the projections θw (M, P) = ΔW·V and θd (M, P) = ∇l·V (row-major,
 * column n = direction n) and the secant factors s_k = Δl_k/‖ΔW_k‖² (θg = s_k·θw).
 */
export function directionStats(thetaW: ArrayLike<number>, thetaD: ArrayLike<number> | null, secant: ArrayLike<number>, lambda: ArrayLike<number>, M: number, P: number): DirectionStats {
  const f64 = (): Float64Array => new Float64Array(P);
  const muW = f64(), sigmaW = f64(), muG = f64(), sigmaG = f64(), c = f64(), term = f64(), cumulative = f64();
  const muD = f64(), sigmaD = f64(), cD = f64(), termD = f64();
  for (let n = 0; n < P; n++) {
    let sw = 0, sg = 0, sd = 0;
    for (let k = 0; k < M; k++) {
      const w = thetaW[k * P + n];
      sw += w;
      sg += secant[k] * w;
      if (thetaD) sd += thetaD[k * P + n];
    }
    const mw = sw / M, mg = sg / M, md = sd / M;
    let vw = 0, vg = 0, cov = 0, vd = 0, covd = 0;
    for (let k = 0; k < M; k++) {
      const w = thetaW[k * P + n] - mw;
      const g = secant[k] * thetaW[k * P + n] - mg;
      vw += w * w;
      vg += g * g;
      cov += w * g;
      if (thetaD) {
        const d = thetaD[k * P + n] - md;
        vd += d * d;
        covd += w * d;
      }
    }
    muW[n] = mw;
    sigmaW[n] = Math.sqrt(vw / M);
    muG[n] = mg;
    sigmaG[n] = Math.sqrt(vg / M);
    c[n] = sigmaW[n] > 0 && sigmaG[n] > 0 ? cov / M / (sigmaW[n] * sigmaG[n]) : 0;
    term[n] = mg * mw + c[n] * sigmaG[n] * sigmaW[n];
    cumulative[n] = (n > 0 ? cumulative[n - 1] : 0) + term[n];
    if (thetaD) {
      muD[n] = md;
      sigmaD[n] = Math.sqrt(vd / M);
      cD[n] = sigmaW[n] > 0 && sigmaD[n] > 0 ? covd / M / (sigmaW[n] * sigmaD[n]) : 0;
      termD[n] = md * mw + cD[n] * sigmaD[n] * sigmaW[n];
    }
  }
  return { lambda: Float64Array.from(lambda), muW, sigmaW, muG, sigmaG, c, term, cumulative, muD, sigmaD, cD, termD };
}

/** Root of the sum of squares of the first `top` entries (all when top ≥ length). */
export function rss(v: ArrayLike<number>, top = v.length): number {
  let s = 0;
  for (let i = 0; i < Math.min(top, v.length); i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

export function sum(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
}
