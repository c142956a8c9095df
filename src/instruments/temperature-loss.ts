/**
 * T_i(t) against the loss L(t) (Feng & Tu 2021): all temperatures fall with the loss while keeping
 * their anisotropy — a self-tuned annealing. Live: at each refresh, T_i at the window's END weights
 * along that window's PCs 1, 2, 5, 10, 20, 40 (those ≤ k) and the subsample's loss there, one point
 * per refresh. Final: the lab's curve (every epoch's checkpoint along the final PCs) replaces them.
 */
import type { PerSampleProjector } from '../analysis/noise/full-pass.ts';
import type { ChartData } from '../analysis/report/chart-data.ts';
import { registerInstrument } from './registry.ts';
import type { TableView } from './types.ts';
import { temperaturesAlong, type WindowState } from './window-model.ts';

/** 1-based PCs whose T_i(t) is followed. */
const T_DIRS = [1, 2, 5, 10, 20, 40];

function charts(t: TableView, _s: unknown, _run: unknown, kind: 'live' | 'final'): ChartData[] {
  const d = t.points;
  const pcs = Object.keys(d).filter((c) => c.startsWith('T_pc'));
  const order = (d.loss ?? []).map((_, i) => i).filter((i) => d.loss[i] > 0).sort((a, b) => d.loss[a] - d.loss[b]);
  const n = order.length;
  return [
    {
      id: 'temperature-loss',
      title: 'Temperature against loss',
      xLabel: 'training loss L(t) (nats, log)',
      yLabel: 'Tᵢ(t) (log)',
      xLog: true,
      yLog: true,
      x: order.map((i) => d.loss[i]),
      series: pcs.map((c) => ({ label: `T PC${c.slice(4)}`, style: kind === 'final' ? 'line+points' : 'points', y: order.map((i) => (d[c][i] > 0 ? d[c][i] : null)) })),
      note: !n
        ? undefined
        : kind === 'final'
          ? `final: ${n} checkpoints (one per epoch) along the final principal directions`
          : `live: ${n} refreshes, each along the principal directions of its own window (the final analysis recomputes T(t) at every epoch's weights along the final ones)`,
    },
  ];
}

export const temperatureLoss = registerInstrument({
  id: 'temperature-loss',
  title: 'Temperature against loss',
  about:
    'Tᵢ(t) against the training loss L(t) for PCs 1, 2, 5, 10, 20, 40: along training all temperatures fall together with the loss (Feng & Tu’s self-tuned annealing). Live points are one per refresh, each along its own window’s directions; the final analysis recomputes the curve at every epoch’s weights along the final directions.',
  needs: ['pca-window'],
  settings: {},
  tables: { points: { mode: 'append', about: 'step, the (subsample) training loss there and T_pc<i> along PC i' } },
  panels: [{ chart: 'temperature-loss', caption: 'Tᵢ(t) against the training loss L(t) (log–log) for chosen PCs: all temperatures fall with the loss (self-tuned annealing)' }],
  charts,
  start(ctx) {
    let proj: PerSampleProjector | null = null;
    return {
      refresh: {
        async run() {
          const w = ctx.upstream<WindowState>('pca-window');
          if (!w || !w.current) return false;
          const pcs = [...new Set(T_DIRS.filter((i) => i >= 1 && i <= w.k))].sort((a, b) => a - b);
          if (!pcs.length) return false;
          const r = await temperaturesAlong(w, w.current, pcs.map((i) => i - 1), T_DIRS.length, proj, ctx.trainer);
          proj = r.proj;
          ctx.emit({ tables: { points: { step: [w.last], loss: [r.loss], ...Object.fromEntries(pcs.map((pc, j) => [`T_pc${pc}`, [r.T[j]]])) } }, kind: 'live' });
        },
      },
      final(f) {
        if (!f.tCurve) return;
        const c = f.tCurve;
        ctx.emit({ reset: ['points'], tables: { points: { step: c.steps, loss: c.loss, ...Object.fromEntries(c.pcs.map((pc, j) => [`T_pc${pc}`, c.T[j]])) } }, kind: 'final' });
      },
    };
  },
});
