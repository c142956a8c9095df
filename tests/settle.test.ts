import { describe, expect, it } from 'vitest';
import { allInOrder } from '../src/util/settle.ts';

const after = <T>(ms: number, f: () => T): Promise<T> => new Promise((res, rej) => setTimeout(() => { try { res(f()); } catch (e) { rej(e); } }, ms));

describe('allInOrder', () => {
  it('returns the values in order when all resolve', async () => {
    expect(await allInOrder([after(20, () => 1), after(0, () => 'b')] as const)).toEqual([1, 'b']);
  });
  it('throws the first rejection in argument order, not in time', async () => {
    const late = after(30, () => { throw new Error('train file bad'); });
    const early = after(0, () => { throw new Error('test file bad'); });
    await expect(allInOrder([late, early])).rejects.toThrow('train file bad');
  });
});
