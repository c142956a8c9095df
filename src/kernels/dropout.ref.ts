/**
 * CPU reference (the spec) for shaders/dropout.wgsl: the inverted-dropout mask of a layer at a
 * step, bit-exact in its keep decisions (integer Threefry, src/kernels/threefry.ts).
 */
import { threefry2x32 } from './threefry.ts';
import { DROPOUT_STREAM, dropoutScale, dropoutThreshold } from './dropout.ts';

/** mask[i] ∈ {0, 1/(1 − p)} for i < count. */
export function dropoutMaskRef(count: number, rate: number, seed: number, layer: number, step: number): Float64Array {
  const threshold = dropoutThreshold(rate);
  const scale = Math.fround(dropoutScale(rate));
  const key1 = (DROPOUT_STREAM + layer) >>> 0;
  const out = new Float64Array(count);
  for (let pair = 0; 2 * pair < count; pair++) {
    const [u0, u1] = threefry2x32(pair, step >>> 0, seed >>> 0, key1);
    out[2 * pair] = u0 >= threshold ? scale : 0;
    if (2 * pair + 1 < count) out[2 * pair + 1] = u1 >= threshold ? scale : 0;
  }
  return out;
}
