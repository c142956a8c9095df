/**
 * The b-noise instrument (B_noise = tr(HΣ)/(GᵀHG) and B_simple at the same weights) against float64
 * per-sample gradients and an explicit Hessian on a tiny tanh network with biases, inside a real
 * training run with grad-noise-scale (which it needs) — the closing refresh is at the final weights:
 *  - every quantity of the refresh (|G|², GᵀHG, tr Σ, tr(HΣ) for the network and the analysed
 *    layer's block, per minibatch and combined) against the same estimator in float64 on the same
 *    minibatches;
 *  - the estimator itself (src/analysis/curvature/noise-scale.ts) against the exact tr Σ and
 *    tr(HΣ) of all per-sample gradients: unbiased, within 3 standard errors over many minibatches
 *    (one refresh's K minibatches give a noisy estimate, with the standard error it reports).
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { compactGrad, compactIndex, dot, expectRel as rel, explicitHessian, matVec, rowsOf, runTiny, TINY_MODEL as model, tinyData } from './helpers/curvature-ref.ts';
import { drawMinibatches } from '../src/analysis/curvature/minibatch.ts';
import { noiseScale } from '../src/analysis/curvature/noise-scale.ts';
import { gradNoiseScale } from '../src/instruments/grad-noise-scale.ts';
import { bNoise } from '../src/instruments/b-noise.ts';
import { refreshSeed } from '../src/instruments/curvature-model.ts';
import { resolveValues } from '../src/instruments/values.ts';

const ctx = useGpu();

describe('the b-noise instrument', () => {
  it('gives B_simple and B_noise of the network and a layer as float64 per-sample gradients and the explicit Hessian do', async () => {
    const data = tinyData();
    const M = data.n;
    const B = 9;
    const K = 8;
    const { host, params, seed } = await runTiny(ctx(), data, 0.2, B, 6, [
      { def: gradNoiseScale, values: resolveValues(gradNoiseScale, { every: 1, layer: 1, smooth: 3 }, null) },
      { def: bNoise, values: resolveValues(bNoise, { every: 3, batches: K, samples: 0 }, null) },
    ]);
    const t = host.store('b-noise')!.data;
    const last = t.steps.step.length - 1;
    expect(t.steps.step[last]).toBe(6);
    expect(t.steps.layer[last]).toBe(1);
    // grad-noise-scale's smoothed per-step value at that time, recorded beside.
    expect(t.steps.b_simple_step_net[last]).toBe(host.store('grad-noise-scale')!.data.steps.b_simple_net.at(-1));

    const all = rowsOf(data);
    const c = B / (1 - B / M);
    const idx = drawMinibatches(M, B, K, 'shuffle', refreshSeed(seed, 6, 3));
    const perSample = Array.from({ length: M }, (_, n) => rowsOf(data, [n]));
    // The closing refresh's minibatches are the last rows (a refresh started during training may
    // also have read the step-6 weights: the read is queued behind every chunk submitted so far).
    const n = t.minibatches.step.length;
    const rows = Array.from({ length: K }, (_, j) => n - K + j);
    expect(rows.every((r) => t.minibatches.step[r] === 6 && t.minibatches.batch[r] === r - rows[0])).toBe(true);
    for (const [suffix, layers] of [['net', undefined], ['layer', [1]]] as const) {
      const { H, dim } = explicitHessian(model, params, all, layers);
      const G = compactGrad(model, params, all, layers);
      // The refresh's numbers: the same minibatches in float64.
      let d2 = 0;
      let dHd = 0;
      rows.forEach((r, j) => {
        const g = compactGrad(model, params, rowsOf(data, idx.subarray(j * B, (j + 1) * B)), layers);
        const d = g.map((v, i) => v - G[i]);
        const q = [dot(d, d), dot(d, matVec(H, dim, d))];
        rel(t.minibatches[`d2_${suffix}`][r], q[0], 1e-4);
        rel(t.minibatches[`dhd_${suffix}`][r], q[1], 2e-4);
        d2 += q[0] / K;
        dHd += q[1] / K;
      });
      const col = (name: string): number => t.steps[`${name}_${suffix}`][last];
      const gHg = dot(G, matVec(H, dim, G));
      rel(col('g2'), dot(G, G), 1e-4);
      rel(col('ghg'), gHg, 2e-4);
      rel(col('tr_sigma'), c * d2, 1e-4);
      rel(col('tr_hsigma'), c * dHd, 2e-4);
      rel(col('b_noise'), (c * dHd) / gHg, 3e-4);
      rel(col('b_simple'), (c * d2) / dot(G, G), 3e-4);

      // Exact tr Σ and tr(HΣ) from every per-sample gradient (Σ with 1/(M − 1)).
      const index = compactIndex(model, layers);
      const dev = perSample.map((p) => compactGrad(model, params, p, layers).map((v, i) => v - G[i]));
      const trSigma = dev.reduce((a, d) => a + dot(d, d), 0) / (M - 1);
      const trHSigma = dev.reduce((a, d) => a + dot(d, matVec(H, dim, d)), 0) / (M - 1);
      const bNoiseExact = trHSigma / gHg;
      // The estimator over many minibatches (float64 here): unbiased for both traces.
      const many = 1500;
      const draws = drawMinibatches(M, B, many, 'shuffle', 99);
      const D = new Float64Array(many * dim);
      for (let j = 0; j < many; j++) {
        for (let k = 0; k < B; k++) {
          const d = dev[draws[j * B + k]];
          for (let i = 0; i < dim; i++) D[j * dim + i] += d[i] / B;
        }
      }
      const HD = new Float64Array(many * dim);
      for (let j = 0; j < many; j++) HD.set(matVec(H, dim, D.subarray(j * dim, (j + 1) * dim)), j * dim);
      const est = noiseScale({ G, HG: matVec(H, dim, G), D, HD, dim, batchSize: B, sampling: 1 - B / M });
      console.log(
        `${suffix} (${index.length} parameters): B_simple exact ${(trSigma / dot(G, G)).toFixed(3)}, instrument ${col('b_simple').toFixed(3)}; ` +
          `B_noise exact ${bNoiseExact.toFixed(3)}, instrument ${col('b_noise').toFixed(3)} ± ${col('b_noise_se').toFixed(3)}; ${many} minibatches: tr Σ ${est.trSigma.toFixed(5)} ± ${est.trSigmaSe.toFixed(5)} (exact ${trSigma.toFixed(5)}), tr(HΣ) ${est.trHSigma.toFixed(5)} ± ${est.trHSigmaSe.toFixed(5)} (exact ${trHSigma.toFixed(5)})`,
      );
      expect(Math.abs(est.trSigma - trSigma)).toBeLessThan(3 * est.trSigmaSe);
      expect(Math.abs(est.trHSigma - trHSigma)).toBeLessThan(3 * est.trHSigmaSe);
      expect(est.trHSigmaSe).toBeLessThan(0.05 * trHSigma);
    }
    host.dispose();
  });
});
