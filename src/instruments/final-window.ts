/**
 * The final analysis of a run's weight window as plain numbers (on the dashboard: the Feng–Tu
 * lab's analyseFengTu, every step of the window, all training samples), handed to the window
 * instruments (InstrumentRun.final) so their panels show it in place of the live refreshes. The
 * dashboard session fills it; instruments never import the experiment.
 */
export interface PowerFit {
  psi: number;
  psiSE: number;
  r: number;
  n: number;
  intercept: number;
}

export interface MlfCurves {
  /** 1-based PC. */
  pc: number;
  theta: Float64Array;
  /** Full training loss L(w* + θ p). */
  full: Float64Array;
  /** One curve per minibatch μ: L_μ(w* + θ p). */
  mini: Float64Array[];
}

export interface FinalWindow {
  windowFirst: number;
  windowLast: number;
  /** Steps in the window (all analysed). */
  steps: number;
  /** Training samples behind F_i, T_i, L and the MLF ensemble. */
  samples: number;
  P: number;
  k: number;
  variances: Float64Array;
  /** (k, P) row-major: p_i in the layer layout. */
  components: Float64Array;
  cumulative: Float64Array;
  total: number;
  d90: number | null;
  d99: number | null;
  d90NoPc1: number | null;
  d99NoPc1: number | null;
  pc1VsMeanWeight: number | null;
  /** w* (the layer's window mean) and all weights with the layer at w*. */
  wStar: Float64Array;
  wStarParams: Float32Array;
  /** 0-based PCs whose F_i and T_i were measured; F NaN where a side was not reached, θ NaN on that side. */
  dirs: number[];
  F: Float64Array;
  thetaL: Float64Array;
  thetaR: Float64Array;
  /** T_i along the same directions. */
  T: Float64Array;
  L0: number | null;
  fit: PowerFit | null;
  fitError: string | null;
  /** ln T against ln F: T ∝ F^(−exponent). */
  tFit: { exponent: number; r: number; intercept: number } | null;
  anisotropy: { maxOverMin: number; spearman: number | null } | null;
  /** T_i(t), L(t) at every checkpoint along the final PCs. */
  tCurve: { pcs: number[]; steps: Float64Array; loss: Float64Array; T: Float64Array[] } | null;
  mlf: MlfCurves[];
  /** Wall time per stage, ms. */
  ms: Record<string, number>;
}
