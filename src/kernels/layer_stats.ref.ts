/** CPU reference (the spec) for shaders/layer_stats.wgsl, float64. */
import { erf } from '../util/erf.ts';
import { statsStride, type StatsActivation } from './layer_stats.ts';

const SQRT_PI_2 = Math.sqrt(Math.PI) / 2;

export function statsPhi(act: StatsActivation, v: number): number {
  switch (act) {
    case 'relu': return Math.max(v, 0);
    case 'tanh': return Math.tanh(v);
    case 'erf': return erf(SQRT_PI_2 * v);
    default: return v;
  }
}

export function statsDphi(act: StatsActivation, v: number): number {
  switch (act) {
    case 'relu': return v > 0 ? 1 : 0;
    case 'tanh': { const t = Math.tanh(v); return 1 - t * t; }
    case 'erf': return Math.exp((-Math.PI / 4) * v * v);
    default: return 1;
  }
}

/** gram: returns y = φ(h) (S, M, N) and one layer's statistics S × [G | P | ·] (D left 0). */
export function gramRef(h: ArrayLike<number>, act: StatsActivation, m: number, n: number, nets: number): { y: Float64Array; stats: Float64Array } {
  const stride = statsStride(m);
  const y = new Float64Array(nets * m * n);
  const stats = new Float64Array(nets * stride);
  for (let s = 0; s < nets; s++) {
    for (let a = 0; a < m; a++) {
      const ra = (s * m + a) * n;
      let p = 0;
      for (let i = 0; i < n; i++) {
        const v = statsPhi(act, h[ra + i]);
        y[ra + i] = v;
        p += v * v;
      }
      stats[s * stride + m * m + a] = p / n;
      for (let b = 0; b < m; b++) {
        const rb = (s * m + b) * n;
        let acc = 0;
        for (let i = 0; i < n; i++) acc += h[ra + i] * h[rb + i];
        stats[s * stride + a * m + b] = acc / n;
      }
    }
  }
  return { y, stats };
}

/** delta: δ = φ'(h)·g (or g when !deriv) and D[s, a] = mean_i δ². */
export function deltaRef(h: ArrayLike<number>, g: ArrayLike<number>, act: StatsActivation, m: number, n: number, nets: number, deriv: boolean): { delta: Float64Array; d: Float64Array } {
  const delta = new Float64Array(nets * m * n);
  const d = new Float64Array(nets * m);
  for (let r = 0; r < nets * m; r++) {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const v = deriv ? statsDphi(act, h[r * n + i]) * g[r * n + i] : g[r * n + i];
      delta[r * n + i] = v;
      acc += v * v;
    }
    d[r] = acc / n;
  }
  return { delta, d };
}
