/**
 * Jacobian spectra and curve lengths of random networks on the GPU (src/experiments/propagation/
 * gpu-jvp.ts, jacobian.ts, curve-length.ts):
 *   - against float64 products of the explicit layer Jacobians of the same networks (jvp.ref.ts),
 *     on a small odd width: the Jacobian, its singular values, the row lengths per layer;
 *   - the singular-value density at width 512 against the free-probability law (KS at α = 1e-3
 *     with n = S·N eigenvalues), with negative controls that the same tolerance rejects;
 *   - the length of a great circle through deep tanh networks on both sides of the critical line
 *     against the mean-field χ1^{l/2}, with the other side's theory rejected.
 */
import { describe, expect, it } from 'vitest';
import { useGpu, randomArray } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import { GpuJvp, type JvpSpec } from '../src/experiments/propagation/gpu-jvp.ts';
import { jvpRef } from '../src/experiments/propagation/jvp.ref.ts';
import { fixedPointInput, fixedPointInputs, measureJacobian, squaredSingularValues } from '../src/experiments/propagation/jacobian.ts';
import { compareCurve, measureCurve } from '../src/experiments/propagation/curve-length.ts';
import { jacobianSpectrumTheory, theoryCdf } from '../src/analysis/meanfield/jacobian-spectrum.ts';
import { criticalSigmaW2 } from '../src/analysis/meanfield/critical-line.ts';
import { meanFieldPoint } from '../src/analysis/meanfield/depth-scales.ts';
import { tanh } from '../src/analysis/meanfield/activations.ts';
import { ksCritical, ksDistance } from '../src/analysis/numerics/ks.ts';

const ctx = useGpu();

describe('GPU Jacobian–vector products against float64 explicit layer Jacobians (same networks)', () => {
  for (const activation of ['tanh', 'relu', 'linear'] as const) {
    for (const weights of ['gaussian', 'orthogonal'] as const) {
      // Gaussian: one input per network (what measureJacobian does); orthogonal: one shared input
      const perNet = weights === 'gaussian';
      it(`${activation}, ${weights}: the Jacobian, its singular values and the row lengths, N = 37, L = 5, S = 2, ${perNet ? 'an input per network' : 'a shared input'}`, async () => {
        const N = 37;
        const spec: JvpSpec = {
          activation, weights, sw2: 1.6, sb2: 0.1, width: N, depth: 5, nets: 2, seed: 11,
          primal: perNet ? fixedPointInputs(N, 0.7, 11, 2) : fixedPointInput(N, 0.7, 11), primalPerNetwork: perNet, tangents: 'identity', readTangents: true,
        };
        const gpu = await GpuJvp.create(ctx(), activation);
        const got = await gpu.run(spec);
        const ref = jvpRef(spec);
        for (let s = 0; s < 2; s++) {
          const J = got.tangents!.subarray(s * N * N, (s + 1) * N * N);
          const scale = ref.jacobians[s].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          assertClose(J, ref.jacobians[s], { atol: 2e-5 * scale, rtol: 2e-4, label: `J s=${s}`, cols: N });
          const sv = squaredSingularValues(J, N);
          const svRef = squaredSingularValues(ref.jacobians[s], N);
          assertClose(sv, svRef, { atol: 1e-5 * svRef[N - 1], rtol: 5e-4, label: `λ s=${s}` });
        }
        assertClose(got.primalSq, ref.primalSq, { atol: 1e-4, rtol: 2e-4, label: 'Σh²' });
        assertClose(got.tangentSq, ref.tangentSq, { atol: 1e-4, rtol: 2e-4, label: 'Σt²' });
      });
    }
  }

  it('tanh, several inputs with two tangents each (a tangent follows its own primal row)', async () => {
    const N = 21;
    const spec: JvpSpec = {
      activation: 'tanh', weights: 'gaussian', sw2: 2.2, sb2: 0.05, width: N, depth: 4, nets: 2, seed: 3,
      primal: randomArray(3 * N, 5, 1.5), tangents: randomArray(6 * N, 8), readTangents: false,
    };
    const gpu = await GpuJvp.create(ctx(), 'tanh');
    const got = await gpu.run(spec);
    const ref = jvpRef(spec);
    assertClose(got.primalSq, ref.primalSq, { atol: 1e-4, rtol: 2e-4, label: 'Σh²' });
    assertClose(got.tangentSq, ref.tangentSq, { atol: 1e-4, rtol: 2e-4, label: 'Σt²' });
  });

  it('validates the spec, naming the field', async () => {
    const gpu = await GpuJvp.create(ctx(), 'tanh');
    const base: JvpSpec = { activation: 'tanh', weights: 'gaussian', sw2: 1, sb2: 0, width: 4, depth: 2, nets: 1, seed: 0, primal: new Float32Array(4), tangents: 'identity', readTangents: false };
    await expect(gpu.run({ ...base, width: 0, primal: new Float32Array(0) })).rejects.toThrow(/width must be an integer in \[1, 4096\]/);
    await expect(gpu.run({ ...base, weights: 'unitary' as never })).rejects.toThrow(/weights must be gaussian or orthogonal/);
    await expect(gpu.run({ ...base, primal: new Float32Array(8) })).rejects.toThrow(/identity tangents .* one primal input/);
    await expect(gpu.run({ ...base, primal: new Float32Array(8), tangents: new Float32Array(12) })).rejects.toThrow(/multiple of the primal rows/);
    await expect(gpu.run({ ...base, nets: 2, primal: new Float32Array(4), primalPerNetwork: true })).rejects.toThrow(/nets × P × width = 2 × P × 4 values, got 4/);
    await expect(gpu.run({ ...base, activation: 'relu' })).rejects.toThrow(/compiled for tanh/);
  });
});

