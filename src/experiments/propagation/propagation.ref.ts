/**
 * CPU reference of gpu-propagation.ts in float64, with the very same networks (the weights of
 * src/kernels/randnet.ref.ts): the spec the GPU pipeline is tested against on tiny shapes.
 */
import { randnetBackwardRef, randnetFillRef, randnetForwardRef } from '../../kernels/randnet.ref.ts';
import { deltaRef, gramRef } from '../../kernels/layer_stats.ref.ts';
import { statsStride, type StatsActivation } from '../../kernels/layer_stats.ts';
import { READOUT_STREAM } from '../../kernels/threefry.ts';
import { validatePropagationSpec, type PropagationResult, type PropagationSpec } from './gpu-propagation.ts';

export function propagationRef(spec: PropagationSpec): PropagationResult {
  const t0 = performance.now();
  const { m } = validatePropagationSpec(spec);
  const act: StatsActivation = spec.activation === 'linear' ? 'identity' : spec.activation;
  const { width: N, depth: L, nets: S, inputDim: d } = spec;
  const grads = spec.gradients ?? true;
  const layer = (l: number, k: number) => ({ m, k, n: N, nets: S, seed: spec.seed, layer: l, scaleW: Math.sqrt(spec.sw2 / k), scaleB: Math.sqrt(spec.sb2) });
  const gram = new Float64Array(L * S * m * m);
  const phi2 = new Float64Array(L * S * m);
  const delta2 = new Float64Array(L * S * m).fill(NaN);
  const hs: Float64Array[] = [];
  let a: ArrayLike<number> = spec.inputs;
  const stride = statsStride(m);
  for (let l = 0; l < L; l++) {
    const k = l === 0 ? d : N;
    const h = randnetForwardRef(a, layer(l, k), l === 0 ? 0 : m * k);
    hs.push(h);
    const r = gramRef(h, act, m, N, S);
    for (let s = 0; s < S; s++) {
      for (let i = 0; i < m * m; i++) gram[(l * S + s) * m * m + i] = r.stats[s * stride + i];
      for (let i = 0; i < m; i++) phi2[(l * S + s) * m + i] = r.stats[s * stride + m * m + i];
    }
    a = r.y;
  }
  if (grads) {
    let delta = randnetFillRef({ ...layer(READOUT_STREAM, N), scaleW: 1 });
    const top = deltaRef(hs[L - 1], delta, act, m, N, S, false);
    delta2.set(top.d, (L - 1) * S * m);
    for (let l = L - 2; l >= 0; l--) {
      const g = randnetBackwardRef(delta, layer(l + 1, N));
      const r = deltaRef(hs[l], g, act, m, N, S, true);
      delta2.set(r.d, l * S * m);
      delta = r.delta;
    }
  }
  return { spec, m, gram, phi2, delta2, seconds: (performance.now() - t0) / 1000, weights: S * (d * N + (L - 1) * N * N) * (grads ? 2 : 1) };
}
