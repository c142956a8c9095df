/**
 * The run folder of `sgdscope hessian`, as named byte arrays (RunFiles, written by the CLI):
 *
 *   summary.json            everything below in numbers: loss, block, top-k, traces, outliers and
 *                           the bulk-edge rule, noise-vs-curvature fits, dense check, timings
 *   eigenvalues.npy         float64 (k,): top-k Hessian eigenvalues (Lanczos), descending
 *   eigenvectors.npy        float32 (k, dim): row i = eigenvector i in the compact block layout
 *                           (layer after layer, each (K + bias, N) row-major; see summary.block.parts)
 *   slq_density.csv         lambda, density — Gaussian-broadened SLQ density (integrates to 1)
 *   slq_nodes.csv           probe, node, weight — the raw Gauss quadrature of every probe
 *   fisher_vs_hessian.csv   i, lambda, c_centred = v_iᵀCv_i, f_uncentred = v_iᵀFv_i, g_proj = ḡ·v_i,
 *                           ratio = c/λ
 *   diagonal.csv            index, layer, row, col, h_ii, c_ii, f_ii, g_i (per parameter of the block)
 *   dense_check.csv         i, dense, lanczos, rel_err (with --verify-dense)
 *   dense_spectrum.npy      float64 (dim,): every eigenvalue of the explicit block (with --verify-dense)
 *   report.html             self-contained charts (uPlot inlined)
 */
import { encodeNpy } from '../../util/npy.ts';
import { toCsv } from '../../util/csv.ts';
import type { RunFiles } from '../../train/run-files.ts';
import type { MlpConfig } from '../../nn/config.ts';
import { paramLayout } from '../../nn/params.ts';
import { median } from '../../analysis/numerics/stats.ts';
import type { HessianAnalysis } from './run.ts';
import { hessianCharts, hessianReportHtml, type HessianRunInfo } from './report.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';

export type { HessianRunInfo } from './report.ts';

function blockParts(model: MlpConfig, layers: number[]): { layer: number; offset: number; rows: number; cols: number; size: number }[] {
  const Ls = paramLayout(model).layers;
  let off = 0;
  return layers.map((l) => {
    const L = Ls[l];
    const p = { layer: l, offset: off, rows: L.rows, cols: L.fanOut, size: L.size };
    off += L.size;
    return p;
  });
}

export function hessianSummary(r: HessianAnalysis, info: HessianRunInfo): Record<string, unknown> {
  const lz = r.lanczos;
  const nz = r.noise;
  return {
    sgdscope: '0.1.0',
    created: new Date().toISOString(),
    what: 'Hessian of the mean training loss (exact R-operator products on the GPU): top-k by Lanczos, SLQ density, Hutchinson trace, gradient-noise covariance vs Hessian',
    source: info.source,
    model: info.model,
    train: info.train ?? null,
    data: info.data ?? null,
    adapter: info.adapter ?? null,
    finalEval: info.finalEval ?? null,
    options: info.options,
    block: { layers: r.layers, dim: r.dim, parts: blockParts(info.model, r.layers) },
    rows: r.rows,
    loss: r.loss,
    lanczos: {
      k: lz.values.length,
      values: Array.from(lz.values),
      residualEstimates: Array.from(lz.residualEstimates),
      trueResiduals: Array.from(r.trueResiduals),
      maxRelativeResidual: Math.max(...Array.from(r.trueResiduals, (v) => v / Math.abs(lz.values[0]))),
      smallestRitzValue: lz.smallest,
      iterations: lz.iterations,
      converged: lz.converged,
      orthogonalityLoss: lz.orthogonalityLoss,
      seconds: r.timings.lanczos,
    },
    trace: {
      hutchinson: r.hutchinson.trace,
      hutchinsonStdErr: r.hutchinson.stdErr,
      hutchinsonProbes: r.hutchinson.samples.length,
      slq: r.slq.trace,
      slqStdErr: r.slq.traceStdErr,
      exact: r.dense?.trace ?? null,
      perParameter: r.hutchinson.trace / r.dim,
    },
    density: { probes: r.slq.probes.length, steps: r.slq.steps, sigma: r.density.sigma, integral: r.density.integral, mean: r.density.mean, slqMean: r.slq.mean },
    outliers: {
      count: r.outliers.count,
      bulkEdge: r.outliers.bulkEdge,
      gapRatio: r.outliers.gapRatio,
      rule: r.outliers.rule,
      slqCountAbove: r.outliers.slqCountAbove,
    },
    noise: nz
      ? {
          definition: 'C = (1/M) Σ_n (g_n − ḡ)(g_n − ḡ)ᵀ over per-sample gradients of the training set (F = C + ḡḡᵀ)',
          eigenbasis: {
            medianRatio: median(nz.eigenbasis.ratio),
            slope: nz.eigenbasis.fit?.gamma ?? null,
            slopeSE: nz.eigenbasis.fit?.gammaSE ?? null,
            logR: nz.eigenbasis.fit?.r ?? null,
            linearR: nz.eigenbasis.linearR,
          },
          diagonal: r.diagonalFit
            ? { gamma: r.diagonalFit.gamma, gammaSE: r.diagonalFit.gammaSE, intercept: r.diagonalFit.intercept, r: r.diagonalFit.r, n: r.diagonalFit.n, skipped: r.diagonalFit.skipped, hFloor: r.diagonalFit.xFloor }
            : { error: r.diagonalFitError },
          hessianDiagonalSource: r.diagonalSource,
          loss: nz.loss,
          seconds: r.timings.noise,
        }
      : null,
    dense: r.dense
      ? {
          top: r.dense.dense.length,
          dense: Array.from(r.dense.dense),
          lanczos: Array.from(r.dense.lanczos),
          relErr: Array.from(r.dense.relErr),
          maxRelErr: r.dense.maxRelErr,
          passes1e3: r.dense.maxRelErr <= 1e-3,
          asymmetry: r.dense.asymmetry,
          exactTrace: r.dense.trace,
          smallest: r.dense.spectrum[r.dense.spectrum.length - 1],
          gaussNewtonDiagonalVsBlock: r.dense.diagonalCheck,
          seconds: { lanczos: r.timings.lanczos, build: r.dense.buildSeconds, solve: r.dense.solveSeconds, buildPlusSolve: r.dense.buildSeconds + r.dense.solveSeconds },
        }
      : null,
    hvp: r.hvp,
    timings: r.timings,
  };
}

