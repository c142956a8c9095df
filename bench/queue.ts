/**
 * `node --import tsx bench/queue.ts [--workers 1,2] [--out bench/results] [sweep flags…]`: the same
 * sweep in process and through the job queue with 1, 2, … local `sgdscope worker` processes (a
 * redis-server started here on a free 127.0.0.1 port), timed in the same run: wall time from
 * submitting to the collected run folder (workers started and ready beforehand), runs per hour,
 * the ratio to the in-process sweep, and whether runs.csv is the in-process one (timings aside).
 * Default sweep: `sgdscope sweep`'s own default grid (18 runs). Writes <date>-queue-<adapter>.md.
 *
 * On one machine every worker shares its GPU (here: SwiftShader on the CPU cores), so this
 * measures the queue's overhead, not its scaling; on a cluster each worker has its own GPU.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, waitFor } from '../tests/helpers/redis.ts';
import { sgdscopeAsync, startWorker, type WorkerProc } from '../tests/helpers/cli.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const counts = arg('workers', '1,2').split(',').map(Number);
const outDir = arg('out', join(import.meta.dirname, 'results'));
const known = new Set(['--workers', '--out']);
const sweepFlags = process.argv.slice(2).filter((a, i, all) => !known.has(a) && !known.has(all[i - 1]));

function maskedRuns(dir: string): string {
  const [header, ...rows] = readFileSync(join(dir, 'runs.csv'), 'utf8').trim().split('\n');
  const drop = new Set(['seconds', 'sharpness_seconds'].map((c) => header.split(',').indexOf(c)));
  return [header, ...rows.map((r) => r.split(',').map((v, i) => (drop.has(i) ? '' : v)).join(','))].join('\n');
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'sgdscope-bench-queue-'));
  const redis = await startRedis();
  const lines: string[] = [];
  const say = (s: string): void => {
    console.log(s);
    lines.push(s);
  };
  const load0 = loadavg()[0];
  try {
    const t0 = performance.now();
    const local = await sgdscopeAsync(['sweep', ...sweepFlags, '--quiet', '--out', join(tmp, 'local')], 7200_000);
    if (local.status !== 0) throw new Error(local.stderr);
    const localSeconds = (performance.now() - t0) / 1000;
    const runs = maskedRuns(join(tmp, 'local')).split('\n').length - 1;
    const adapter = JSON.parse(readFileSync(join(tmp, 'local', 'config.json'), 'utf8')).adapter.name as string;
    say(`# sgdscope queue bench — ${runs}-run sweep (sgdscope sweep ${sweepFlags.join(' ') || '(defaults)'}), adapter ${adapter}, ${cpus().length} cores, load average ${load0.toFixed(1)} at the start`);
    say('');
    say('| mode | wall time (s) | runs/hour | vs in-process | runs.csv = in-process |');
    say('|---|---|---|---|---|');
    say(`| in process (command incl. start-up) | ${localSeconds.toFixed(1)} | ${((runs * 3600) / localSeconds).toFixed(0)} | 1.00 | — |`);
    for (const [k, n] of counts.entries()) {
      const store = join(tmp, `store${n}`);
      const workers: WorkerProc[] = Array.from({ length: n }, () => startWorker(['--queue', redis.url(k + 1), '--store', store]));
      // Ready: a worker prints its first line once it has reached Redis and its GPU (start-up is not sweep time).
      await waitFor(`${n} workers ready`, () => workers.every((w) => / GPU \S+ \(node\)/.test(w.log())), 300_000, 200);
      const t1 = performance.now();
      const q = await sgdscopeAsync(['sweep', ...sweepFlags, '--quiet', '--queue', redis.url(k + 1), '--name', `bench${n}`], 7200_000);
      const seconds = (performance.now() - t1) / 1000;
      if (q.status !== 0) throw new Error(q.stderr + workers.map((w) => w.log()).join('\n'));
      const same = maskedRuns(join(store, `bench${n}`)) === maskedRuns(join(tmp, 'local'));
      say(`| ${n} worker${n > 1 ? 's' : ''} (submit → collected) | ${seconds.toFixed(1)} | ${((runs * 3600) / seconds).toFixed(0)} | ${(localSeconds / seconds).toFixed(2)} | ${same ? 'yes' : 'NO'} |`);
      for (const w of workers) await w.stop();
    }
    say('');
    say(`load average at the end ${loadavg()[0].toFixed(1)}.`);
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${new Date().toISOString().slice(0, 10)}-queue-${adapter}.md`);
    writeFileSync(file, lines.join('\n') + '\n');
    console.log(`wrote ${file}`);
  } finally {
    await redis.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
