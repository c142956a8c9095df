import { describe, expect, it } from 'vitest';
import { tanh } from '../src/analysis/meanfield/activations.ts';
import { qStar } from '../src/analysis/meanfield/fixed-points.ts';
import { gramToCorrelation, nngpKernels } from '../src/analysis/meanfield/nngp.ts';
import { propagateCpu, propagatePair } from '../src/analysis/meanfield/propagate-cpu.ts';

/**
 * A finite random tanh net (N = 1000, float64, Gaussian weights) against the infinite-width
 * theory, layer by layer. Each net gives one c^l (and q^l) trajectory; over 8 independent nets
 * we take the mean and its standard error SE. Per layer we require |mean − theory| ≤ 4 SE + 3e-3
 * (the 3e-3, and 3e-3·q* for q, absorbs the O(1/N) finite-width bias). An SE from 8 samples
 * can come out several times too small by chance, so it is floored by the one-layer sampling
 * error, which the true SE can only exceed (noise accumulates over layers):
 *   SD(ĉ) ≥ (1 − c²)/√N  (sample correlation of N Gaussian pairs),  SD(q̂) ≥ q √(2/N).
 * As a negative control the same data must reject the theory at a wrong σ_w² (× 0.8 / × 1.25
 * in the ordered phase; × 0.6 / × 1.6 in the chaotic one, where c^l is less sensitive to σ_w²),
 * so the tolerance is not vacuous.
 */
const N = 1000;
const DEPTH = 6;
const NETS = 8;

function study(sw2: number, sb2: number, c0: number, seed0: number, wrong: readonly [number, number]) {
  const qs = qStar(tanh, sw2, sb2);
  // d_in = 2 keeps the first layer cheap; |x|²/d_in = (q* − σ_b²)/σ_w² puts q^0 at q*.
  const s = Math.sqrt(((qs - sb2) / sw2) * 2);
  const x1 = [s, 0];
  const x2 = [c0 * s, Math.sqrt(1 - c0 * c0) * s];
  const theory = (w: number) => nngpKernels(tanh, w, sb2, [x1, x2], DEPTH - 1).map((K) => gramToCorrelation(K)[0][1]);
  const runs = Array.from({ length: NETS }, (_, k) => propagatePair({ act: tanh, sw2, sb2, width: N, depth: DEPTH, x1, x2, seed: seed0 + k }));
  const stats = (pick: (r: (typeof runs)[number], l: number) => number) =>
    Array.from({ length: DEPTH }, (_, l) => {
      const v = runs.map((r) => pick(r, l));
      const m = v.reduce((a, b) => a + b, 0) / NETS;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (NETS - 1));
      return { mean: m, se: sd / Math.sqrt(NETS) };
    });
  return { qs, c: stats((r, l) => r.c[l]), q: stats((r, l) => r.q1[l]), theory: theory(sw2), low: theory(wrong[0] * sw2), high: theory(wrong[1] * sw2) };
}

const within = (st: { mean: number; se: number }, t: number): boolean =>
  Math.abs(st.mean - t) <= 4 * Math.max(st.se, (1 - t * t) / Math.sqrt(N * NETS)) + 3e-3;
const withinQ = (st: { mean: number; se: number }, q: number): boolean =>
  Math.abs(st.mean - q) <= 4 * Math.max(st.se, q * Math.sqrt(2 / (N * NETS))) + 3e-3 * q;

describe('empirical CPU network vs mean-field theory (tanh, N = 1000)', () => {
  it.each([
    ['ordered', 1.5, 0.05, 0.0, 1000, [0.8, 1.25]],
    ['chaotic', 4.0, 0.05, 0.95, 2000, [0.6, 1.6]],
  ] as const)('%s phase: σ_w²=%f, σ_b²=%f, input correlation %f', (phase, sw2, sb2, c0, seed0, wrong) => {
    const r = study(sw2, sb2, c0, seed0, wrong);
    for (let l = 0; l < DEPTH; l++) {
      expect(within(r.c[l], r.theory[l]), `c at layer ${l}: ${r.c[l].mean} ± ${r.c[l].se} vs ${r.theory[l]}`).toBe(true);
      expect(withinQ(r.q[l], r.qs), `q at layer ${l}: ${r.q[l].mean} ± ${r.q[l].se} vs ${r.qs}`).toBe(true);
    }
    // the phase shows: correlations grow towards 1 (ordered) or nearby inputs decorrelate (chaotic)
    if (phase === 'ordered') expect(r.c[DEPTH - 1].mean).toBeGreaterThan(r.c[0].mean + 0.2);
    else expect(r.c[DEPTH - 1].mean).toBeLessThan(r.c[0].mean - 0.05);
    // negative control: a wrong σ_w² is rejected at some layer
    expect(r.low.some((t, l) => !within(r.c[l], t))).toBe(true);
    expect(r.high.some((t, l) => !within(r.c[l], t))).toBe(true);
  });
});

describe('propagateCpu', () => {
  const base = { act: tanh, sw2: 1.5, sb2: 0.1, width: 50, depth: 3, seed: 7 };
  it('is deterministic per seed and returns symmetric Gram matrices per layer', () => {
    const inputs = [[1, 0, 2], [0, 1, -1], [1, 1, 1]];
    const a = propagateCpu({ ...base, inputs });
    const b = propagateCpu({ ...base, inputs });
    expect(a).toEqual(b);
    expect(a.length).toBe(3);
    for (const G of a) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(G[i][j]).toBe(G[j][i]);
    expect(propagateCpu({ ...base, inputs, seed: 8 })[2][0][1]).not.toBe(a[2][0][1]);
  });
  it('validates its inputs', () => {
    expect(() => propagateCpu({ ...base, width: 0, inputs: [[1]] })).toThrow(/width must be an integer in \[1, 100000\]/);
    expect(() => propagateCpu({ ...base, depth: 0, inputs: [[1]] })).toThrow(/depth must be an integer in \[1, 100000\]/);
    expect(() => propagateCpu({ ...base, inputs: [[1, 2], [1]] })).toThrow(/inputs\[1\] has length 1/);
    expect(() => propagateCpu({ ...base, sw2: 0, inputs: [[1]] })).toThrow(/sw2/);
  });
});
