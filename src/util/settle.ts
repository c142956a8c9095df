/**
 * Promise.all with a deterministic error: wait for every promise, then throw the rejection of
 * the first one *in argument order*. Promise.all rejects with whichever fails first in time, so
 * when two input files are both bad (say a truncated train file and a gzip bomb as the test file)
 * the message a user sees would depend on the machine's load; with this it never does.
 */
export async function allInOrder<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises as readonly Promise<unknown>[]);
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
