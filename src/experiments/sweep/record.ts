/**
 * A sweep run's record as a file (record.json in its run folder): exact JSON (src/util/exact-json.ts),
 * so the record a queue worker writes reads back to the very numbers an in-process sweep holds,
 * and `sweep collect` writes the same runs.csv, charts.json and report.
 */
import { decodeExactJson, encodeExactJson } from '../../util/exact-json.ts';
import type { SweepRun } from './result.ts';

export function encodeRecord(r: SweepRun): string {
  return encodeExactJson(r);
}

export function decodeRecord(text: string, where: string): SweepRun {
  let r: SweepRun;
  try {
    r = decodeExactJson<SweepRun>(text);
  } catch (e) {
    throw new Error(`${where}: not a sweep run record (${(e as Error).message})`);
  }
  if (!r || typeof r !== 'object' || !r.point || !Number.isInteger(r.point.index) || !Array.isArray(r.evals)) throw new Error(`${where}: not a sweep run record (no point or evaluations)`);
  return r;
}
