/**
 * Property-based: the dashboard's URL state (src/experiments/dashboard/run-settings.ts) under random queries — known
 * settings with odd values, unknown keys, prototype names, broken escapes, repeated keys. Parsing
 * never throws (problems are listed), validation never throws, and settings that pass both give
 * a run spec the engine accepts and a URL that reads back to the same settings. Seeded (FUZZ_SEED).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_SETTINGS, runSpecOf, settingKeys, settingsFromQuery, settingsToQuery, validateSettings } from '../src/experiments/dashboard/run-settings.ts';

const SETTING_KEYS = settingKeys();
import { validateMlpConfig } from '../src/nn/config.ts';
import { validateTrainConfig } from '../src/train/config.ts';
import { FUZZ_SEED } from './helpers/fuzz.ts';

const odd = fc.constantFrom('', ' ', '0', '-1', '1e400', 'NaN', 'Infinity', '0x10', '1,2,3', '784x50x10', '784-0-10', 'e', 'true', 'on', 'all', 'relu', 'tanh', 'normal', 'fashion', 'idx', '%', '%E0%A4%A', '__proto__', '9'.repeat(40), '2.5', '1e-9');
const key = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...SETTING_KEYS, 'autostart') }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'LR', 'lr ', '') }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) });
const pair = fc.tuple(key, fc.oneof(odd, fc.string({ maxLength: 8 }), fc.double().map(String), fc.integer({ min: -5, max: 100000 }).map(String)));
const query = fc.tuple(fc.array(pair, { maxLength: 6 }), fc.boolean()).map(([ps, raw]) => `?${ps.map(([k, v]) => (raw ? `${k}=${v}` : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&')}`);

describe('fuzzed dashboard URLs', () => {
  it('1,500 random queries: parsed with problems listed, validated, and valid ones round-trip to an accepted run', () => {
    let valid = 0;
    fc.assert(
      fc.property(query, (q) => {
        const { settings, problems } = settingsFromQuery(q);
        expect(Array.isArray(problems)).toBe(true);
        for (const p of problems) expect(typeof p).toBe('string');
        expect(Object.getPrototypeOf(settings)).toBe(Object.prototype);
        expect(Object.keys(settings).sort()).toEqual([...SETTING_KEYS].sort());
        const errors = validateSettings(settings);
        if (Object.keys(errors).length > 0) return;
        valid++;
        const spec = runSpecOf(settings);
        validateMlpConfig(spec.model);
        validateTrainConfig(spec.train);
        const back = settingsFromQuery(`?${settingsToQuery(settings)}`);
        expect(back.problems).toEqual([]);
        expect(back.settings).toEqual(settings);
      }),
      { seed: FUZZ_SEED, numRuns: 1500 },
    );
    console.log(`dashboard URLs: 1500 cases, ${valid} valid and round-tripped`);
    expect(valid).toBeGreaterThan(50);
    expect(settingsFromQuery('').settings).toEqual(DEFAULT_SETTINGS);
  });
});
