/**
 * `sgdscope worker --queue URL --store DIR`: train the queue's runs on this machine's GPU and write
 * their run folders into the store (src/queue/worker.ts). One worker per GPU.
 */
import { Store } from '../queue/store.ts';
import { runWorker } from '../queue/worker.ts';
import type { CheckpointPolicy } from '../queue/checkpoint.ts';
import { helpText, parseFlags, UsageError, type FlagSpec } from './args.ts';
import { queueTimeoutMs, queueUrlFlag, QUEUE_FLAGS } from './queue-mode.ts';

const CMD = 'sgdscope worker';

export const WORKER_FLAGS: Record<string, FlagSpec> = {
  queue: { kind: 'string', help: 'the job queue: redis://host:port/db (required)' },
  store: { kind: 'string', help: 'the folder every worker shares (NFS, a cloud file share, or local for workers on one machine) where run folders and checkpoints go (required)' },
  concurrency: { kind: 'int', help: 'jobs trained at once on this GPU (default 1)', range: [1, 16] },
  'checkpoint-every': { kind: 'string', help: "checkpoint a run in training every N seconds ('60s', the default) or every N steps ('500'); 'off' for none" },
  'lock-seconds': { kind: 'number', help: 'a job whose worker has not renewed its lock for this long is given to another worker (default 60)', range: [1, 86400] },
  'stalled-seconds': { kind: 'number', help: 'how often this worker looks for such jobs (default 30)', range: [0.5, 86400] },
  'max-stalled': { kind: 'int', help: 'a job given away this many times fails (default 5)', range: [1, 1000] },
  'max-jobs': { kind: 'int', help: 'exit after this many jobs (default: run until SIGTERM)', range: [1, 1e9] },
  'queue-timeout': QUEUE_FLAGS['queue-timeout'],
  quiet: { kind: 'bool', help: 'no log lines' },
  help: { kind: 'bool', help: 'show this help' },
};

const SUMMARY = 'take runs from the job queue (sweep, reproduce … --queue), train them on this GPU, write their run folders into the shared store; SIGTERM checkpoints the current run and exits';

export function parseCheckpointEvery(raw: string | undefined): CheckpointPolicy {
  if (raw === undefined) return { seconds: 60, steps: null };
  if (raw === 'off') return { seconds: null, steps: null };
  const m = /^(\d+(?:\.\d+)?)(s?)$/.exec(raw.trim());
  const v = m ? Number(m[1]) : NaN;
  if (!m || !(v > 0) || (m[2] === '' && !Number.isInteger(v))) throw new UsageError(`${CMD}: --checkpoint-every takes seconds ('60s'), steps (an integer, '500') or 'off', got '${raw}'`);
  return m[2] === 's' ? { seconds: v, steps: null } : { seconds: null, steps: v };
}

export async function workerCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, WORKER_FLAGS, CMD);
  if (flags.help) {
    process.stdout.write(helpText(CMD, SUMMARY, WORKER_FLAGS));
    return 0;
  }
  if (positional.length) throw new UsageError(`${CMD}: unexpected argument '${positional[0]}' (flags start with --)`);
  if (flags.queue === undefined) throw new UsageError(`${CMD}: --queue redis://host:port/db is required`);
  if (flags.store === undefined) throw new UsageError(`${CMD}: --store DIR is required (the folder the run folders go to)`);
  const queue = queueUrlFlag(flags, CMD);
  const checkpoint = parseCheckpointEvery(flags['checkpoint-every'] as string | undefined);
  let store: Store;
  try {
    store = new Store(String(flags.store));
  } catch (e) {
    throw new UsageError(`${CMD}: ${(e as Error).message}`);
  }
  const lockSeconds = (flags['lock-seconds'] as number | undefined) ?? 60;
  const stalledSeconds = (flags['stalled-seconds'] as number | undefined) ?? Math.min(30, lockSeconds);
  return runWorker({
    queue, store, checkpoint, lockSeconds, stalledSeconds,
    concurrency: (flags.concurrency as number | undefined) ?? 1,
    maxStalled: (flags['max-stalled'] as number | undefined) ?? 5,
    maxJobs: (flags['max-jobs'] as number | undefined) ?? null,
    connectTimeoutMs: queueTimeoutMs(flags),
    log: (s) => {
      if (!flags.quiet) process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
    },
  });
}
