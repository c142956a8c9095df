/**
 * The live PCA window (Feng & Tu 2021, ../shared/science.md §1): the analysed layer is copied into
 * a GPU ring every `stride` steps inside the training command buffers (stride = ⌈T/rows⌉, so the
 * ring always holds the last window of T steps sampled every stride-th step); every `refresh` steps
 * the ring and the current weights are read back together (both reads queued before any later
 * chunk), and PCA by the Gram route on the CPU gives σ_i², p_i, w*, D90/D99. The window model
 * (window-model.ts) it provides is what flatness, temperature, T(t) and the MLF ensemble analyse.
 *
 * The live window is subsampled; the run's final analysis (the Feng–Tu lab's: every step, the
 * covariance route, all k directions) replaces it on the dashboard through final().
 */
import { createStorage, readF32 } from '../gpu/buffers.ts';
import { trajectoryPcaGram, type TrajectoryPca } from '../analysis/numerics/trajectory-svd.ts';
import { summarizePca } from '../analysis/numerics/pca-summary.ts';
import { fmt } from '../analysis/report/html.ts';
import type { ChartData } from '../analysis/report/chart-data.ts';
import { registerInstrument } from './registry.ts';
import { int, type SettingsContext, type SettingValue } from './settings.ts';
import type { TableView } from './types.ts';
import { createWindowModel, dText, spreadDirections, type WindowModel, type WindowState } from './window-model.ts';

/** Training samples (a seeded stratified subsample) behind the live F_i, T_i, L(t) and MLF. */
const LIVE_SAMPLES = 1000;

function layerSize(c: SettingsContext, layer: SettingValue): number | null {
  const w = c.widths;
  if (!(typeof layer === 'number' && Number.isInteger(layer) && layer >= 0 && layer < w.length - 1) || !w.every((v) => Number.isInteger(v) && v >= 1)) return null;
  return (w[layer] + (c.bias ? 1 : 0)) * w[layer + 1];
}

const windowSteps = (c: SettingsContext, v: Record<string, SettingValue>): number | null =>
  c.stepsPerEpoch !== null && Number.isInteger(v.windowEpochs) ? (v.windowEpochs as number) * c.stepsPerEpoch : null;

const WINDOW_COLUMNS = ['first_step', 'last_step', 'rows', 'stride', 'samples', 'total_variance', 'd90', 'd99', 'd90_no_pc1', 'd99_no_pc1', 'pc1_vs_mean_weight', 'k', 'P'];

function tablesOf(s: WindowState) {
  const k = s.k;
  const nan = (v: number | null): number => v ?? NaN;
  return {
    spectrum: { i: Array.from({ length: k }, (_, j) => j + 1), sigma2: Array.from(s.variances.subarray(0, k)), cumulative: Array.from(s.summary.all.cumulative.subarray(0, k)) },
    window: Object.fromEntries(
      WINDOW_COLUMNS.map((c, j) => [c, [[s.first, s.last, s.rows, s.stride, s.samples, s.total, nan(s.summary.all.d90), nan(s.summary.all.d99), nan(s.summary.pc1Removed?.d90 ?? null), nan(s.summary.pc1Removed?.d99 ?? null), nan(s.summary.pc1VsMeanWeight), k, s.P][j]]]),
    ),
  };
}

const dOf = (v: number | undefined, k: number): string => dText(v === undefined || Number.isNaN(v) ? null : v, k);

function charts(t: TableView, _s: unknown, _run: unknown, kind: 'live' | 'final'): ChartData[] {
  const sp = t.spectrum;
  const w = Object.fromEntries(Object.entries(t.window).map(([c, v]) => [c, v[0]]));
  const k = w.k ?? 0;
  const marks = [
    ...(Number.isFinite(w.d90) ? [{ x: w.d90, label: `D90 = ${w.d90}` }] : []),
    ...(Number.isFinite(w.d99) ? [{ x: w.d99, label: `D99 = ${w.d99}` }] : []),
  ];
  const where =
    kind === 'live'
      ? `live: steps ${w.first_step}–${w.last_step}, every ${w.stride}${w.stride > 1 ? 'th' : ''} step (${w.rows} rows), ${w.samples} training samples`
      : `final: every step ${w.first_step}–${w.last_step} (T = ${w.rows}), all ${w.samples} training samples`;
  return [
    {
      id: 'spectrum',
      title: 'PCA spectrum of the weight window',
      xLabel: 'principal component i (log)',
      yLabel: 'σᵢ² (weight units², log)',
      xLog: true,
      yLog: true,
      x: [...sp.i],
      series: [
        { label: 'σᵢ²', style: 'line+points', y: [...sp.sigma2] },
        { label: 'cumulative fraction', style: 'dashed', right: true, y: [...sp.cumulative] },
      ],
      yRight: { label: 'cumulative fraction', range: [0, 1] },
      marks,
      note: sp.i.length
        ? `${where}; total variance ${fmt(w.total_variance)}, D90 ${dOf(w.d90, k)}, D99 ${dOf(w.d99, k)} (PC1 left out: ${dOf(w.d90_no_pc1, k)}, ${dOf(w.d99_no_pc1, k)}); |cos(PC1, w*)| ${fmt(w.pc1_vs_mean_weight)}`
        : undefined,
    },
  ];
}

