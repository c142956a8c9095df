/**
 * The covariance precise to its tail (issue 17, item 1): on windows where PC1 holds ≥ 99.9% of the
 * variance (the authors' protocol) and ~90% (the default run), σ_i² from the precise scatter
 * (double-single on the GPU, float64 on the CPU) + the float64 eigensolver agree with a float64
 * eigendecomposition of the same window to 1e-3 relative for every i ≤ k down to σ_i² ≈ 1e-9·σ₁²,
 * the measured errors stay under the reported noise floor, and the float32 accumulation this
 * replaces does not meet the goal on the same window (so the check can fail).
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { driftWindow } from './helpers/drift-window.ts';
import { createStorage } from '../src/gpu/buffers.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { windowMoments, traceOf, scatterF64, detrendedScatter } from '../src/analysis/numerics/window-scatter.ts';
import { preciseScatter, scatterArithmetic } from '../src/analysis/noise/precise-scatter.ts';
import { pcaFromScatter, pcaFromScatter64 } from '../src/analysis/noise/pca-gpu.ts';
import { GpuScatter } from '../src/analysis/noise/gpu-scatter.ts';
import { symmetricEig } from '../src/analysis/numerics/symmetric-eig.ts';
import { centredScatterRef } from '../src/kernels/scatter_ds.ref.ts';
import { detrendLinear } from '../src/analysis/numerics/detrend.ts';

const ctx = useGpu();

/** Worst relative error of σ_i² over the components with σ_i² ≥ 1e-9·σ₁², and how many there were. */
function worstRelative(got: ArrayLike<number>, ref: Float64Array, k: number): { worst: number; checked: number; worstAbs: number } {
  let worst = 0;
  let worstAbs = 0;
  let checked = 0;
  for (let i = 0; i < k; i++) {
    if (ref[i] < 1e-9 * ref[0]) break;
    worst = Math.max(worst, Math.abs(got[i] - ref[i]) / ref[i]);
    worstAbs = Math.max(worstAbs, Math.abs(got[i] - ref[i]));
    checked++;
  }
  return { worst, checked, worstAbs };
}

// Noise spectra chosen so that σ_k² ≈ 1e-9·σ₁² in both regimes.
for (const [regime, pc1Share, tailRatio] of [
  ['authors (PC1 ≥ 99.9%)', 0.9995, 1e-5],
  ['default (PC1 ~ 90%)', 0.9, 5e-8],
] as const) {
  describe(`precise PCA, ${regime}`, () => {
    const [T, P, k] = [1500, 96, 90];
    const x = driftWindow({ T, P, pc1Share, tailRatio, seed: pc1Share > 0.99 ? 17 : 18 });
    const m = windowMoments(x, T, P);
    // The float64 reference: the scatter of the same float32 window about its float64 mean.
    const refS = centredScatterRef(x, P, m.mean, 0, T);
    const ref = Float64Array.from(symmetricEig(refS, P, { vectors: false }).values, (v) => v / (T - 1));

    it('the window is in the regime and reaches 1e-9·σ₁² within k', () => {
      let total = 0;
      for (const v of ref) total += v;
      if (pc1Share > 0.99) expect(ref[0] / total).toBeGreaterThanOrEqual(0.999);
      else expect(ref[0] / total).toBeLessThan(0.95);
      expect(ref[Math.floor(0.8 * k)] / ref[0]).toBeGreaterThan(1e-9);
      expect(ref[k - 1] / ref[0]).toBeLessThan(1e-8);
    });

    it('every arithmetic this device passes, and the CPU route, meet 1e-3 down to 1e-9·σ₁², inside the noise floor', async () => {
      const c = ctx();
      const gpu = createStorage(c, 'window', x);
      const check = await scatterArithmetic(c);
      const routes = check.arithmetic === 'cpu-f64' ? (['cpu-f64'] as const) : ([check.arithmetic, 'cpu-f64'] as const);
      for (const arithmetic of routes) {
        const s = await preciseScatter(c, { gpu, cpu: x, T, P, mean: m.mean }, { arithmetic, rowsPerDispatch: 401 });
        const pca = await pcaFromScatter64(s.S, P, T, k, traceOf(m), { method: 'dense', accumulation: arithmetic === 'cpu-f64' ? 'float64' : 'double-single' });
        const e = worstRelative(pca.variances, ref, k);
        expect(e.checked, `${arithmetic}: components checked`).toBeGreaterThanOrEqual(0.8 * k);
        expect(e.worst, `${arithmetic}: worst relative error of σ_i²`).toBeLessThan(1e-3);
        expect(e.worstAbs, `${arithmetic}: error under the noise floor`).toBeLessThan(pca.floor.variance);
        expect(pca.floor.trustedUpTo, `${arithmetic}: trusted down to 1e-9·σ₁²`).toBeGreaterThanOrEqual(e.checked);
      }
      gpu.destroy();
    });

    it('the float32 accumulation it replaces misses the goal on the same window', async () => {
      const c = ctx();
      const gpu = createStorage(c, 'window32', x);
      const sc = await GpuScatter.create(c, gpu, { buffer: gpu, offset: 0, size: P * 4 }, P, 200);
      const batch = new GpuBatch(c, 'f32');
      for (let r0 = 0; r0 < T; r0 += 200) sc.encodeBlock(batch, r0, Math.min(200, T - r0));
      sc.encodeDiagonal(batch);
      batch.submit();
      const pca = await pcaFromScatter(c, sc.s, P, T, k, await sc.readTrace(), { method: 'dense', valuesOnly: true });
      expect(worstRelative(pca.variances, ref, k).worst).toBeGreaterThan(1e-2);
      gpu.destroy();
    });

    it('the detrended spectrum by the rank-1 downdate equals the PCA of the detrended window', () => {
      const S = scatterF64(x, T, P, m.mean);
      const viaDowndate = symmetricEig(detrendedScatter(S, m), P, { vectors: false }).values;
      const r = detrendLinear(x, T, P).residual;
      const direct = symmetricEig(centredScatterRef(r, P, new Float64Array(P), 0, T), P, { vectors: false }).values;
      // The downdate cancels the drift's share; the top of the detrended spectrum is exact to 1e-9.
      for (let i = 0; i < 20; i++) expect(Math.abs(viaDowndate[i] - direct[i]) / direct[i], `detrended λ${i}`).toBeLessThan(1e-9);
    });
  });
}
