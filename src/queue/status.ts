/**
 * `sgdscope sweep status`: per sweep, how many units wait, run, are done or failed, and an ETA —
 * the units still to run × the mean time of those done, over the number running now.
 */
import { Queue, type Job } from 'bullmq';
import { bullmqConnection, probeRedis } from './connection.ts';
import { PREFIX, SWEEPS, UNITS, type SweepJobData, type UnitJobResult } from './names.ts';
import type { QueueUrl } from './url.ts';

export interface SweepStatus {
  sweepId: string;
  kind: string;
  /** The parent job's state: waiting-children while units run, then waiting/active (collecting), completed, failed. */
  state: string;
  created: string;
  units: number;
  runs: number;
  waiting: number;
  active: number;
  /** Units waiting for a retry after a failed attempt. */
  retrying: number;
  completed: number;
  failed: number;
  /** Mean seconds per finished unit (null: none finished yet). */
  meanUnitSeconds: number | null;
  etaSeconds: number | null;
  /** Where the parent job wrote the run folder, once done. */
  dir: string | null;
}

const ofSweep = (id: string) => (j: Job | undefined): boolean => !!j?.id && j.id.startsWith(`${id}.u`);

export async function sweepStatus(units: Queue, parent: Job<SweepJobData>): Promise<SweepStatus> {
  const d = parent.data;
  const [state, deps, active, delayed, done] = await Promise.all([
    parent.getState(),
    parent.getDependenciesCount({ processed: true, unprocessed: true, failed: true, ignored: true }),
    units.getJobs(['active']),
    units.getJobs(['delayed']),
    parent.getDependencies({ processed: { count: 1000 } }),
  ]);
  const nActive = active.filter(ofSweep(d.sweepId)).length;
  const retrying = delayed.filter(ofSweep(d.sweepId)).length;
  const pending = deps.unprocessed ?? 0;
  const seconds = Object.values(done.processed ?? {})
    .map((v) => (typeof v === 'string' ? (JSON.parse(v) as UnitJobResult) : (v as UnitJobResult)))
    .filter((r) => r && !r.reused && r.seconds > 0)
    .map((r) => r.seconds);
  const mean = seconds.length ? seconds.reduce((a, b) => a + b, 0) / seconds.length : null;
  return {
    sweepId: d.sweepId, kind: d.kind, state, created: d.created, units: d.units, runs: d.runs,
    waiting: Math.max(0, pending - nActive - retrying), active: nActive, retrying,
    completed: deps.processed ?? 0, failed: (deps.failed ?? 0) + (deps.ignored ?? 0),
    meanUnitSeconds: mean,
    etaSeconds: mean === null ? null : pending === 0 ? 0 : (pending * mean) / Math.max(1, nActive),
    dir: state === 'completed' ? ((parent.returnvalue as { dir?: string } | null)?.dir ?? null) : null,
  };
}

/** Every sweep in the queue (or one), newest first. */
export async function queueStatus(q: QueueUrl, o: { sweepId?: string; timeoutMs: number }): Promise<SweepStatus[]> {
  await probeRedis(q, o.timeoutMs);
  const sweeps = new Queue<SweepJobData>(SWEEPS, { connection: bullmqConnection(q), prefix: PREFIX });
  const units = new Queue(UNITS, { connection: bullmqConnection(q), prefix: PREFIX });
  try {
    let parents: Job<SweepJobData>[];
    if (o.sweepId) {
      const j = await sweeps.getJob(o.sweepId);
      if (!j) throw new Error(`sweep '${o.sweepId}' is not in the queue at ${q.shown}`);
      parents = [j];
    } else {
      parents = (await sweeps.getJobs(['waiting-children', 'waiting', 'active', 'delayed', 'completed', 'failed'])).filter((j): j is Job<SweepJobData> => !!j);
    }
    const out = await Promise.all(parents.map((p) => sweepStatus(units, p)));
    return out.sort((a, b) => b.created.localeCompare(a.created));
  } finally {
    await Promise.all([sweeps.close(), units.close()]);
  }
}

export function formatStatus(s: SweepStatus): string {
  const eta = s.etaSeconds === null ? 'ETA unknown (no unit finished yet)' : s.state === 'completed' ? 'done' : `ETA ${formatSeconds(s.etaSeconds)}`;
  return `${s.sweepId} (${s.kind}, ${s.runs} runs in ${s.units} units): ${s.state} — waiting ${s.waiting}, active ${s.active}${s.retrying ? `, retrying ${s.retrying}` : ''}, completed ${s.completed}, failed ${s.failed}; ${eta}${s.meanUnitSeconds !== null ? ` (${s.meanUnitSeconds.toFixed(1)} s per unit)` : ''}${s.dir ? `; run folder ${s.dir}` : ''}`;
}

export function formatSeconds(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
