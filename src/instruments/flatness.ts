/**
 * Flatness along the window's principal directions (Feng & Tu 2021, ../shared/science.md §1):
 * F_i = θ_r − θ_l, the width of the interval around w* along p_i where the full training loss
 * stays below flatK·L(w*), for PC1 and directions spread over 2…k; then the inverse
 * variance–flatness fit σ_i² ∝ F_i^(−ψ) (PC1, the drift, left out). On the window model (a
 * subsample, on the side device), with the lab's search (measureFlatness on a ProbeEvaluator, as
 * gpuFlatness does) to a 3% bracket, warm-started: each direction's first step is 60% of the
 * nearer crossing the previous refresh found at the same rank.
 */
import { ProbeEvaluator } from '../analysis/noise/probe-eval.ts';
import { measureFlatness } from '../analysis/numerics/flatness.ts';
import { powerLawFit, type PowerLawFit } from '../analysis/numerics/power-law-fit.ts';
import { norm2 } from '../analysis/numerics/dense.ts';
import { fmt } from '../analysis/report/html.ts';
import type { ChartData } from '../analysis/report/chart-data.ts';
import { registerInstrument } from './registry.ts';
import { num } from './settings.ts';
import type { TableView } from './types.ts';
import { componentRows, type WindowState } from './window-model.ts';

/** Flatness bracket tolerance of the live search (the final analysis uses the lab's 1e-3). */
const REL_TOL = 3e-2;

/** What temperature and the MLF ensemble read. */
export interface FlatnessState {
  /** 0-based PCs, F_i (NaN where a side was not reached) and the farther crossing |θ| per PC. */
  dirs: number[];
  F: Float64Array;
  reach: Map<number, number>;
}

const FIT_COLUMNS = ['L0', 'psi', 'psi_se', 'r', 'n', 'intercept'];

function tables(w: WindowState, dirs: number[], F: ArrayLike<number>, thL: ArrayLike<number>, thR: ArrayLike<number>, L0: number | null, fit: Pick<PowerLawFit, 'psi' | 'psiSE' | 'r' | 'n' | 'intercept'> | null) {
  return {
    directions: { pc: dirs.map((i) => i + 1), F: Array.from(F), theta_l: Array.from(thL), theta_r: Array.from(thR), sigma2: dirs.map((i) => w.variances[i]) },
    fit: { L0: [L0 ?? NaN], psi: [fit?.psi ?? NaN], psi_se: [fit?.psiSE ?? NaN], r: [fit?.r ?? NaN], n: [fit?.n ?? NaN], intercept: [fit?.intercept ?? NaN] },
  };
}

function headline(fit: Pick<PowerLawFit, 'psi' | 'psiSE' | 'r'> | null): Record<string, string> {
  return { psi: fit ? `${fit.psi.toFixed(2)} ± ${fit.psiSE.toFixed(2)}` : '–', 'fit-r': fit ? fit.r.toFixed(3) : '–' };
}

/** Indices of the finite, positive F in ascending order. */
export function byFlatness(F: number[]): number[] {
  return F.map((_, j) => j).filter((j) => Number.isFinite(F[j]) && F[j] > 0).sort((a, b) => F[a] - F[b]);
}

function charts(t: TableView): ChartData[] {
  const d = t.directions;
  const fit = Object.fromEntries(Object.entries(t.fit).map(([c, v]) => [c, v[0]]));
  const hasFit = Number.isFinite(fit.psi);
  const reached = d.F.filter(Number.isFinite).length;
  const order = byFlatness(d.F);
  const xs = order.map((j) => d.F[j]);
  return [
    {
      id: 'flatness',
      title: 'Flatness spectrum',
      xLabel: 'principal component i (log)',
      yLabel: 'Fᵢ (weight units, log)',
      xLog: true,
      yLog: true,
      x: [...d.pc],
      series: [{ label: 'Fᵢ', style: 'points', y: d.F.map((v) => (Number.isFinite(v) ? v : null)) }],
      note: d.pc.length ? `${reached}/${d.pc.length} directions reached k·L0 on both sides; L(w*) = ${fmt(fit.L0, 4)} nats` : undefined,
    },
    {
      id: 'variance-flatness',
      title: 'Variance against flatness',
      xLabel: 'flatness Fᵢ (log)',
      yLabel: 'σᵢ² (log)',
      xLog: true,
      yLog: true,
      x: xs,
      series: [
        { label: 'σᵢ² (PCs 2…)', style: 'points', y: order.map((j) => (d.pc[j] === 1 ? null : d.sigma2[j])) },
        { label: 'PC1 (drift, not fitted)', style: 'points', y: order.map((j) => (d.pc[j] === 1 ? d.sigma2[j] : null)) },
        { label: 'fit', style: 'line', y: xs.map((x) => (hasFit ? Math.exp(fit.intercept) * x ** -fit.psi : null)) },
      ],
      note: !d.pc.length ? undefined : hasFit ? `ψ = ${fit.psi.toFixed(2)} ± ${fit.psi_se.toFixed(2)}, r = ${fit.r.toFixed(3)} over ${fit.n} PCs (Feng & Tu: ψ ≈ 4 on MNIST; equilibrium would give −2)` : 'no fit: too few directions with a finite Fᵢ',
    },
  ];
}

