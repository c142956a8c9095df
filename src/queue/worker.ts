/**
 * `sgdscope worker`: one process per GPU. It takes unit jobs (unit-job.ts) one at a time (or
 * `concurrency` at once on the same device), and the parent job of a sweep whose units are all
 * done (collect). Faults:
 *  - a worker that dies (SIGKILL, machine gone) stops renewing its job's lock; after lockSeconds
 *    BullMQ's stalled-job check — run by every other worker every stalledSeconds — puts the job
 *    back in the waiting list, and the next worker resumes it from its last checkpoint. A job
 *    stalled more than maxStalled times fails (a job that kills every worker is not retried forever);
 *  - a job that throws is retried (3 attempts, with back-off) unless its input is invalid
 *    (UnrecoverableError: failed at once); a failed job is recorded in the store's failed/ folder
 *    and the sweep is collected without it;
 *  - Redis restarting: every connection retries forever (capped back-off) and the work goes on.
 * SIGTERM / SIGINT: the running unit stops at its next chunk, saves a checkpoint and goes back to
 * the waiting list; then the worker exits 0. A second signal exits at once.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { bullmqConnection, probeRedis } from './connection.ts';
import { Resources } from './env.ts';
import { processUnitJob, workerName } from './unit-job.ts';
import { collectSweep, failedRuns } from './collect.ts';
import { PREFIX, SWEEPS, UNITS, type SweepJobData, type SweepJobResult, type UnitJobData } from './names.ts';
import { kindByName } from './kinds/index.ts';
import type { CheckpointPolicy } from './checkpoint.ts';
import type { Store } from './store.ts';
import type { QueueUrl } from './url.ts';

export interface WorkerOptions {
  queue: QueueUrl;
  store: Store;
  concurrency: number;
  checkpoint: CheckpointPolicy;
  lockSeconds: number;
  stalledSeconds: number;
  maxStalled: number;
  connectTimeoutMs: number;
  /** Exit after this many unit jobs (null: run until stopped). */
  maxJobs: number | null;
  log(s: string): void;
}

export async function runWorker(o: WorkerOptions): Promise<number> {
  const info = await probeRedis(o.queue, o.connectTimeoutMs);
  const env = new Resources();
  const ctx = await env.gpu();
  const name = workerName();
  o.log(`sgdscope worker ${name}: queue ${o.queue.shown} (Redis ${info.version}${info.aof ? ', AOF on' : ', AOF off: a Redis restart loses the queue — see README'}), store ${o.store.root}, GPU ${ctx.adapterName} (${ctx.runtime}), ${o.concurrency} job${o.concurrency > 1 ? 's' : ''} at a time`);
  let lastRetryLog = 0;
  const connection = bullmqConnection(o.queue, (attempt) => {
    if (Date.now() - lastRetryLog > 5000) {
      lastRetryLog = Date.now();
      o.log(`sgdscope worker ${name}: Redis at ${o.queue.shown} unreachable; reconnecting (attempt ${attempt})`);
    }
  });
  const redis = new Redis(connection);
  redis.on('error', () => undefined); // the retry strategy above reports
  let stopping = false;
  let done = 0;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const common = {
    connection, prefix: PREFIX, lockDuration: o.lockSeconds * 1000, stalledInterval: o.stalledSeconds * 1000, maxStalledCount: o.maxStalled, autorun: false,
  };
  const units = new Worker<UnitJobData>(UNITS, (job, token) => processUnitJob(job, token, { env, store: o.store, redis, policy: o.checkpoint, stopping: () => stopping, log: o.log }), { ...common, concurrency: o.concurrency });
  const sweeps = new Worker<SweepJobData, SweepJobResult>(SWEEPS, async (job) => {
    o.log(`sweep ${job.data.sweepId}: every unit is done; collecting`);
    const r = await collectSweep({ store: o.store, sweepId: job.data.sweepId, kind: job.data.kind, spec: job.data.spec, failed: await failedRuns(job), env });
    o.log(`sweep ${job.data.sweepId}: ${r.runs} runs${r.failed ? `, ${r.failed} failed` : ''} → ${r.dir}`);
    return r;
  }, { ...common, concurrency: 1 });
  const stop = async (why: string, code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    o.log(`sgdscope worker ${name}: ${why}; finishing or checkpointing the current job, then exiting`);
    await Promise.all([units.close(), sweeps.close()]);
    redis.disconnect();
    await env.destroy();
    finish(code);
  };
  units.on('completed', () => {
    done++;
    if (o.maxJobs !== null && done >= o.maxJobs) void stop(`${done} jobs done (--max-jobs)`, 0);
  });
  units.on('failed', (job, err) => {
    if (!job) return;
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    o.log(`job ${job.id}: ${final ? 'failed' : `attempt ${job.attemptsMade} failed, will retry`}: ${err.message}`);
    if (!final) return;
    const d = job.data;
    try {
      const kind = kindByName(d.kind);
      for (const index of kind.runsOf(d.payload)) o.store.writeFailure(d.sweepId, index, err.message);
    } catch {
      // a job too malformed to name its runs: the queue's own record is all there is
    }
  });
  for (const w of [units, sweeps]) w.on('error', (e) => o.log(`sgdscope worker ${name}: ${e.message}`));
  void ctx.lost.then((l) => stop(`the GPU device was lost (${l.message || l.reason})`, 1));
  const onSignal = (sig: string): void => {
    if (stopping) {
      o.log(`sgdscope worker ${name}: ${sig} again; exiting now`);
      process.exit(130);
    }
    void stop(`${sig} received`, 0);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  void units.run();
  void sweeps.run();
  return finished;
}