/**
 * Width 512, 2 networks: n = 1024 squared singular values per point, KS critical distance
 * 1.95/√1024 = 0.061 at α = 1e-3. Each negative control is a law the free-probability theory puts
 * ≥ 0.1 away in KS distance (the wrong depth; the other weight ensemble), so the same data and
 * tolerance must reject it.
 */
describe('singular-value density at width 512 against free probability', () => {
  const run = { width: 512, nets: 2, seed: 7 };
  const crit = criticalSigmaW2(tanh, 0.05);
  const cases = [
    // point, depth, the wrong theory
    [{ activation: 'linear', weights: 'gaussian', sw2: 1, sb2: 0 }, 4, { depth: 6 }, 'Fuss–Catalan of order 6'],
    [{ activation: 'tanh', weights: 'gaussian', sw2: 3, sb2: 0.05 }, 4, { ensemble: 'orthogonal' }, 'orthogonal weights'],
    [{ activation: 'tanh', weights: 'orthogonal', sw2: crit, sb2: 0.05 }, 4, { ensemble: 'gaussian' }, 'Gaussian weights'],
  ] as const;
  it.each(cases)('%o, L = %i', async (point, depth, wrong, wrongLabel) => {
    const gpu = await GpuJvp.create(ctx(), point.activation);
    const m = await measureJacobian(gpu, point, { ...run, depth });
    console.log(`${point.activation} ${point.weights} σ_w² = ${point.sw2.toFixed(4)} L = ${depth}: KS D = ${m.ks!.d.toFixed(4)} (critical ${m.ks!.critical.toFixed(4)}, ${m.ks!.compared}/${m.ks!.n} above the floor); mean λ ${m.moments.meanSq.toFixed(4)} vs χ1^L ${m.moments.meanSqTheory.toFixed(4)}; GPU ${m.seconds.gpu.toFixed(1)} s, eig ${m.seconds.eigen.toFixed(1)} s, theory ${m.seconds.theory.toFixed(1)} s`);
    expect(m.ks!.agrees, JSON.stringify(m.ks)).toBe(true);
    expect(m.depthAgreement.agrees, JSON.stringify(m.depthAgreement)).toBe(true);
    // tanh: the input sits at the (attracting) fixed point and stays there, q^l within a few % of q*
    if (point.activation === 'tanh') for (let l = 0; l <= depth; l++) expect(Math.abs(m.q[l] / m.theory.qStar - 1)).toBeLessThan(0.08);
    // negative control
    const bad = jacobianSpectrumTheory({ activation: point.activation, ensemble: point.weights, sw2: point.sw2, sb2: point.sb2, depth, ...wrong, floor: m.ks!.floor / 1.5 });
    const pooled = Float64Array.from(m.eigenvalues).sort();
    const dBad = ksDistance(pooled, (x) => theoryCdf(bad, x), m.ks!.floor).d;
    expect(dBad, `${wrongLabel} should be rejected`).toBeGreaterThan(ksCritical(pooled.length, 1e-3));
  }, 120_000);

  it('linear, orthogonal: every squared singular value is σ_w^{2L}', async () => {
    const gpu = await GpuJvp.create(ctx(), 'linear');
    const m = await measureJacobian(gpu, { activation: 'linear', weights: 'orthogonal', sw2: 1.1, sb2: 0 }, { width: 64, depth: 3, nets: 2, seed: 2 });
    expect(m.atom!.value).toBeCloseTo(1.1 ** 3, 10);
    expect(m.atom!.agrees, JSON.stringify(m.atom)).toBe(true);
  });
});

describe('length of a great circle through deep tanh networks (N = 512, L = 20, 16 points, 4 networks)', () => {
  const base = { sb2: 0.05, width: 512, depth: 20, points: 16, nets: 4, seed: 5 };
  it.each([
    ['ordered', 1.3, 4.0],
    ['chaotic', 4.0, 1.3],
  ] as const)('%s σ_w² = %f: ln ℓ^l against (l/2) ln χ1, the other side rejected', async (phase, sw2, other) => {
    const gpu = await GpuJvp.create(ctx(), 'tanh');
    const m = await measureCurve(gpu, { ...base, sw2 });
    console.log(`${phase} σ_w² = ${sw2}: rate ${m.rate.measured.toFixed(4)} ± ${m.rate.se.toFixed(4)} per layer vs ½ ln χ1 = ${m.rate.theory.toFixed(4)}; ${(100 * m.agreement.fractionWithin).toFixed(0)}% of layers within, max |z| ${m.agreement.maxZ.toFixed(2)}; GPU ${m.seconds.toFixed(1)} s`);
    expect(m.meanField.phase).toBe(phase);
    expect(m.agreement.agrees, JSON.stringify(m.agreement)).toBe(true);
    expect(m.rate.agrees, JSON.stringify(m.rate)).toBe(true);
    // it shrinks in order and grows in chaos, by more than the noise
    const L = base.depth;
    if (phase === 'ordered') expect(m.curve.mean[L]).toBeLessThan(-0.5);
    else expect(m.curve.mean[L]).toBeGreaterThan(2);
    const bad = compareCurve(m.lengths, m.spec, meanFieldPoint(tanh, other, base.sb2));
    expect(bad.agreement.agrees || bad.rate.agrees).toBe(false);
  }, 120_000);
});
