/**
 * The same random networks as gpu-jvp.ts in float64 on the CPU, by a different route: each
 * layer's Jacobian A^l = D^{l−1} W^l formed explicitly (N × N) and multiplied out,
 * J^l = A^1 A^2 ⋯ A^l, so t^l = t^0 J^l (row convention). The spec of the GPU pass; small N only
 * (O(L N³)).
 */
import { jvpFillRef, orthogonalRef, phiRef, dphiRef } from '../../kernels/jvp.ref.ts';
import type { JvpActivation } from '../../kernels/jvp.ts';
import { validateJvpSpec, type JvpSpec } from './gpu-jvp.ts';

export interface JvpRef {
  /** J^L of each network, (N, N) row-major: t^L = t^0 J^L. */
  jacobians: Float64Array[];
  /** (L + 1, S, P) and (L + 1, S, T) squared row lengths, as JvpResult. */
  primalSq: Float64Array;
  tangentSq: Float64Array;
}

export function jvpRef(spec: JvpSpec): JvpRef {
  const { pRows: P, tRows: T } = validateJvpSpec(spec);
  const N = spec.width;
  const L = spec.depth;
  const S = spec.nets;
  const act: JvpActivation = spec.activation === 'linear' ? 'identity' : spec.activation;
  const t0 = new Float64Array(T * N);
  if (spec.tangents === 'identity') for (let i = 0; i < N; i++) t0[i * N + i] = 1;
  else t0.set(spec.tangents);
  const primalSq = new Float64Array((L + 1) * S * P);
  const tangentSq = new Float64Array((L + 1) * S * T);
  const jacobians: Float64Array[] = [];
  for (let s = 0; s < S; s++) {
    let h = Float64Array.from(spec.primalPerNetwork ? spec.primal.subarray(s * P * N, (s + 1) * P * N) : spec.primal);
    // one running Jacobian per primal row (each has its own D's), from the identity
    const eye = new Float64Array(N * N);
    for (let i = 0; i < N; i++) eye[i * N + i] = 1;
    const jOf: Float64Array[] = Array.from({ length: P }, () => eye.slice());
    const record = (l: number): void => {
      for (let r = 0; r < P; r++) for (let i = 0; i < N; i++) primalSq[(l * S + s) * P + r] += h[r * N + i] ** 2;
      const per = T / P;
      for (let r = 0; r < T; r++) {
        // t^l_r = t^0_r J^l_{(p)}: the Jacobian of primal row p = ⌊r/per⌋
        const p = Math.floor(r / per);
        let sq = 0;
        for (let j = 0; j < N; j++) {
          let acc = 0;
          for (let i = 0; i < N; i++) acc += t0[r * N + i] * jOf[p][i * N + j];
          sq += acc * acc;
        }
        tangentSq[(l * S + s) * T + r] = sq;
      }
    };
    record(0);
    for (let l = 1; l <= L; l++) {
      const draw = { seed: spec.seed, layer: l, scaleW: Math.sqrt(spec.sw2 / N), scaleB: Math.sqrt(spec.sb2) };
      const w = spec.weights === 'orthogonal'
        ? orthogonalRef(jvpFillRef(N, s, { ...draw, scaleW: 1, scaleB: 1 }), N, Math.sqrt(spec.sw2), Math.sqrt(spec.sb2))
        : jvpFillRef(N, s, draw);
      const next = new Float64Array(P * N);
      for (let p = 0; p < P; p++) {
        // A = D W: row i of W scaled by φ'(h_i); J ← J A
        const A = new Float64Array(N * N);
        for (let i = 0; i < N; i++) {
          const d = dphiRef(act, h[p * N + i]);
          for (let j = 0; j < N; j++) A[i * N + j] = d * w[i * N + j];
        }
        const Jp = jOf[p];
        const out = new Float64Array(N * N);
        for (let i = 0; i < N; i++) {
          for (let k = 0; k < N; k++) {
            const a = Jp[i * N + k];
            if (a === 0) continue;
            for (let j = 0; j < N; j++) out[i * N + j] += a * A[k * N + j];
          }
        }
        jOf[p] = out;
        for (let j = 0; j < N; j++) {
          let acc = w[N * N + j];
          for (let i = 0; i < N; i++) acc += phiRef(act, h[p * N + i]) * w[i * N + j];
          next[p * N + j] = acc;
        }
      }
      h = next;
      record(l);
    }
    jacobians.push(jOf[0]);
  }
  return { jacobians, primalSq, tangentSq };
}
