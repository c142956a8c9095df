/**
 * `sgdscope sweep status --queue URL [--sweep ID]`: waiting / active / completed / failed units and
 * an ETA per sweep in the queue (any multi-run command's). `sgdscope sweep collect --store DIR
 * --sweep ID [--queue URL]`: writes a queued sweep's run folder from the run folders in the store —
 * what the workers' parent job does once every run is done — e.g. again, or elsewhere (--out), or
 * before the end (--partial). With --queue the failures the queue recorded are listed too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Store } from '../queue/store.ts';
import { collectSweep, failedRuns } from '../queue/collect.ts';
import { formatStatus, queueStatus } from '../queue/status.ts';
import { bullmqConnection, probeRedis } from '../queue/connection.ts';
import { PREFIX, SWEEPS, type SweepJobData } from '../queue/names.ts';
import { Resources } from '../queue/env.ts';
import { kindByName } from '../queue/kinds/index.ts';
import type { KindName } from '../queue/kind.ts';
import { helpText, parseFlags, UsageError, type FlagSpec } from './args.ts';
import { queueTimeoutMs, queueUrlFlag, QUEUE_FLAGS } from './queue-mode.ts';

const STATUS_FLAGS: Record<string, FlagSpec> = {
  queue: { kind: 'string', help: 'the job queue: redis://host:port/db (required)' },
  sweep: { kind: 'string', help: 'only this sweep (default: every sweep in the queue)' },
  json: { kind: 'bool', help: 'print JSON' },
  'queue-timeout': QUEUE_FLAGS['queue-timeout'],
  help: { kind: 'bool', help: 'show this help' },
};

const COLLECT_FLAGS: Record<string, FlagSpec> = {
  store: { kind: 'string', help: 'the workers\' store (required)' },
  sweep: { kind: 'string', help: 'the sweep id (required unless the store holds one sweep)' },
  queue: { kind: 'string', help: 'the job queue (redis://host:port/db): also list the runs whose jobs failed there' },
  out: { kind: 'string', help: 'write the files here (default: the sweep\'s folder in the store)' },
  partial: { kind: 'bool', help: 'collect even when runs are missing (they are listed as not run)' },
  'queue-timeout': QUEUE_FLAGS['queue-timeout'],
  help: { kind: 'bool', help: 'show this help' },
};

export async function sweepStatusCommand(argv: string[]): Promise<number> {
  const cmd = 'sgdscope sweep status';
  const { flags, positional } = parseFlags(argv, STATUS_FLAGS, cmd);
  if (flags.help) {
    process.stdout.write(helpText(cmd, 'units waiting, active, completed and failed per sweep in the queue, with an ETA', STATUS_FLAGS));
    return 0;
  }
  if (positional.length) throw new UsageError(`${cmd}: unexpected argument '${positional[0]}'`);
  if (flags.queue === undefined) throw new UsageError(`${cmd}: --queue redis://host:port/db is required`);
  const q = queueUrlFlag(flags, cmd);
  const rows = await queueStatus(q, { sweepId: flags.sweep as string | undefined, timeoutMs: queueTimeoutMs(flags) });
  if (flags.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else process.stdout.write(rows.length ? rows.map(formatStatus).join('\n') + '\n' : `no sweeps in the queue at ${q.shown}\n`);
  return 0;
}

/** The sweep's kind and spec: from the queue's parent job, else from the store's sweep.json. */
async function manifest(flags: Record<string, unknown>, store: Store, sweepId: string, cmd: string): Promise<{ kind: KindName; spec: unknown; failed: { index: number; reason: string }[] }> {
  if (flags.queue !== undefined) {
    const q = queueUrlFlag(flags as never, cmd);
    await probeRedis(q, queueTimeoutMs(flags as never));
    const sweeps = new Queue<SweepJobData>(SWEEPS, { connection: bullmqConnection(q), prefix: PREFIX });
    try {
      const job = await sweeps.getJob(sweepId);
      if (!job) throw new UsageError(`${cmd}: sweep '${sweepId}' is not in the queue at ${q.shown}`);
      return { kind: job.data.kind, spec: job.data.spec, failed: await failedRuns(job) };
    } finally {
      await sweeps.close();
    }
  }
  const path = join(store.sweepDir(sweepId), 'sweep.json');
  if (!existsSync(path)) throw new UsageError(`${cmd}: ${path} does not exist (a sweep not collected yet): give --queue so the spec can be read from the queue`);
  const m = JSON.parse(readFileSync(path, 'utf8')) as { kind: KindName; spec: unknown };
  return { kind: m.kind, spec: m.spec, failed: [] };
}

export async function sweepCollectCommand(argv: string[]): Promise<number> {
  const cmd = 'sgdscope sweep collect';
  const { flags, positional } = parseFlags(argv, COLLECT_FLAGS, cmd);
  if (flags.help) {
    process.stdout.write(helpText(cmd, "write a queued sweep's run folder (runs.csv, charts.json, report.html, …) from the run folders in the store", COLLECT_FLAGS));
    return 0;
  }
  if (positional.length) throw new UsageError(`${cmd}: unexpected argument '${positional[0]}'`);
  if (flags.store === undefined) throw new UsageError(`${cmd}: --store DIR is required`);
  if (flags.sweep === undefined) throw new UsageError(`${cmd}: --sweep ID is required (sgdscope sweep status lists them)`);
  let store: Store;
  try {
    store = new Store(String(flags.store));
  } catch (e) {
    throw new UsageError(`${cmd}: ${(e as Error).message}`);
  }
  const sweepId = String(flags.sweep);
  const m = await manifest(flags, store, sweepId, cmd);
  const env = kindByName(m.kind).collectNeedsGpu ? new Resources() : null;
  try {
    const r = await collectSweep({ store, sweepId, kind: m.kind, spec: m.spec, failed: m.failed, partial: !!flags.partial, out: flags.out as string | undefined, env });
    process.stdout.write(`${r.runs} runs${r.failed ? ` (${r.failed} failed or not run)` : ''}; run folder: ${r.dir} (${r.files.join(', ')})\n`);
  } finally {
    await env?.destroy();
  }
  return 0;
}
