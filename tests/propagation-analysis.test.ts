/**
 * The CPU side of the signal-propagation experiment: probe inputs, the theory curves, the
 * measured-vs-theory comparison (on synthetic "measurements"), the trainability band, and the
 * chart-ready data with its browser helpers (heatmap-plot.js).
 */
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../src/data/index.ts';
import { tanh, linear, relu } from '../src/analysis/meanfield/activations.ts';
import { iterateCorrelationMap, iterateLengthMap, qStar } from '../src/analysis/meanfield/fixed-points.ts';
import { meanFieldPoint } from '../src/analysis/meanfield/depth-scales.ts';
import { phaseDiagram } from '../src/analysis/meanfield/phase-diagram.ts';
import { criticalLine } from '../src/analysis/meanfield/critical-line.ts';
import { probeInputs } from '../src/experiments/propagation/inputs.ts';
import { propagationTheory } from '../src/experiments/propagation/theory.ts';
import { comparePropagation, representativePairs } from '../src/experiments/propagation/compare.ts';
import type { PropagationResult } from '../src/experiments/propagation/gpu-propagation.ts';
import { trainabilityBand, linspace } from '../src/experiments/propagation/run.ts';
import { phaseDiagramHeatmaps, propagationCharts, trainabilityHeatmap } from '../src/experiments/propagation/charts.ts';
import { cellEdges, colorPosition, paletteColor } from '../src/analysis/report/heatmap-plot.js';
import type { TrainabilityResult } from '../src/experiments/propagation/trainability.ts';
import { Rng } from '../src/util/rng.ts';

describe('probeInputs', () => {
  it('standardises MNIST digits and builds a twin with exactly the requested correlation', async () => {
    const data = await loadDataset({ kind: 'mnist10k' });
    const p = probeInputs(data.test, { count: 4, nearDuplicate: 0.9 });
    expect(p.x.length).toBe(5 * 784);
    expect(p.labels[4]).toMatch(/twin/);
    const row = (a: number) => Array.from(p.x.subarray(a * 784, (a + 1) * 784));
    for (let a = 0; a < 5; a++) {
      const r = row(a);
      expect(Math.abs(r.reduce((s, v) => s + v, 0) / 784)).toBeLessThan(1e-5);
      expect(r.reduce((s, v) => s + v * v, 0) / 784).toBeCloseTo(1, 5);
    }
    const dot = row(0).reduce((s, v, i) => s + v * row(4)[i], 0) / 784;
    expect(dot).toBeCloseTo(0.9, 5);
    // the digits are the first test images of classes 0..3
    for (let k = 0; k < 4; k++) expect(p.labels[k]).toMatch(new RegExp(`class ${k}`));
    expect(() => probeInputs(data.test, { count: 11 })).toThrow(/count must be an integer in \[1, 10\]/);
    expect(() => probeInputs(data.test, { count: 1, nearDuplicate: 0.5 })).toThrow(/needs count ≥ 2/);
  });
});

function standardRows(m: number, d: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(m * d);
  for (let a = 0; a < m; a++) {
    const v = Array.from({ length: d }, () => rng.normal());
    const n = Math.sqrt(v.reduce((s, t) => s + t * t, 0) / d);
    v.forEach((t, i) => (x[a * d + i] = t / n));
  }
  return x;
}

