/**
 * The mini-loss-function ensemble (Feng & Tu 2021) along one direction p through w*: each minibatch
 * μ defines its own landscape L_μ(w* + θp), a band fluctuating around the full loss L(w* + θp).
 * The per-row losses of every θ come from one batched ProbeEvaluator call; the minibatch means are
 * taken on the CPU for `batches` minibatches of B distinct samples (seeded, without replacement
 * within a minibatch, as the shuffle sampler draws them).
 */
import { Rng } from '../../util/rng.ts';
import type { ProbeEvaluator } from './probe-eval.ts';

export interface MlfEnsemble {
  dir: number;
  theta: Float64Array;
  /** Full loss L(w* + θp) per θ. */
  full: Float64Array;
  /** mini[μ][j] = L_μ(w* + θ_j p). */
  mini: Float64Array[];
  batchSize: number;
}

export function thetaGrid(halfWidth: number, points: number): Float64Array {
  if (!(halfWidth > 0 && Number.isFinite(halfWidth))) throw new Error(`thetaGrid: halfWidth must be finite and > 0, got ${halfWidth}`);
  if (!(Number.isInteger(points) && points >= 3)) throw new Error(`thetaGrid: points must be an integer >= 3, got ${points}`);
  return Float64Array.from({ length: points }, (_, i) => -halfWidth + (2 * halfWidth * i) / (points - 1));
}

export async function miniLossEnsemble(
  evaluator: ProbeEvaluator,
  dir: number,
  theta: Float64Array,
  o: { batchSize: number; batches: number; seed: number },
): Promise<MlfEnsemble> {
  const M = evaluator.M;
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1 && o.batchSize <= M)) throw new Error(`miniLossEnsemble: batchSize must be in [1, ${M}], got ${o.batchSize}`);
  const r = await evaluator.evaluate(Array.from(theta, (t) => ({ dir, theta: t })), true);
  const rows = r.rows as Float32Array;
  const rng = new Rng(o.seed);
  const mini: Float64Array[] = [];
  for (let b = 0; b < o.batches; b++) {
    const idx = rng.permutation(M).subarray(0, o.batchSize);
    const curve = new Float64Array(theta.length);
    for (let j = 0; j < theta.length; j++) {
      let s = 0;
      for (const i of idx) s += rows[j * M + i];
      curve[j] = s / o.batchSize;
    }
    mini.push(curve);
  }
  return { dir, theta, full: r.means, mini, batchSize: o.batchSize };
}
