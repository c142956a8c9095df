/**
 * Transient chaos (Poole, Lahiri, Raghu, Sohl-Dickstein & Ganguli, NeurIPS 2016): the length of a
 * great circle of inputs propagated through S random deep tanh networks, layer by layer, on the
 * GPU, against the mean-field prediction.
 *
 * The circle h^0(θ) = √(N q*)(u cos θ + v sin θ) (u ⊥ v unit vectors, one Threefry draw) has
 * q = |h|²/N = q* at every θ, so it stays at the fixed point; its length at layer l,
 *   ℓ^l = ∫_0^{2π} |∂_θ h^l(θ)| dθ ≈ (2π/M) Σ_j |t^l(θ_j)|,   θ_j = 2πj/M,
 * comes from forward-mode tangents t^0(θ) = ∂_θ h^0 = √(N q*)(−u sin θ + v cos θ) pushed through
 * the network with the points (gpu-jvp.ts: P = T = M), exact at any depth however wiggly the curve.
 * Mean field: each layer multiplies the squared length element by χ1 (E|W D t|² = σ_w² E[φ'²]|t|²),
 * so ℓ^l = ℓ^0 χ1^{l/2}, ℓ^0 = 2π√(N q*): growth at rate ½ ln χ1 per layer in the chaotic phase
 * (χ1 > 1), shrinking in the ordered one.
 *
 * Verdict per layer (compare.ts): ln(ℓ^l/ℓ^0), the mean over networks, against (l/2) ln χ1 in
 * units of 4 SE + l/N. SE across networks, floored by √(l/(2 N M S)) (each layer's |t|² is a sum
 * of N squares, relative variance ≥ 2/N, i.e. ≥ 1/(2N) for ln|t|; M points at best independent);
 * l/N allows for Jensen's inequality (ln of a mean length vs half the ln of a mean square: about
 * −l(2 + κ)/(8N), κ the excess kurtosis of φ'²t²) and O(1/N) finite-width corrections. The growth
 * rate is the least-squares slope of ln ℓ^l over l, per network; mean ± SE across networks.
 */
import { normalBlock } from '../../kernels/threefry.ts';
import { meanFieldPoint, type MeanFieldPoint } from '../../analysis/meanfield/depth-scales.ts';
import { tanh } from '../../analysis/meanfield/activations.ts';
import { agreementOf, type AgreementSummary, type Curve } from './compare.ts';
import type { GpuJvp } from './gpu-jvp.ts';

/** Key word 1 of the Threefry stream of the circle's directions u, v. */
export const CIRCLE_STREAM = 0x80000002;

export interface CurveSpec {
  sw2: number;
  sb2: number;
  width: number;
  depth: number;
  /** M points on the circle. */
  points: number;
  nets: number;
  seed: number;
}

export interface CurveMeasurement {
  spec: CurveSpec;
  meanField: MeanFieldPoint;
  /** ℓ^l of each network, (L + 1, S). */
  lengths: Float64Array;
  /** q^l: mean over networks and points of |h^l|²/N. */
  q: Float64Array;
  /** ln(ℓ^l/ℓ^0) against (l/2) ln χ1. */
  curve: Curve;
  agreement: AgreementSummary;
  /** Growth rate per layer: slope of ln ℓ^l (mean ± SE over networks) and ½ ln χ1; agrees: within 4 SE + 1/N. */
  rate: { measured: number; se: number; theory: number; agrees: boolean };
  seconds: number;
}

/** The circle's M points h^0(θ_j) and tangents ∂_θ h^0(θ_j), each (M, N). */
export function greatCircle(width: number, points: number, q: number, seed: number): { primal: Float32Array; tangents: Float32Array } {
  const N = width;
  const z = normalBlock(2, N, seed >>> 0, CIRCLE_STREAM);
  const u = z.subarray(0, N);
  const v = z.subarray(N, 2 * N);
  const dot = (a: Float64Array, b: Float64Array): number => a.reduce((s, x, i) => s + x * b[i], 0);
  const nu = Math.sqrt(dot(u, u));
  for (let i = 0; i < N; i++) u[i] /= nu;
  const k = dot(v, u);
  for (let i = 0; i < N; i++) v[i] -= k * u[i];
  const nv = Math.sqrt(dot(v, v));
  for (let i = 0; i < N; i++) v[i] /= nv;
  const r = Math.sqrt(N * q);
  const primal = new Float32Array(points * N);
  const tangents = new Float32Array(points * N);
  for (let j = 0; j < points; j++) {
    const th = (2 * Math.PI * j) / points;
    const c = Math.cos(th);
    const s = Math.sin(th);
    for (let i = 0; i < N; i++) {
      primal[j * N + i] = r * (u[i] * c + v[i] * s);
      tangents[j * N + i] = r * (v[i] * c - u[i] * s);
    }
  }
  return { primal, tangents };
}