describe('propagationTheory', () => {
  it('q^l follows the length map from q^0 and c^l the correlation map at q*', () => {
    const sw2 = 1.5, sb2 = 0.05, L = 12;
    const x = standardRows(3, 50, 3);
    const t = propagationTheory(tanh, sw2, sb2, x, 50, L);
    const q0 = sb2 + sw2 * 1; // |x|²/d = 1 (up to float32 rounding)
    const lm = iterateLengthMap(tanh, sw2, sb2, q0, L - 1);
    for (let l = 0; l < L; l++) for (let a = 0; a < 3; a++) expect(t.q[l * 3 + a]).toBeCloseTo(lm[l], 5);
    // with inputs already at q*, c^l is exactly the correlation map
    const qs = qStar(tanh, sw2, sb2);
    const s = Math.sqrt((2 * (qs - sb2)) / sw2); // |x|²/d_in with d_in = 2 puts q^0 at q*
    const y = new Float32Array([s, 0, 0.6 * s, 0.8 * s]);
    const t2 = propagationTheory(tanh, sw2, sb2, y, 2, L);
    const cm = iterateCorrelationMap(tanh, sw2, sb2, t2.c[1], L - 1);
    for (let l = 0; l < L; l++) expect(t2.c[l * 4 + 1]).toBeCloseTo(cm[l], 6);
  });

  it('gradient ratios are products of χ1(q^l): χ1^(L−1−l) at the fixed point, exactly 1 for linear at σ_w² = 1', () => {
    const qs = qStar(tanh, 2.5, 0.1);
    const s = Math.sqrt((qs - 0.1) / 2.5);
    const t = propagationTheory(tanh, 2.5, 0.1, new Float32Array([s]), 1, 10);
    const chi = meanFieldPoint(tanh, 2.5, 0.1).chi1;
    for (let l = 0; l < 10; l++) expect(t.gradRatio[l] / chi ** (9 - l)).toBeCloseTo(1, 6);
    const lin = propagationTheory(linear, 1, 0.2, standardRows(2, 7, 1), 7, 6);
    for (const g of lin.gradRatio) expect(g).toBeCloseTo(1, 12);
    const r = propagationTheory(relu, 2, 0, standardRows(2, 7, 1), 7, 6); // ReLU critical: χ1 = 1
    for (const g of r.gradRatio) expect(g).toBeCloseTo(1, 10);
  });
});

/** A synthetic measurement: the theory itself plus Gaussian noise of a given size per network. */
function fakeResult(t: ReturnType<typeof propagationTheory>, S: number, N: number, noise: number, bias = 0, seed = 1): PropagationResult {
  const rng = new Rng(seed);
  const { depth: L, m } = t;
  const gram = new Float64Array(L * S * m * m);
  const delta2 = new Float64Array(L * S * m);
  for (let l = 0; l < L; l++) {
    for (let s = 0; s < S; s++) {
      const q = Array.from({ length: m }, (_, a) => t.q[l * m + a] * (1 + noise * rng.normal()));
      for (let a = 0; a < m; a++) {
        for (let b = 0; b < m; b++) {
          const c = a === b ? 1 : Math.min(1, t.c[(l * m + a) * m + b] + bias + noise * 0.5 * rng.normal());
          gram[((l * S + s) * m + a) * m + b] = c * Math.sqrt(q[a] * q[b]);
        }
        delta2[(l * S + s) * m + a] = t.gradRatio[l * m + a] * (1 + noise * rng.normal());
      }
    }
  }
  return {
    spec: { activation: 'tanh', sw2: 1, sb2: 0, width: N, depth: L, nets: S, seed: 0, inputs: new Float32Array(m), inputDim: 1 },
    m, gram, phi2: new Float64Array(L * S * m), delta2, seconds: 0, weights: 0,
  };
}

describe('comparePropagation', () => {
  const t = propagationTheory(tanh, 2.5, 0.05, standardRows(3, 40, 9), 40, 15);
  it('accepts measurements that scatter around the theory at the sampling error', () => {
    const cmp = comparePropagation(fakeResult(t, 6, 1000, Math.sqrt(2 / 1000)), t);
    expect(cmp.agreement.q.agrees).toBe(true);
    expect(cmp.agreement.c.agrees).toBe(true);
    expect(cmp.agreement.lnGrad!.agrees).toBe(true);
    expect(cmp.curves.pairs).toEqual([[0, 1], [0, 2], [1, 2]]);
    expect(representativePairs(cmp).length).toBeGreaterThanOrEqual(2);
  });
  it('rejects a systematic shift of c by 0.05', () => {
    const cmp = comparePropagation(fakeResult(t, 6, 1000, Math.sqrt(2 / 1000), 0.05), t);
    expect(cmp.agreement.c.agrees).toBe(false);
    expect(cmp.agreement.c.maxError).toBeGreaterThan(0.04);
  });
  it('refuses a theory of the wrong shape', () => {
    const other = propagationTheory(tanh, 2.5, 0.05, standardRows(3, 40, 9), 40, 14);
    expect(() => comparePropagation(fakeResult(t, 2, 100, 0.01), other)).toThrow(/theory is for 14 layers/);
  });
});

