/**
 * One unit job on a worker: check the spec (a bad one fails at once, never retried), skip runs
 * already in the store (a retry after they were written), run the rest with checkpoints and
 * progress, and write each run's folder into the store atomically. On shutdown the unit stops at
 * its next chunk with a checkpoint and the job goes back to the waiting list for any worker.
 */
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { encodeExactJson } from '../util/exact-json.ts';
import { kindByName } from './kinds/index.ts';
import { InputError, type WorkerEnv } from './kind.ts';
import { QueueTraining, ShutdownError, type CheckpointPolicy, type Progress } from './checkpoint.ts';
import { RedisRungBoard } from './board.ts';
import { unitJson, type Store } from './store.ts';
import type { UnitJobData, UnitJobResult } from './names.ts';

export interface UnitJobContext {
  env: WorkerEnv;
  store: Store;
  redis: Redis;
  policy: CheckpointPolicy;
  stopping(): boolean;
  log(s: string): void;
}

export const workerName = (): string => `${hostname()}:${process.pid}`;

/** Job progress (BullMQ's job.updateProgress), at most every 2 s; a failed report is not worth stopping for. */
function progressReporter(job: Job): (p: Progress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 2000) return;
    last = now;
    job.updateProgress({ ...p, worker: workerName() }).catch(() => undefined);
  };
}

export async function processUnitJob(job: Job<UnitJobData>, token: string | undefined, c: UnitJobContext): Promise<UnitJobResult> {
  const d = job.data;
  const where = `job ${job.id}`;
  let kind, spec, unit: unknown;
  try {
    if (!d || d.v !== 1) throw new Error(`unsupported job data (version ${JSON.stringify(d?.v)}; this worker reads version 1)`);
    kind = kindByName(d.kind);
    spec = kind.check(d.spec);
    unit = d.payload;
    const runs = kind.runsOf(unit);
    if (!Array.isArray(runs) || runs.some((i) => !Number.isInteger(i) || i < 0)) throw new Error('the unit lists no valid run indices');
  } catch (e) {
    throw new UnrecoverableError(`${where}: invalid job: ${(e as Error).message}`);
  }
  const runs = kind.runsOf(unit);
  const t0 = performance.now();
  if (runs.every((i) => c.store.hasRun(d.sweepId, i))) {
    c.log(`${where}: runs ${runs.join(', ')} are already in the store; nothing to train`);
    return { unit: d.unit, runs, summaries: runs.map(() => 'already in the store'), reused: true, worker: workerName(), seconds: 0, resumedFrom: {} };
  }
  const startedAt = new Date().toISOString();
  const controls = new Map<number, QueueTraining>();
  const report = progressReporter(job);
  const board = new RedisRungBoard(c.redis, d.sweepId);
  const io = (index: number) => {
    const control = new QueueTraining({ path: (key) => c.store.checkpointPath(d.sweepId, index, key), policy: c.policy, onProgress: report, stopping: c.stopping });
    controls.set(index, control);
    return { control, board, progress: report };
  };
  c.log(`${where}: ${kind.label(unit)} (attempt ${Math.max(job.attemptsStarted, job.attemptsMade + 1)}${job.stalledCounter ? `, taken over from a worker that stopped answering` : ''})`);
  let outputs;
  try {
    outputs = await kind.run(c.env, spec, unit, io);
  } catch (e) {
    if (e instanceof ShutdownError) {
      c.log(`${where}: ${e.message}; back to the waiting list`);
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if (e instanceof InputError) throw new UnrecoverableError(`${where}: invalid job: ${e.message}`);
    throw e;
  }
  const adapter = await c.env.adapter();
  const resumedFrom: Record<string, number> = {};
  for (const o of outputs) {
    const resumed = Object.fromEntries(controls.get(o.index)?.resumedFrom ?? []);
    for (const [k, v] of Object.entries(resumed)) resumedFrom[`${o.index}/${k}`] = v;
    if (!o.files.has('record.json')) o.files.set('record.json', encodeExactJson(o.record));
    o.files.set('unit.json', unitJson({ sweep: d.sweepId, kind: d.kind, run: o.index, job: job.id, attempt: Math.max(job.attemptsStarted, job.attemptsMade + 1), worker: workerName(), adapter, startedAt, resumedFrom: resumed, context: o.context }));
    const fresh = c.store.writeRun(d.sweepId, o.index, o.files);
    c.store.clearCheckpoints(d.sweepId, o.index);
    c.log(`${where}: run ${o.index}: ${o.summary}${Object.keys(resumed).length ? ` (resumed from step ${Object.values(resumed).join('/')})` : ''}${fresh ? '' : ' — already in the store (another worker finished it first); kept that one'}`);
  }
  return { unit: d.unit, runs, summaries: outputs.map((o) => o.summary), reused: false, worker: workerName(), seconds: (performance.now() - t0) / 1000, resumedFrom };
}
