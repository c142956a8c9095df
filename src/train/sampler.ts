/**
 * Which training samples each SGD step sees. Indices are produced on the CPU from the run's seed
 * (so a run is reproducible) and uploaded once per chunk of steps.
 */
import { Rng } from '../util/rng.ts';
import type { Sampling } from './config.ts';

export class MinibatchSampler {
  private perm: Uint32Array = new Uint32Array(0);
  private cursor = 0;
  readonly stepsPerEpoch: number;

  constructor(readonly n: number, readonly batchSize: number, readonly sampling: Sampling, readonly rng: Rng) {
    if (batchSize > n) throw new Error(`batchSize ${batchSize} exceeds the ${n} training samples`);
    this.stepsPerEpoch = Math.floor(n / batchSize);
  }

  /** Indices for the next `steps` minibatches, step s using [s·B, (s+1)·B). */
  next(steps: number): Uint32Array {
    const B = this.batchSize;
    const out = new Uint32Array(steps * B);
    for (let s = 0; s < steps; s++) {
      if (this.sampling === 'replacement') {
        for (let r = 0; r < B; r++) out[s * B + r] = this.rng.int(this.n);
        continue;
      }
      if (this.cursor + B > this.perm.length) {
        // New epoch: a fresh permutation; the remainder of the old one is dropped (drop_last).
        this.perm = this.rng.permutation(this.n);
        this.cursor = 0;
      }
      out.set(this.perm.subarray(this.cursor, this.cursor + B), s * B);
      this.cursor += B;
    }
    return out;
  }
}
