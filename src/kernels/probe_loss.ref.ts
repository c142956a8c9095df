/** CPU reference (the spec) for shaders/probe_loss.wgsl, in float64. */
import { activate, type Activation } from './activation.ts';

/** Y (Q·M, N): Y[q·M + r, c] = act(z0[r, c] + θ_q·u[r, dir_q·N + c]). */
export function probePerturbRef(
  z0: ArrayLike<number>, u: ArrayLike<number>, probes: { dir: number; theta: number }[], M: number, N: number, D: number, act: Activation,
): Float64Array {
  const y = new Float64Array(probes.length * M * N);
  probes.forEach((p, q) => {
    for (let r = 0; r < M; r++) {
      for (let c = 0; c < N; c++) y[(q * M + r) * N + c] = activate(act, z0[r * N + c] + p.theta * u[r * D * N + p.dir * N + c]);
    }
  });
  return y;
}

/** Per-row cross-entropy of (Q·M, C) logits against labels (M,), and each probe's mean. */
export function probeLossRef(logits: ArrayLike<number>, labels: ArrayLike<number>, Q: number, M: number, C: number): { rows: Float64Array; means: Float64Array } {
  const rows = new Float64Array(Q * M);
  const means = new Float64Array(Q);
  for (let q = 0; q < Q; q++) {
    let sum = 0;
    for (let r = 0; r < M; r++) {
      const b = (q * M + r) * C;
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, logits[b + c]);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(logits[b + c] - m);
      rows[q * M + r] = m + Math.log(s) - logits[b + labels[r]];
      sum += rows[q * M + r];
    }
    means[q] = sum / M;
  }
  return { rows, means };
}
