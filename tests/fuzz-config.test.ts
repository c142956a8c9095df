/**
 * Property-based: --config files built from a valid one by the mistakes people make — a misspelt
 * key anywhere, a prototype key (__proto__, toString, constructor), a value of the wrong type or
 * out of range, null, a whole section replaced, or any JSON at all — read the way `sgdscope train`
 * reads them. A config is either refused with a clean message (a misspelt key answered with the
 * nearest known one) or accepted with every key it holds in effect: nothing is silently ignored.
 * Seeded (FUZZ_SEED).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTrainSettings } from '../src/cli/train-settings.ts';
import { checkRunFitsData } from '../src/train/config.ts';
import { loadDataset } from '../src/data/index.ts';
import { FUZZ_SEED, cleanlyAsync } from './helpers/fuzz.ts';

/** A JSON value written as entries, so keys like "__proto__" reach the file as text. */
type J = null | boolean | number | string | J[] | { entries: [string, J][] };

const text = (v: J): string => {
  if (v === null || typeof v !== 'object') return JSON.stringify(typeof v === 'number' && !Number.isFinite(v) ? null : v);
  if (Array.isArray(v)) return `[${v.map(text).join(',')}]`;
  return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${text(x)}`).join(',')}}`;
};
const obj = (o: Record<string, J>): J => ({ entries: Object.entries(o) });

const BASE: J = obj({
  model: obj({ widths: [784, 12, 10], activation: 'tanh', bias: true, init: obj({ kind: 'normal', sigmaW: 1.2, sigmaB: 0.1 }) }),
  train: obj({ lr: 0.05, batchSize: 40, momentum: 0.5, seed: 3, steps: 5, epochs: null, chunkSteps: 3 }),
  data: obj({ kind: 'mnist10k', seed: 2, trainSize: 2000, testSize: 500 }),
});

const typo = (k: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(k[0].toUpperCase() + k.slice(1)),
    fc.constant(k.slice(0, -1)),
    fc.constant(`${k}s`),
    fc.constant(k.toLowerCase() === k ? `${k}_` : k.toLowerCase()),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', 'valueOf'),
  );

const jsonValue: fc.Arbitrary<J> = fc.jsonValue({ maxDepth: 2 }).map(function conv(v: unknown): J {
  if (Array.isArray(v)) return v.map(conv);
  if (v && typeof v === 'object') return { entries: Object.entries(v).map(([k, x]) => [k, conv(x)]) };
  return v as J;
});

type Mutation = { kind: 'typo' | 'value' | 'drop' | 'whole'; path: number[]; key?: string; value?: J };

/** Paths (entry indices) to every entry of the base config. */
function paths(v: J, at: number[] = []): number[][] {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return [];
  return v.entries.flatMap(([, x], i) => [[...at, i], ...paths(x, [...at, i])]);
}
const ALL = paths(BASE);

function apply(v: J, m: Mutation): J {
  const copy = JSON.parse(JSON.stringify(v)) as J;
  if (m.kind === 'whole') return m.value!;
  const isObj = (x: J | undefined): x is { entries: [string, J][] } => !!x && typeof x === 'object' && !Array.isArray(x);
  let node = copy;
  for (const i of m.path.slice(0, -1)) node = isObj(node) ? node.entries[i]?.[1] : undefined as unknown as J;
  const i = m.path.at(-1)!;
  // After a replacement the path may lead nowhere: then this mutation does nothing.
  if (!isObj(node) || !node.entries[i]) return copy;
  if (m.kind === 'typo') node.entries[i][0] = m.key!;
  else if (m.kind === 'value') node.entries[i][1] = m.value!;
  else node.entries.splice(i, 1);
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ALL).chain((path) => typo(keyAt(path)).map((key): Mutation => ({ kind: 'typo', path, key }))) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...ALL), fc.oneof(jsonValue, fc.constantFrom<J>(null, -1, 0, 1e30, 0.5, 65537, '784,50,10', [784, 0, 10], [], true, 'relu'))).map(([path, value]): Mutation => ({ kind: 'value', path, value })) },
  { weight: 1, arbitrary: fc.constantFrom(...ALL).map((path): Mutation => ({ kind: 'drop', path })) },
  { weight: 1, arbitrary: jsonValue.map((value): Mutation => ({ kind: 'whole', path: [], value })) },
);

function keyAt(path: number[]): string {
  let node = BASE as { entries: [string, J][] };
  for (const i of path.slice(0, -1)) node = node.entries[i][1] as { entries: [string, J][] };
  return node.entries[path.at(-1)!][0];
}

describe('fuzzed --config files', () => {
  it('2,000 mutated configs: refused cleanly, misspellings named with the nearest key, or accepted with every key in effect', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-config-'));
    const file = join(dir, 'run.json');
    let accepted = 0;
    let typos = 0;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 39 }), async (ms, dice) => {
        n++;
        const cfg = ms.reduce(apply, BASE);
        writeFileSync(file, text(cfg));
        const typo = ms.find((m) => m.kind === 'typo' && m.key !== keyAt(m.path));
        const run = await cleanlyAsync(async () => {
          const r = resolveTrainSettings({ config: file });
          if (dice === 0) checkRunFitsData(r.model, r.train, (await loadDataset(r.data)).train);
          return r;
        });
        if (typo && ms.length === 1) {
          typos++;
          // A renamed key is never accepted (it would be silently ignored): it is named.
          expect(run, `config ${text(cfg)} was accepted`).toBeUndefined();
        }
        if (run) {
          accepted++;
          // Every key the file holds is in effect.
          const parsed = JSON.parse(text(cfg)) as Record<string, Record<string, unknown>>;
          for (const [k, v] of Object.entries(parsed.train ?? {})) expect((run.train as unknown as Record<string, unknown>)[k], `train.${k}`).toEqual(v);
          for (const [k, v] of Object.entries(parsed.model ?? {})) expect((run.model as unknown as Record<string, unknown>)[k], `model.${k}`).toEqual(v);
        }
      }),
      { seed: FUZZ_SEED, numRuns: 2000 },
    );
    console.log(`configs: ${n} cases, ${accepted} accepted, ${typos} single misspellings all refused`);
    expect(accepted).toBeGreaterThan(20);
  }, 300_000);

  it('the findings of the issue', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-config-'));
    const read = (content: string): string => {
      writeFileSync(join(dir, 'c.json'), content);
      try {
        resolveTrainSettings({ config: join(dir, 'c.json') });
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(read('{"model": {"Widths": [784, 100, 10]}}')).toMatch(/model: unknown key 'Widths' — did you mean 'widths'\?/);
    expect(read('{"train": {"__proto__": {"lr": 5}}}')).toMatch(/train: unknown setting '__proto__'/);
    expect(read('{"train": {"toString": 1}}')).toMatch(/unknown setting 'toString'/);
    expect(read('{"model": {"constructor": 1}}')).toMatch(/unknown key 'constructor'/);
    expect(read('42')).toMatch(/must be an object \{…\}, got number 42/);
    expect(read('null')).toMatch(/must be an object \{…\}, got null/);
    expect(read('{"train": null}')).toMatch(/section 'train' must be an object/);
    expect(read('{"data": {"kind": "mnist10k", "testfraction": 0.3}}')).toMatch(/unknown field 'testfraction' — did you mean 'testFraction'\?/);
    await expect(loadDataset({ kind: 'mnist10k', testfraction: 0.3 } as never)).rejects.toThrow(/unknown field 'testfraction' — did you mean 'testFraction'/);
  });
});
