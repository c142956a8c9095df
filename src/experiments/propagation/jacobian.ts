/**
 * Jacobian spectra at initialisation (Pennington, Schoenholz & Ganguli, NeurIPS 2017): the squared
 * singular values λ of the input–output Jacobian of S random deep networks, measured on the GPU
 * (gpu-jvp.ts: the N × N Jacobian as N Jacobian–vector products of the identity; its JJᵀ
 * diagonalised in float64 on the CPU), against the free-probability law
 * (meanfield/jacobian-spectrum.ts), and the mean squared singular value (1/N) tr J^l J^lᵀ layer by
 * layer against χ1^l.
 *
 * The input h^0 = √q*·ẑ (|ẑ|²/N = 1, one Threefry draw per network) sits at the length map's fixed
 * point, so every layer's D = diag φ'(h) has the law of φ'(√q* z). One draw per network, not one
 * shared: D^0 = diag φ'(h^0) is the first factor of every J, and a shared draw's sampling error
 * (√(v_D/N) in ln, ~0.06 for tanh at σ_w² = 3, N = 512) would not average out over networks.
 *
 * Verdicts:
 *   density   Kolmogorov–Smirnov distance D between the pooled empirical CDF of the S·N
 *             eigenvalues and the theory's CDF, over λ ≥ floor; agreement when D ≤ c(α)/√(S N),
 *             c = 1.95 at α = 1e-3 (the bound for S·N independent draws: eigenvalues of one matrix
 *             repel and fluctuate less, so it is conservative; the theory is the N → ∞ law, whose
 *             O(1/N) finite-width corrections are far below it at N ≥ 512).
 *             The floor: float32 products of L layers carry errors ~L√N·2⁻²⁴ of the largest
 *             singular value, so singular values below r = max(1e-3, 50·L·√N·2⁻²⁴) of the support's
 *             top are not compared (λ_floor = r²·edge); they still count in the empirical CDF.
 *   atom      orthogonal weights with a constant D (linear): every λ = σ_w^{2L}; agreement when all
 *             are within r of it.
 *   depth     ln of the mean over networks of (1/N) tr J^l J^lᵀ against l ln χ1, in units of
 *             4 SE + l/N + 1e-6 (float32) (SE across networks, floored by √(l·v_D/(N S)), the sampling error of
 *             the layers' N values of d = φ'²); ≥ 95% of layers within and none beyond 2 (compare.ts).
 */
import { normalBlock } from '../../kernels/threefry.ts';
import { symmetricEig } from '../../analysis/numerics/symmetric-eig.ts';
import { ksCritical, ksDistance } from '../../analysis/numerics/ks.ts';
import { jacobianSpectrumTheory, theoryCdf, type JacobianSpectrumTheory, type WeightEnsemble } from '../../analysis/meanfield/jacobian-spectrum.ts';
import type { JacobianActivation } from '../../analysis/meanfield/d2-law.ts';
import { agreementOf, type AgreementSummary, type Curve } from './compare.ts';
import type { GpuJvp } from './gpu-jvp.ts';

/** Key word 1 of the Threefry stream of the experiments' input vectors (beside READOUT_STREAM). */
export const INPUT_STREAM = 0x80000001;
export const KS_ALPHA = 1e-3;

export interface JacobianPoint {
  activation: JacobianActivation;
  weights: WeightEnsemble;
  sw2: number;
  sb2: number;
}

export interface JacobianRun {
  width: number;
  depth: number;
  nets: number;
  seed: number;
}

export interface JacobianMeasurement {
  point: JacobianPoint;
  run: JacobianRun;
  theory: JacobianSpectrumTheory;
  /** Squared singular values, (S, N), ascending within each network. */
  eigenvalues: Float64Array;
  /** ln (1/N) tr J^l J^lᵀ (mean over networks) per layer l = 0 … L against l ln χ1. */
  depthCurve: Curve;
  depthAgreement: AgreementSummary;
  /** Mean over networks of q^l = |h^l|²/N. */
  q: Float64Array;
  /** Smallest singular value compared, relative to the support's top. */
  resolution: number;
  ks: { d: number; at: number; critical: number; alpha: number; n: number; compared: number; floor: number; agrees: boolean } | null;
  atom: { value: number; maxRelDeviation: number; agrees: boolean } | null;
  moments: { meanSq: number; meanSqTheory: number; normVariance: number; normVarianceTheory: number };
  agrees: boolean;
  seconds: { gpu: number; eigen: number; theory: number };
}

/** One input per network s (seed + s): (S, N). */
export function fixedPointInputs(width: number, q: number, seed: number, nets: number): Float32Array {
  const out = new Float32Array(nets * width);
  for (let s = 0; s < nets; s++) out.set(fixedPointInput(width, q, seed + s), s * width);
  return out;
}

/** h^0 = √q·ẑ, |ẑ|²/N = 1. */
export function fixedPointInput(width: number, q: number, seed: number): Float32Array {
  const z = normalBlock(1, width, seed >>> 0, INPUT_STREAM);
  const norm = Math.sqrt(z.reduce((s, v) => s + v * v, 0) / width);
  return Float32Array.from(z, (v) => (Math.sqrt(q) * v) / norm);
}

