/**
 * The dashboard's log-axis range (src/ui/chart-data-panel.ts logRange) against uPlot 1.6's log
 * tick loop (logAxisSplits in node_modules/uplot/dist/uPlot.esm.js, restated below without the
 * DOM): for data anywhere from 1e-14 to 1e20 (below ~1e-16 uPlot's
 * rounding itself fails, whatever the range) the range holds the data and the loop ends within a
 * few ticks per decade. A bottom that is not a whole step of its decade (0.00972) made the loop
 * step 0.011, round it to 0 and never end — the dashboard's 'Invalid array length' on the GSNR panel.
 */
import { describe, expect, it } from 'vitest';
import { logRange } from '../src/ui/chart-data-panel.ts';

// uPlot's tables of round increments and their decimals (genIncrs(10, -32, 0 | 0, 32, [1, 2, 2.5, 5])).
const fixedDec = new Map<number, number>();
const numIncrs: number[] = [];
for (let exp = -32; exp < 32; exp++) {
  for (const m of [1, 2, 2.5, 5]) {
    const incr = +`${m}e${exp}`;
    const multDec = m === 2.5 ? 1 : 0;
    numIncrs.push(incr);
    fixedDec.set(incr, (exp >= 0 ? 0 : -exp) + (exp >= multDec ? 0 : multDec));
  }
}
const closest = (v: number): number => numIncrs.reduce((b, x) => (Math.abs(x - v) < Math.abs(b - v) ? x : b), numIncrs[0]);
const roundDec = (v: number, dec = 0): number => (Number.isInteger(v) ? v : Math.round(v * 10 ** dec * (1 + Number.EPSILON)) / 10 ** dec);

/** uPlot's logAxisSplits for base 10; null when it would run away (more than `cap` ticks). */
function ticks(scaleMin: number, scaleMax: number, cap = 10_000): number | null {
  let foundIncr = closest(10 ** Math.floor(Math.log10(scaleMin)));
  let nextMagIncr = closest(foundIncr * 10);
  let split = scaleMin;
  let n = 0;
  do {
    if (++n > cap) return null;
    split = split + foundIncr;
    if (!fixedDec.has(split)) split = roundDec(split, fixedDec.get(foundIncr));
    if (split >= nextMagIncr) {
      foundIncr = split;
      nextMagIncr = closest(foundIncr * 10);
    }
  } while (split <= scaleMax);
  return n;
}

describe('logRange', () => {
  it('holds the data and keeps uPlot’s log tick loop finite', () => {
    // The GSNR panel's data that hung the dashboard: the old bottom min/1.25 runs away.
    expect(ticks(0.01215028503346185 / 1.25, 0.0892 * 1.25)).toBeNull();
    let seed = 7;
    const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const cases: [number, number][] = [[0.01215028503346185, 0.0892], [1e-3, 1e-3], [9.99e-5, 1], [1, 1e6]];
    for (let i = 0; i < 2000; i++) {
      const a = 10 ** (34 * rand() - 14);
      cases.push([a, a * 10 ** (14 * rand())]);
    }
    for (const [min, max] of cases) {
      const [lo, hi] = logRange(null, min, max);
      expect(lo, `${min}…${max}`).toBeLessThanOrEqual(Math.max(min, max * 1e-12));
      expect(lo).toBeGreaterThan(Math.max(min, max * 1e-12) / 12.5);
      expect(hi).toBeGreaterThanOrEqual(max);
      const n = ticks(lo, hi);
      expect(n, `ticks of [${lo}, ${hi}]`).not.toBeNull();
      expect(n!).toBeLessThan(12 * (Math.log10(hi / lo) + 2));
    }
  });
});
