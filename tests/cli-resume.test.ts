/**
 * Nothing lost, with real processes: `sgdscope train` (momentum 0.9) and `sgdscope sweep` killed
 * with SIGKILL at random steps and resumed end bit-identical to an unbroken run (weights,
 * metrics.csv, runs.csv, the evaluations); SIGTERM and SIGINT stop with status "interrupted", the
 * resume command and exit 143/130; a second Ctrl-C exits at once. The kill points are drawn from a
 * seeded generator (printed), and every wait is for a state — a checkpoint on disk — never a time.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/util/rng.ts';
import { sgdscope, sgdscopeDone, waitFor, workFolders, workProgress } from './helpers/cli-process.ts';

const SEED = 1616;
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8'));

/** Starts `args` (--out/--resume given), waits for a checkpoint at step ≥ target in its work folder, SIGKILLs it; returns the step reached. */
async function killAt(args: string[], out: string, target: number): Promise<number> {
  const r = sgdscope(args);
  const pid = r.child.pid!;
  let exited = false;
  void r.exit.then(() => (exited = true));
  const reached = await waitFor(`a checkpoint at step ≥ ${target} in ${out}.tmp-${pid}`, () => {
    if (exited) throw new Error(`sgdscope exited before step ${target}: ${r.stderr()}`);
    const p = workProgress(out, pid);
    return p !== null && p >= target ? p : null;
  });
  expect(json(join(`${out}.tmp-${pid}`, 'result.json')).status).toBe('running');
  r.child.kill('SIGKILL');
  await r.exit;
  return reached;
}

function expectSameFiles(a: string, b: string, names: string[]): void {
  for (const n of names) expect(Buffer.compare(readFileSync(join(a, n)), readFileSync(join(b, n))), `${n} differs`).toBe(0);
}

