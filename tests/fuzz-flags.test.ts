/**
 * Property-based: random command lines for every command — known flags with values in and out of
 * range, non-decimal numbers ('0x10', '1e400', ' 1', '１'), unknown and misspelt flags, stray
 * arguments — through the same parsing and resolution the CLI runs before the GPU starts. Every
 * outcome is settings or a clean input error; never a crash. Seeded (FUZZ_SEED).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseFlags, type FlagSpec, type FlagValues } from '../src/cli/args.ts';
import { TRAIN_FLAGS, resolveTrainSettings } from '../src/cli/train-settings.ts';
import { SWEEP_FLAGS, resolveSweepSpec } from '../src/cli/sweep.ts';
import { FENG_TU_FLAGS, applyProtocolTraining, resolveFengTuOptions } from '../src/cli/reproduce.ts';
import { HESSIAN_FLAGS, parseLayers } from '../src/cli/hessian.ts';
import { AWD_FLAGS, resolveAwd } from '../src/cli/awd.ts';
import { TOY_FLAGS, resolveToy } from '../src/cli/toy-landscape.ts';
import { SIGNAL_PROPAGATION_FLAGS, resolveSignalPropagationOptions } from '../src/cli/reproduce-signal-propagation.ts';
import { BATCH_INCREASE_FLAGS, resolveBatchIncrease } from '../src/cli/batch-increase.ts';
import { validateBatchIncreaseSpec } from '../src/experiments/batch-increase/schedule.ts';
import { parseSavePolicy } from '../src/train/save-policy.ts';
import { checkRunFitsData } from '../src/train/config.ts';
import { planFengTu } from '../src/experiments/feng-tu/plan.ts';
import { loadDataset } from '../src/data/index.ts';
import { SEED_MLP } from '../src/nn/config.ts';
import { FUZZ_SEED, cleanlyAsync } from './helpers/fuzz.ts';

const ODD_NUMBERS = ['', ' 1', '1 ', '0x10', '0b1', '0o7', '1e400', '-1e400', 'NaN', 'Infinity', '-0', '1_000', '١', '１', '.5', '5.', '+3', '1e-400', '3,', ',', '1,,2', '9007199254740993', '4294967296', '-4294967296', 'e', 'crit', 'all', 'true'];

function value(spec: FlagSpec): fc.Arbitrary<string> {
  const [lo, hi] = spec.range ?? [-1e6, 1e6];
  const num = fc.oneof(
    fc.double({ min: lo, max: hi, noNaN: true }).map(String),
    fc.integer({ min: Math.max(-1e9, Math.ceil(lo)), max: Math.min(1e9, Math.floor(hi)) }).map(String),
    fc.double({ noNaN: false }).map(String),
    fc.constantFrom(...ODD_NUMBERS),
  );
  switch (spec.kind) {
    case 'number':
    case 'int':
      return num;
    case 'list':
      return fc.oneof(fc.array(num, { minLength: 1, maxLength: 4 }).map((a) => a.join(',')), fc.constantFrom(...ODD_NUMBERS));
    case 'string':
      return fc.oneof(fc.constantFrom(...(spec.choices ?? ['x']), 'idx:', 'idx:/nonexistent', '', '/', '..', 'e', '2', '0,1', 'all', '60s', '5m', '0', '-1', '1h', '10000000000000'), fc.string({ maxLength: 12 }));
    case 'bool':
      return fc.constantFrom('', '=true', '=false', '=yes', '=1');
  }
}

/** A command line: flags of the table (most with values from their kind), some unknown or misspelt, a few stray words. */
function argv(specs: Record<string, FlagSpec>, skip: string[]): fc.Arbitrary<string[]> {
  const names = Object.keys(specs).filter((n) => !skip.includes(n));
  const known = fc.constantFrom(...names).chain((name) => {
    const spec = specs[name];
    if (spec.kind === 'bool') return value(spec).map((v) => [`--${name}${v}`]);
    return fc.tuple(value(spec), fc.boolean()).map(([v, eq]) => (eq ? [`--${name}=${v}`] : [`--${name}`, v]));
  });
  const unknown = fc.oneof(fc.constantFrom(...names).map((n) => [`--${n.toUpperCase()}`, '1']), fc.string({ maxLength: 8 }).map((s) => [`--${s}`]), fc.constantFrom(['--'], ['-lr', '1'], ['stray'], [`--${names[0]}`]));
  return fc.array(fc.oneof({ weight: 9, arbitrary: known }, { weight: 1, arbitrary: unknown }), { maxLength: 7 }).map((parts) => parts.flat());
}