describe('trainability band and heat map data', () => {
  const sw2 = [0.5, 1, 2, 4];
  const depths = [2, 8, 32];
  // accuracy: trainable iff L ≤ 6ξ_c, except one deep cell that trains anyway, and one diverged
  const xi = (w: number) => meanFieldPoint(tanh, w, 0.05).xiC;
  const cells = depths.flatMap((depth) => sw2.map((w) => {
    const pred = depth <= 6 * xi(w);
    const diverged = depth === 32 && w === 4;
    const acc = diverged ? null : depth === 32 && w === 0.5 ? 0.9 : pred ? 0.9 : 0.1;
    return { depth, sw2: w, status: diverged ? 'diverged' as const : 'completed' as const, message: '', trainAccuracy: acc, testAccuracy: acc === null ? null : acc - 0.02, trainLoss: null, testLoss: null, seconds: 1 };
  }));
  const r: TrainabilityResult = { spec: { activation: 'tanh', sb2: 0.05, sw2, depths, width: 8, steps: 10, lr: 0.1, batchSize: 8, seed: 1 }, cells, seconds: 12 };

  it('counts agreement with L ≤ 6ξ_c', () => {
    const b = trainabilityBand(r, xi, 0.5);
    expect(b.trainableBeyond).toBe(1); // L = 32, σ_w² = 0.5 trains although 6ξ_c ≈ 7
    expect(b.untrainableWithin).toBe(1); // L = 32, σ_w² = 4 diverged although 6ξ_c ≈ 42
    expect(b.agreement).toBeCloseTo(10 / 12, 12);
    expect(b.rows[0]).toMatchObject({ depth: 2, trainableSw2: [0.5, 4], bestAccuracy: 0.9 });
    expect(b.rows[2].trainableSw2).toEqual([0.5, 2]);
  });

  it('builds heat maps with the critical line and 6ξ_c overlaid, nulls for diverged runs', () => {
    const h = trainabilityHeatmap(r, 'train', 1.76, { sw2: [0.5, 1, 4], depth: [7, 22, 42] });
    expect(h.z).toHaveLength(3);
    expect(h.z[2][3]).toBeNull();
    expect(h.z[0][0]).toBe(0.9);
    expect(h.overlays.map((o) => o.label)).toEqual(['critical σ_w²* = 1.7600', 'L = 6 ξ_c']);
    expect(h.yLog).toBe(true);
    const pd = phaseDiagram(tanh, [0.5, 1.5, 3], [0, 0.1]);
    const maps = phaseDiagramHeatmaps(pd, criticalLine(tanh, [0, 0.1]));
    expect(maps.chi1.z[0][0]).toBeCloseTo(pd.chi1[0][0], 12);
    expect(maps.xiC.overlays[0].x[0]).toBeCloseTo(1, 6);
    expect(JSON.parse(JSON.stringify(maps.xiC)).z.length).toBe(2); // plain JSON-able data
  });

  it('line charts put measured points and dashed theory on one layer axis', () => {
    const t = propagationTheory(tanh, 1.2, 0.05, standardRows(3, 20, 2), 20, 8);
    const cmp = comparePropagation(fakeResult(t, 3, 500, 0.01), t);
    const charts = propagationCharts('p', 'test', cmp, [0, 2], ['0–1', '1–2']);
    expect(charts.map((c) => c.id)).toEqual(['p-q', 'p-c', 'p-grad']);
    expect(charts[1].series.map((s) => s.style)).toEqual(['points', 'points', 'dashed', 'dashed']);
    expect(charts[1].x).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(charts[2].series[1].y[7]).toBeCloseTo(0, 12); // log10 ratio is 0 at the top
  });

  it('heatmap-plot.js helpers: cell edges, colour positions, palettes', () => {
    expect(cellEdges([1, 2, 3], false)).toEqual([0.5, 1.5, 2.5, 3.5]);
    const e = cellEdges([2, 8, 32], true);
    expect(e[1]).toBeCloseTo(4, 12);
    expect(e[0]).toBeCloseTo(1, 12);
    const h = { zRange: [1, 100], zLog: true } as never;
    expect(colorPosition(h, 10)).toBeCloseTo(0.5, 12);
    expect(colorPosition(h, Infinity)).toBe(1);
    expect(Number.isNaN(colorPosition(h, null))).toBe(true);
    expect(paletteColor('sequential', 0)).toBe('rgb(68,1,84)');
    expect(paletteColor('diverging', 0.5)).toBe('rgb(247,247,247)');
    expect(linspace([0, 1, 5])).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });
});
