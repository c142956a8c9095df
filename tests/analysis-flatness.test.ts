import { describe, expect, it } from 'vitest';
import { type FlatnessProbe, measureFlatness } from '../src/analysis/numerics/flatness.ts';
import { expectClose } from './analysis-compare.ts';

/** Wraps per-direction loss profiles as a batched evaluator that records every call. */
function evaluator(profiles: ((theta: number) => number)[]) {
  const calls: FlatnessProbe[][] = [];
  const evalLoss = async (probes: FlatnessProbe[]) => {
    calls.push(probes.map((p) => ({ ...p })));
    return Float64Array.from(probes, (p) => profiles[p.dir](p.theta));
  };
  return { evalLoss, calls };
}

/** Bisection to near machine precision for reference crossings of a monotone function. */
function referenceRoot(f: (x: number) => number, lo: number, hi: number): number {
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

describe('measureFlatness', () => {
  const L0 = 0.05;
  const hs = [0.01, 0.3, 1, 40, 2000];

  for (const k of [2, Math.E]) {
    it(`quadratic valleys: F = 2·sqrt(2(k − 1)L0/h) to 1e-3 relative (k = ${k.toFixed(3)})`, async () => {
      const { evalLoss, calls } = evaluator(hs.map((h) => (th: number) => L0 + (h * th * th) / 2));
      const res = await measureFlatness(evalLoss, { nDirs: hs.length, k, theta0: 0.01, thetaMax: 100 });
      const F = res.directions.map((d) => d.F as number);
      const want = hs.map((h) => 2 * Math.sqrt((2 * (k - 1) * L0) / h));
      expectClose('F', F, want, { rtol: 1e-3 });
      expectClose('target', res.target, k * L0, { rtol: 1e-15 });
      expectClose('L0 (probed)', res.L0, L0, { rtol: 0 });
      // One evalLoss call per round; the first round carries the θ = 0 probe and both sides of
      // every direction.
      expect(calls.length).toBe(res.rounds);
      expect(calls[0][0]).toEqual({ dir: 0, theta: 0 });
      expect(calls[0].length).toBe(1 + 2 * hs.length);
      const total = calls.reduce((a, c) => a + c.length, 0);
      expect(res.evaluations).toBe(total);
      expect(res.directions.reduce((a, d) => a + d.evaluations, 0)).toBe(total - 1);
      for (const d of res.directions) {
        expect(d.thetaL as number).toBeLessThan(0);
        expect(d.thetaR as number).toBeGreaterThan(0);
        expect(d.rounds).toBeLessThanOrEqual(res.rounds);
        for (const side of [d.left, d.right]) {
          expect(side.reached && side.converged).toBe(true);
          if (side.reached) {
            const [inner, outer] = side.bracket;
            expect(Math.abs(outer - inner)).toBeLessThanOrEqual(1e-3 * Math.abs(inner));
            expect(Math.abs(side.theta)).toBeGreaterThanOrEqual(Math.abs(inner));
            expect(Math.abs(side.theta)).toBeLessThanOrEqual(Math.abs(outer));
          }
        }
      }
    });
  }

  it('asymmetric landscapes: quartic on the left, quadratic on the right, and a cubic', async () => {
    const k = Math.E;
    const a = 3;
    const b = 50;
    const h = 2;
    const c = 0.8;
    const quarticQuad = (th: number) => (th >= 0 ? L0 + a * th * th : L0 + b * th ** 4);
    const cubic = (th: number) => L0 + (h * th * th) / 2 + c * th ** 3;
    const { evalLoss } = evaluator([quarticQuad, cubic]);
    const res = await measureFlatness(evalLoss, { nDirs: 2, k, L0, theta0: [0.005, 0.02], thetaMax: 50 });
    const target = k * L0;
    const want = [
      [-((((k - 1) * L0) / b) ** 0.25), Math.sqrt(((k - 1) * L0) / a)],
      [-referenceRoot((x) => cubic(-x) - target, 0, 0.8), referenceRoot((x) => cubic(x) - target, 0, 10)],
    ];
    for (let d = 0; d < 2; d++) {
      const r = res.directions[d];
      expectClose(`dir ${d} θ_l`, r.thetaL as number, want[d][0], { rtol: 1e-3 });
      expectClose(`dir ${d} θ_r`, r.thetaR as number, want[d][1], { rtol: 1e-3 });
      expectClose(`dir ${d} F`, r.F as number, want[d][1] - want[d][0], { rtol: 1e-3 });
    }
    // L0 given: no θ = 0 probe.
    expect(res.evaluations).toBe(res.directions[0].evaluations + res.directions[1].evaluations);
  });

  it('an unreachable side is { reached: false } and F is null; the other side is still measured', async () => {
    const k = 2;
    // Left: saturates at L0·(1 + 0.5(k − 1)) < k·L0. Right: quadratic.
    const prof = (th: number) => (th < 0 ? L0 * (1 + 0.5 * (k - 1) * (1 - Math.exp(-th * th))) : L0 + th * th);
    const { evalLoss } = evaluator([prof]);
    const res = await measureFlatness(evalLoss, { nDirs: 1, k, L0, theta0: 0.01, thetaMax: 10 });
    const d = res.directions[0];
    expect(d.left.reached).toBe(false);
    if (!d.left.reached) {
      expect(d.left.reason).toBe('thetaMax');
      expect(d.left.searchedTo).toBe(10);
      expectClose('max L/L0 seen', d.left.maxLossRatio, 1 + 0.5 * (1 - Math.exp(-100)), { rtol: 1e-12 });
    }
    expect(d.thetaL).toBeNull();
    expect(d.F).toBeNull();
    expectClose('θ_r', d.thetaR as number, Math.sqrt(L0), { rtol: 1e-3 });
  });

  it('a loss that rises above the target and falls again is reported at its first outward crossing', async () => {
    const k = Math.E;
    // A Gaussian bump of height k·L0 centred at θ = 1 (width 0.1) on a flat floor, then a wall at 5.
    const bump = (th: number) => L0 * (1 + k * Math.exp(-((Math.abs(th) - 1) ** 2) / (2 * 0.01))) + (Math.abs(th) > 5 ? 1 : 0);
    const first = 1 - 0.1 * Math.sqrt(2 * Math.log(k / (k - 1)));
    // growth 1.25 from 0.05 puts a probe (0.909) inside the bump's above-target part [0.904, 1.096].
    const { evalLoss } = evaluator([bump]);
    const res = await measureFlatness(evalLoss, { nDirs: 1, k, L0, theta0: 0.05, growth: 1.25, thetaMax: 20 });
    expectClose('θ_r at the first crossing', res.directions[0].thetaR as number, first, { rtol: 1e-3 });
    expectClose('θ_l at the first crossing', res.directions[0].thetaL as number, -first, { rtol: 1e-3 });
    // Documented limitation: with growth 2 the grid (…, 0.64, 1.28, …) steps over the bump.
    const coarse = await measureFlatness(evaluator([bump]).evalLoss, { nDirs: 1, k, L0, theta0: 0.01, thetaMax: 20 });
    expect(coarse.directions[0].thetaR as number).toBeGreaterThan(1.1);
  });

  it('a non-finite loss counts as above the target', async () => {
    const wall = (th: number) => (Math.abs(th) < 0.7 ? L0 : Infinity);
    const res = await measureFlatness(evaluator([wall]).evalLoss, { nDirs: 1, L0, theta0: 0.01 });
    expectClose('θ_r at the wall', res.directions[0].thetaR as number, 0.7, { rtol: 1e-3 });
    expectClose('F', res.directions[0].F as number, 1.4, { rtol: 1e-3 });
  });

  it('Illinois needs fewer rounds than plain bisection, at the same accuracy, on several profiles', async () => {
    const k = Math.E;
    const profiles: [string, (t: number) => number, number][] = [
      // name, profile, exact crossing |θ| for target e·L0 (symmetric profiles)
      ['quadratic', (t) => L0 + 3 * t * t, Math.sqrt(((k - 1) * L0) / 3)],
      ['quartic', (t) => L0 + 50 * t ** 4, (((k - 1) * L0) / 50) ** 0.25],
      ['exp', (t) => L0 * Math.exp(30 * t * t), Math.sqrt(1 / 30)],
      ['sqrt', (t) => L0 + 0.3 * Math.sqrt(Math.abs(t)), (((k - 1) * L0) / 0.3) ** 2],
      ['linear', (t) => L0 + Math.abs(t), (k - 1) * L0],
      ['tanh (saturating)', (t) => L0 * (1 + 2 * Math.tanh(5 * Math.abs(t))), Math.atanh((k - 1) / 2) / 5],
    ];
    for (const [name, f, root] of profiles) {
      const ill = await measureFlatness(evaluator([f]).evalLoss, { nDirs: 1, L0, theta0: 0.01, method: 'illinois' });
      const bis = await measureFlatness(evaluator([f]).evalLoss, { nDirs: 1, L0, theta0: 0.01, method: 'bisection' });
      expectClose(`${name}: illinois F`, ill.directions[0].F as number, 2 * root, { rtol: 1e-3 });
      expectClose(`${name}: bisection F`, bis.directions[0].F as number, 2 * root, { rtol: 1e-3 });
      expect(ill.rounds, name).toBeLessThan(bis.rounds);
    }
  });

  it('maxRounds cuts the search short and says so', async () => {
    const q = (th: number) => L0 + th * th;
    const res = await measureFlatness(evaluator([q, q]).evalLoss, { nDirs: 2, L0, theta0: [0.01, 1e-6], maxRounds: 9, thetaMax: 1 });
    const [a, b] = res.directions;
    expect(res.rounds).toBe(9);
    // dir 0: crossing at sqrt((e − 1)·L0) ≈ 0.293, bracketed by the 6th probe (0.32), then
    // 3 refine rounds — not yet tight. dir 1: from 1e-6, nine doublings reach only 5e-4.
    expect(a.right.reached && !a.right.converged).toBe(true);
    expect(b.right.reached).toBe(false);
    if (!b.right.reached) expect(b.right.reason).toBe('maxRounds');
  });

  it("the 'model' search and absTol: the same crossings with fewer probes, to the absolute tolerance asked", async () => {
    // Quadratic valleys with a linear term, an exponential-of-quadratic and a quartic profile.
    const profiles = [
      (t: number) => L0 + 0.02 * t + 0.8 * t * t,
      (t: number) => L0 * Math.exp(0.3 * t * t - 0.05 * t),
      (t: number) => L0 + 0.001 * t ** 4 + 0.01 * t * t,
    ];
    const target = Math.E * L0;
    const want = profiles.map((f) => referenceRoot((x) => f(x) - target, 0, 100) + referenceRoot((x) => f(-x) - target, 0, 100));
    const base = { nDirs: profiles.length, k: Math.E, L0, theta0: 0.05, thetaMax: 1000 };
    const geo = await measureFlatness(evaluator(profiles).evalLoss, base);
    const mod = await measureFlatness(evaluator(profiles).evalLoss, { ...base, bracket: 'model' });
    expectClose('geometric F', geo.directions.map((d) => d.F as number), want, { rtol: 2e-3 });
    expectClose('model F', mod.directions.map((d) => d.F as number), want, { rtol: 2e-3 });
    expect(mod.evaluations).toBeLessThan(0.7 * geo.evaluations);
    const abs = await measureFlatness(evaluator(profiles).evalLoss, { ...base, bracket: 'model', relTol: 1e-9, absTol: 0.01 });
    for (const d of abs.directions) {
      for (const side of [d.left, d.right]) {
        if (side.reached) expect(Math.abs(side.bracket[1] - side.bracket[0])).toBeLessThanOrEqual(0.01);
      }
    }
    expectClose('absTol F', abs.directions.map((d) => d.F as number), want, { atol: 0.02 });
    await expect(measureFlatness(evaluator(profiles).evalLoss, { ...base, absTol: -1 })).rejects.toThrow(/absTol must be finite and >= 0/);
  });

  it('rejects bad options and malformed evaluator output', async () => {
    const { evalLoss } = evaluator([(t) => L0 + t * t]);
    await expect(measureFlatness(evalLoss, { nDirs: 1, k: 1, theta0: 0.1 })).rejects.toThrow(/k must be finite and > 1/);
    await expect(measureFlatness(evalLoss, { nDirs: 1, theta0: 0 })).rejects.toThrow(/theta0\[0\] must be finite and > 0/);
    await expect(measureFlatness(evalLoss, { nDirs: 1, theta0: 1, thetaMax: 0.5 })).rejects.toThrow(/thetaMax\[0\] must be/);
    await expect(measureFlatness(evalLoss, { nDirs: 2, theta0: [1] })).rejects.toThrow(/theta0 must be a number or have nDirs = 2/);
    await expect(measureFlatness(evalLoss, { nDirs: 1, theta0: 0.1, relTol: 0.7 })).rejects.toThrow(/relTol must be in/);
    await expect(measureFlatness(evalLoss, { nDirs: 1, theta0: 0.1, L0: -1 })).rejects.toThrow(/L0 must be finite and > 0/);
    await expect(measureFlatness(async () => new Float64Array(1), { nDirs: 1, theta0: 0.1 })).rejects.toThrow(/one value per probe/);
    await expect(measureFlatness(async (p) => new Float64Array(p.length), { nDirs: 1, theta0: 0.1 })).rejects.toThrow(/L\(w\*\) from the theta = 0 probe/);
  });
});
