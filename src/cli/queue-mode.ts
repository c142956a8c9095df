/**
 * Queue mode for the multi-run commands (sweep, reproduce awd, reproduce signal-propagation,
 * reproduce feng-tu --seeds): with --queue the command checks its spec, sends it to the queue as one
 * flow (src/queue/submit.ts) and follows it — progress lines, then where the workers' collect
 * wrote the run folder — or, with --detach, returns once it is queued.
 */
import { parseQueueUrl } from '../queue/url.ts';
import { followSweep, submitSweep } from '../queue/submit.ts';
import { formatSeconds, formatStatus } from '../queue/status.ts';
import type { KindName } from '../queue/kind.ts';
import { UsageError, type FlagSpec, type FlagValues } from './args.ts';

export const QUEUE_FLAGS: Record<string, FlagSpec> = {
  queue: { kind: 'string', help: 'run on the job queue at this Redis URL (redis://host:port/db) instead of in this process: `sgdscope worker` processes on any machine train the runs' },
  name: { kind: 'string', help: 'with --queue: the sweep id (its folder in the workers\' store; default <time>-<command>-<random>)' },
  detach: { kind: 'bool', help: 'with --queue: return once the sweep is queued (follow it with `sgdscope sweep status`)' },
  'queue-timeout': { kind: 'number', help: 'seconds to wait for Redis to answer when connecting (default 5)', range: [0.1, 3600] },
};

/** Seconds a followed sweep may go without an answer from Redis (a restart) before the command gives up following. */
const OUTAGE_SECONDS = 600;

export const queueTimeoutMs = (flags: FlagValues): number => 1000 * ((flags['queue-timeout'] as number | undefined) ?? 5);

export function queueUrlFlag(flags: FlagValues, command: string): ReturnType<typeof parseQueueUrl> {
  try {
    return parseQueueUrl(String(flags.queue));
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
}

/** Flags that only mean something with --queue. */
export function checkQueueFlags(flags: FlagValues, command: string): void {
  if (flags.queue !== undefined) return;
  for (const f of ['name', 'detach']) if (flags[f] !== undefined) throw new UsageError(`${command}: --${f} needs --queue`);
}

export async function runOnQueue(kind: KindName, spec: unknown, flags: FlagValues, command: string, log: (s: string) => void): Promise<number> {
  const q = queueUrlFlag(flags, command);
  const { sweepId, units, runs } = await submitSweep(q, kind, spec, { sweepId: flags.name as string | undefined, timeoutMs: queueTimeoutMs(flags) });
  process.stdout.write(`${command}: queued sweep ${sweepId} (${runs} runs in ${units} jobs) on ${q.shown}\n`);
  if (flags.detach) {
    process.stdout.write(`follow it with: sgdscope sweep status --queue ${q.shown} --sweep ${sweepId}\n`);
    return 0;
  }
  const t0 = performance.now();
  let last = '';
  const r = await followSweep(q, sweepId, {
    outageMs: OUTAGE_SECONDS * 1000,
    onStatus: (s) => {
      // A line when a count changes, not at every poll.
      const key = `${s.state} ${s.waiting} ${s.active} ${s.retrying} ${s.completed} ${s.failed}`;
      if (key !== last) log(formatStatus(s));
      last = key;
    },
  });
  process.stdout.write(`${r.runs} runs${r.failed ? ` (${r.failed} failed)` : ''} in ${formatSeconds((performance.now() - t0) / 1000)}; run folder (in the workers' store): ${r.dir}\n`);
  return 0;
}
