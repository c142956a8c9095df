/**
 * Which training samples each SGD step sees. Indices are produced on the CPU from the run's seed
 * (so a run is reproducible) and uploaded once per chunk of steps.
 */
import { Rng, type RngState } from '../util/rng.ts';
import { stepsPerEpochOf, type Sampling } from './config.ts';

/** Where a sampler stands: its generator, the current epoch's permutation and the position in it. */
export interface SamplerState {
  rng: RngState;
  perm: Uint32Array;
  cursor: number;
}

export class MinibatchSampler {
  private perm: Uint32Array = new Uint32Array(0);
  private cursor = 0;
  readonly stepsPerEpoch: number;

  constructor(readonly n: number, readonly batchSize: number, readonly sampling: Sampling, private rng: Rng) {
    if (batchSize > n) throw new Error(`batchSize ${batchSize} exceeds the ${n} training samples`);
    this.stepsPerEpoch = stepsPerEpochOf(n, batchSize);
  }

  /** A copy of the sampler's position (the permutation array is replaced, never mutated, so it is shared). */
  state(): SamplerState {
    return { rng: this.rng.state(), perm: this.perm, cursor: this.cursor };
  }

  /** Continues from `st` (taken from a sampler over the same n, B and sampling). */
  restore(st: SamplerState): void {
    const p = st.perm;
    if (!(p instanceof Uint32Array) || (p.length !== 0 && p.length !== this.n)) throw new Error(`sampler: a permutation of ${p?.length} indices does not fit ${this.n} training samples`);
    for (let i = 0; i < p.length; i++) if (p[i] >= this.n) throw new Error(`sampler: permutation entry ${p[i]} is out of range [0, ${this.n})`);
    if (!(Number.isInteger(st.cursor) && st.cursor >= 0 && st.cursor <= p.length)) throw new Error(`sampler: cursor ${st.cursor} is outside the permutation (length ${p.length})`);
    this.rng = Rng.fromState(st.rng);
    this.perm = p;
    this.cursor = st.cursor;
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