/** The float32 resolution r of the header (relative singular value). */
export function singularValueResolution(depth: number, width: number): number {
  return Math.max(1e-3, 50 * depth * Math.sqrt(width) * 2 ** -24);
}

/** Eigenvalues of J Jᵀ (J row-major N × N), ascending. */
export function squaredSingularValues(J: ArrayLike<number>, n: number): Float64Array {
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += J[i * n + k] * J[j * n + k];
      A[i * n + j] = acc;
      A[j * n + i] = acc;
    }
  }
  return symmetricEig(A, n, { vectors: false }).values.reverse();
}

function depthCurve(tangentSq: Float64Array, L: number, S: number, N: number, chi1: number, vD: number): Curve {
  const c: Curve = { mean: new Float64Array(L + 1), se: new Float64Array(L + 1), theory: new Float64Array(L + 1), z: new Float64Array(L + 1) };
  for (let l = 0; l <= L; l++) {
    const per = Array.from({ length: S }, (_, s) => {
      let acc = 0;
      for (let r = 0; r < N; r++) acc += tangentSq[(l * S + s) * N + r];
      return acc / N;
    });
    const mean = per.reduce((a, b) => a + b, 0) / S;
    const sd = S > 1 ? Math.sqrt(per.reduce((a, v) => a + (v - mean) ** 2, 0) / (S - 1)) : 0;
    c.mean[l] = Math.log(mean);
    c.se[l] = Math.max(sd / (mean * Math.sqrt(S)), Math.sqrt((l * vD) / (N * S)));
    c.theory[l] = l * Math.log(chi1);
    c.z[l] = (c.mean[l] - c.theory[l]) / (4 * c.se[l] + l / N + 1e-6);
  }
  return c;
}

export async function measureJacobian(gpu: GpuJvp, point: JacobianPoint, run: JacobianRun, onProgress?: (fraction: number) => void): Promise<JacobianMeasurement> {
  const { width: N, depth: L, nets: S } = run;
  const resolution = singularValueResolution(L, N);
  let t0 = performance.now();
  // a first solve finds the support's top; the grid then reaches the float32 floor below it
  const rough = jacobianSpectrumTheory({ activation: point.activation, ensemble: point.weights, sw2: point.sw2, sb2: point.sb2, depth: L, step: 0.1 });
  const floor = resolution ** 2 * rough.edge;
  const theory = rough.atom !== null ? rough : jacobianSpectrumTheory({ activation: point.activation, ensemble: point.weights, sw2: point.sw2, sb2: point.sb2, depth: L, floor: floor / 1.5 });
  const theorySeconds = (performance.now() - t0) / 1000;
  const r = await gpu.run(
    { ...point, width: N, depth: L, nets: S, seed: run.seed, primal: fixedPointInputs(N, theory.inputQ, run.seed, S), primalPerNetwork: true, tangents: 'identity', readTangents: true },
    onProgress,
  );
  t0 = performance.now();
  const eigenvalues = new Float64Array(S * N);
  for (let s = 0; s < S; s++) eigenvalues.set(squaredSingularValues(r.tangents!.subarray(s * N * N, (s + 1) * N * N), N), s * N);
  const eigenSeconds = (performance.now() - t0) / 1000;
  const pooled = Float64Array.from(eigenvalues).sort();
  const n = pooled.length;
  const mean = pooled.reduce((a, b) => a + b, 0) / n;
  const variance = pooled.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
  let ks: JacobianMeasurement['ks'] = null;
  let atom: JacobianMeasurement['atom'] = null;
  if (theory.atom !== null) {
    const a = theory.atom;
    const dev = pooled.reduce((m, v) => Math.max(m, Math.abs(v / a - 1)), 0);
    atom = { value: a, maxRelDeviation: dev, agrees: dev <= resolution };
  } else {
    const k = ksDistance(pooled, (x) => theoryCdf(theory, x), floor);
    const critical = ksCritical(n, KS_ALPHA);
    ks = { ...k, critical, alpha: KS_ALPHA, n, floor, agrees: k.d <= critical };
  }
  const curve = depthCurve(r.tangentSq, L, S, N, theory.chi1, theory.d2NormVariance);
  const depthAgreement = agreementOf([curve], false);
  const q = new Float64Array(L + 1);
  for (let l = 0; l <= L; l++) for (let s = 0; s < S; s++) q[l] += r.primalSq[l * S + s] / (N * S);
  return {
    point, run, theory, eigenvalues, depthCurve: curve, depthAgreement, q, resolution, ks, atom,
    moments: { meanSq: mean, meanSqTheory: theory.meanSq, normVariance: variance / (mean * mean), normVarianceTheory: theory.normVariance },
    agrees: (ks?.agrees ?? atom!.agrees) && depthAgreement.agrees,
    seconds: { gpu: r.seconds, eigen: eigenSeconds, theory: theorySeconds },
  };
}

/** A short label: "tanh, Gaussian, σ_w² = 1.761, σ_b² = 0.05". */
export function jacobianLabel(p: JacobianPoint): string {
  return `${p.activation}, ${p.weights === 'gaussian' ? 'Gaussian' : 'orthogonal'}, σ_w² = ${Number(p.sw2.toPrecision(4))}, σ_b² = ${p.sb2}`;
}
