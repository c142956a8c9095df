/**
 * Nearest neighbours of the same class in pixel space, for the activity–weight duality: each
 * sample of one set is paired with the closest sample (Euclidean distance of the raw inputs) of
 * the same label in the other set.
 *
 *   'train-to-test'  every training sample k → its nearest test sample t(k) (the and
 *                    science.md's statement of the method);
 *   'test-to-train'  every test sample → its nearest training sample (what the authors' code,
 *                    A-W-Duality-Project/AWD.py, does: then the pairs' mean test loss is exactly
 *                    the test loss).
 *
 * Restricting to one class cuts the work by the number of classes: MNIST's 4,000 × 2,000 pairs
 * are 10 blocks of ~400 × 200 distances of 784 pixels (~6e8 multiply-adds, about a second on
 * the CPU), so this runs on the CPU: ‖a − b‖² = ‖a‖² + ‖b‖² − 2a·b with float64 sums.
 */
import type { Dataset } from '../../data/index.ts';

export type Pairing = 'train-to-test' | 'test-to-train';

export interface Pairs {
  pairing: Pairing;
  /** pairs[i] = (train index, test index). */
  train: Uint32Array;
  test: Uint32Array;
  /** Pixel distance of each pair. */
  distance: Float64Array;
  seconds: number;
}

function byClass(y: Uint8Array, classes: number): number[][] {
  const out: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < y.length; i++) out[y[i]].push(i);
  return out;
}

function sqNorms(ds: Dataset): Float64Array {
  const out = new Float64Array(ds.n);
  for (let i = 0; i < ds.n; i++) {
    let s = 0;
    const o = i * ds.d;
    for (let j = 0; j < ds.d; j++) s += ds.x[o + j] * ds.x[o + j];
    out[i] = s;
  }
  return out;
}

/** For every row of `from`, the nearest row of `to` with the same label (ties: the lowest index). */
function nearest(from: Dataset, to: Dataset): { index: Int32Array; distance: Float64Array } {
  if (from.d !== to.d) throw new Error(`pairing: ${from.name} has ${from.d} features, ${to.name} ${to.d}`);
  const classes = Math.max(from.classes, to.classes);
  const fc = byClass(from.y, classes);
  const tc = byClass(to.y, classes);
  const fn = sqNorms(from);
  const tn = sqNorms(to);
  const index = new Int32Array(from.n).fill(-1);
  const distance = new Float64Array(from.n).fill(NaN);
  const d = from.d;
  for (let c = 0; c < classes; c++) {
    const targets = tc[c];
    if (targets.length === 0) continue;
    for (const i of fc[c]) {
      const xo = i * d;
      let best = Infinity;
      let arg = -1;
      for (const j of targets) {
        const yo = j * d;
        let dot = 0;
        for (let t = 0; t < d; t++) dot += from.x[xo + t] * to.x[yo + t];
        const dist2 = fn[i] + tn[j] - 2 * dot;
        if (dist2 < best) {
          best = dist2;
          arg = j;
        }
      }
      index[i] = arg;
      distance[i] = Math.sqrt(Math.max(best, 0));
    }
  }
  return { index, distance };
}

export function pairSamples(train: Dataset, test: Dataset, pairing: Pairing): Pairs {
  const t0 = performance.now();
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  const dist: number[] = [];
  if (pairing === 'train-to-test') {
    const r = nearest(train, test);
    for (let i = 0; i < train.n; i++) if (r.index[i] >= 0) (trainIdx.push(i), testIdx.push(r.index[i]), dist.push(r.distance[i]));
  } else {
    const r = nearest(test, train);
    for (let j = 0; j < test.n; j++) if (r.index[j] >= 0) (trainIdx.push(r.index[j]), testIdx.push(j), dist.push(r.distance[j]));
  }
  return { pairing, train: Uint32Array.from(trainIdx), test: Uint32Array.from(testIdx), distance: Float64Array.from(dist), seconds: (performance.now() - t0) / 1000 };
}