export const pcaWindow = registerInstrument({
  id: 'pca-window',
  title: 'PCA of the weight window',
  about:
    'The analysed layer over the last window-epochs of training, sampled every ⌈T/rows⌉-th step into a GPU ring: its principal components (σᵢ², the cumulative fraction, D90/D99 with and without PC1, the drift). Refreshed every `refresh` steps beside training; the run’s final analysis (every step) replaces it on the dashboard.',
  where: 'lab',
  settings: {
    layer: int(1, (c) => ({ min: 0, max: Math.max(0, c.widths.length - 2) }), 'analysed layer (0-based; 1: the hidden→hidden layer of the seed network)', { flag: 'layer', label: 'analysed layer' }),
    windowEpochs: int(10, (c) => ({ min: 1, max: c.epochs === null ? 100000 : Number.isFinite(c.epochs) ? Math.max(1, c.epochs) : 1 }), 'the window: the last this many epochs of the run', { flag: 'window-epochs', label: 'window (epochs)' }),
    k: int(
      40,
      (c, v) => {
        const P = layerSize(c, v.layer);
        const T = windowSteps(c, v);
        const kMax = Math.min(P ?? Infinity, T !== null ? T - 1 : Infinity);
        return { min: 2, max: Number.isFinite(kMax) ? Math.max(2, kMax) : 100000 };
      },
      'principal components computed',
      { flag: 'k', label: 'PCs (k)' },
    ),
    refresh: int(480, { min: 1, max: 1e9 }, 'SGD steps between live refreshes (one runs at a time, beside training)', { flag: 'refresh', label: 'refresh every' }),
    liveRows: int(200, { min: 3, max: 2000 }, 'rows of the live window (every ⌈T/rows⌉-th step)', { flag: 'live-rows', label: 'window rows' }),
    liveDirs: int(8, (_c, v) => ({ min: 2, max: Math.max(2, Number.isInteger(v.k) ? (v.k as number) : 2) }), 'directions whose Fᵢ and Tᵢ are measured at each refresh', { flag: 'live-dirs', label: 'directions' }),
  },
  check(v, c) {
    const T = c ? windowSteps(c, v) : null;
    if (!c || T === null) return {};
    if (T < 3) return { windowEpochs: `lab.windowEpochs: the window must hold at least 3 steps, got ${T} (${v.windowEpochs} epochs of ${c.stepsPerEpoch} steps)` };
    const P = layerSize(c, v.layer);
    if (P !== null && T * P * 4 > 1 << 30) return { windowEpochs: `lab.windowEpochs: a ${T}×${P} window (${((T * P * 4) / 2 ** 20).toFixed(0)} MiB) is above the 1 GiB a storage buffer may hold; at most ${Math.floor((1 << 30) / (P * 4 * c.stepsPerEpoch!))} epochs for this layer` };
    return {};
  },
  tables: {
    spectrum: { mode: 'replace', columns: ['i', 'sigma2', 'cumulative'], about: 'σᵢ² of component i (descending) and the cumulative fraction of the total variance', file: 'pca_window' },
    window: { mode: 'replace', columns: WINDOW_COLUMNS, about: 'the analysed window: steps, rows, sampling stride, samples, total variance, D90/D99 (also with PC1 left out), |cos(PC1, w*)|', file: 'pca_window_summary' },
  },
  panels: [{ chart: 'spectrum', caption: 'variance σᵢ² along the i-th principal direction (log; weight units²) and cumulative fraction of the total variance (right); click a point to choose the MLF direction', click: 'mlf-direction' }],
  headline: [
    { id: 'd90', label: 'D90' },
    { id: 'd99', label: 'D99' },
    { id: 'analysis-kind', label: 'window' },
  ],
  charts,
  summary: (t) => Object.fromEntries(Object.entries(t.window).map(([c, v]) => [c, v.length ? v[0] : null])),
  async start(ctx) {
    const { layer, windowEpochs, k, refresh, liveRows, liveDirs } = ctx.settings;
    const t = ctx.trainer;
    const layers = t.mlp.layout.layers;
    if (!(layer >= 0 && layer < layers.length)) throw new Error(`lab.layer must be an integer in [0, ${layers.length - 1}], got ${layer}`);
    const L = layers[layer];
    const P = L.size;
    const T = windowEpochs * t.stepsPerEpoch;
    const stride = Math.max(1, Math.ceil(T / liveRows));
    const rows = Math.ceil(T / stride);
    const ring = createStorage(ctx.device, 'live.ring', rows * P * 4);
    const rowStep = new Float64Array(rows);
    let recorded = 0;
    let lastStep = t.step;
    let model: Promise<WindowModel> | null = null;
    const getModel = (): Promise<WindowModel> => (model ??= ctx.side().then((side) => createWindowModel(side, t, ctx.trainSet, layer, LIVE_SAMPLES)));
    let state: WindowState | null = null;
    const headline = (s: WindowState) => ({ d90: dText(s.summary.all.d90, s.k), d99: dText(s.summary.all.d99, s.k), 'analysis-kind': s.kind === 'live' ? `live, ${s.rows} rows` : 'final' });
    return {
      perStep: {
        every: 1,
        moment: 'update',
        floats: 0,
        encode(batch, view) {
          lastStep = view.step;
          if (view.step % stride !== 0) return;
          const row = recorded % rows;
          batch.copy(t.mlp.params, L.offset * 4, ring, row * P * 4, P * 4);
          rowStep[row] = view.step;
          recorded++;
        },
      },
      refresh: {
        every: refresh,
        async run() {
          const filled = Math.min(recorded, rows);
          const end = lastStep;
          const order: number[] = [];
          for (let r = 0; r < filled; r++) if (rowStep[r] > end - T) order.push(r);
          if (order.length < 3) return false;
          // Both reads are queued now, before any later chunk can overwrite the ring or the weights.
          const ringRead = readF32(ctx.device, ring, 0, filled * P);
          const paramsRead = readF32(ctx.device, t.mlp.params, 0, t.mlp.layout.total);
          order.sort((a, b) => rowStep[a] - rowStep[b]);
          const [ringData, current, m] = await Promise.all([ringRead, paramsRead, getModel()]);
          const t0 = performance.now();
          const n = order.length;
          const traj = new Float32Array(n * P);
          order.forEach((r, j) => traj.set(ringData.subarray(r * P, (r + 1) * P), j * P));
          let kk = Math.min(k, n - 1, P);
          let pca: TrajectoryPca | null = null;
          while (!pca) {
            try {
              pca = trajectoryPcaGram(traj, n, P, kk);
            } catch (e) {
              // A window with fewer independent rows than k (e.g. a stalled run): fewer components.
              if (kk <= 1 || !/numerical rank/.test((e as Error).message)) throw e;
              kk = Math.max(1, Math.floor(kk / 2));
            }
          }
          const wStar = pca.mean!;
          const summary = summarizePca({ eigenvalues: pca.variances, total: pca.totalVariance ?? NaN, pc1: pca.components.subarray(0, P), meanWeight: wStar });
          const wStarParams = Float32Array.from(current);
          for (let p = 0; p < P; p++) wStarParams[L.offset + p] = wStar[p];
          const steps = order.map((r) => rowStep[r]);
          state = { kind: 'live', first: steps[0], last: steps[n - 1], rows: n, stride, samples: m.data.n, P, k: kk, variances: pca.variances, components: pca.components, total: pca.totalVariance ?? NaN, wStar, summary, dirs: spreadDirections(kk, liveDirs), maxDirs: liveDirs, current, wStarParams, model: getModel, ms: { pca: performance.now() - t0 } };
          ctx.emit({ tables: tablesOf(state), headline: headline(state), kind: 'live' });
        },
      },
      final(f) {
        state = {
          kind: 'final', first: f.windowFirst, last: f.windowLast, rows: f.steps, stride: 1, samples: f.samples, P: f.P, k: f.k, variances: f.variances, components: f.components, total: f.total, wStar: f.wStar,
          summary: { pc1VsMeanWeight: f.pc1VsMeanWeight, all: { cumulative: f.cumulative, d90: f.d90, d99: f.d99 }, pc1Removed: { d90: f.d90NoPc1, d99: f.d99NoPc1 } },
          dirs: f.dirs, maxDirs: Math.max(liveDirs, f.dirs.length), current: null, wStarParams: f.wStarParams, model: getModel, ms: f.ms,
        };
        ctx.emit({ tables: tablesOf(state), headline: headline(state), kind: 'final' });
      },
      provides: () => state,
      dispose: () => ring.destroy(),
    };
  },
});
