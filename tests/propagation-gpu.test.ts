import { describe, expect, it } from 'vitest';
import { useGpu, randomArray } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import { loadDataset } from '../src/data/index.ts';
import { tanh } from '../src/analysis/meanfield/activations.ts';
import { GpuPropagation, type PropagationSpec } from '../src/experiments/propagation/gpu-propagation.ts';
import { propagationRef } from '../src/experiments/propagation/propagation.ref.ts';
import { propagationTheory } from '../src/experiments/propagation/theory.ts';
import { comparePropagation } from '../src/experiments/propagation/compare.ts';
import { probeInputs } from '../src/experiments/propagation/inputs.ts';

const ctx = useGpu();

describe('GPU propagation against its float64 CPU reference (same networks)', () => {
  for (const activation of ['tanh', 'relu', 'erf', 'linear'] as const) {
    it(`${activation}: Gram, φ² and backpropagated δ² per layer, N odd`, async () => {
      const spec: PropagationSpec = {
        activation, sw2: 1.7, sb2: 0.1, width: 9, depth: 4, nets: 3, seed: 42,
        inputs: randomArray(3 * 5, 7, 1), inputDim: 5,
      };
      const gpu = await GpuPropagation.create(ctx(), { activation, inputs: 3 });
      const got = await gpu.run(spec);
      const ref = propagationRef(spec);
      const tol = { atol: 2e-5, rtol: 2e-4 };
      assertClose(got.gram, ref.gram, { ...tol, label: `${activation} gram`, cols: 9 });
      assertClose(got.phi2, ref.phi2, { ...tol, label: `${activation} phi2`, cols: 3 });
      assertClose(got.delta2, ref.delta2, { ...tol, label: `${activation} delta2`, cols: 3 });
      // without gradients: same forward statistics, no δ
      const fwd = await gpu.run({ ...spec, gradients: false });
      assertClose(fwd.gram, ref.gram, { ...tol, label: `${activation} gram (forward only)` });
      expect(Number.isNaN(fwd.delta2[0])).toBe(true);
    });
  }

  it('validates the spec', async () => {
    const gpu = await GpuPropagation.create(ctx(), { activation: 'tanh', inputs: 2 });
    const base: PropagationSpec = { activation: 'tanh', sw2: 1, sb2: 0, width: 4, depth: 2, nets: 1, seed: 0, inputs: new Float32Array(6), inputDim: 3 };
    await expect(gpu.run({ ...base, width: 0 })).rejects.toThrow(/width must be an integer in \[1, 16384\]/);
    await expect(gpu.run({ ...base, sw2: -1 })).rejects.toThrow(/sw2/);
    await expect(gpu.run({ ...base, inputs: new Float32Array(7) })).rejects.toThrow(/M × inputDim/);
    await expect(gpu.run({ ...base, inputs: new Float32Array(9) })).rejects.toThrow(/compiled for 2 inputs/);
  });
});

/**
 * A wide tanh network (N = 512, 20 layers, 8 seeds, MNIST inputs: 3 digits and a ρ = 0.95 twin)
 * against the mean-field recursion on both sides of the critical line (σ_b² = 0.05, σ_w²* ≈ 1.76):
 * every layer's q^l and c^l within sampling error (compare.ts: 4 SE + O(1/N) allowance), while a
 * wrong σ_w² is rejected (negative control: the tolerance is not vacuous).
 */
describe('empirical propagation vs mean-field theory (tanh, N = 512, L = 20)', () => {
  const N = 512;
  const L = 20;
  const S = 6;

  it.each([
    ['ordered', 1.5, [1.2, 1.8]],
    ['chaotic', 4.0, [3.0, 5.5]],
  ] as const)('%s phase σ_w² = %f', async (phase, sw2, wrong) => {
    const data = await loadDataset({ kind: 'mnist10k' });
    const inp = probeInputs(data.test, { count: 3, nearDuplicate: 0.95 });
    const gpu = await GpuPropagation.create(ctx(), { activation: 'tanh', inputs: 4 });
    const r = await gpu.run({ activation: 'tanh', sw2, sb2: 0.05, width: N, depth: L, nets: S, seed: 100, inputs: inp.x, inputDim: inp.d, gradients: false });
    const cmp = comparePropagation(r, propagationTheory(tanh, sw2, 0.05, inp.x, inp.d, L));
    expect(cmp.agreement.q.agrees, `q: ${JSON.stringify(cmp.agreement.q)}`).toBe(true);
    expect(cmp.agreement.c.agrees, `c: ${JSON.stringify(cmp.agreement.c)}`).toBe(true);
    const c = cmp.curves.c;
    if (phase === 'ordered') {
      // every pair correlates more with depth (towards c* = 1)
      for (const cv of c) expect(cv.mean[L - 1]).toBeGreaterThan(cv.mean[0] + 0.02);
    } else {
      // the ρ = 0.95 twins decorrelate towards c* ≈ 0.17
      const twin = cmp.curves.pairs.findIndex(([a, b]) => a === 0 && b === 3);
      expect(c[twin].mean[L - 1]).toBeLessThan(0.45);
    }
    // negative control: the same measurements reject the theory at a wrong σ_w²
    for (const w of wrong) {
      const bad = comparePropagation(r, propagationTheory(tanh, w, 0.05, inp.x, inp.d, L));
      expect(bad.agreement.c.agrees && bad.agreement.q.agrees, `σ_w² = ${w} should be rejected: ${JSON.stringify(bad.agreement)}`).toBe(false);
    }
  });

  it('backpropagated gradients scale by χ1 per layer on both sides', async () => {
    const data = await loadDataset({ kind: 'mnist10k' });
    const inp = probeInputs(data.test, { count: 2 });
    const gpu = await GpuPropagation.create(ctx(), { activation: 'tanh', inputs: 2 });
    for (const sw2 of [1.2, 4.0]) {
      const r = await gpu.run({ activation: 'tanh', sw2, sb2: 0.05, width: 512, depth: 12, nets: 6, seed: 7, inputs: inp.x, inputDim: inp.d });
      const cmp = comparePropagation(r, propagationTheory(tanh, sw2, 0.05, inp.x, inp.d, 12));
      const g = cmp.agreement.lnGrad!;
      expect(g.agrees, JSON.stringify(g)).toBe(true);
      const bottom = cmp.curves.lnGrad![0].mean[0];
      if (sw2 < 1.76) expect(bottom).toBeLessThan(-1.5); // vanishing: χ1 ≈ 0.85 over 11 layers
      else expect(bottom).toBeGreaterThan(1.5); // exploding: χ1 → 1.34 (smaller at the large q^0 = 4.05)
      // negative control: the theory at a wrong σ_w² (× 0.7, × 1.4) is rejected
      for (const w of [0.7 * sw2, 1.4 * sw2]) {
        const bad = comparePropagation(r, propagationTheory(tanh, w, 0.05, inp.x, inp.d, 12));
        expect(bad.agreement.lnGrad!.agrees, `σ_w² = ${w}: ${JSON.stringify(bad.agreement.lnGrad)}`).toBe(false);
      }
    }
  });
});
