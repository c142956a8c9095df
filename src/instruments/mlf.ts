/**
 * The mini-loss-function ensemble (Feng & Tu 2021): each minibatch μ defines its own landscape
 * L_μ(w* + θp), a band fluctuating around the full loss; a sharp valley shaken by the minibatch
 * noise changes its slope a lot, a flat one barely (the origin of the noise anisotropy). Along
 * one principal direction at a time, PC2 at first; a click on a spectrum point asks for another
 * (request 'mlf-direction', served at the last analysed w*, live or final, without a refresh).
 * θ spans 1.5× the direction's farther flatness crossing (10% of |w*| when not measured).
 */
import { ProbeEvaluator } from '../analysis/noise/probe-eval.ts';
import { miniLossEnsemble, thetaGrid } from '../analysis/noise/mlf.ts';
import { norm2 } from '../analysis/numerics/dense.ts';
import type { ChartData } from '../analysis/report/chart-data.ts';
import { registerInstrument } from './registry.ts';
import type { MlfCurves } from './final-window.ts';
import type { TableView } from './types.ts';
import { componentRows, type WindowState } from './window-model.ts';
import type { FlatnessState } from './flatness.ts';

const BATCHES = 20;
const POINTS = 41;
const REQUEST = 'mlf-direction';

function charts(t: TableView): ChartData[] {
  const d = t.curves;
  const minis = Object.keys(d).filter((c) => c.startsWith('L_mu'));
  const pc = t.choice.pc[0];
  return [
    {
      id: 'mlf',
      title: 'Mini-loss-function ensemble',
      xLabel: 'θ (step along pᵢ, weight units)',
      yLabel: 'loss (nats, log)',
      xLog: false,
      yLog: true,
      x: [...(d.theta ?? [])],
      series: [{ label: 'L (full)', style: 'line', y: [...(d.L ?? [])] }, ...minis.map((c, m) => ({ label: m === 0 ? 'L_μ' : `L_μ${m}`, style: 'thin' as const, y: [...d[c]] }))],
      note: d.theta?.length ? `PC${pc}: ${minis.length} minibatches of the training set; click a point of the spectrum, flatness or temperature panel to choose another direction` : undefined,
    },
  ];
}

export const mlf = registerInstrument({
  id: 'mlf',
  title: 'Mini-loss-function ensemble',
  about: `L_μ(w* + θ·pᵢ) for ${BATCHES} minibatches μ around the full loss L along one principal direction: how much the minibatch noise shakes the landscape in sharp and in flat directions.`,
  needs: ['pca-window', 'flatness'],
  settings: {},
  tables: {
    curves: { mode: 'replace', about: 'θ, the full loss L(w* + θp) and each minibatch’s L_mu<m>' },
    choice: { mode: 'replace', columns: ['pc'], about: 'the principal component (1-based) the curves are along', file: null },
  },
  panels: [{ chart: 'mlf', caption: `L_μ(w* + θ·pᵢ) for ${BATCHES} minibatches (thin) around the full loss L (thick) along the chosen direction (log; nats)` }],
  charts,
  start(ctx) {
    let ev: ProbeEvaluator | null = null;
    let pc = 2;
    const send = (c: MlfCurves, kind: 'live' | 'final'): void => {
      const curves = { theta: c.theta, L: c.full, ...Object.fromEntries(c.mini.map((m, j) => [`L_mu${j}`, m])) };
      ctx.emit({ tables: { curves, choice: { pc: [c.pc] } }, selected: { [REQUEST]: c.pc }, kind });
    };
    const along = async (w: WindowState, dir: number): Promise<void> => {
      const m = await w.model();
      m.mlp.uploadParams(w.wStarParams);
      ev ??= await ProbeEvaluator.create(m.mlp, m.data, m.layer, 1);
      await ev.prepare(componentRows(w.components, w.P, [dir], 1));
      const reach = ctx.upstream<FlatnessState>('flatness')?.reach.get(dir) ?? 0;
      const half = reach > 0 ? 1.5 * reach : 0.1 * norm2(w.wStar);
      const e = await miniLossEnsemble(ev, 0, thetaGrid(half, POINTS), { batchSize: ctx.trainer.config.batchSize, batches: BATCHES, seed: ctx.trainer.config.seed + dir });
      send({ pc: dir + 1, theta: Float64Array.from(e.theta), full: Float64Array.from(e.full), mini: e.mini.map((x) => Float64Array.from(x)) }, w.kind);
    };
    return {
      refresh: {
        async run() {
          const w = ctx.upstream<WindowState>('pca-window');
          if (!w) return false;
          await along(w, pc >= 1 && pc <= w.k ? pc - 1 : Math.min(1, w.k - 1));
        },
      },
      async request(name, value) {
        if (name !== REQUEST || !(Number.isInteger(value) && value >= 1)) return;
        pc = value;
        const w = ctx.upstream<WindowState>('pca-window');
        if (w && value <= w.k) await along(w, value - 1);
      },
      final(f) {
        const e = f.mlf.find((x) => x.pc === pc) ?? f.mlf[0];
        if (e) send(e, 'final');
      },
    };
  },
});
