import { describe, expect, it } from 'vitest';
import { erf as erfAct, relu, tanh, withoutClosedForms } from '../src/analysis/meanfield/activations.ts';
import { erf } from '../src/util/erf.ts';
import { expect1, expect2, gaussHermite } from '../src/analysis/meanfield/gauss-hermite.ts';
import { gaussTrapezoid, trapezoidRuleFor } from '../src/analysis/meanfield/gauss-trapezoid.ts';
import {
  meanDphiDphi, meanDphiSq, meanPhiD2phi, meanPhiPhi, meanPhiSq,
} from '../src/analysis/meanfield/gaussian-expectations.ts';
import { symTridiagEigenvalues } from '../src/analysis/meanfield/tridiag-eigen.ts';

const doubleFactorial = (k: number): number => {
  let p = 1;
  for (let j = 2 * k - 1; j > 1; j -= 2) p *= j;
  return p; // (2k−1)!!
};

describe('symmetric tridiagonal eigenvalues', () => {
  it('reproduces the 1-D Laplacian spectrum 2 − 2cos(kπ/(n+1))', () => {
    const n = 50;
    const ev = symTridiagEigenvalues(new Float64Array(n).fill(2), new Float64Array(n - 1).fill(-1));
    for (let k = 1; k <= n; k++) expect(ev[k - 1]).toBeCloseTo(2 - 2 * Math.cos((k * Math.PI) / (n + 1)), 13);
  });
  it('rejects mismatched lengths', () => {
    expect(() => symTridiagEigenvalues([1, 2, 3], [1])).toThrow(/off must have length/);
  });
});

describe('Gauss–Hermite (probabilists\')', () => {
  it('n = 3 has nodes 0, ±√3 and weights 2/3, 1/6', () => {
    const r = gaussHermite(3);
    expect(Array.from(r.nodes)).toEqual([-Math.sqrt(3), 0, Math.sqrt(3)].map((x) => expect.closeTo(x, 15)));
    expect(Array.from(r.weights)).toEqual([1 / 6, 2 / 3, 1 / 6].map((x) => expect.closeTo(x, 15)));
  });

  it.each([1, 2, 5, 20, 64, 160, 256])('n = %i integrates E[z^{2k}] = (2k−1)!! exactly for 2k ≤ 2n−1', (n) => {
    const r = gaussHermite(n);
    for (let k = 0; 2 * k <= 2 * n - 1 && k <= 40; k++) {
      const m = expect1((z) => z ** (2 * k), r);
      expect(Math.abs(m / doubleFactorial(k) - 1)).toBeLessThan(1e-13);
      expect(Math.abs(expect1((z) => z ** (2 * k + 1), r))).toBeLessThan(1e-13 * doubleFactorial(k + 1));
    }
  });

  it('2-D tensor product gives E[z1² z2⁴] = 3 and E[(z1 + z2)⁴] = 12', () => {
    expect(expect2((a, b) => a * a * b ** 4, 10)).toBeCloseTo(3, 13);
    expect(expect2((a, b) => (a + b) ** 4, 10)).toBeCloseTo(12, 13);
  });

  it('rejects orders outside [1, 256]', () => {
    expect(() => gaussHermite(0)).toThrow(/integer in \[1, 256\]/);
    expect(() => gaussHermite(257)).toThrow(/integer in \[1, 256\]/);
    expect(() => gaussHermite(2.5)).toThrow(/order n/);
  });
});

