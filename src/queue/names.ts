/**
 * The queue's names in Redis. Every key starts with PREFIX; BullMQ keeps two queues there:
 *   units   one job per unit of work (one run, or several trained together), children of…
 *   sweeps  one parent job per multi-run command; it runs (the collect) once all its units are done.
 * Job ids: the sweep id for the parent, `<sweep id>.u<unit>` for a unit, so a unit resubmitted by
 * mistake is the same job, not a second one.
 */
import type { KindName } from './kind.ts';

export const PREFIX = 'sgdscope';
export const UNITS = 'units';
export const SWEEPS = 'sweeps';

export const unitJobId = (sweepId: string, unit: number): string => `${sweepId}.u${unit}`;

export function unitOfJobId(id: string): number | null {
  const m = /\.u(\d+)$/.exec(id);
  return m ? Number(m[1]) : null;
}

/** ASHA's rung records of a sweep (src/queue/board.ts). */
export const ashaKey = (sweepId: string, rung: number, what: 'values' | 'order'): string => `${PREFIX}:asha:${sweepId}:${rung}:${what}`;

export interface UnitJobData {
  v: 1;
  sweepId: string;
  kind: KindName;
  unit: number;
  spec: unknown;
  /** The unit itself (its kind's unit type). */
  payload: unknown;
}

export interface SweepJobData {
  v: 1;
  sweepId: string;
  kind: KindName;
  spec: unknown;
  units: number;
  runs: number;
  created: string;
  submittedFrom: string;
}

/** What a unit job returns. */
export interface UnitJobResult {
  unit: number;
  runs: number[];
  summaries: string[];
  /** Runs already in the store when the job ran (a retry after its results were written): not trained again. */
  reused: boolean;
  worker: string;
  seconds: number;
  resumedFrom: Record<string, number>;
}

/** What a sweep's parent job returns. */
export interface SweepJobResult {
  dir: string;
  runs: number;
  failed: number;
  files: string[];
}
