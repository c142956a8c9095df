/**
 * A chunk of an ensemble as the page draws it: per step, the minibatch loss and accuracy as the
 * mean across the replicas with the min–max band, and at an evaluation the same for the full
 * train and test sets, with every replica's numbers (the page lists them; the tests compare them
 * with single runs). The page draws these; it computes nothing.
 *
 * Which replicas count: a replica that stopped (diverged at step d: its steps from d on; reached
 * its target: its steps after that) is left out of the steps after its stop, so the band is of the
 * networks still training; non-finite numbers are left out too.
 */
import type { ChunkProgress, EvalRecord, ReplicaOutcome } from '../../train/run-types.ts';
import type { ChunkBand, EvalBand, EvalPoint } from './protocol.ts';

export function evalPoint(e: EvalRecord): EvalPoint {
  return { step: e.step, trainLoss: e.train.loss, trainAccuracy: e.train.accuracy, testLoss: e.test?.loss ?? NaN, testAccuracy: e.test?.accuracy ?? NaN };
}

/** The last step replica `o` trained (its numbers count up to it). */
function lastCounted(o: ReplicaOutcome): number {
  if (o.status === 'running') return Infinity;
  return o.status === 'diverged' ? o.step - 1 : o.step;
}

/** Mean, min and max of the finite values; NaN for all three when there are none. */
function stats(values: number[]): { mean: number; min: number; max: number } {
  const v = values.filter((x) => Number.isFinite(x));
  if (!v.length) return { mean: NaN, min: NaN, max: NaN };
  return { mean: v.reduce((a, b) => a + b, 0) / v.length, min: Math.min(...v), max: Math.max(...v) };
}

/** Mean and band of every step of the chunk, column by column. */
function stepBand(p: ChunkProgress, counted: number[], of: 'losses' | 'accuracies'): { mean: Float32Array; min: Float32Array; max: Float32Array } {
  const n = p.losses.length;
  const out = { mean: new Float32Array(n), min: new Float32Array(n), max: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const step = p.firstStep + i;
    const s = stats(p.replicas.flatMap((r, j) => (step <= counted[j] ? [r[of][i]] : [])));
    out.mean[i] = s.mean;
    out.min[i] = s.min;
    out.max[i] = s.max;
  }
  return out;
}

function evalBand(p: ChunkProgress, counted: number[]): EvalBand | null {
  const points = p.replicas.map((r, j) => (r.eval && r.eval.step <= counted[j] ? evalPoint(r.eval) : null));
  const present = points.filter((e): e is EvalPoint => e !== null);
  if (!present.length) return null;
  const step = present[0].step;
  const pick = (k: 'mean' | 'min' | 'max'): EvalPoint => {
    const of = (f: keyof EvalPoint): number => stats(present.map((e) => e[f]))[k];
    return { step, trainLoss: of('trainLoss'), trainAccuracy: of('trainAccuracy'), testLoss: of('testLoss'), testAccuracy: of('testAccuracy') };
  };
  return { mean: pick('mean'), min: pick('min'), max: pick('max'), replicas: points };
}

/**
 * The chunk's numbers for the page: `losses`, `accuracies` and `eval` are the means across the
 * replicas (R = 1: replica 0's own, untouched), `band` the min–max band and each replica's evaluation.
 */
export function ensembleChunk(p: ChunkProgress, outcomes: readonly ReplicaOutcome[]): { losses: Float32Array; accuracies: Float32Array; eval: EvalPoint | null; band: ChunkBand } {
  const counted = outcomes.map(lastCounted);
  const loss = stepBand(p, counted, 'losses');
  const acc = stepBand(p, counted, 'accuracies');
  const ev = evalBand(p, counted);
  return {
    losses: loss.mean,
    accuracies: acc.mean,
    eval: ev?.mean ?? null,
    band: { replicas: p.replicas.length, lossMin: loss.min, lossMax: loss.max, accuracyMin: acc.min, accuracyMax: acc.max, eval: ev },
  };
}
