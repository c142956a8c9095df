/**
 * ASHA — asynchronous successive halving (Li et al., "A system for massively parallel
 * hyperparameter tuning", MLSys 2020) in its stopping form (as Ray Tune's ASHAScheduler): rung k
 * sits at epoch r_k = minEpochs·η^k (below the runs' epochs). A run reaching rung k records its
 * metric there and goes on only if it ranks among the best max(1, ⌊n/η⌋) of the n runs recorded
 * at that rung so far, itself included; otherwise it stops early. No run waits for another, so
 * any number of workers can train at once; the decisions depend on the order runs reach a rung
 * (with one worker, the sweep's order).
 *
 * The rung records live on a RungBoard: in memory for an in-process sweep, in Redis for a queue
 * (src/queue/), where recording is atomic and idempotent (a restarted run gets its first answer).
 */
import type { AshaSpec } from './grid.ts';

export interface Rung {
  rung: number;
  epoch: number;
  step: number;
}

/** The rungs of a run with `stepsPerEpoch` steps per epoch and `totalSteps` in all (rungs strictly before the end). */
export function ashaRungs(a: AshaSpec, stepsPerEpoch: number, totalSteps: number): Rung[] {
  const out: Rung[] = [];
  for (let k = 0, epoch = a.minEpochs; epoch * stepsPerEpoch < totalSteps; k++, epoch *= a.eta) out.push({ rung: k, epoch, step: epoch * stepsPerEpoch });
  return out;
}

/** Lower is better: the test loss, or minus the test accuracy. */
export function ashaValue(a: AshaSpec, test: { loss: number; accuracy: number }): number {
  const v = a.metric === 'test-loss' ? test.loss : -test.accuracy;
  // A NaN loss ranks last.
  return Number.isNaN(v) ? Infinity : v;
}

export interface RungDecision {
  /** Runs recorded at this rung up to and including this one; how many of them go on; this run's rank (0 = best). */
  of: number;
  keep: number;
  rank: number;
  continues: boolean;
}

/** The stopping rule on the values recorded at a rung in arrival order, this run's last. */
export function ashaDecide(arrived: number[], eta: number): RungDecision {
  const v = arrived[arrived.length - 1];
  const of = arrived.length;
  const keep = Math.max(1, Math.floor(of / eta));
  // Ties go to the run being decided (strictly better values only count against it).
  const rank = arrived.filter((x) => x < v).length;
  return { of, keep, rank, continues: rank < keep };
}

export interface RungBoard {
  /**
   * Records `value` for run `unit` at `rung` (once: a second call for the same run and rung
   * records nothing) and returns the values recorded there up to and including this run's, in
   * arrival order.
   */
  record(rung: number, unit: number, value: number): Promise<number[]>;
}

/** The in-process board. */
export class MemoryRungBoard implements RungBoard {
  private rungs = new Map<number, { unit: number; value: number }[]>();

  async record(rung: number, unit: number, value: number): Promise<number[]> {
    const list = this.rungs.get(rung) ?? [];
    this.rungs.set(rung, list);
    let at = list.findIndex((e) => e.unit === unit);
    if (at < 0) at = list.push({ unit, value }) - 1;
    return list.slice(0, at + 1).map((e) => e.value);
  }
}

/** What ASHA did with one run: its value and the decision at each rung it reached. */
export interface AshaTrace {
  rungs: (Rung & RungDecision & { value: number })[];
  /** The epoch it was stopped at, or null when it trained to the end. */
  stoppedAtEpoch: number | null;
}
