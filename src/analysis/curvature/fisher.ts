/**
 * The gradient-noise covariance against the Hessian (science.md §4, §6).
 *
 * Per-sample gradients g_n = ∇l_n over the M training samples, mean ḡ = ∇L:
 *   C = (1/M) Σ_n (g_n − ḡ)(g_n − ḡ)ᵀ      centred: the covariance of the SGD noise per sample
 *                                          (a minibatch of B drawn without replacement has noise
 *                                          covariance C·(M − B)/(B(M − 1)))
 *   F = (1/M) Σ_n g_n g_nᵀ = C + ḡḡᵀ        uncentred, the "empirical Fisher"
 * Near a minimum ḡ ≈ 0 and, for cross-entropy, F ≈ Hessian; the comparison is made
 *   - in the Hessian's top eigenbasis: c_i = v_iᵀ C v_i = Var_n(g_n·v_i) against λ_i (log–log);
 *   - on the diagonal: C_ii against H_ii, fitting C_ii ∝ H_ii^γ (least squares in log–log).
 *
 * For a dense layer g_n = a_aug,n ⊗ δ_n (src/kernels/per_sample_grad.ts), so the diagonal needs
 * only the layer inputs a and the per-sample output gradients δ: C_ii = mean(a²δ²) − mean(aδ)².
 *
 * The Hessian diagonal: for piecewise-linear networks (ReLU or identity hidden units) every logit
 * is linear in each single weight, so ∂²z/∂θ_i² = 0 and H_ii equals the Gauss–Newton diagonal
 *   G_ii = (1/M) Σ_n Σ_c (J_nᵀ r_{n,c})_i²,  (diag p − ppᵀ) = R Rᵀ, R[i, c] = √p_c (δ_ic − p_i),
 * i.e. per-sample gradients of the C pseudo-losses r_cᵀ z, squared and summed: exact (almost
 * everywhere) and cheap (gaussNewtonDiagonalCpu). For tanh networks G_ii is only the Gauss–Newton
 * part; the exact diagonal then comes from the explicitly built block (dense-block.ts).
 */
import { activationDerivFromOutput } from '../../kernels/activation.ts';
import type { MlpConfig } from '../../nn/config.ts';
import { mlpForwardCpu } from '../../nn/mlp-cpu.ts';
import { paramLayout } from '../../nn/params.ts';
import { linearRegression, pearson } from '../numerics/stats.ts';

export interface ProjectedCovariance {
  /** Per direction j: mean of s_nj = g_n·v_j (= ḡ·v_j), centred and uncentred second moments. */
  mean: Float64Array;
  centred: Float64Array;
  uncentred: Float64Array;
}

/** From S (M, J) row-major, S[n, j] = g_n·v_j: Var_n and E_n[s²] per column (population, 1/M). */
export function projectedCovariance(S: ArrayLike<number>, M: number, J: number): ProjectedCovariance {
  if (S.length < M * J) throw new Error(`projectedCovariance: S must hold M·J = ${M * J} values, got ${S.length}`);
  const mean = new Float64Array(J);
  const uncentred = new Float64Array(J);
  for (let n = 0; n < M; n++) {
    for (let j = 0; j < J; j++) {
      const s = S[n * J + j];
      mean[j] += s;
      uncentred[j] += s * s;
    }
  }
  const centred = new Float64Array(J);
  for (let j = 0; j < J; j++) {
    mean[j] /= M;
    uncentred[j] /= M;
  }
  for (let n = 0; n < M; n++) for (let j = 0; j < J; j++) centred[j] += (S[n * J + j] - mean[j]) ** 2;
  for (let j = 0; j < J; j++) centred[j] /= M;
  return { mean, centred, uncentred };
}

export interface DiagonalCovariance {
  /** Per parameter of the layer block ((K + bias)·N, layer layout): ḡ_i, C_ii, F_ii. */
  mean: Float64Array;
  centred: Float64Array;
  uncentred: Float64Array;
}

/** C_ii and F_ii of a dense layer from its inputs a (M, K) and per-sample δ (M, N), float64. */
export function layerCovarianceDiagonal(a: ArrayLike<number>, delta: ArrayLike<number>, M: number, K: number, N: number, bias: boolean): DiagonalCovariance {
  const rows = K + (bias ? 1 : 0);
  const P = rows * N;
  const mean = new Float64Array(P);
  const second = new Float64Array(P);
  const d2 = new Float64Array(N);
  for (let n = 0; n < M; n++) {
    for (let m = 0; m < N; m++) d2[m] = delta[n * N + m] ** 2;
    for (let k = 0; k < rows; k++) {
      const av = k < K ? a[n * K + k] : 1;
      if (av === 0) continue;
      const a2 = av * av;
      const o = k * N;
      for (let m = 0; m < N; m++) {
        mean[o + m] += av * delta[n * N + m];
        second[o + m] += a2 * d2[m];
      }
    }
  }
  const centred = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    mean[i] /= M;
    second[i] /= M;
    centred[i] = Math.max(0, second[i] - mean[i] * mean[i]);
  }
  return { mean, centred, uncentred: second };
}

/**
 * Diagonal of the Gauss–Newton matrix of the mean softmax cross-entropy over `rows` samples, in
 * float64, for the given layers (compact order: layer after layer, each (K + bias)·N block).
 * Equals the Hessian diagonal for ReLU/identity hidden units (see the file comment).
 */