describe('trapezoidal Gaussian rule', () => {
  it('integrates even moments to 1e-14', () => {
    const r = gaussTrapezoid(4);
    for (let k = 0; k <= 6; k++) expect(Math.abs(expect1((z) => z ** (2 * k), r) / doubleFactorial(k) - 1)).toBeLessThan(1e-14);
  });
  it('agrees with Gauss–Hermite-256 on tanh at small q and beats it at q = 5', () => {
    // Reference values from mpmath (30 digits) in the cross-check session.
    const f = (q: number) => (z: number) => Math.tanh(Math.sqrt(q) * z) ** 2;
    expect(expect1(f(1), trapezoidRuleFor(1, Math.PI / 2))).toBeCloseTo(expect1(f(1), gaussHermite(256)), 14);
    const ref5 = 0.66844488502011097;
    expect(Math.abs(expect1(f(5), trapezoidRuleFor(5, Math.PI / 2)) / ref5 - 1)).toBeLessThan(1e-14);
    expect(Math.abs(expect1(f(5), gaussHermite(256)) / ref5 - 1)).toBeGreaterThan(1e-10); // why GH is not the default
  });
  it('rejects bad densities and variances', () => {
    expect(() => gaussTrapezoid(2)).toThrow(/integer in \[4, 100\]/);
    expect(() => trapezoidRuleFor(-1, 1)).toThrow(/q must be >= 0/);
    expect(() => trapezoidRuleFor(1e6, Math.PI / 2)).toThrow(/too large/);
  });
});

describe('erf', () => {
  it('matches reference values to 1e-15', () => {
    const ref: [number, number][] = [
      [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [2, 0.9953222650189527], [3, 0.9999779095030014], [3.5, 0.9999992569016276], [-1.5, -0.9661051464753108],
    ];
    for (const [x, v] of ref) expect(Math.abs(erf(x) - v)).toBeLessThan(1.5e-15);
    expect(erf(0)).toBe(0);
    expect(erf(40)).toBe(1);
  });
});

describe('closed forms vs quadrature', () => {
  const erfQ = withoutClosedForms(erfAct);
  it('erf: all five expectations agree to 1e-13', () => {
    for (const [q1, q2, rho] of [[0.3, 0.3, 1], [1.2, 0.7, 0.4], [2.5, 2.5, -0.8], [4, 1, 0.95]]) {
      const q12 = rho * Math.sqrt(q1 * q2);
      expect(meanPhiPhi(erfQ, q1, q2, q12)).toBeCloseTo(meanPhiPhi(erfAct, q1, q2, q12), 13);
      expect(meanDphiDphi(erfQ, q1, q2, q12)).toBeCloseTo(meanDphiDphi(erfAct, q1, q2, q12), 13);
      expect(meanPhiSq(erfQ, q1)).toBeCloseTo(meanPhiSq(erfAct, q1), 13);
      expect(meanDphiSq(erfQ, q1)).toBeCloseTo(meanDphiSq(erfAct, q1), 13);
      expect(meanPhiD2phi(erfQ, q1)).toBeCloseTo(meanPhiD2phi(erfAct, q1), 13);
    }
  });

  it('ReLU: E[relu(√q z)²] = q/2, E[step²] = 1/2, and slow quadrature (kink O(h²), step O(h)) roughly agrees', () => {
    expect(meanPhiSq(relu, 3)).toBeCloseTo(1.5, 15);
    expect(meanDphiSq(relu, 3)).toBe(0.5);
    const reluQ = withoutClosedForms(relu);
    for (const [q1, q2, rho] of [[1, 1, 0.3], [2, 0.5, -0.6]]) {
      const q12 = rho * Math.sqrt(q1 * q2);
      const exact = meanPhiPhi(relu, q1, q2, q12);
      expect(Math.abs(meanPhiPhi(reluQ, q1, q2, q12) / exact - 1)).toBeLessThan(1e-3);
      expect(Math.abs(meanDphiDphi(reluQ, q1, q2, q12) - meanDphiDphi(relu, q1, q2, q12))).toBeLessThan(5e-3); // a jump: O(h) = O(1/40)
    }
  });

  it('tanh 2-D reduces to 1-D at ρ = 1, and rejects non-PSD covariances', () => {
    expect(meanPhiPhi(tanh, 0.8, 0.8, 0.8)).toBeCloseTo(meanPhiSq(tanh, 0.8), 15);
    expect(() => meanPhiPhi(tanh, 1, 1, 1.5)).toThrow(/q12 must satisfy/);
    expect(() => meanPhiSq(tanh, -1)).toThrow(/q must be a variance >= 0/);
  });
});
