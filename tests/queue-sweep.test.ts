/**
 * `sgdscope sweep --queue` end to end with a real redis-server (on a free 127.0.0.1 port, stopped
 * after) and real worker processes (`sgdscope worker`), against the in-process sweep of the same
 * 6-run grid:
 *  - two workers give the same runs.csv (timings aside), charts.json, curves.csv and sharpness.npy,
 *    every run exactly once; `sweep status` and `sweep collect` agree; a job whose config is
 *    invalid fails at once (no retry), naming the field, and its sweep is collected without it;
 *  - a worker killed (SIGKILL) mid-run: the other worker resumes the run from its checkpoint, the
 *    sweep completes, every run once, the killed run's numbers equal the uninterrupted run's;
 *  - Redis stopped and restarted mid-sweep: the sweep completes, nothing lost;
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
    const failedJob = await waitFor('the invalid job to fail', async () => {
      const j = await units.getJob('bad.u1');
      return j && (await j.getState()) === 'failed' ? j : null;
    }, 120_000);
    expect(failedJob.attemptsMade).toBe(1);
    expect(failedJob.failedReason).toMatch(/job bad\.u1: invalid job: sweep\.grid\.lr\.lr must be \(0, 100\], got -1/);
    await units.close();
    const result = await waitFor('the sweep with a failed run to be collected', () => existsSync(join(store, 'bad', 'result.json')) && JSON.parse(readFileSync(join(store, 'bad', 'result.json'), 'utf8')), 120_000);
    expect(result.runs).toBe(1);
    expect(result.failed).toEqual([{ point: points[1], reason: expect.stringMatching(/sweep\.grid\.lr\.lr must be/) }]);
    expect(readFileSync(join(store, 'bad', 'report.html'), 'utf8')).toContain('Failed runs');
    for (const w of workers.splice(0)) expect(await w.stop()).toBe(0);
  }, 300_000);

  it('a worker killed mid-run: the run resumes from its checkpoint on the other worker, with the same result', async () => {
    const store = tmp('store');
    const a = worker(2, store, ['--checkpoint-every', '20']);
    const q = sgdscope(['sweep', ...GRID, '--queue', redis.url(2), '--name', 'kill', '--detach']);
    expect(q.status, q.stderr).toBe(0);
    // The first checkpoint of a run: freeze worker A at once, then kill it (it never finishes that run).
    const ckpts = join(store, 'kill', 'checkpoints');
    await waitFor('the checkpoint folder', () => existsSync(ckpts), 120_000, 20);
    const first = await new Promise<string>((resolve, reject) => {
      const seen = (): string | undefined => readdirSync(ckpts).find((f) => f.endsWith('-train.json'));
      const done = (f: string): void => {
        a.proc.kill('SIGSTOP');
        watcher.close();
        clearInterval(poll);
        clearTimeout(t);
        resolve(f);
      };
      const watcher = watch(ckpts, () => {
        const f = seen();
        if (f) done(f);
      });
      const poll = setInterval(() => {
        const f = seen();
        if (f) done(f);
      }, 20);
      const t = setTimeout(() => reject(new Error('no checkpoint within 120 s')), 120_000);
    });
    const run = Number(first.slice(0, 4));
    expect(existsSync(join(store, 'kill', 'runs', first.slice(0, 4))), 'the run finished before the kill').toBe(false);
    const killedAt = performance.now();
    await a.kill();
    worker(2, store, ['--checkpoint-every', '20']);
    await waitFor('the sweep to be collected', () => existsSync(join(store, 'kill', 'runs.csv')), 240_000, 200);
    console.log(`kill test: run ${run} killed after its first checkpoint; sweep collected ${((performance.now() - killedAt) / 1000).toFixed(1)} s later (lock 6 s, stalled check every 2 s)`);
    expectSameAsReference(join(store, 'kill'));
    expect(record(join(store, 'kill'), run)).toEqual(record(refDir, run));
    const unit = JSON.parse(readFileSync(join(store, 'kill', 'runs', first.slice(0, 4), 'unit.json'), 'utf8'));
    expect(unit.attempt).toBeGreaterThanOrEqual(2);
    expect(unit.resumedFrom.train).toBeGreaterThanOrEqual(20);
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
