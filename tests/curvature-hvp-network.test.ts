/**
 * Exact Hessian–vector products of whole (tiny) networks:
 *  - the CPU R-operator product (mlpHvpCpu) against the exact Hessian built by central finite
 *    differences of float64 analytic gradients (mlpGradCpu);
 *  - the GPU HvpEngine (whole network and layer blocks, several row chunks, a short last chunk,
 *    directions split over passes) against mlpHvpCpu, and the explicitly built GPU Hessian
 *    (buildExplicitBlock) against the finite-difference one;
 *  - the Gauss–Newton diagonal equals the Hessian diagonal for a ReLU network.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { assertClose } from './helpers/close.ts';
import { mlpHvpCpu } from '../src/nn/hvp-cpu.ts';
import type { Activation } from '../src/kernels/activation.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { initParams } from '../src/nn/init.ts';
import { mlpForwardCpu, mlpGradCpu } from '../src/nn/mlp-cpu.ts';
import { MlpGpu } from '../src/nn/mlp-gpu.ts';
import { paramLayout } from '../src/nn/params.ts';
import { uploadDataset } from '../src/train/gpu-dataset.ts';
import { HvpEngine } from '../src/analysis/curvature/hvp-gpu.ts';
import { buildExplicitBlock } from '../src/analysis/curvature/dense-block.ts';
import { gaussNewtonDiagonalCpu } from '../src/analysis/curvature/fisher.ts';
import { Rng } from '../src/util/rng.ts';

const ctx = useGpu();

interface Problem {
  config: MlpConfig;
  params: Float32Array;
  x: Float32Array;
  y: Uint8Array;
  rows: number;
}

/** Tiny network and data; for relu, reseeded until no hidden pre-activation is within 1e-3 of 0. */
function problem(activation: Activation, bias: boolean, rows: number, widths = [6, 5, 4, 3]): Problem {
  const config: MlpConfig = { widths, activation, bias, init: { kind: 'normal', sigmaW: 1.4, sigmaB: 0.2 } };
  for (let seed = 1; seed < 300; seed++) {
    const rng = new Rng(seed);
    const params = initParams(config, rng);
    const x = Float32Array.from({ length: rows * widths[0] }, () => rng.normal());
    const y = Uint8Array.from({ length: rows }, () => rng.int(widths[widths.length - 1]));
    if (activation !== 'relu' || minHiddenPreact(config, params, x, rows) > 1e-3) return { config, params, x, y, rows };
  }
  throw new Error('no seed keeps the relu pre-activations away from 0');
}

function minHiddenPreact(c: MlpConfig, params: Float32Array, x: Float32Array, rows: number): number {
  const layout = paramLayout(c);
  let input = Float64Array.from(x);
  let m = Infinity;
  for (const L of layout.layers.slice(0, -1)) {
    const out = new Float64Array(rows * L.fanOut);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < L.fanOut; j++) {
        let s = L.biasOffset !== null ? params[L.biasOffset + j] : 0;
        for (let i = 0; i < L.fanIn; i++) s += input[r * L.fanIn + i] * params[L.offset + i * L.fanOut + j];
        m = Math.min(m, Math.abs(s));
        out[r * L.fanOut + j] = Math.max(s, 0);
      }
    }
    input = out;
  }
  return m;
}

/** Exact Hessian (flat layout, total×total) by central differences of float64 analytic gradients. */
function fdHessian(p: Problem, h = 1e-5): { H: Float64Array; total: number; real: number[] } {
  const layout = paramLayout(p.config);
  const total = layout.total;
  const real: number[] = [];
  for (const L of layout.layers) for (let i = 0; i < L.size; i++) real.push(L.offset + i);
  const H = new Float64Array(total * total);
  const w = Float64Array.from(p.params);
  for (const i of real) {
    const w0 = w[i];
    w[i] = w0 + h;
    const gp = mlpGradCpu(p.config, w, p.x, p.y, p.rows).grad;
    w[i] = w0 - h;
    const gm = mlpGradCpu(p.config, w, p.x, p.y, p.rows).grad;
    w[i] = w0;
    for (const j of real) H[j * total + i] = (gp[j] - gm[j]) / (2 * h);
  }
  return { H, total, real };
}

