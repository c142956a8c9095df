/**
 * Run folders that are never half-written (src/util/run-dir.ts): the work folder says "running"
 * from the start, a second run into the same folder is refused while the first lives, result.json
 * comes last with every file's SHA-256, --force replaces the whole folder (no stale files of an
 * older run), a write that fails leaves no "completed" folder, and bad --out values fail at once.
 */
import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, unlinkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlreadyComplete, CHECKPOINT_FILE, RunDir, type RunDirOptions } from '../src/util/run-dir.ts';
import { makeDirs } from '../src/util/durable-fs.ts';

const opts = (out: string, extra: Partial<RunDirOptions> = {}): RunDirOptions => ({ out, force: false, resume: false, command: 'sgdscope test', resumeCommand: `sgdscope test --resume ${out}`, ...extra });
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8'));

describe('run folders', () => {
  it('work in <out>.tmp-<pid> with status running, lock out a second run, and commit with checksums', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rundir-')), 'run');
    const run = RunDir.open(opts(out));
    expect(run.work).toBe(`${out}.tmp-${process.pid}`);
    expect(json(join(run.work, 'result.json')).status).toBe('running');
    expect(existsSync(out)).toBe(false);
    // The lock holds while this process lives: a second run into the folder is refused.
    expect(() => RunDir.open(opts(out))).toThrow(/another sgdscope run \(pid \d+.*is writing this folder/);
    run.write('weights.bin', new Uint8Array([1, 2, 3]));
    const m = run.appender('metrics.csv');
    m.append('a,b\n1,2\n');
    m.close();
    run.commit({ status: 'completed', message: 'done' });
    expect(readdirSync(out).sort()).toEqual(['metrics.csv', 'result.json', 'weights.bin']);
    const r = json(join(out, 'result.json'));
    expect(r.status).toBe('completed');
    const files = r.files as Record<string, { bytes: number; sha256: string }>;
    expect(files['weights.bin']).toEqual({ bytes: 3, sha256: createHash('sha256').update(new Uint8Array([1, 2, 3])).digest('hex') });
    expect(files['metrics.csv'].bytes).toBe(8);
    expect(existsSync(`${out}.lock`)).toBe(false);
    expect(existsSync(run.work)).toBe(false);
  });

  it('refuses a non-empty folder without --force, and --force replaces it whole (no stale files)', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rundir-')), 'run');
    mkdirSync(out);
    writeFileSync(join(out, 'weights_layer3.npy'), 'from an older, larger model');
    writeFileSync(join(out, 'config.json'), '{"seed": 1}');
    expect(() => RunDir.open(opts(out))).toThrow(/exists and is not empty.*--force/);
    const run = RunDir.open(opts(out, { force: true }));
    // Until the new run commits, the old folder is untouched.
    expect(readFileSync(join(out, 'config.json'), 'utf8')).toBe('{"seed": 1}');
    run.commit({ status: 'completed' }, new Map([['config.json', '{"seed": 2}']]));
    expect(readdirSync(out).sort()).toEqual(['config.json', 'result.json']);
    expect(readFileSync(join(out, 'config.json'), 'utf8')).toBe('{"seed": 2}');
  });

  it('leaves no completed folder when a write fails (e.g. a full disk), and keeps the older one', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rundir-')), 'run');
    mkdirSync(out);
    writeFileSync(join(out, 'result.json'), '{"status": "completed", "seed": 1}');
    const run = RunDir.open(opts(out, { force: true }));
    // A file that cannot be written: its name is taken by a read-only folder.
    mkdirSync(join(run.work, 'sub'));
    chmodSync(join(run.work, 'sub'), 0o500);
    const failing = process.getuid?.() === 0 ? new Map([['result.json/x', 'cannot be a file under a file']]) : new Map([['sub/weights.npy', 'x']]);
    expect(() => run.commit({ status: 'completed' }, failing)).toThrow();
    chmodSync(join(run.work, 'sub'), 0o700);
    expect(json(join(out, 'result.json'))).toEqual({ status: 'completed', seed: 1 });
    expect(json(join(run.work, 'result.json')).status).toBe('running');
    run.release();
  });

  it('fails fast on --out values that cannot be a run folder', () => {
    const cwd = process.cwd();
    expect(() => RunDir.open(opts(''))).toThrow(/--out must name a folder, got ""/);
    expect(() => RunDir.open(opts('.'))).toThrow(/the working directory/);
    expect(() => RunDir.open(opts('..'))).toThrow(/a folder holding the working directory/);
    expect(() => RunDir.open(opts('/'))).toThrow(/a folder holding the working directory|a folder of its own/);
    // Node's recursive mkdir spins forever under /proc; this fails at once.
    expect(() => RunDir.open(opts('/proc/sgdscope-test/run'))).toThrow(/cannot create \/proc\/sgdscope-test/);
    expect(() => makeDirs('/proc/sgdscope-x/y')).toThrow(/cannot create/);
    const file = join(mkdtempSync(join(tmpdir(), 'rundir-')), 'f');
    writeFileSync(file, 'x');
    expect(() => RunDir.open(opts(join(file, 'run')))).toThrow(/exists and is not a folder/);
    expect(process.cwd()).toBe(cwd);
  }, 20_000);

  it('finds the newest checkpoint of a dead run for --resume, and refuses a new run over it without --force', () => {
    const parent = mkdtempSync(join(tmpdir(), 'rundir-'));
    const out = join(parent, 'run');
    // A run killed outright: its work folder (a pid that no longer exists) and a stale lock.
    const dead = `${out}.tmp-999999`;
    mkdirSync(dead);
    writeFileSync(join(dead, 'result.json'), '{"status": "running"}');
    writeFileSync(join(dead, CHECKPOINT_FILE), 'step 40');
    writeFileSync(`${out}.lock`, JSON.stringify({ pid: 999999, host: (process.getBuiltinModule('node:os') as typeof import('node:os')).hostname(), started: 'then', command: 'x' }));
    expect(() => RunDir.open(opts(out))).toThrow(/did not finish: .*run\.tmp-999999 \(holds a checkpoint\), status running.*--resume.*--force/);
    const progressOf = (p: string): number => Number(/step (\d+)/.exec(readFileSync(p, 'utf8'))?.[1] ?? -1);
    const run = RunDir.open(opts(out, { resume: true, progressOf }));
    expect(run.resumed?.from).toBe(dead);
    expect(readFileSync(join(run.work, CHECKPOINT_FILE), 'utf8')).toBe('step 40');
    expect(existsSync(dead)).toBe(false);
    unlinkSync(join(run.work, CHECKPOINT_FILE));
    run.commit({ status: 'completed' });
    // Resuming a run that has ended: nothing to do.
    expect(() => RunDir.open(opts(out, { resume: true, progressOf }))).toThrow(AlreadyComplete);
    expect(() => RunDir.open(opts(join(parent, 'none'), { resume: true, progressOf }))).toThrow(/cannot resume: no checkpoint was found/);
  });
});
