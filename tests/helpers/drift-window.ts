/**
 * Synthetic weight windows in Feng & Tu's regimes: float32 rows w_t = μ + a·(t/T − ½)·q_1 +
 * Σ_{i≥2} √λ_i·z_ti·q_i with a random orthonormal basis q (a slow drift along q_1 plus
 * anisotropic noise whose variances fall as a power law to `tailRatio`·(noise top)). `pc1Share`
 * sets the drift's share of the variance (0.999: the authors' protocol; ~0.9: the default run).
 */
import { Rng } from '../../src/util/rng.ts';
import { symmetricEig } from '../../src/analysis/numerics/symmetric-eig.ts';

export interface DriftWindowSpec {
  T: number;
  P: number;
  pc1Share: number;
  /** λ_P / λ_2 of the noise spectrum (default 1e-7). */
  tailRatio?: number;
  /** Typical |μ_p| (default 0.1, like a trained 50×50 layer). */
  mean?: number;
  /** Noise variance of the largest noise direction (default 1e-6). */
  noiseTop?: number;
  seed: number;
}

/** Random orthonormal P×P basis, column-major (column i = q_i). */
export function randomBasis(P: number, rng: Rng): Float64Array {
  const G = Float64Array.from({ length: P * P }, () => rng.normal());
  const A = new Float64Array(P * P);
  for (let i = 0; i < P; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t < P; t++) s += G[t * P + i] * G[t * P + j];
      A[i * P + j] = s;
      A[j * P + i] = s;
    }
  }
  return symmetricEig(A, P).vectors as Float64Array;
}

export function driftWindow(s: DriftWindowSpec): Float32Array {
  const { T, P } = s;
  const rng = new Rng(s.seed);
  const Q = randomBasis(P, rng);
  const noiseTop = s.noiseTop ?? 1e-6;
  const tail = s.tailRatio ?? 1e-7;
  const alpha = Math.log(1 / tail) / Math.log(P - 1);
  const lambda = Float64Array.from({ length: P }, (_, i) => (i === 0 ? 0 : noiseTop * i ** -alpha));
  let noise = 0;
  for (const l of lambda) noise += l;
  // Drift a·(t/T − ½) has variance ≈ a²/12: choose a for the requested share.
  const a = Math.sqrt((12 * noise * s.pc1Share) / (1 - s.pc1Share));
  const mu = Float64Array.from({ length: P }, () => (s.mean ?? 0.1) * (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + rng.uniform()));
  const x = new Float32Array(T * P);
  const z = new Float64Array(P);
  for (let t = 0; t < T; t++) {
    z[0] = a * (t / T - 0.5);
    for (let i = 1; i < P; i++) z[i] = Math.sqrt(lambda[i]) * rng.normal();
    for (let p = 0; p < P; p++) {
      let v = mu[p];
      for (let i = 0; i < P; i++) v += Q[i * P + p] * z[i];
      x[t * P + p] = v;
    }
  }
  return x;
}
