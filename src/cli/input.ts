/**
 * The input phase of a command: everything checked before the GPU starts (flags, config, data
 * files, run folders). Its plain errors are bad input — exit 2 with the message, no stack — while
 * programming errors (TypeError, RangeError…) keep their kind and exit 1.
 */
import { UsageError } from './args.ts';

export async function inputPhase<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof Error && e.constructor === Error) throw new UsageError(e.message);
    throw e;
  }
}