function slope(y: number[]): number {
  const n = y.length;
  const mx = (n - 1) / 2;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  y.forEach((v, l) => {
    sxy += (l - mx) * (v - my);
    sxx += (l - mx) ** 2;
  });
  return sxy / sxx;
}

export function validateCurveSpec(s: CurveSpec): void {
  if (!(Number.isInteger(s.points) && s.points >= 3 && s.points <= 4096)) throw new Error(`points must be an integer in [3, 4096], got ${s.points}`);
}

export async function measureCurve(gpu: GpuJvp, spec: CurveSpec, onProgress?: (fraction: number) => void): Promise<CurveMeasurement> {
  validateCurveSpec(spec);
  if (gpu.activation !== 'tanh') throw new Error(`measureCurve: the curve experiment is for tanh networks, got a GpuJvp for ${gpu.activation}`);
  const mf = meanFieldPoint(tanh, spec.sw2, spec.sb2);
  if (!(mf.qStar > 0)) throw new Error(`curve length: q* = 0 at σ_w² = ${spec.sw2}, σ_b² = ${spec.sb2} (every input collapses to 0): no circle to follow; use σ_b² > 0`);
  const { width: N, depth: L, nets: S, points: M } = spec;
  const { primal, tangents } = greatCircle(N, M, mf.qStar, spec.seed);
  const r = await gpu.run({ activation: 'tanh', weights: 'gaussian', sw2: spec.sw2, sb2: spec.sb2, width: N, depth: L, nets: S, seed: spec.seed, primal, tangents, readTangents: false }, onProgress);
  const lengths = new Float64Array((L + 1) * S);
  const q = new Float64Array(L + 1);
  for (let l = 0; l <= L; l++) {
    for (let s = 0; s < S; s++) {
      let acc = 0;
      for (let j = 0; j < M; j++) {
        acc += Math.sqrt(r.tangentSq[(l * S + s) * M + j]);
        q[l] += r.primalSq[(l * S + s) * M + j] / (N * M * S);
      }
      lengths[l * S + s] = (2 * Math.PI * acc) / M;
    }
  }
  return { spec, meanField: mf, lengths, q, ...compareCurve(lengths, spec, mf), seconds: r.seconds };
}

/**
 * Measured lengths (L + 1, S) against the mean-field prediction of `mf` (normally the measured
 * point's own; another point's for a negative control).
 */
export function compareCurve(lengths: Float64Array, spec: CurveSpec, mf: MeanFieldPoint): Pick<CurveMeasurement, 'curve' | 'agreement' | 'rate'> {
  const { width: N, depth: L, nets: S, points: M } = spec;
  const l0 = 2 * Math.PI * Math.sqrt(N * mf.qStar);
  const lnChi = Math.log(mf.chi1);
  const curve: Curve = { mean: new Float64Array(L + 1), se: new Float64Array(L + 1), theory: new Float64Array(L + 1), z: new Float64Array(L + 1) };
  const perNet: number[][] = Array.from({ length: S }, () => []);
  for (let l = 0; l <= L; l++) {
    const v = Array.from({ length: S }, (_, s) => Math.log(lengths[l * S + s] / l0));
    v.forEach((x, s) => perNet[s].push(x));
    const mean = v.reduce((a, b) => a + b, 0) / S;
    const sd = S > 1 ? Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (S - 1)) : 0;
    curve.mean[l] = mean;
    curve.se[l] = Math.max(sd / Math.sqrt(S), Math.sqrt(l / (2 * N * M * S)));
    curve.theory[l] = 0.5 * l * lnChi;
    curve.z[l] = (mean - curve.theory[l]) / (4 * curve.se[l] + l / N + 1e-6);
  }
  const slopes = perNet.map(slope);
  const rateMean = slopes.reduce((a, b) => a + b, 0) / S;
  const rateSe = S > 1 ? Math.sqrt(slopes.reduce((a, x) => a + (x - rateMean) ** 2, 0) / (S - 1) / S) : NaN;
  const theory = 0.5 * lnChi;
  return {
    curve, agreement: agreementOf([curve], false),
    rate: { measured: rateMean, se: rateSe, theory, agrees: Math.abs(rateMean - theory) <= 4 * rateSe + 1 / N },
  };
}