export const flatness = registerInstrument({
  id: 'flatness',
  title: 'Flatness and the inverse variance–flatness relation',
  about:
    'Fᵢ: the width of the interval around the window mean w* along each principal direction pᵢ where the full training loss stays below flat-k·L(w*), and the fit σᵢ² ∝ Fᵢ^(−ψ) with PC1 (the drift) left out. Feng & Tu find ψ ≈ 4 on MNIST; an equilibrium system would give ψ = −2.',
  where: 'lab',
  needs: ['pca-window'],
  settings: {
    flatK: num(2, { min: 1, max: 1e6, minExclusive: true }, "Fᵢ: where L reaches this × L(w*); 2 (talk) or e (authors' code)", { flag: 'flat-k', label: 'flatness factor', aliases: { e: Math.E } }),
  },
  tables: {
    directions: { mode: 'replace', columns: ['pc', 'F', 'theta_l', 'theta_r', 'sigma2'], about: 'per measured PC: Fᵢ = θ_r − θ_l (empty where a side was not reached) and σᵢ²' },
    fit: { mode: 'replace', columns: FIT_COLUMNS, about: 'L(w*) and the fit ln σ² = intercept − ψ·ln F (PC1 left out): ψ, its SE, r, n', file: 'flatness_fit' },
  },
  panels: [
    { chart: 'flatness', caption: 'Fᵢ: width of the interval around w* along pᵢ where the full training loss stays below k·L(w*) (log; weight units); click to choose the MLF direction', click: 'mlf-direction' },
    { chart: 'variance-flatness', caption: 'σᵢ² against Fᵢ (log–log) with the fitted power law σ² ∝ F^(−ψ) (PC1, the drift, left out)' },
  ],
  headline: [
    { id: 'psi', label: 'ψ' },
    { id: 'fit-r', label: 'r' },
  ],
  charts,
  summary: (t) => Object.fromEntries(Object.entries(t.fit).map(([c, v]) => [c, v.length && Number.isFinite(v[0]) ? v[0] : null])),
  start(ctx) {
    const { flatK } = ctx.settings;
    let ev: ProbeEvaluator | null = null;
    let lastReach: number[] = [];
    let state: FlatnessState | null = null;
    const keep = (dirs: number[], F: Float64Array, thL: ArrayLike<number>, thR: ArrayLike<number>): void => {
      const reach = new Map<number, number>();
      dirs.forEach((i, j) => reach.set(i, Math.max(Number.isFinite(thL[j]) ? Math.abs(thL[j]) : 0, Number.isFinite(thR[j]) ? Math.abs(thR[j]) : 0)));
      state = { dirs, F, reach };
    };
    return {
      refresh: {
        async run() {
          const w = ctx.upstream<WindowState>('pca-window');
          if (!w) return false;
          const m = await w.model();
          m.mlp.uploadParams(w.wStarParams);
          const dirs = w.dirs;
          if (!ev || ev.D < dirs.length) ev = await ProbeEvaluator.create(m.mlp, m.data, m.layer, Math.max(w.maxDirs, dirs.length));
          const probe = ev;
          await probe.prepare(componentRows(w.components, w.P, dirs, probe.D));
          const norm = norm2(w.wStar);
          const theta0 = dirs.map((_, j) => {
            const r = lastReach[j];
            return r > 0 && Number.isFinite(r) ? Math.max(0.6 * r, 1e-4 * norm) : 0.01 * norm;
          });
          const flat = await measureFlatness(async (p) => (await probe.evaluate(p)).means, { nDirs: dirs.length, k: flatK, theta0, thetaMax: 100 * norm, relTol: REL_TOL });
          lastReach = flat.directions.map((d) => Math.min(Math.abs(d.thetaL ?? Infinity), Math.abs(d.thetaR ?? Infinity)));
          const F = Float64Array.from(flat.directions, (d) => d.F ?? NaN);
          const thL = flat.directions.map((d) => d.thetaL ?? NaN);
          const thR = flat.directions.map((d) => d.thetaR ?? NaN);
          let fit: PowerLawFit | null = null;
          try {
            fit = powerLawFit(Float64Array.from(dirs, (i) => w.variances[i]), flat.directions.map((d) => d.F), { from: 1 });
          } catch {
            fit = null;
          }
          keep(dirs, F, thL, thR);
          ctx.emit({ tables: tables(w, dirs, F, thL, thR, flat.L0, fit), headline: headline(fit), kind: 'live' });
        },
      },
      final(f) {
        const w = ctx.upstream<WindowState>('pca-window');
        if (!w) return;
        keep(f.dirs, f.F, f.thetaL, f.thetaR);
        ctx.emit({ tables: tables(w, f.dirs, f.F, f.thetaL, f.thetaR, f.L0, f.fit), headline: headline(f.fit), kind: 'final' });
      },
      provides: () => state,
    };
  },
});
