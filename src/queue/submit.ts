/**
 * Sending a multi-run command to the queue: one BullMQ flow per sweep — a parent job in `sweeps`
 * whose children are the units in `units` (kind.ts). A child that fails for good does not fail the
 * parent (ignoreDependencyOnFailure): the parent runs once every child has completed or failed,
 * and its collect lists the failures. Then, unless detached, the command follows the sweep:
 * progress lines while it runs, the run folder's path when it is done.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { FlowProducer, Queue } from 'bullmq';
import { bullmqConnection, probeRedis, withTimeout } from './connection.ts';
import { kindByName } from './kinds/index.ts';
import type { KindName } from './kind.ts';
import { checkSweepId } from './store.ts';
import { PREFIX, SWEEPS, UNITS, unitJobId, type SweepJobData, type SweepJobResult, type UnitJobData } from './names.ts';
import { sweepStatus, type SweepStatus } from './status.ts';
import type { QueueUrl } from './url.ts';

/** Attempts per unit job (a run that throws — not one that diverges — is tried again on any worker). */
export const UNIT_ATTEMPTS = 3;

export function newSweepId(kind: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
  return `${stamp}-${kind}-${randomBytes(3).toString('hex')}`;
}

export async function submitSweep(q: QueueUrl, kindName: KindName, spec: unknown, o: { sweepId?: string; timeoutMs: number }): Promise<{ sweepId: string; units: number; runs: number }> {
  const kind = kindByName(kindName);
  const checked = kind.check(spec);
  const units = kind.units(checked);
  const runs = units.map((u) => kind.runsOf(u).length).reduce((a, b) => a + b, 0);
  const sweepId = checkSweepId(o.sweepId ?? newSweepId(kindName));
  await probeRedis(q, o.timeoutMs);
  const connection = bullmqConnection(q);
  const queue = new Queue(SWEEPS, { connection, prefix: PREFIX });
  const flow = new FlowProducer({ connection, prefix: PREFIX });
  try {
    if (await queue.getJob(sweepId)) throw new Error(`a sweep with id '${sweepId}' is already in the queue; choose another --name`);
    const data: SweepJobData = { v: 1, sweepId, kind: kindName, spec: checked, units: units.length, runs, created: new Date().toISOString(), submittedFrom: hostname() };
    await flow.add({
      name: kindName,
      queueName: SWEEPS,
      data,
      opts: { jobId: sweepId, attempts: UNIT_ATTEMPTS, backoff: { type: 'exponential', delay: 5000 } },
      children: units.map((u, i): { name: string; queueName: string; data: UnitJobData; opts: object } => ({
        name: kindName,
        queueName: UNITS,
        data: { v: 1, sweepId, kind: kindName, unit: i, spec: checked, payload: u },
        opts: { jobId: unitJobId(sweepId, i), attempts: UNIT_ATTEMPTS, backoff: { type: 'exponential', delay: 5000 }, ignoreDependencyOnFailure: true },
      })),
    });
  } finally {
    await Promise.all([queue.close(), flow.close()]);
  }
  return { sweepId, units: units.length, runs };
}

/**
 * Follows a sweep until its parent job (the collect) has completed or failed. Redis may restart
 * meanwhile: BullMQ's connections wait for it, and a poll that gets no answer for `outageMs`
 * ends the wait with an error (the sweep itself goes on; `sgdscope sweep status` finds it again).
 */
export async function followSweep(q: QueueUrl, sweepId: string, o: { outageMs: number; everyMs?: number; onStatus?(s: SweepStatus): void }): Promise<SweepJobResult> {
  const queue = new Queue(SWEEPS, { connection: bullmqConnection(q), prefix: PREFIX });
  const units = new Queue(UNITS, { connection: bullmqConnection(q), prefix: PREFIX });
  for (const x of [queue, units]) x.on('error', () => undefined); // outages are timed below
  try {
    for (;;) {
      const poll = async (): Promise<SweepJobResult | null> => {
        const job = await queue.getJob(sweepId);
        if (!job) throw new Error(`sweep '${sweepId}' is not in the queue at ${q.shown}`);
        const state = await job.getState();
        if (state === 'completed') return job.returnvalue as SweepJobResult;
        if (state === 'failed') throw new Error(`sweep ${sweepId}: collecting failed: ${job.failedReason}`);
        o.onStatus?.(await sweepStatus(units, job));
        return null;
      };
      const done = await withTimeout(poll(), o.outageMs, () => `no answer from the queue at ${q.shown} for ${(o.outageMs / 1000).toFixed(0)} s; the sweep goes on without this command (sgdscope sweep status --queue ${q.shown})`);
      if (done) return done;
      await new Promise((r) => setTimeout(r, o.everyMs ?? 2000));
    }
  } finally {
    await Promise.all([queue.close(), units.close()]);
  }
}