export function hessianRunFiles(r: HessianAnalysis, info: HessianRunInfo, assets: ReportAssets): RunFiles {
  const files: RunFiles = new Map();
  const summary = hessianSummary(r, info);
  files.set('summary.json', JSON.stringify(summary, null, 2) + '\n');
  const k = r.lanczos.values.length;
  files.set('eigenvalues.npy', encodeNpy(Float64Array.from(r.lanczos.values), [k]));
  files.set('eigenvectors.npy', encodeNpy(Float32Array.from(r.lanczos.vectors), [k, r.dim]));
  files.set('slq_density.csv', toCsv(['lambda', 'density'], Array.from(r.density.x, (x, i) => [x, r.density.density[i]])));
  const nodes: (number | null)[][] = [];
  r.slq.probes.forEach((p, i) => p.nodes.forEach((th, j) => nodes.push([i, th, p.weights[j]])));
  files.set('slq_nodes.csv', toCsv(['probe', 'node', 'weight'], nodes));
  if (r.noise) {
    const e = r.noise.eigenbasis;
    files.set(
      'fisher_vs_hessian.csv',
      toCsv(
        ['i', 'lambda', 'c_centred', 'f_uncentred', 'g_proj', 'ratio'],
        Array.from(e.lambda, (l, i) => [i + 1, l, e.centred[i], e.uncentred[i], r.noise!.projected.mean[i], e.ratio[i]]),
      ),
    );
  }
  if (r.hessianDiagonal) {
    const parts = blockParts(info.model, r.layers);
    const rows: (number | null)[][] = [];
    const d = r.noise?.diagonal ?? null;
    for (const p of parts) {
      for (let i = 0; i < p.size; i++) {
        const idx = p.offset + i;
        rows.push([idx, p.layer, Math.floor(i / p.cols), i % p.cols, r.hessianDiagonal[idx], d ? d.centred[idx] : null, d ? d.uncentred[idx] : null, d ? d.mean[idx] : null]);
      }
    }
    files.set('diagonal.csv', toCsv(['index', 'layer', 'row', 'col', 'h_ii', 'c_ii', 'f_ii', 'g_i'], rows));
  }
  if (r.dense) {
    const dn = r.dense;
    files.set('dense_check.csv', toCsv(['i', 'dense', 'lanczos', 'rel_err'], Array.from(dn.dense, (v, i) => [i + 1, v, dn.lanczos[i], dn.relErr[i]])));
    files.set('dense_spectrum.npy', encodeNpy(Float64Array.from(dn.spectrum), [dn.spectrum.length]));
  }
  files.set('charts.json', JSON.stringify(hessianCharts(r)) + '\n');
  files.set('report.html', hessianReportHtml(r, info, summary, assets));
  return files;
}
