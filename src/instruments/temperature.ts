/**
 * Noise temperature per direction (Feng & Tu 2021, ../shared/science.md §1):
 * T_i = (α/2)·Var_μ[(∇L_μ − ∇L)·p_i] at w* along the directions whose flatness was measured, from
 * per-sample gradient projections over the window model's subsample (with the whole training
 * set's finite-population factor); its anisotropy and its relation to F_i (T ∝ F^(−exponent),
 * PC1 left out): the noise is hottest in the sharpest directions.
 */
import { powerLawFit, type PowerLawFit } from '../analysis/numerics/power-law-fit.ts';
import { temperatureAnisotropy } from '../analysis/numerics/temperature.ts';
import type { PerSampleProjector } from '../analysis/noise/full-pass.ts';
import { fmt } from '../analysis/report/html.ts';
import type { ChartData } from '../analysis/report/chart-data.ts';
import { registerInstrument } from './registry.ts';
import type { TableView } from './types.ts';
import { temperaturesAlong, type WindowState } from './window-model.ts';
import { byFlatness, type FlatnessState } from './flatness.ts';

type Fit = { exponent: number; r: number; intercept: number } | null;
type Aniso = { maxOverMin: number; spearman: number | null } | null;

function tables(dirs: number[], T: ArrayLike<number>, F: ArrayLike<number> | null, fit: Fit, an: Aniso) {
  return {
    directions: { pc: dirs.map((i) => i + 1), T: Array.from(T), F: dirs.map((_, j) => (F ? F[j] : NaN)) },
    fit: { exponent: [fit?.exponent ?? NaN], r: [fit?.r ?? NaN], intercept: [fit?.intercept ?? NaN], max_over_min: [an?.maxOverMin ?? NaN], spearman: [an?.spearman ?? NaN] },
  };
}

function charts(t: TableView): ChartData[] {
  const d = t.directions;
  const f = Object.fromEntries(Object.entries(t.fit).map(([c, v]) => [c, v[0]]));
  const pos = (v: number): number | null => (Number.isFinite(v) && v > 0 ? v : null);
  const order = byFlatness(d.F);
  const xs = order.map((j) => d.F[j]);
  const hasFit = Number.isFinite(f.exponent);
  return [
    {
      id: 'temperature',
      title: 'Noise temperature per direction',
      xLabel: 'principal component i (log)',
      yLabel: 'Tᵢ (loss units, log)',
      xLog: true,
      yLog: true,
      x: [...d.pc],
      series: [{ label: 'Tᵢ', style: 'points', y: d.T.map(pos) }],
      note: d.pc.length && Number.isFinite(f.max_over_min) ? `max/min ${fmt(f.max_over_min)}; Spearman(T, F) ${fmt(f.spearman)}` : undefined,
    },
    {
      id: 'temperature-flatness',
      title: 'Temperature against flatness',
      xLabel: 'flatness Fᵢ (log)',
      yLabel: 'Tᵢ (log)',
      xLog: true,
      yLog: true,
      x: xs,
      series: [
        { label: 'Tᵢ', style: 'points', y: order.map((j) => pos(d.T[j])) },
        { label: 'fit', style: 'line', y: xs.map((x) => (hasFit ? Math.exp(f.intercept) * x ** -f.exponent : null)) },
      ],
      note: hasFit ? `T ∝ F^(−${f.exponent.toFixed(2)}), r = ${f.r.toFixed(3)}` : d.pc.length ? 'no fit yet' : undefined,
    },
  ];
}

export const temperature = registerInstrument({
  id: 'temperature',
  title: 'Noise temperature per direction',
  about:
    'Tᵢ = (α/2)·Var_μ[(∇L_μ − ∇L)·pᵢ]: the variance of the minibatch gradient noise along each principal direction, at the window mean w*, with its anisotropy (max/min, Spearman with Fᵢ) and the fit T ∝ F^(−exponent): sharp directions are hot, the opposite of thermal noise.',
  needs: ['pca-window', 'flatness'],
  settings: {},
  tables: {
    directions: { mode: 'replace', columns: ['pc', 'T', 'F'], about: 'per measured PC: Tᵢ and the flatness Fᵢ it is compared with' },
    fit: { mode: 'replace', columns: ['exponent', 'r', 'intercept', 'max_over_min', 'spearman'], about: 'ln T = intercept − exponent·ln F (PC1 left out), its r; max/min of T and Spearman(T, F)', file: 'temperature_fit' },
  },
  panels: [
    { chart: 'temperature', caption: 'Tᵢ = (α/2)·Var_μ[(∇L_μ − ∇L)·pᵢ] against i (log; loss units): the SGD noise along each principal direction', click: 'mlf-direction' },
    { chart: 'temperature-flatness', caption: 'Tᵢ against Fᵢ (log–log): sharp directions (small F) are hot; fitted T ∝ F^(−exponent), PC1 left out' },
  ],
  headline: [{ id: 'aniso', label: 'T max/min' }],
  charts,
  summary: (t) => Object.fromEntries(Object.entries(t.fit).map(([c, v]) => [c, v.length && Number.isFinite(v[0]) ? v[0] : null])),
  start(ctx) {
    let proj: PerSampleProjector | null = null;
    const send = (dirs: number[], T: ArrayLike<number>, F: ArrayLike<number> | null, fit: Fit, an: Aniso, kind: 'live' | 'final'): void =>
      ctx.emit({ tables: tables(dirs, T, F, fit, an), headline: { aniso: an ? fmt(an.maxOverMin) : '–' }, kind });
    return {
      refresh: {
        async run() {
          const w = ctx.upstream<WindowState>('pca-window');
          const fl = ctx.upstream<FlatnessState>('flatness');
          if (!w || !fl) return false;
          const r = await temperaturesAlong(w, w.wStarParams, fl.dirs, Math.max(w.maxDirs, fl.dirs.length), proj && proj.J >= fl.dirs.length ? proj : null, ctx.trainer);
          proj = r.proj;
          const F = Array.from(fl.F, (v) => (Number.isFinite(v) ? v : null));
          const a = temperatureAnisotropy(r.T, F);
          let fit: PowerLawFit | null = null;
          try {
            fit = powerLawFit(r.T, F, { from: 1 });
          } catch {
            fit = null;
          }
          send(fl.dirs, r.T, fl.F, fit ? { exponent: fit.psi, r: fit.r, intercept: fit.intercept } : null, { maxOverMin: a.maxOverMin, spearman: a.spearmanWithFlatness }, 'live');
        },
      },
      final(f) {
        send(f.dirs, f.T, f.F, f.tFit, f.anisotropy, 'final');
      },
    };
  },
});
