/**
 * `sgdscope sweep --queue` end to end with a real redis-server (on a free 127.0.0.1 port, stopped
 * after) and real worker processes (`sgdscope worker`), against the in-process sweep of the same
 * 6-run grid:
 *  - two workers give the same runs.csv (timings aside), charts.json, curves.csv and sharpness.npy,
 *    every run exactly once; `sweep status` and `sweep collect` agree; a job whose config is
 *    invalid fails at once (no retry), naming the field, and its sweep is collected without it;
 *  - a worker killed (SIGKILL) mid-run, another stopped (SIGTERM) mid-run: the next worker resumes
 *    both runs from their checkpoints, the sweep completes, every run once, and those runs' numbers
 *    equal the uninterrupted runs';
 *  - Redis stopped and restarted mid-sweep: the sweep completes, nothing lost;
 *  - the other multi-run commands (signal-propagation's trainability grid, awd, feng-tu --seeds)
 *    through the queue write the files their in-process runs write (timings aside);
 *  - bad input: unreachable and malformed queue URLs, a store that is not writable → clear errors.
 * Every wait is for a state (a log line, a file, a job state) with a generous timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowProducer, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { freePort, startRedis, waitFor, type RedisServer } from './helpers/redis.ts';
import { sgdscope, sgdscopeAsync, startWorker, type WorkerProc } from './helpers/cli.ts';
import { RedisRungBoard } from '../src/queue/board.ts';
import { resolveSweepSpec, SWEEP_FLAGS } from '../src/cli/sweep.ts';
import { parseFlags } from '../src/cli/args.ts';
import { searchPoints } from '../src/experiments/sweep/search.ts';

/** The grid: 3 lr × 2 B on 200 MNIST digits, 20 epochs (200 and 80 steps), 10-step chunks. */
const GRID = ['--train-size', '200', '--test-size', '200', '--widths', '784,16,10', '--epochs', '20', '--lr', '0.05,0.1,0.2', '--batch', '20,50', '--sharpness-k', '2', '--sharpness-samples', '100', '--chunk', '10', '--quiet'];
const FAST_LOCKS = ['--lock-seconds', '6', '--stalled-seconds', '2'];

let redis: RedisServer;
let refDir: string;
const workers: WorkerProc[] = [];
const tmp = (what: string): string => mkdtempSync(join(tmpdir(), `sgdscope-queue-${what}-`));

function worker(db: number, store: string, extra: string[] = []): WorkerProc {
  const w = startWorker(['--queue', redis.url(db), '--store', store, ...FAST_LOCKS, ...extra]);
  workers.push(w);
  return w;
}

/** runs.csv with the wall-time columns blanked (they are the only ones allowed to differ). */
function runsCsv(dir: string): string[] {
  const [header, ...rows] = readFileSync(join(dir, 'runs.csv'), 'utf8').trim().split('\n');
  const cols = header.split(',');
  const timing = new Set(['seconds', 'sharpness_seconds'].map((c) => cols.indexOf(c)));
  return [header, ...rows.map((r) => r.split(',').map((v, i) => (timing.has(i) ? '' : v)).join(','))];
}

function expectSameAsReference(dir: string): void {
  expect(runsCsv(dir)).toEqual(runsCsv(refDir));
  for (const f of ['charts.json', 'curves.csv', 'sharpness.npy']) expect(readFileSync(join(dir, f)).equals(readFileSync(join(refDir, f))), f).toBe(true);
  // Every run exactly once, no half-written folder left.
  expect(readdirSync(join(dir, 'runs'))).toEqual(['0000', '0001', '0002', '0003', '0004', '0005']);
}

const record = (dir: string, run: number): Record<string, unknown> => {
  const r = JSON.parse(readFileSync(join(dir, 'runs', String(run).padStart(4, '0'), 'record.json'), 'utf8')) as Record<string, unknown>;
  delete r.seconds;
  delete r.stepsPerSecond;
  delete r.sharpnessSeconds;
  return r;
};