export function gaussNewtonDiagonalCpu(c: MlpConfig, params: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, rows: number, layers?: number[]): Float64Array {
  const layout = paramLayout(c);
  const Ls = layout.layers;
  const last = Ls.length - 1;
  const sel = [...new Set(layers ?? Ls.map((L) => L.index))].sort((a, b) => a - b);
  const lo = sel[0];
  const f = mlpForwardCpu(c, params, x, y, rows);
  const C = c.widths[c.widths.length - 1];
  const logits = f.acts[last + 1];
  const p = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    let mx = -Infinity;
    for (let k = 0; k < C; k++) mx = Math.max(mx, logits[r * C + k]);
    let s = 0;
    for (let k = 0; k < C; k++) s += (p[r * C + k] = Math.exp(logits[r * C + k] - mx));
    for (let k = 0; k < C; k++) p[r * C + k] /= s;
  }
  const offsets = new Map<number, number>();
  let dim = 0;
  for (const l of sel) {
    offsets.set(l, dim);
    dim += Ls[l].size;
  }
  const diag = new Float64Array(dim);
  for (let col = 0; col < C; col++) {
    // δ at the logits: column `col` of R, per sample.
    let dz = new Float64Array(rows * C);
    for (let r = 0; r < rows; r++) {
      const sp = Math.sqrt(p[r * C + col]);
      for (let i = 0; i < C; i++) dz[r * C + i] = sp * ((i === col ? 1 : 0) - p[r * C + i]);
    }
    for (let l = last; l >= lo; l--) {
      const L = Ls[l];
      const input = f.acts[l];
      const K = L.fanIn;
      const N = L.fanOut;
      const off = offsets.get(l);
      if (off !== undefined) {
        const rowsK = K + (c.bias ? 1 : 0);
        for (let r = 0; r < rows; r++) {
          for (let k = 0; k < rowsK; k++) {
            const av = k < K ? input[r * K + k] : 1;
            if (av === 0) continue;
            const a2 = av * av;
            const o = off + k * N;
            for (let m = 0; m < N; m++) diag[o + m] += a2 * dz[r * N + m] ** 2;
          }
        }
      }
      if (l === lo) break;
      const prev = new Float64Array(rows * K);
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < K; k++) {
          let s = 0;
          for (let m = 0; m < N; m++) s += dz[r * N + m] * params[L.offset + k * N + m];
          prev[r * K + k] = s * activationDerivFromOutput(c.activation, input[r * K + k]);
        }
      }
      dz = prev;
    }
  }
  for (let i = 0; i < dim; i++) diag[i] /= rows;
  return diag;
}

export interface PowerLawRelation {
  /** Exponent γ in y ∝ x^γ (slope of ln y on ln x) and its standard error. */
  gamma: number;
  gammaSE: number;
  /** Intercept of ln y = c + γ ln x (natural logs). */
  intercept: number;
  /** Pearson r of (ln x, ln y). */
  r: number;
  /** Points used, and points skipped (x or y not finite or ≤ floor). */
  n: number;
  skipped: number;
  /** Smallest x accepted. */
  xFloor: number;
}

/**
 * y ∝ x^γ by least squares on (ln x, ln y) over entries with x > xFloor and y > 0. Default
 * floor: 1e-10·max x (drops exact zeros such as the weights of dead ReLU units, which carry no
 * curvature and no noise).
 */
export function powerLawRelation(x: ArrayLike<number>, y: ArrayLike<number>, o: { xFloorRel?: number } = {}): PowerLawRelation {
  if (x.length !== y.length) throw new Error(`powerLawRelation: x and y must have the same length, got ${x.length} and ${y.length}`);
  let xmax = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) xmax = Math.max(xmax, x[i]);
  const xFloor = (o.xFloorRel ?? 1e-10) * xmax;
  const lx: number[] = [];
  const ly: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i]) && Number.isFinite(y[i]) && x[i] > xFloor && y[i] > 0) {
      lx.push(Math.log(x[i]));
      ly.push(Math.log(y[i]));
    }
  }
  if (lx.length < 3) throw new Error(`powerLawRelation: need at least 3 positive pairs, got ${lx.length}`);
  const fit = linearRegression(lx, ly);
  return { gamma: fit.slope, gammaSE: fit.slopeSE, intercept: fit.intercept, r: fit.r, n: fit.n, skipped: x.length - fit.n, xFloor };
}

export interface EigenbasisComparison {
  /** λ_i, c_i = v_iᵀCv_i, f_i = v_iᵀFv_i, ratio c_i/λ_i. */
  lambda: Float64Array;
  centred: Float64Array;
  uncentred: Float64Array;
  ratio: Float64Array;
  /** Fit c_i ∝ λ_i^slope over λ_i > 0 (slope 1 with ratio ~const: C ∝ H along the top directions). */
  fit: PowerLawRelation | null;
  /** Pearson r of (λ_i, c_i) on linear axes. */
  linearR: number;
}

export function compareInEigenbasis(lambda: ArrayLike<number>, cov: ProjectedCovariance): EigenbasisComparison {
  const k = lambda.length;
  const lam = Float64Array.from(lambda);
  const ratio = Float64Array.from({ length: k }, (_, i) => cov.centred[i] / lam[i]);
  let fit: PowerLawRelation | null = null;
  try {
    fit = powerLawRelation(lam, cov.centred, { xFloorRel: 0 });
  } catch {
    fit = null;
  }
  return { lambda: lam, centred: cov.centred.slice(0, k), uncentred: cov.uncentred.slice(0, k), ratio, fit, linearR: k >= 2 ? pearson(lam, cov.centred.slice(0, k)) : NaN };
}