type Resolver = (flags: FlagValues) => unknown;

const COMMANDS: [string, Record<string, FlagSpec>, Resolver, number][] = [
  ['sgdscope train', TRAIN_FLAGS, (f) => resolveTrainSettings(f), 700],
  ['sgdscope sweep', SWEEP_FLAGS, (f) => resolveSweepSpec(f), 400],
  ['sgdscope reproduce feng-tu', FENG_TU_FLAGS, (f) => {
    applyProtocolTraining(f);
    return [resolveTrainSettings(f), resolveFengTuOptions(f)];
  }, 400],
  ['sgdscope hessian', HESSIAN_FLAGS, (f) => parseLayers(f.layer as string | undefined, SEED_MLP), 300],
  ['sgdscope reproduce awd', AWD_FLAGS, (f) => resolveAwd(f), 300],
  ['sgdscope reproduce toy-landscape', TOY_FLAGS, (f) => resolveToy(f), 200],
  ['sgdscope reproduce signal-propagation', SIGNAL_PROPAGATION_FLAGS, (f) => resolveSignalPropagationOptions(f), 300],
  // The schedule against MNIST-10k's 8,000 training samples (the command checks it against the loaded set).
  ['sgdscope reproduce batch-increase', BATCH_INCREASE_FLAGS, (f) => validateBatchIncreaseSpec(resolveBatchIncrease(f).spec, 8000), 300],
];

describe('fuzzed command lines', () => {
  for (const [command, specs, resolve, runs] of COMMANDS) {
    it(`${command}: ${runs} random command lines give settings or a clean input error`, async () => {
      let accepted = 0;
      let deep = 0;
      await fc.assert(
        fc.asyncProperty(argv(specs, ['help', 'out', 'resume']), fc.integer({ min: 0, max: 24 }), async (args, dice) => {
          await cleanlyAsync(async () => {
            const { flags } = parseFlags(args, specs, command);
            if (flags['save-every'] !== undefined) parseSavePolicy(String(flags['save-every']));
            const settings = resolve(flags);
            accepted++;
            // Now and then the rest of the pre-GPU checks: the dataset and the run against it.
            if (dice === 0 && command === 'sgdscope train') {
              const s = settings as ReturnType<typeof resolveTrainSettings>;
              if (s.data.kind === 'mnist10k') {
                deep++;
                const loaded = await loadDataset(s.data);
                checkRunFitsData(s.model, s.train, loaded.train);
              }
            }
            if (dice === 0 && command === 'sgdscope reproduce feng-tu') {
              const [s, options] = settings as [ReturnType<typeof resolveTrainSettings>, ReturnType<typeof resolveFengTuOptions>];
              if (s.data.kind === 'mnist10k') {
                deep++;
                const loaded = await loadDataset(s.data);
                planFengTu(s.model, checkRunFitsData(s.model, s.train, loaded.train), loaded.train.n, options);
              }
            }
          });
        }),
        { seed: FUZZ_SEED, numRuns: runs },
      );
      console.log(`${command}: ${runs} cases, ${accepted} accepted${deep ? `, ${deep} through the dataset checks` : ''}`);
      expect(accepted).toBeGreaterThan(0);
    }, 120_000);
  }

  it('flag numbers are decimal only', () => {
    for (const bad of ['0x10', '0b1', ' 1', '1_000', '１', 'Infinity', '']) {
      expect(() => parseFlags(['--lr', bad], TRAIN_FLAGS, 'train'), bad).toThrow(/--lr must be a decimal number/);
    }
    expect(parseFlags(['--lr', '.5'], TRAIN_FLAGS, 'train').flags.lr).toBe(0.5);
    expect(parseFlags(['--lr=1e-3'], TRAIN_FLAGS, 'train').flags.lr).toBe(0.001);
  });
});
