/**
 * CPU reference (the spec) for shaders/toy_walkers.wgsl in float64, with the same noise draws
 * (src/kernels/threefry.ts normalPair under key (seed, TOY_STREAM), counter (walker, step)).
 */
import { normalPair } from './threefry.ts';
import { TOY_STREAM, type ToyParams } from './toy_walkers.ts';

export function foldRef(x: number, lo: number, hi: number): number {
  const w = hi - lo;
  let t = x - lo - 2 * w * Math.floor((x - lo) / (2 * w));
  if (t > w) t = 2 * w - t;
  return lo + Math.min(Math.max(t, 0), w);
}

/**
 * Advances walkers in place: pos (W, 2), status (W,) (0 = live, else escape step), steps
 * step0 + 1 .. step0 + steps. No histogram (the tests check it separately).
 */
export function toyStepsRef(pos: Float64Array, status: Uint32Array, p: ToyParams, seed: number, step0: number, steps: number): void {
  const a = p.lr;
  const sy = Math.sqrt((2 * p.delta) / a);
  const sx = Math.sqrt((2 * p.delta) / (a * p.kappa));
  const W = status.length;
  for (let w = 0; w < W; w++) {
    if (status[w] !== 0) continue;
    let x = pos[2 * w];
    let y = pos[2 * w + 1];
    for (let i = 0; i < steps; i++) {
      const t = step0 + i + 1;
      const lam = p.lam0 * Math.exp(p.c * x);
      const s = p.noisePow === 0 ? 1 : Math.sqrt((lam / p.lamRef) ** p.noisePow);
      const [n0, n1] = normalPair(w, t, seed >>> 0, TOY_STREAM);
      const gx = p.c * lam * y * y * 0.5 + p.kx * (x - p.x0) + sx * s * n0;
      const gy = lam * y + sy * s * n1;
      x = foldRef(x - a * gx, p.xLo, p.xHi);
      y = y - a * gy;
      const lam1 = p.lam0 * Math.exp(p.c * x);
      const loss = 0.5 * lam1 * y * y + 0.5 * p.kx * (x - p.x0) ** 2;
      if (!(loss <= p.escLoss)) {
        status[w] = t;
        break;
      }
    }
    pos[2 * w] = x;
    pos[2 * w + 1] = y;
  }
}
