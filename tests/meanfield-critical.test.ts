import { describe, expect, it } from 'vitest';
import { erf, linear, relu, tanh } from '../src/analysis/meanfield/activations.ts';
import { criticalLine, criticalSigmaW2 } from '../src/analysis/meanfield/critical-line.ts';
import { chi1, meanFieldPoint } from '../src/analysis/meanfield/depth-scales.ts';
import { phaseDiagram } from '../src/analysis/meanfield/phase-diagram.ts';

describe('critical line χ1 = 1', () => {
  it('tanh at σ_b² = 0 is σ_w² = 1', () => {
    expect(Math.abs(criticalSigmaW2(tanh, 0) - 1)).toBeLessThan(1e-6);
    expect(Math.abs(criticalSigmaW2(erf, 0) - 1)).toBeLessThan(1e-6); // scaled erf: φ'(0) = 1 too
  });

  it('tanh matches the independent scipy computation (crosscheck.py) to 1e-10', () => {
    // Values from src/analysis/meanfield/crosscheck.py (adaptive quad + brentq).
    const ref: [number, number][] = [[0.01, 1.4242052904886], [0.05, 1.76095463960674], [0.1, 1.98607264113586], [0.2, 2.28515247372019]];
    for (const [sb2, sw2] of ref) {
      const w = criticalSigmaW2(tanh, sb2);
      expect(Math.abs(w - sw2) / sw2).toBeLessThan(1e-10);
      expect(Math.abs(chi1(tanh, w, sb2) - 1)).toBeLessThan(1e-12);
    }
  });

  it('ReLU is at σ_w² = 2 and linear at σ_w² = 1 for every σ_b²', () => {
    for (const sb2 of [0.01, 0.3]) {
      expect(criticalSigmaW2(relu, sb2)).toBeCloseTo(2, 12);
      expect(criticalSigmaW2(linear, sb2)).toBeCloseTo(1, 12);
    }
  });

  it('rises with σ_b² (bias orders the network)', () => {
    const line = criticalLine(tanh, [0, 0.05, 0.1, 0.2, 0.4]);
    for (let i = 1; i < line.length; i++) expect(line[i].sw2).toBeGreaterThan(line[i - 1].sw2);
  });

  it('rejects a negative bias variance', () => {
    expect(() => criticalSigmaW2(tanh, -0.1)).toThrow(/sb2 .* \[0, ∞\)/);
  });
});

describe('depth scales near the critical line', () => {
  const sb2 = 0.05;
  const sc = criticalSigmaW2(tanh, sb2);

  it('ξ_c diverges like 1/|σ_w² − σ_w²*| from both sides', () => {
    const eps = [1e-1, 1e-2, 1e-3, 1e-4];
    const below = eps.map((e) => meanFieldPoint(tanh, sc - e, sb2));
    const above = eps.map((e) => meanFieldPoint(tanh, sc + e, sb2));
    for (let i = 0; i < eps.length; i++) {
      expect(below[i].phase).toBe('ordered');
      expect(above[i].phase).toBe('chaotic');
      if (i > 0) {
        expect(below[i].xiC).toBeGreaterThan(5 * below[i - 1].xiC);
        expect(above[i].xiC).toBeGreaterThan(5 * above[i - 1].xiC);
      }
    }
    // ξ_c·ε tends to the same constant (≈ 4.69 here) from both sides.
    const kBelow = below[3].xiC * 1e-4;
    const kAbove = above[3].xiC * 1e-4;
    expect(Math.abs(kBelow / (below[2].xiC * 1e-3) - 1)).toBeLessThan(1e-2);
    expect(Math.abs(kAbove / kBelow - 1)).toBeLessThan(1e-2);
    expect(below[3].xiC).toBeGreaterThan(4e4);
    // the gradient scale diverges too, with a sign flip (growth) in the chaotic phase
    expect(below[3].xiGrad).toBeGreaterThan(4e4);
    expect(above[3].xiGrad).toBeLessThan(-4e4);
    // ξ_q stays finite: the length map is not critical
    expect(below[3].xiQ).toBeLessThan(2);
  });

  it('in the chaotic phase c* → 1 as the line is approached', () => {
    const c = [1e-1, 1e-2, 1e-3].map((e) => meanFieldPoint(tanh, sc + e, sb2).cStar);
    expect(c[0]).toBeLessThan(c[1]);
    expect(c[1]).toBeLessThan(c[2]);
    expect(1 - c[2]).toBeLessThan(2e-3);
  });
});

describe('phase diagram', () => {
  it('ordered below, chaotic above the critical line; ξ_c peaks at it', () => {
    const sw2 = [0.5, 1, 1.5, 2, 2.5, 3, 4];
    const sb2 = [0.02, 0.1, 0.3];
    const pd = phaseDiagram(tanh, sw2, sb2);
    expect(pd.chi1.length).toBe(3);
    expect(pd.chi1[0].length).toBe(7);
    sb2.forEach((b, ib) => {
      const sc = criticalSigmaW2(tanh, b);
      sw2.forEach((w, iw) => {
        expect(pd.phase[ib][iw]).toBe(w < sc ? 'ordered' : 'chaotic');
        expect(pd.chi1[ib][iw] < 1).toBe(w < sc);
      });
      // the largest ξ_c on the row sits at one of the two grid points bracketing σ_w²*
      const iMax = pd.xiC[ib].indexOf(Math.max(...pd.xiC[ib]));
      expect(Math.abs(sw2[iMax] - sc)).toBeLessThan(0.5 + 1e-9);
    });
  });

  it('marks diverging ReLU cells and rejects empty grids', () => {
    const pd = phaseDiagram(relu, [1, 3], [0.1]);
    expect(pd.phase[0]).toEqual(['ordered', 'divergent']);
    expect(pd.xiC[0][1]).toBeNaN();
    expect(() => phaseDiagram(tanh, [], [0.1])).toThrow(/non-empty/);
  });
});