beforeAll(async () => {
  redis = await startRedis();
  refDir = join(tmp('ref'), 'sweep');
  const r = await sgdscopeAsync(['sweep', ...GRID, '--out', refDir]);
  expect(r.status, r.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  for (const w of workers) await w.kill();
  await redis?.dispose();
});

describe('sweep through the queue', () => {
  it('two workers give the in-process sweep, every run once; status and collect agree; an invalid job fails at once', async () => {
    const store = tmp('store');
    worker(1, store);
    worker(1, store);
    const t0 = performance.now();
    const r = await sgdscopeAsync(['sweep', ...GRID, '--queue', redis.url(1), '--name', 'same']);
    expect(r.status, r.stderr + workers.map((w) => w.log()).join('\n')).toBe(0);
    console.log(`6-run sweep, 2 workers (incl. their start-up): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(r.stdout).toMatch(/queued sweep same \(6 runs in 6 jobs\)/);
    expect(r.stdout).toContain(join(store, 'same'));
    expectSameAsReference(join(store, 'same'));
    const status = sgdscope(['sweep', 'status', '--queue', redis.url(1), '--sweep', 'same', '--json']);
    expect(status.status, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)[0]).toMatchObject({ sweepId: 'same', state: 'completed', runs: 6, completed: 6, failed: 0, waiting: 0, active: 0 });
    const out = join(tmp('collect'), 'again');
    const c = sgdscope(['sweep', 'collect', '--store', store, '--sweep', 'same', '--queue', redis.url(1), '--out', out]);
    expect(c.status, c.stderr).toBe(0);
    expect(runsCsv(out)).toEqual(runsCsv(refDir));

    // A job whose config is invalid: failed at once (one attempt), the reason names the field;
    // the sweep is collected with it listed as failed.
    const spec = resolveSweepSpec(parseFlags([...GRID, '--lr', '0.05'], SWEEP_FLAGS, 'test').flags);
    const points = searchPoints(spec.grid);
    const bad = { ...spec, grid: { ...spec.grid, lr: [-1] } };
    const connection = { host: '127.0.0.1', port: redis.port, db: 1 };
    const flow = new FlowProducer({ connection, prefix: 'sgdscope' });
    await flow.add({
      name: 'sweep', queueName: 'sweeps', data: { v: 1, sweepId: 'bad', kind: 'sweep', spec, units: 2, runs: 2, created: new Date().toISOString(), submittedFrom: 'test' }, opts: { jobId: 'bad' },
      children: [0, 1].map((i) => ({ name: 'sweep', queueName: 'units', data: { v: 1, sweepId: 'bad', kind: 'sweep', unit: i, spec: i === 1 ? bad : spec, payload: { points: [points[i]] } }, opts: { jobId: `bad.u${i}`, attempts: 3, ignoreDependencyOnFailure: true } })),
    });
    await flow.close();
    const units = new Queue('units', { connection, prefix: 'sgdscope' });
    // (Read the job once it has failed: a copy read before holds the counts of that moment.)
    await waitFor('the invalid job to fail', async () => (await units.getJobState('bad.u1')) === 'failed', 120_000);
    const failedJob = (await units.getJob('bad.u1'))!;
    expect([failedJob.attemptsStarted, failedJob.attemptsMade]).toEqual([1, 1]);
    expect(failedJob.failedReason).toMatch(/job bad\.u1: invalid job: sweep\.grid\.lr\.lr must be \(0, 100\], got -1/);
    await units.close();
    const result = await waitFor('the sweep with a failed run to be collected', () => existsSync(join(store, 'bad', 'result.json')) && JSON.parse(readFileSync(join(store, 'bad', 'result.json'), 'utf8')), 120_000);
    expect(result.runs).toBe(1);
    expect(result.failed).toEqual([{ point: points[1], reason: expect.stringMatching(/sweep\.grid\.lr\.lr must be/) }]);
    expect(readFileSync(join(store, 'bad', 'report.html'), 'utf8')).toContain('Failed runs');
    for (const w of workers.splice(0)) expect(await w.stop()).toBe(0);
  }, 300_000);

  it('a worker killed mid-run, another stopped by SIGTERM: both runs resume from their checkpoints, with the same results', async () => {
    const store = tmp('store');
    const ckpts = join(store, 'kill', 'checkpoints');
    /** Waits for a checkpoint of a run not in `skip`, and freezes `w` (SIGSTOP) the moment it appears. */
    const freezeAtCheckpoint = (w: WorkerProc, skip: string[]): Promise<string> =>
      new Promise<string>((resolve, reject) => {
        const seen = (): string | undefined => (existsSync(ckpts) ? readdirSync(ckpts).find((f) => f.endsWith('-train.json') && !skip.includes(f)) : undefined);
        const check = (): void => {
          const f = seen();
          if (!f) return;
          w.proc.kill('SIGSTOP');
          watcher?.close();
          clearInterval(poll);
          clearTimeout(t);
          resolve(f);
        };
        const watcher = existsSync(ckpts) ? watch(ckpts, check) : null;
        const poll = setInterval(check, 20);
        const t = setTimeout(() => reject(new Error('no checkpoint within 120 s')), 120_000);
      });
    const a = worker(2, store, ['--checkpoint-every', '20']);
    const q = sgdscope(['sweep', ...GRID, '--queue', redis.url(2), '--name', 'kill', '--detach']);
    expect(q.status, q.stderr).toBe(0);
    // A's first checkpoint: freeze A at once, then kill it (it never finishes that run).
    const killed = await freezeAtCheckpoint(a, []);
    expect(existsSync(join(store, 'kill', 'runs', killed.slice(0, 4))), 'the run finished before the kill').toBe(false);
    const killedAt = performance.now();
    await a.kill();
    // B: SIGTERM right after one of its checkpoints — it stops at its next chunk, saves, hands the job back, exits 0.
    const b = worker(2, store, ['--checkpoint-every', '20']);
    const stopped = await freezeAtCheckpoint(b, [killed]);
    b.proc.kill('SIGTERM');
    b.proc.kill('SIGCONT');
    expect(await b.exit()).toBe(0);
    expect(b.log()).toMatch(/stopped for shutdown at step \d+ \(checkpoint saved\); back to the waiting list/);
    worker(2, store, ['--checkpoint-every', '20']);
    await waitFor('the sweep to be collected', () => existsSync(join(store, 'kill', 'runs.csv')), 240_000, 200);
    console.log(`kill test: run ${Number(killed.slice(0, 4))} killed (SIGKILL) after a checkpoint, run ${Number(stopped.slice(0, 4))} stopped by SIGTERM; sweep collected ${((performance.now() - killedAt) / 1000).toFixed(1)} s after the kill (lock 6 s, stalled check every 2 s)`);
    expectSameAsReference(join(store, 'kill'));
    for (const f of [killed, stopped]) {
      const run = Number(f.slice(0, 4));
      expect(record(join(store, 'kill'), run), `run ${run}`).toEqual(record(refDir, run));
      const unit = JSON.parse(readFileSync(join(store, 'kill', 'runs', f.slice(0, 4), 'unit.json'), 'utf8'));
      expect(unit.attempt, `run ${run}`).toBeGreaterThanOrEqual(2);
      expect(unit.resumedFrom.train, `run ${run}`).toBeGreaterThanOrEqual(20);
    }
    expect(readdirSync(ckpts)).toEqual([]);
    for (const w of workers.splice(0)) await w.stop();
  }, 360_000);

  it('Redis stopped and restarted mid-sweep: the sweep completes, nothing lost', async () => {
    const store = tmp('store');
    const ws = [worker(3, store), worker(3, store)];
    const q = sgdscope(['sweep', ...GRID, '--queue', redis.url(3), '--name', 'restart', '--detach']);
    expect(q.status, q.stderr).toBe(0);
    await waitFor('a worker to start a run', () => ws.some((w) => /job restart\.u\d+: #/.test(w.log())), 120_000, 50);
    const t0 = performance.now();
    await redis.stop();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.start();
    await waitFor('the sweep to be collected', () => existsSync(join(store, 'restart', 'runs.csv')), 240_000, 200);
    console.log(`restart test: Redis down 1.5 s; sweep collected ${((performance.now() - t0) / 1000).toFixed(1)} s after the stop`);
    expectSameAsReference(join(store, 'restart'));
    expect(ws.map((w) => w.log()).join('\n')).toMatch(/unreachable; reconnecting/);
    for (const w of workers.splice(0)) await w.stop();
  }, 360_000);

  it('reproduce signal-propagation, awd and feng-tu --seeds (two seeds as one ensemble job) through the queue: the in-process files', async () => {
    const store = tmp('store');
    worker(6, store);
    const local = tmp('local');
    /** A CSV with the named wall-time columns blanked. */
    const csv = (path: string, timing: string[]): string[] => {
      const [header, ...rows] = readFileSync(path, 'utf8').trim().split('\n');
      const drop = new Set(timing.map((c) => header.split(',').indexOf(c)));
      return [header, ...rows.map((r) => r.split(',').map((v, i) => (drop.has(i) ? '' : v)).join(','))];
    };
    const same = (a: string, b: string, f: string): void => expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    const commands: { name: string; args: string[]; queueArgs?: string[]; check(q: string, l: string): void }[] = [
      {
        name: 'sp',
        args: ['reproduce', 'signal-propagation', '--skip-propagation', '--phase-sw2', '0.5,4,8', '--phase-sb2', '0,0.2,5', '--train-depths', '2,4', '--train-sw2', '1,2', '--train-width', '16', '--steps', '30', '--quiet',
          // the stages at initialisation, tiny: the collect runs them too
          '--jac-width', '16', '--jac-depth', '2', '--jac-nets', '1', '--jac-points', 'tanh:gaussian:crit:0.05', '--curve-width', '16', '--curve-depth', '3', '--curve-points', '8', '--curve-nets', '1', '--curve-sw2', '3'],
        check: (q, l) => {
          expect(csv(join(q, 'trainability.csv'), ['seconds'])).toEqual(csv(join(l, 'trainability.csv'), ['seconds']));
          for (const f of ['trainability_train_accuracy.npy', 'trainability_test_accuracy.npy', 'phase_xi_c.npy', 'six_xi_c.csv', 'jacobian_1_eigenvalues.npy', 'curve_1_lengths.npy']) same(q, l, f);
        },
      },
      {
        name: 'awd',
        args: ['reproduce', 'awd', '--train-size', '300', '--test-size', '100', '--lrs', '0.1', '--batches', '25', '--weight-decays', '0,0.001', '--target-loss', '0.3', '--max-epochs', '4', '--wd-epochs', '2', '--quiet'],
        check: (q, l) => {
          expect(csv(join(q, 'runs.csv'), ['train_seconds', 'analysis_seconds'])).toEqual(csv(join(l, 'runs.csv'), ['train_seconds', 'analysis_seconds']));
          for (const f of ['charts.json', 'spectra.npy', 'pairs.npy']) same(q, l, f);
        },
      },
      {
        name: 'ft',
        args: ['reproduce', 'feng-tu', '--seeds', '1,2', '--train-size', '500', '--widths', '784,12,12,10', '--epochs', '3', '--window-epochs', '1', '--k', '8', '--t-dirs', '1,2', '--mlf-batches', '3', '--mlf-points', '5', '--quiet'],
        // On the queue the two seeds are one job, trained as an ensemble: the same files.
        queueArgs: ['--replicas', '2'],
        check: (q, l) => {
          expect(csv(join(q, 'seeds.csv'), ['seconds'])).toEqual(csv(join(l, 'seeds.csv'), ['seconds']));
          for (const run of ['0000', '0001']) for (const f of ['spectra.csv', 'pca_variance.npy', 'trajectory.npy']) same(join(q, 'runs', run), join(l, 'runs', run), f);
        },
      },
    ];
    for (const c of commands) {
      const r = await sgdscopeAsync([...c.args, ...(c.queueArgs ?? []), '--queue', redis.url(6), '--name', c.name]);
      expect(r.status, r.stderr + workers.map((w) => w.log()).join('\n')).toBe(0);
      const l = sgdscope([...c.args, '--out', join(local, c.name)]);
      expect(l.status, l.stderr).toBe(0);
      c.check(join(store, c.name), join(local, c.name));
    }
    for (const w of workers.splice(0)) await w.stop();
  }, 400_000);

  it('records ASHA rungs in Redis once per run, atomically', async () => {
    const c = new Redis({ host: '127.0.0.1', port: redis.port, db: 4 });
    const b = new RedisRungBoard(c, 'asha');
    expect(await b.record(0, 3, 0.25)).toEqual([0.25]);
    expect(await b.record(0, 5, Infinity)).toEqual([0.25, Infinity]);
    expect(await b.record(0, 3, 9)).toEqual([0.25]);
    expect(await Promise.all([1, 2, 4, 6].map((u) => b.record(1, u, u / 10)))).toHaveLength(4);
    expect((await b.record(1, 7, 1)).sort()).toEqual([0.1, 0.2, 0.4, 0.6, 1]);
    c.disconnect();
  });
});

describe('queue: bad input', () => {
  it('an unreachable or malformed queue URL, a store that is not writable: clear errors, no hang', async () => {
    const port = await freePort();
    const t0 = performance.now();
    const r = sgdscope(['sweep', ...GRID, '--queue', `redis://127.0.0.1:${port}/0`, '--queue-timeout', '3'], 60_000);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`cannot use the queue at redis://127\\.0\\.0\\.1:${port}/0: .*ECONNREFUSED.*is redis-server running`));
    expect((performance.now() - t0) / 1000).toBeLessThan(50);
    const m = sgdscope(['sweep', ...GRID, '--queue', 'localhost:6379']);
    expect(m.status).toBe(2);
    expect(m.stderr).toMatch(/--queue 'localhost:6379': the scheme must be redis:\/\/ or rediss:\/\//);
    const file = join(tmp('file'), 'not-a-folder');
    writeFileSync(file, 'x');
    const s = sgdscope(['worker', '--queue', redis.url(5), '--store', join(file, 'store')]);
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/sgdscope worker: --store .*not-a-folder\/store: not a writable folder \(ENOTDIR\)/);
    const w = sgdscope(['worker', '--queue', `redis://127.0.0.1:${port}/0`, '--store', tmp('store'), '--queue-timeout', '3'], 60_000);
    expect(w.status).toBe(1);
    expect(w.stderr).toMatch(/cannot use the queue at redis:\/\/127\.0\.0\.1:\d+\/0/);
    const st = sgdscope(['sweep', 'status', '--queue', redis.url(5), '--sweep', 'nope']);
    expect(st.status).toBe(1);
    expect(st.stderr).toMatch(/sweep 'nope' is not in the queue/);
  }, 300_000);
});
