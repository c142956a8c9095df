/**
 * Property-based: run folders given to `hessian --run` and checkpoints given to `--resume`, damaged
 * the ways disks and people damage them — files missing, truncated, swapped, overwritten, config
 * values changed, NaN weights. The folder is read whole with every file checked (or refused
 * naming the folder or the file); a checkpoint is read back exactly (or refused naming the file).
 * Never a crash, never NaN weights passed on. Seeded (FUZZ_SEED).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFiles } from '../src/train/run-files.ts';
import { loadRunFolder } from '../src/train/run-load.ts';
import { DEFAULT_TRAIN } from '../src/train/config.ts';
import { History } from '../src/train/trainer.ts';
import { packTrainerState, unpackTrainerState } from '../src/train/trainer-state.ts';
import { readSettingsMeta } from '../src/cli/run-folder.ts';
import { paramLayout } from '../src/nn/params.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointArray } from '../src/util/checkpoint-file.ts';
import { Rng } from '../src/util/rng.ts';
import { FUZZ_SEED, cleanly } from './helpers/fuzz.ts';

const MODEL: MlpConfig = { widths: [784, 8, 6, 10], activation: 'relu', bias: true, init: { kind: 'pytorch' } };
const layout = paramLayout(MODEL);

function validFolder(): Map<string, Uint8Array | string> {
  const params = new Float32Array(layout.total);
  const rng = new Rng(5);
  for (let i = 0; i < params.length; i++) params[i] = rng.normal() * 0.1;
  return runFiles({
    model: MODEL, train: DEFAULT_TRAIN, data: { kind: 'mnist10k', seed: 0, testFraction: 0.2 }, adapter: { name: 'x', description: '', runtime: 'node' },
    result: { status: 'completed', message: 'ok', steps: 3, seconds: 1, stepsPerSecond: 3 }, finalEval: null, history: new History(), stepsPerEpoch: 160,
    params, paramsStep: 3, trainIndices: Uint32Array.from({ length: 20 }, (_, i) => i), testIndices: Uint32Array.from({ length: 5 }, (_, i) => 100 + i),
  });
}

type Damage = { kind: 'delete' | 'truncate' | 'swap' | 'overwrite' | 'json' | 'nan'; a: number; b: number; at: number; value: unknown };
const damage: fc.Arbitrary<Damage> = fc.record({
  kind: fc.constantFrom('delete', 'truncate', 'swap', 'overwrite', 'json', 'nan'),
  a: fc.nat(),
  b: fc.nat(),
  at: fc.nat(),
  value: fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constantFrom(null, -1, 1e9, 'tanh', [784, 8, 10], { kind: 'normal' })),
}) as fc.Arbitrary<Damage>;

function apply(files: Map<string, Uint8Array | string>, d: Damage): void {
  const names = [...files.keys()].sort();
  const a = names[d.a % names.length];
  const b = names[d.b % names.length];
  const bytes = (n: string): Uint8Array => (typeof files.get(n) === 'string' ? new TextEncoder().encode(files.get(n) as string) : (files.get(n) as Uint8Array));
  if (d.kind === 'delete') files.delete(a);
  else if (d.kind === 'truncate') files.set(a, bytes(a).slice(0, d.at % (bytes(a).length + 1)));
  else if (d.kind === 'swap') {
    const x = files.get(a)!;
    files.set(a, files.get(b)!);
    files.set(b, x);
  } else if (d.kind === 'overwrite') {
    const c = bytes(a).slice();
    if (c.length) c[d.at % c.length] ^= 1 + (d.b % 255);
    files.set(a, c);
  } else if (d.kind === 'json') {
    let cfg: Record<string, Record<string, unknown>>;
    try {
      cfg = JSON.parse(new TextDecoder().decode(bytes('config.json')));
      if (!cfg.model || !cfg.train) return;
    } catch {
      return; // config.json already gone or garbled by an earlier damage
    }
    const paths = [['model', 'widths'], ['model', 'activation'], ['model', 'bias'], ['model', 'init'], ['train', 'lr'], ['train', 'batchSize'], ['data'], ['model'], ['train', 'Lr']];
    const p = paths[d.at % paths.length];
    let node = cfg as Record<string, unknown>;
    for (const k of p.slice(0, -1)) node = node[k] as Record<string, unknown>;
    node[p.at(-1)!] = d.value;
    files.set('config.json', JSON.stringify(cfg));
  } else {
    const w = `weights_layer${d.a % 3}.npy`;
    if (!files.has(w)) return;
    const c = bytes(w).slice();
    const at = 128 + 4 * (d.at % 40);
    if (at + 4 <= c.length) new DataView(c.buffer).setFloat32(at, NaN, true);
    files.set(w, c);
  }
}

describe('fuzzed run folders (hessian --run)', () => {
  it('600 damaged folders: loaded whole and finite, or refused naming the folder or file', () => {
    const root = mkdtempSync(join(tmpdir(), 'fuzz-run-'));
    const base = validFolder();
    let loaded = 0;
    let n = 0;
    fc.assert(
      fc.property(fc.array(damage, { minLength: 1, maxLength: 3 }), (ds) => {
        const dir = join(root, `r${n++}`);
        const files = new Map(base);
        for (const d of ds) apply(files, d);
        mkdirSync(dir);
        for (const [name, content] of files) writeFileSync(join(dir, name), content);
        const run = cleanly(() => loadRunFolder(dir), new RegExp(dir.replace(/[/.]/g, '\\$&')));
        if (run) {
          loaded++;
          expect(run.params.length).toBe(paramLayout(run.model).total);
          expect(run.params.every(Number.isFinite)).toBe(true);
        }
        rmSync(dir, { recursive: true });
      }),
      { seed: FUZZ_SEED, numRuns: 600 },
    );
    console.log(`run folders: 600 cases, ${loaded} loaded`);
    expect(readdirSync(root)).toEqual([]);
  }, 120_000);
});

describe('fuzzed checkpoints (--resume)', () => {
  it('1,500 damaged checkpoints: read back exactly, or refused naming the file', () => {
    const rng = new Rng(9);
    const params = Float32Array.from({ length: 300 }, () => rng.normal());
    const state = {
      step: 37, params, velocity: params.map((v) => v / 3),
      sampler: { rng: rng.state(), perm: new Rng(2).permutation(200), cursor: 50 },
      history: { loss: Float32Array.from({ length: 37 }, (_, i) => 2 / (i + 1)), accuracy: new Float32Array(37).fill(0.5), evals: [{ step: 20, epoch: 5, train: { loss: 0.5, accuracy: 0.8, n: 200 }, test: null }] },
    };
    const into = { meta: { progress: 37, settings: { model: MODEL, train: DEFAULT_TRAIN, data: { kind: 'mnist10k' } } } as Record<string, unknown>, arrays: {} as Record<string, CheckpointArray> };
    packTrainerState(state, 'trainer', into);
    const good = encodeCheckpoint({ kind: 'train', ...into });
    let exact = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.nat().map((n) => (b: Uint8Array) => b.slice(0, n % (b.length + 1))),
            fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => (b: Uint8Array) => {
              const c = b.slice();
              c[at % c.length] ^= x;
              return c;
            }),
            fc.uint8Array({ maxLength: 20 }).map((extra) => (b: Uint8Array) => Uint8Array.from([...b, ...extra])),
          ),
          { minLength: 1, maxLength: 2 },
        ),
        (edits) => {
          const bytes = edits.reduce((b, e) => e(b), good);
          const back = cleanly(() => {
            const c = decodeCheckpoint(bytes, 'run.tmp-7/checkpoint.bin');
            return { st: unpackTrainerState(c, 'trainer', 'run.tmp-7/checkpoint.bin'), settings: readSettingsMeta(c.meta, 'run.tmp-7/checkpoint.bin') };
          }, /run\.tmp-7\/checkpoint\.bin/);
          if (back) {
            exact++;
            expect(Array.from(back.st.params)).toEqual(Array.from(params));
            expect(back.st.sampler.cursor).toBe(50);
          }
        },
      ),
      { seed: FUZZ_SEED, numRuns: 1500 },
    );
    console.log(`checkpoints: 1500 cases, ${exact} read back exactly (the rest refused)`);
  }, 120_000);
});