describe('resume after SIGKILL', () => {
  it('train with momentum: killed twice at random steps, resumed, bit-identical to an unbroken run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgdscope-resume-'));
    const flags = ['train', '--momentum', '0.9', '--widths', '784,32,10', '--steps', '480', '--chunk', '16', '--eval-every', '80', '--save-every', '40', '--quiet'];
    const rng = new Rng(SEED);
    const t1 = 40 + 40 * rng.int(4);
    const t2 = t1 + 40 + 40 * rng.int(4);
    const ref = await sgdscopeDone([...flags, '--out', join(dir, 'ref')]);
    expect(ref.code, ref.stderr).toBe(0);
    const out = join(dir, 'killed');
    const at1 = await killAt([...flags, '--out', out], out, t1);
    const at2 = await killAt(['train', '--resume', out, '--quiet'], out, t2);
    // A new run into the folder is refused while a killed one can be resumed.
    const refused = await sgdscopeDone([...flags, '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/did not finish.*holds a checkpoint.*Resume it with 'sgdscope train --resume/s);
    const last = await sgdscopeDone(['train', '--resume', out, '--quiet']);
    expect(last.code, last.stderr).toBe(0);
    console.log(`train: seed ${SEED}, killed at checkpoints ≥ ${t1} (step ${at1}) and ≥ ${t2} (step ${at2}), resumed to 480`);
    expect(workFolders(out)).toEqual([]);
    expect(existsSync(join(out, 'checkpoint.bin'))).toBe(false);
    expectSameFiles(join(dir, 'ref'), out, ['weights_layer0.npy', 'weights_layer1.npy', 'metrics.csv', 'train_indices.npy', 'test_indices.npy']);
    const [a, b] = [json(join(dir, 'ref', 'result.json')), json(join(out, 'result.json'))];
    expect(b.status).toBe('completed');
    expect(b.final).toEqual(a.final);
    // Resuming a completed run has nothing to do.
    const again = await sgdscopeDone(['train', '--resume', out]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already ended.*nothing to resume/);
  }, 600_000);

  it('sweep: killed after some runs finished, resumed: finished runs kept, results bit-identical', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgdscope-resume-'));
    const flags = ['sweep', '--lr', '0.05,0.2', '--batch', '25,50', '--steps', '120', '--train-size', '600', '--widths', '784,16,10', '--sharpness-k', '2', '--sharpness-samples', '200', '--quiet'];
    const target = 1 + new Rng(SEED + 1).int(2);
    const ref = await sgdscopeDone([...flags, '--out', join(dir, 'ref')]);
    expect(ref.code, ref.stderr).toBe(0);
    const out = join(dir, 'killed');
    const done = await killAt([...flags, '--out', out], out, target);
    const work = workFolders(out)[0];
    // Each finished run is in runs.csv the moment it ends.
    expect(readFileSync(join(work, 'runs.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + done);
    // Resumed, then SIGINT once one more run has finished: status interrupted, exit 130, runs kept.
    const r = sgdscope(['sweep', '--resume', out, '--quiet']);
    await waitFor('one more finished run', () => (workProgress(out, r.child.pid!) ?? 0) > done);
    r.child.kill('SIGINT');
    const stopped = await r.exit;
    expect(stopped.code, r.stderr()).toBe(130);
    const res = json(join(out, 'result.json'));
    expect(res.status).toBe('interrupted');
    expect(res.message).toMatch(/interrupted by SIGINT after \d of 4 runs.*resume with: sgdscope sweep --resume/);
    expect(readFileSync(join(out, 'runs.csv'), 'utf8').trim().split('\n').length).toBeGreaterThan(1 + done);
    const last = await sgdscopeDone(['sweep', '--resume', out, '--quiet']);
    expect(last.code, last.stderr).toBe(0);
    console.log(`sweep: killed with ${done} of 4 runs finished (target ${target}), resumed, interrupted by SIGINT after ${res.steps}, resumed`);
    expectSameFiles(join(dir, 'ref'), out, ['sharpness.npy', 'curves.csv']);
    // Every run's own folder (runs/NNNN: weights, indices, metrics), whether it ran before the kill or after.
    for (const run of ['0000', '0001', '0002', '0003']) {
      expectSameFiles(join(dir, 'ref', 'runs', run), join(out, 'runs', run), ['weights_layer0.npy', 'weights_layer1.npy', 'train_indices.npy', 'metrics.csv']);
    }
    // runs.csv: the same except the seconds each run took.
    const rows = (p: string): string[][] => readFileSync(join(p, 'runs.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    const [ra, rb] = [rows(join(dir, 'ref')), rows(out)];
    const skip = ra[0].flatMap((h, i) => (/seconds/.test(h) ? [i] : []));
    expect(rb.map((r) => r.filter((_, i) => !skip.includes(i)))).toEqual(ra.map((r) => r.filter((_, i) => !skip.includes(i))));
  }, 600_000);
});

describe('reproduce feng-tu', () => {
  it('killed before, inside and after the window (during the analysis), resumed: every analysis output bit-identical', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgdscope-resume-'));
    const flags = ['reproduce', 'feng-tu', '--epochs', '3', '--window-steps', '300', '--k', '12', '--chunk', '20', '--widths', '784,30,20,10', '--mlf-batches', '3', '--mlf-points', '5', '--save-every', '40', '--quiet'];
    const rng = new Rng(SEED + 2);
    const before = 40 + 20 * rng.int(5); // the window is steps 181–480
    const inside = 200 + 40 * rng.int(6);
    const ref = await sgdscopeDone([...flags, '--out', join(dir, 'ref')]);
    expect(ref.code, ref.stderr).toBe(0);
    const out = join(dir, 'killed');
    const at1 = await killAt([...flags, '--out', out], out, before);
    const at2 = await killAt(['reproduce', 'feng-tu', '--resume', out, '--quiet'], out, inside);
    // The end-of-training checkpoint (step 480) is written before the analysis starts.
    const at3 = await killAt(['reproduce', 'feng-tu', '--resume', out, '--quiet'], out, 480);
    const last = await sgdscopeDone(['reproduce', 'feng-tu', '--resume', out, '--quiet']);
    expect(last.code, last.stderr).toBe(0);
    console.log(`feng-tu: killed at steps ${at1} (≥ ${before}, before the window), ${at2} (≥ ${inside}, inside) and ${at3} (the analysis), resumed`);
    const numeric = readdirSync(join(dir, 'ref')).filter((n) => /\.(npy|csv)$/.test(n));
    expect(numeric).toEqual(expect.arrayContaining(['trajectory.npy', 'pca_variance.npy', 'pca_components.npy', 'spectra.csv', 'temperature_vs_loss.csv', 'mlf.csv', 'metrics.csv', 'weights_layer1.npy', 'train_indices.npy']));
    expectSameFiles(join(dir, 'ref'), out, numeric);
    // summary.json: the same numbers, and the same scatter arithmetic with the same reason (a rule
    // about the adapter, never a timing); only the stage times differ, and which stages the resume
    // took from the killed attempt (stages.<name>.resumed).
    const strip = (p: string): unknown =>
      JSON.parse(readFileSync(p, 'utf8'), (k, v) => {
        const timing = ['timingsSeconds', 'seconds', 'stepsPerSecond', 'created', 'resumed'].includes(k);
        return timing ? undefined : v;
      });
    expect(strip(join(out, 'summary.json'))).toEqual(strip(join(dir, 'ref', 'summary.json')));
  }, 900_000);
});

describe('signals', () => {
  it('SIGTERM and SIGINT: checkpoint, status interrupted with the resume command, exit 143 / 130; a second Ctrl-C exits at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgdscope-signal-'));
    const out = join(dir, 'run');
    /** Signals a run once it has written a checkpoint past step `after` (it is training). */
    const stopWith = async (args: string[], signals: NodeJS.Signals[], after = -1): Promise<{ code: number | null; stderr: string; pid: number }> => {
      const r = sgdscope(args);
      const pid = r.child.pid!;
      await waitFor(`a checkpoint past step ${after} of pid ${pid}`, () => (workProgress(out, pid) ?? -1) > after);
      for (const s of signals) r.child.kill(s);
      const { code } = await r.exit;
      return { code, stderr: r.stderr(), pid };
    };
    const term = await stopWith(['train', '--steps', '100000', '--widths', '784,16,10', '--chunk', '10', '--save-every', '20', '--out', out], ['SIGTERM']);
    expect(term.code, term.stderr).toBe(143);
    let r = json(join(out, 'result.json'));
    expect(r.status).toBe('interrupted');
    expect(r.message).toMatch(new RegExp(`interrupted by SIGTERM at step \\d+; resume with: sgdscope train --resume ${out}`));
    expect(readdirSync(out)).toContain('checkpoint.bin');
    const step1 = r.steps as number;
    const int = await stopWith(['train', '--resume', out], ['SIGINT'], step1);
    expect(int.code, int.stderr).toBe(130);
    expect(int.stderr).toMatch(/SIGINT: stopping at the next chunk boundary/);
    r = json(join(out, 'result.json'));
    expect(r.status).toBe('interrupted');
    expect(r.steps as number).toBeGreaterThan(step1);
    // Ctrl-C twice: the second exits at once, without waiting for the chunk in flight (10,000 steps).
    const long = join(dir, 'long');
    const p = sgdscope(['train', '--steps', '100000', '--chunk', '10000', '--out', long]);
    await waitFor('training to start', () => p.stderr().includes('run folder:'));
    p.child.kill('SIGINT');
    await waitFor('the first SIGINT to be acknowledged', () => p.stderr().includes('SIGINT: stopping at the next chunk boundary'));
    p.child.kill('SIGINT');
    const { code } = await p.exit;
    expect(code).toBe(130);
    expect(p.stderr()).toMatch(/SIGINT again: exiting now/);
    expect(json(join(workFolders(long)[0], 'result.json')).status).toBe('running');
    expect(existsSync(`${long}.lock`)).toBe(false);
  }, 600_000);
});
