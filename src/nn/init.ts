/** Parameter initialisation on the CPU from a seeded Rng, written into the flat layout. */
import { Rng } from '../util/rng.ts';
import type { MlpConfig } from './config.ts';
import { paramLayout } from './params.ts';

export function initParams(c: MlpConfig, rng: Rng): Float32Array {
  const layout = paramLayout(c);
  const p = new Float32Array(layout.total);
  for (const L of layout.layers) {
    const nW = L.fanIn * L.fanOut;
    if (c.init.kind === 'pytorch') {
      // nn.Linear.reset_parameters: kaiming_uniform_(a=√5) gives bound = 1/√fan_in for W, and the
      // bias uses the same bound.
      const bound = 1 / Math.sqrt(L.fanIn);
      for (let i = 0; i < nW; i++) p[L.offset + i] = (2 * rng.uniform() - 1) * bound;
      if (L.biasOffset !== null) for (let j = 0; j < L.fanOut; j++) p[L.biasOffset + j] = (2 * rng.uniform() - 1) * bound;
    } else {
      const sw = c.init.sigmaW / Math.sqrt(L.fanIn);
      for (let i = 0; i < nW; i++) p[L.offset + i] = rng.normal() * sw;
      if (L.biasOffset !== null) for (let j = 0; j < L.fanOut; j++) p[L.biasOffset + j] = rng.normal() * c.init.sigmaB;
    }
  }
  return p;
}
