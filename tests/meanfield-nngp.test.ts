import { describe, expect, it } from 'vitest';
import { erf, relu, tanh, withoutClosedForms } from '../src/analysis/meanfield/activations.ts';
import { iterateCorrelationMap, iterateLengthMap, qStar } from '../src/analysis/meanfield/fixed-points.ts';
import { gramToCorrelation, inputGram, nngpKernels, nngpStep } from '../src/analysis/meanfield/nngp.ts';
import { Rng } from '../src/util/rng.ts';

function randomInputs(n: number, d: number, seed: number): number[][] {
  const r = new Rng(seed);
  return Array.from({ length: n }, (_, a) => Array.from({ length: d }, () => (1 + 0.3 * a) * r.normal()));
}

/** Cholesky succeeds ⇔ symmetric positive definite. */
function isPositiveDefinite(K: number[][]): boolean {
  const n = K.length;
  const L = K.map((r) => r.map(() => 0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = K[i][j];
      for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      if (i === j) {
        if (!(s > 0)) return false;
        L[i][i] = Math.sqrt(s);
      } else L[i][j] = s / L[j][j];
    }
  }
  return true;
}

describe('NNGP kernel recursion', () => {
  it('K^0 = σ_b² + σ_w² x·x\'/d_in', () => {
    const K = inputGram([[1, 2], [3, -1]], 1.5, 0.1);
    expect(K[0][0]).toBeCloseTo(0.1 + (1.5 * 5) / 2, 15);
    expect(K[0][1]).toBeCloseTo(0.1 + (1.5 * 1) / 2, 15);
    expect(K[1][0]).toBe(K[0][1]);
  });

  it('ReLU equals the arc-cosine (Cho & Saul degree-1) recursion written out independently', () => {
    const [sw2, sb2, depth] = [1.8, 0.2, 12];
    const X = randomInputs(5, 7, 1);
    const Ks = nngpKernels(relu, sw2, sb2, X, depth);
    // Independent form: track norms and angles. k(x,y) = |x||y| J1(θ)/(2π),
    // J1(θ) = sin θ + (π − θ) cos θ, θ = angle between the pre-activation "vectors".
    let K = inputGram(X, sw2, sb2);
    for (let l = 1; l <= depth; l++) {
      K = K.map((row, a) => row.map((kab, b) => {
        const na = Math.sqrt(K[a][a]);
        const nb = Math.sqrt(K[b][b]);
        const theta = Math.acos(Math.max(-1, Math.min(1, kab / (na * nb))));
        return sb2 + (sw2 * na * nb * (Math.sin(theta) + (Math.PI - theta) * Math.cos(theta))) / (2 * Math.PI);
      }));
      for (let a = 0; a < 5; a++) for (let b = 0; b < 5; b++) expect(Ks[l][a][b]).toBeCloseTo(K[a][b], 12);
    }
    // diagonal: q^{l+1} = σ_w² q^l / 2 + σ_b²
    expect(Ks[1][0][0]).toBeCloseTo((sw2 * Ks[0][0][0]) / 2 + sb2, 14);
  });

  it('ReLU closed form vs brute-force quadrature (O(h²) kink error) within 1e-3', () => {
    const X = randomInputs(3, 4, 2);
    const K0 = inputGram(X, 1.5, 0.1);
    const a = nngpStep(relu, 1.5, 0.1, K0);
    const b = nngpStep(withoutClosedForms(relu), 1.5, 0.1, K0);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(Math.abs(b[i][j] / a[i][j] - 1)).toBeLessThan(1e-3);
  });

  it('diagonal follows the length map; equal-length pairs at q* follow the c-map', () => {
    const [sw2, sb2] = [2.5, 0.1];
    const qs = qStar(tanh, sw2, sb2);
    // two inputs with |x|²/d = (q* − σ_b²)/σ_w² ⇒ K^0_aa = q*, and x·x'/|x|² = 0.3
    const s = Math.sqrt((qs - sb2) / sw2) * Math.SQRT2;
    const X = [[s, 0], [0.3 * s, Math.sqrt(1 - 0.09) * s]];
    const Ks = nngpKernels(tanh, sw2, sb2, X, 10);
    const c0 = Ks[0][0][1] / qs;
    const cmap = iterateCorrelationMap(tanh, sw2, sb2, c0, 10);
    for (let l = 0; l <= 10; l++) {
      expect(Ks[l][0][0]).toBeCloseTo(qs, 13);
      expect(gramToCorrelation(Ks[l])[0][1]).toBeCloseTo(cmap[l], 13);
    }
    const X2 = randomInputs(2, 3, 3);
    const K2 = nngpKernels(tanh, sw2, sb2, X2, 6);
    const lm = iterateLengthMap(tanh, sw2, sb2, K2[0][1][1], 6);
    for (let l = 0; l <= 6; l++) expect(K2[l][1][1]).toBeCloseTo(lm[l], 13);
  });

  it('stays symmetric positive definite (tanh, erf, 6 inputs, 8 layers)', () => {
    const X = randomInputs(6, 10, 4);
    for (const act of [tanh, erf]) {
      for (const K of nngpKernels(act, 1.7, 0.05, X, 8)) {
        expect(isPositiveDefinite(K)).toBe(true);
        for (let a = 0; a < 6; a++) for (let b = 0; b < 6; b++) expect(K[a][b]).toBe(K[b][a]);
      }
    }
  });

  it('validates its inputs', () => {
    expect(() => inputGram([], 1, 0)).toThrow(/at least one input/);
    expect(() => inputGram([[1, 2], [1]], 1, 0)).toThrow(/input 1 has length 1, expected d_in = 2/);
    expect(() => nngpStep(tanh, 1, 0, [[1, 0], [0]])).toThrow(/square/);
    expect(() => nngpKernels(tanh, 1, 0, [[1]], 1.5)).toThrow(/depth must be an integer/);
  });
});