describe('Hessian–vector products of a tiny network', () => {
  // Every block for tanh + bias (φ'' and the bias rows); the whole network and one block for relu.
  const CONFIGS: [Activation, boolean, (number[] | undefined)[]][] = [
    ['tanh', true, [undefined, [1], [0, 2], [2]]],
    ['relu', false, [undefined, [1]]],
  ];
  for (const [act, bias, blocks] of CONFIGS) {
    {
      it(`${act}${bias ? ' +bias' : ''}: CPU R-operator = finite-difference Hessian; GPU = CPU, whole network and blocks`, async () => {
        const c = ctx();
        const p = problem(act, bias, 150);
        const { H, total, real } = fdHessian(p);
        const rng = new Rng(99);
        // CPU R-operator product against H·v (float64 both: agreement ~1e-8).
        const v = new Float64Array(total);
        for (const i of real) v[i] = rng.normal();
        const hv = mlpHvpCpu(p.config, p.params, p.x, p.y, p.rows, v).hv;
        const ref = new Float64Array(total);
        for (const j of real) for (const i of real) ref[j] += H[j * total + i] * v[i];
        assertClose(hv, ref, { atol: 1e-7, rtol: 1e-6, label: 'mlpHvpCpu vs FD Hessian·v' });
        // Symmetry of the finite-difference Hessian (a check on the reference itself).
        let asym = 0;
        for (const i of real) for (const j of real) asym = Math.max(asym, Math.abs(H[i * total + j] - H[j * total + i]));
        expect(asym).toBeLessThan(1e-7);

        const mlp = await MlpGpu.create(c, p.config, { momentum: false });
        mlp.uploadParams(p.params);
        const data = uploadDataset(c, 'tiny', p.x, p.y, p.config.widths[0], 3);
        const layout = paramLayout(p.config);
        for (const layers of blocks) {
          // 150 rows in chunks of 64: three chunks, the last one short; 5 directions, 2 per pass.
          const eng = await HvpEngine.create(mlp, data, { layers, chunkRows: 64, maxVectors: 2 });
          expect(eng.loss).toBeCloseTo(mlpForwardCpu(p.config, p.params, p.x, p.y, p.rows).meanLoss, 5);
          const b = 5;
          const V = Float64Array.from({ length: eng.dim * b }, () => rng.normal());
          const HV = await eng.apply(V, b);
          expect(eng.calls).toBe(3);
          for (let j = 0; j < b; j++) {
            const flat = Float64Array.from(eng.toFlat(V.subarray(j * eng.dim, (j + 1) * eng.dim)));
            const r = eng.fromFlat(mlpHvpCpu(p.config, p.params, p.x, p.y, p.rows, flat, layers).hv);
            assertClose(HV.subarray(j * eng.dim, (j + 1) * eng.dim), r, { atol: 2e-6, rtol: 1e-4, label: `GPU HVP layers=${layers ?? 'all'} j=${j}` });
          }
          // The explicitly built block from the GPU = the FD Hessian's block.
          const block = await buildExplicitBlock(eng.operator, eng.dim, { batch: 2 });
          expect(block.asymmetry).toBeLessThan(1e-5);
          const idx: number[] = [];
          for (const pt of eng.parts) for (let i = 0; i < pt.size; i++) idx.push(pt.flatOffset + i);
          const sub = new Float64Array(eng.dim * eng.dim);
          idx.forEach((fi, a) => idx.forEach((fj, bb) => (sub[a * eng.dim + bb] = H[fi * total + fj])));
          assertClose(block.H, sub, { atol: 2e-6, rtol: 1e-4, label: `explicit GPU block vs FD Hessian, layers=${layers ?? 'all'}`, cols: eng.dim });
          eng.destroy();
        }
        expect(layout.layers.length).toBe(3);
      });
    }
  }

  it('Gauss–Newton diagonal = Hessian diagonal for ReLU (not for tanh)', () => {
    for (const act of ['relu', 'tanh'] as Activation[]) {
      const p = problem(act, true, 40);
      const { H, total, real } = fdHessian(p);
      const diag = Float64Array.from(real, (i) => H[i * total + i]);
      const gn = gaussNewtonDiagonalCpu(p.config, p.params, p.x, p.y, p.rows);
      let md = 0;
      let mx = 0;
      for (let i = 0; i < diag.length; i++) {
        md = Math.max(md, Math.abs(gn[i] - diag[i]));
        mx = Math.max(mx, Math.abs(diag[i]));
      }
      if (act === 'relu') expect(md / mx).toBeLessThan(1e-6);
      else expect(md / mx).toBeGreaterThan(1e-3); // tanh'' adds a non-Gauss–Newton part
      // Per-layer blocks give the same entries.
      const l1 = gaussNewtonDiagonalCpu(p.config, p.params, p.x, p.y, p.rows, [1]);
      const L = paramLayout(p.config).layers[1];
      const off = paramLayout(p.config).layers[0].size;
      assertClose(l1, gn.subarray(off, off + L.size), { atol: 1e-12, rtol: 1e-10, label: 'GN diagonal of the layer-1 block' });
    }
  });
});
