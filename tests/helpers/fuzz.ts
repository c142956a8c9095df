/**
 * What the property-based tests (fast-check, seeded) demand of every failure: an Error of the
 * plain kind the CLI prints as a message (exit 2), never a TypeError, RangeError or stack
 * overflow — those would reach the user as a crash — and a message that names what is wrong.
 */
import { expect } from 'vitest';
import { UsageError } from '../../src/cli/args.ts';

/** Seed of every property test (fast-check replays a failure from it and the printed path). */
export const FUZZ_SEED = 16;

const CRASH = /Cannot read|Cannot convert|is not a function|is not iterable|is not defined|Maximum call stack|Invalid typed array|Invalid array length|out of memory|\[object Object\]/;

/** Asserts `e` is a clean input error (whose message matches `mentions`, when given). */
export function expectCleanError(e: unknown, mentions?: RegExp): void {
  expect(e, String(e)).toBeInstanceOf(Error);
  const err = e as Error;
  const plain = err.constructor === Error || err instanceof UsageError;
  expect(plain, `${err.constructor.name}: ${err.message}`).toBe(true);
  expect(err.message.length).toBeGreaterThan(0);
  expect(err.message, err.message).not.toMatch(CRASH);
  if (mentions) expect(err.message).toMatch(mentions);
}

/** Runs f; returns its value, or undefined after checking that what it threw is a clean error. */
export function cleanly<T>(f: () => T, mentions?: RegExp): T | undefined {
  try {
    return f();
  } catch (e) {
    expectCleanError(e, mentions);
    return undefined;
  }
}

export async function cleanlyAsync<T>(f: () => Promise<T>, mentions?: RegExp): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    expectCleanError(e, mentions);
    return undefined;
  }
}

/** Counts the cases run per file, for the total printed by each fuzz test. */
export const fuzzCount = { cases: 0 };
