import { describe, expect, it } from 'vitest';
import { erf, linear, relu, tanh, withoutClosedForms } from '../src/analysis/meanfield/activations.ts';
import { chi1, chiC, meanFieldPoint } from '../src/analysis/meanfield/depth-scales.ts';
import {
  correlationMap, cStar, iterateCorrelationMap, iterateLengthMap, lengthMap, qStar,
} from '../src/analysis/meanfield/fixed-points.ts';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('ReLU closed forms', () => {
  it.each([[0.5, 0.1], [1.0, 0.05], [1.9, 0.2], [1.99, 1e-3]])('σ_w²=%f, σ_b²=%f: q* = σ_b²/(1 − σ_w²/2), χ1 = σ_w²/2', (sw2, sb2) => {
    expect(rel(qStar(relu, sw2, sb2), sb2 / (1 - sw2 / 2))).toBeLessThan(1e-13);
    expect(chi1(relu, sw2, sb2)).toBeCloseTo(sw2 / 2, 15);
    const p = meanFieldPoint(relu, sw2, sb2);
    expect(p.phase).toBe('ordered');
    expect(p.cStar).toBe(1);
    expect(p.xiC).toBeCloseTo(-1 / Math.log(sw2 / 2), 10);
    expect(p.xiQ).toBeCloseTo(-1 / Math.log(sw2 / 2), 10); // length map is linear: slope χ1
  });

  it('diverges (q* = ∞) for σ_w² > 2 and collapses (q* = 0) for σ_b² = 0, σ_w² < 2', () => {
    expect(qStar(relu, 2.01, 0.1)).toBe(Infinity);
    expect(qStar(relu, 1.5, 0)).toBe(0);
    const p = meanFieldPoint(relu, 3, 0.1);
    expect(p.phase).toBe('divergent');
    expect(p.chi1).toBe(1.5); // still defined: E[step(u)²] = 1/2 at any scale
    expect(() => cStar(relu, 3, 0.1)).toThrow(/length map diverges.*q\* = ∞/);
  });
});

describe('linear activation', () => {
  it('q* = σ_b²/(1 − σ_w²), χ1 = σ_w², c* = 1, ξ_c = −1/ln σ_w²; ∞ for σ_w² > 1', () => {
    for (const [sw2, sb2] of [[0.3, 0.2], [0.9, 0.05]]) {
      expect(rel(qStar(linear, sw2, sb2), sb2 / (1 - sw2))).toBeLessThan(1e-13);
      const p = meanFieldPoint(linear, sw2, sb2);
      expect(p.chi1).toBe(sw2);
      expect(p.cStar).toBe(1);
      expect(p.xiC).toBeCloseTo(-1 / Math.log(sw2), 12);
    }
    expect(qStar(linear, 1.1, 0.1)).toBe(Infinity);
    // c-map of a linear net: c' = σ_w² c + σ_b²/q* = σ_w² c + (1 − σ_w²)
    const q = qStar(linear, 0.5, 0.1);
    expect(correlationMap(linear, 0.5, 0.1, q, 0.2)).toBeCloseTo(0.5 * 0.2 + 0.5, 15);
  });
});

describe('tanh fixed points', () => {
  it('q* equals the limit of the iterated length map, from above and below', () => {
    const qs = qStar(tanh, 2.5, 0.1);
    expect(iterateLengthMap(tanh, 2.5, 0.1, 5, 80).at(-1)).toBeCloseTo(qs, 13);
    expect(iterateLengthMap(tanh, 2.5, 0.1, 0.01, 80).at(-1)).toBeCloseTo(qs, 13);
    expect(Math.abs(lengthMap(tanh, 2.5, 0.1, qs) - qs)).toBeLessThan(1e-14);
  });

  it('q* = 0 in the ordered phase without bias', () => {
    expect(qStar(tanh, 0.8, 0)).toBe(0);
    expect(meanFieldPoint(tanh, 0.8, 0).chi1).toBeCloseTo(0.8, 14); // χ1 = σ_w² φ'(0)²
  });

  it('chaotic c* (Brent) equals the limit of iterating the c-map from 0.5', () => {
    const cs = cStar(tanh, 4, 0.05);
    expect(cs).toBeGreaterThan(0.1);
    expect(cs).toBeLessThan(0.3);
    // contraction χ_c ≈ 0.87 per layer: 250 layers shrink the initial gap by ~1e-15
    expect(iterateCorrelationMap(tanh, 4, 0.05, 0.5, 250).at(-1)).toBeCloseTo(cs, 12);
  });

  it('ordered: c* = 1 and iteration from 0.5 approaches 1 at rate χ1', () => {
    expect(cStar(tanh, 1.2, 0.1)).toBe(1);
    const traj = iterateCorrelationMap(tanh, 1.2, 0.1, 0.5, 60);
    const x1 = chi1(tanh, 1.2, 0.1);
    const r = (1 - traj[60]) / (1 - traj[59]);
    expect(r).toBeCloseTo(x1, 4);
  });

  it('χ_q and χ_c are the slopes of the length and correlation maps (Stein / Price identities)', () => {
    for (const act of [tanh, erf]) {
      const [sw2, sb2] = [3, 0.1];
      const p = meanFieldPoint(act, sw2, sb2);
      const h = 1e-5;
      const dL = (lengthMap(act, sw2, sb2, p.qStar + h) - lengthMap(act, sw2, sb2, p.qStar - h)) / (2 * h);
      expect(rel(p.chiQ, dL)).toBeLessThan(1e-8);
      const dC = (correlationMap(act, sw2, sb2, p.qStar, p.cStar + h) - correlationMap(act, sw2, sb2, p.qStar, p.cStar - h)) / (2 * h);
      expect(rel(p.chiC, dC)).toBeLessThan(1e-8);
      // slope at c = 1 equals χ1
      expect(chiC(act, sw2, p.qStar, 1)).toBeCloseTo(p.chi1, 13);
    }
  });

  it('erf: closed forms and forced quadrature give the same fixed points to 1e-10', () => {
    const erfQ = withoutClosedForms(erf);
    for (const [sw2, sb2] of [[1.2, 0.05], [3, 0.2]]) {
      const a = meanFieldPoint(erf, sw2, sb2);
      const b = meanFieldPoint(erfQ, sw2, sb2);
      for (const k of ['qStar', 'chi1', 'chiQ', 'cStar', 'xiC', 'xiQ'] as const) expect(rel(b[k], a[k])).toBeLessThan(1e-10);
    }
  });
});

describe('parameter validation', () => {
  it('names the parameter and its range', () => {
    expect(() => qStar(tanh, -1, 0.1)).toThrow(/sw2 .* in \(0, ∞\), got -1/);
    expect(() => qStar(tanh, NaN, 0.1)).toThrow(/sw2/);
    expect(() => qStar(tanh, 1, -0.1)).toThrow(/sb2 .* in \[0, ∞\), got -0.1/);
    expect(() => correlationMap(tanh, 1, 0.1, 0.5, 1.5)).toThrow(/c must be a correlation in \[-1, 1\]/);
    expect(() => iterateLengthMap(tanh, 1, 0.1, 1, -3)).toThrow(/depth must be an integer/);
    expect(() => qStar(tanh, 1, 0.1, { q0: 0 })).toThrow(/q0 must be/);
  });
});
