/**
 * Fluctuation–dissipation meter (Yaida, ICLR 2019, first relation; ../shared/science.md §9), live:
 * at stationarity ⟨θ·∇L_B⟩ = (η/2)·⟨|∇L_B|²⟩ over minibatches, for any block of parameters the
 * update treats coordinate-wise — each layer and the whole network. The ratio of the two sides
 * → 1 when the weights' distribution has equilibrated: a cheap, principled check that the
 * Feng–Tu PCA window is stationary, drawn with that window's steps marked.
 *
 * The relation is derived for the update sgdscope runs (shaders/fdr.wgsl): with weight decay λ
 * the direction is u = ∇L_B + λθ and ⟨θ·u⟩ = (η/2)⟨|u|²⟩; with momentum μ > 0 the first relation
 * as written does not hold and the meter uses its momentum form ⟨θ·u⟩ = (η/2)(1 + μ)⟨|v|²⟩ (v the
 * velocity after the step), and says so on the panels.
 *
 * Every `every` steps one dispatch (a workgroup per layer) writes six dot products per layer into
 * the framework's ring; on the CPU, `block` measurements are averaged into one row, and the
 * running ratio ΣLHS/ΣRHS over the last `span` blocks gets its standard error from those block
 * means (src/instruments/fdr-stats.ts). The window's ratio is the same over the blocks inside the
 * PCA window: the live one each time pca-window refreshes (this instrument `uses` it), the final
 * one at the end of a dashboard run.
 */
import { Kernel } from '../gpu/kernel.ts';
import { createStorage } from '../gpu/buffers.ts';
import type { ChartData, ChartSeries } from '../analysis/report/chart-data.ts';
import { registerInstrument } from './registry.ts';
import { int } from './settings.ts';
import type { TableView } from './types.ts';
import type { WindowState } from './window-model.ts';
import { FDR_DOTS, fdrSides, ratioText, ratioWithError, type StepHyper } from './fdr-stats.ts';

const SHADER = 'fdr';
const FIXED = ['step', 'first_step', 'measurements', 'loss', 'lr', 'momentum', 'weight_decay'];
/**
 * The y values drawn: an early transient (a fresh network is far from equilibrium, ratios of −50
 * are common) would squash the later curve, so values beyond the range of the run's second half
 * (always including 0 and 2, widened by 10%) are left out of the charts; the notes say how many.
 */
function drawnRange(cols: number[][]): [number, number] {
  const late = cols.flatMap((c) => c.slice(Math.floor(c.length / 2))).filter(Number.isFinite).sort((a, b) => a - b);
  const q = (f: number): number => late[Math.min(late.length - 1, Math.floor(f * late.length))];
  const lo = Math.min(0, late.length ? q(0.02) : 0);
  const hi = Math.max(2, late.length ? q(0.98) : 2);
  const pad = 0.1 * (hi - lo);
  return [lo - pad, hi + pad];
}

const groupsOf = (t: Record<string, number[]>): string[] => Object.keys(t).filter((c) => c.startsWith('ratio_')).map((c) => c.slice(6));
const groupLabel = (g: string): string => (g === 'net' ? 'whole network' : `layer ${g.slice(1)}`);
const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

function windowOf(t: TableView): { first: number; last: number; final: boolean } | null {
  const w = t.window;
  return w.first_step?.length ? { first: w.first_step[0], last: w.last_step[0], final: w.final[0] === 1 } : null;
}

function momentumNote(d: Record<string, number[]>): string {
  const mu = d.momentum?.at(-1);
  return mu !== undefined && mu > 0
    ? ` Momentum μ = ${mu} > 0: Yaida's first relation as written holds for μ = 0 only; plotted is its momentum form ⟨θ·u⟩ = (η/2)(1 + μ)⟨|v|²⟩ (u = ∇L_B + λθ, v the velocity after the step).`
    : '';
}

function charts(t: TableView, s: { layer: number; span: number; block: number }): ChartData[] {
  const d = t.blocks;
  const groups = groupsOf(d);
  const x = [...(d.step ?? [])];
  const w = windowOf(t);
  const marks = w ? [{ x: w.first, label: `${w.final ? 'final' : 'PCA'} window` }, { x: w.last, label: 'window end' }] : [];
  const range = drawnRange(groups.map((g) => d[`ratio_${g}`]));
  const clip = (v: number): number | null => (Number.isFinite(v) && v >= range[0] && v <= range[1] ? v : null);
  const hidden = groups.reduce((n, g) => n + d[`ratio_${g}`].filter((v) => Number.isFinite(v) && clip(v) === null).length, 0);
  const hiddenNote = hidden ? ` ${hidden} early values outside [${range.map((v) => v.toFixed(1)).join(', ')}] are not drawn.` : '';
  const one: ChartSeries = { label: 'equilibrium (ratio 1)', style: 'dashed', y: x.map(() => 1) };
  const winText = w ? groups.map((g) => `${groupLabel(g)} ${ratioText({ ratio: t.window[`ratio_${g}`][0], se: t.window[`se_${g}`][0] })}`).join(', ') : '';
  const last = (g: string): string => ratioText({ ratio: d[`ratio_${g}`].at(-1) ?? NaN, se: d[`se_${g}`].at(-1) ?? NaN });
  const byLayer: ChartData = {
    id: 'fdr-ratio',
    title: 'Fluctuation–dissipation ratio ⟨θ·∇L_B⟩ / (η/2)⟨|∇L_B|²⟩',
    xLabel: 'SGD step',
    yLabel: `ratio over the last ${s.span} blocks`,
    xLog: false,
    yLog: false,
    x,
    series: [...groups.map((g): ChartSeries => ({ label: groupLabel(g), style: g === 'net' ? 'line+points' : 'line', y: d[`ratio_${g}`].map(clip) })), one],
    marks,
    note: x.length
      ? `step ${x.at(-1)}: ${groups.map((g) => `${groupLabel(g)} ${last(g)}`).join(', ')} (running ratio over ${s.span} blocks of ${s.block} measurements ± standard error).${w ? ` Over the ${w.final ? 'final' : 'live'} PCA window (steps ${w.first}–${w.last}): ${winText}.` : ''} → 1 when the weights' distribution has equilibrated; < 0: ⟨θ·∇L_B⟩ < 0, the weights' norm grows (no stationary state yet).${hiddenNote}${momentumNote(d)}`
      : undefined,
  };
  const g = groups.includes(`l${s.layer}`) ? `l${s.layer}` : (groups[0] ?? `l${s.layer}`);
  const r = d[`ratio_${g}`] ?? [];
  const se = d[`se_${g}`] ?? [];
  const winRatio = w ? t.window[`ratio_${g}`]?.[0] ?? NaN : NaN;
  const layer: ChartData = {
    id: 'fdr-layer',
    title: `Fluctuation–dissipation ratio of ${groupLabel(g)} with its standard error`,
    xLabel: 'SGD step',
    yLabel: 'ratio ± standard error',
    xLog: false,
    yLog: false,
    x,
    series: [
      { label: 'running ratio', style: 'line', y: r.map(clip) },
      { label: '+1 standard error', style: 'thin', y: r.map((v, i) => clip(v + se[i])) },
      { label: '−1 standard error', style: 'thin', y: r.map((v, i) => clip(v - se[i])) },
      { label: 'ratio over the window', style: 'dashed', y: x.map((st, i) => (w && st >= w.first && (d.first_step[i] ?? st) >= w.first && st <= w.last ? clip(winRatio) : null)) },
      one,
    ],
    marks,
    note: x.length
      ? `${groupLabel(g)}: ${last(g)} at step ${x.at(-1)}${w ? `; over the window (steps ${w.first}–${w.last}) ${ratioText({ ratio: winRatio, se: t.window[`se_${g}`]?.[0] ?? NaN })}` : ''}. Standard errors from block means (${s.block} measurements per block).${hiddenNote}${momentumNote(d)}`
      : undefined,
  };
  return [byLayer, layer];
}

export const fdr = registerInstrument({
  id: 'fdr',
  title: 'Fluctuation–dissipation meter',
  about:
    "Yaida's (2019) first fluctuation–dissipation relation of SGD: at stationarity ⟨θ·∇L_B⟩ = (η/2)·⟨|∇L_B|²⟩ over minibatches, for each layer and the whole network. The ratio of the two sides tends to 1 when the weights' distribution has equilibrated — a check that the Feng–Tu PCA window (marked) is stationary. Derived for the update in use: with weight decay λ the gradient is ∇L_B + λθ; with momentum μ > 0 the momentum form ⟨θ·u⟩ = (η/2)(1 + μ)⟨|v|²⟩ replaces it. Six dot products per layer per measured step on the GPU; `block` measurements per row; running ratio over `span` blocks with its standard error from the block means.",
  uses: ['pca-window'],
  settings: {
    every: int(1, { min: 1, max: 1e6 }, 'measure every N steps'),
    block: int(40, { min: 1, max: 1e6 }, 'measurements averaged into one row (the unit of the standard error)'),
    span: int(20, { min: 2, max: 1e6 }, 'blocks in the running ratio'),
    layer: int(1, (c) => ({ min: 0, max: Math.max(0, c.widths.length - 2) }), 'the layer drawn with its standard error (every layer is measured)'),
  },
  tables: {
    blocks: { mode: 'append', about: 'one block of `block` measured steps (step = its last): minibatch loss, hyper-parameters, and per group (l0, l1, …, net) the block means lhs_* = θ·u and rhs_* = (η/2)(1+μ)|v|² (μ = 0: (η/2)|u|²), u = ∇L_B + λθ, and the running ratio_* ± se_* over the last `span` blocks', npy: true },
    window: { mode: 'replace', about: 'the ratio over the blocks inside the PCA window (pca-window’s live window, or the final one): first/last step, blocks, final (1) or live (0), and ratio_*, se_* per group', file: 'fdr_window' },
  },
  panels: [
    { chart: 'fdr-ratio', caption: 'running ratio of the two sides of Yaida’s relation per layer and for the network; → 1 at equilibrium; the PCA window marked' },
    { chart: 'fdr-layer', caption: 'the analysed layer’s running ratio ± one standard error (block means), and its ratio over the PCA window' },
  ],
  headline: [{ id: 'fdr-window', label: 'FDR ratio' }],
  charts,
  summary: (t) => {
    const d = t.blocks;
    const out: Record<string, number | string | null> = { blocks: d.step?.length ?? 0, lastStep: d.step?.at(-1) ?? null };
    for (const g of groupsOf(d)) {
      out[`ratio_${g}`] = finite(d[`ratio_${g}`].at(-1) ?? NaN);
      out[`se_${g}`] = finite(d[`se_${g}`].at(-1) ?? NaN);
    }
    const w = windowOf(t);
    if (w) {
      out.windowFirst = w.first;
      out.windowLast = w.last;
      out.windowKind = w.final ? 'final' : 'live';
      for (const g of groupsOf(d)) {
        out[`window_ratio_${g}`] = finite(t.window[`ratio_${g}`]?.[0] ?? NaN);
        out[`window_se_${g}`] = finite(t.window[`se_${g}`]?.[0] ?? NaN);
      }
    }
    return out;
  },
  async start(ctx) {
    const { every, block, span } = ctx.settings;
    const t = ctx.trainer;
    const layers = t.mlp.layout.layers;
    const L = layers.length;
    const groups = [...layers.map((_, l) => `l${l}`), 'net'];
    const kernel = await Kernel.create(ctx.device, { shader: SHADER, entry: 'dots', constants: { MOMENTUM: t.config.momentum > 0 } });
    const ranges = createStorage(ctx.device, 'fdr.ranges', Uint32Array.from(layers.flatMap((Ly) => [Ly.offset, Ly.size])));
    // Rebuilt if the step view's buffers change (a new training plan).
    let bound: { key: unknown[]; group: GPUBindGroup } | null = null;
    const hyper = new Map<number, StepHyper>();
    // The block being filled, the finished blocks' means per group, and their step spans.
    const acc = { n: 0, first: 0, loss: 0, lhs: new Float64Array(L + 1), rhs: new Float64Array(L + 1) };
    const blockLhs: number[][] = groups.map(() => []);
    const blockRhs: number[][] = groups.map(() => []);
    const blockFirst: number[] = [];
    const blockLast: number[] = [];
    let window: { first: number; last: number; final: boolean } | null = null;

    const emitWindow = (): void => {
      if (!window) return;
      const lo = blockFirst.findIndex((f) => f >= window!.first);
      let hi = lo < 0 ? -1 : lo;
      while (hi >= 0 && hi < blockLast.length && blockLast[hi] <= window.last) hi++;
      const cols: Record<string, number[]> = { first_step: [window.first], last_step: [window.last], blocks: [Math.max(0, hi - lo)], final: [window.final ? 1 : 0] };
      groups.forEach((g, j) => {
        const r = lo < 0 ? { ratio: NaN, se: NaN } : ratioWithError(blockLhs[j], blockRhs[j], lo, hi);
        cols[`ratio_${g}`] = [r.ratio];
        cols[`se_${g}`] = [r.se];
      });
      ctx.emit({ tables: { window: cols }, headline: { 'fdr-window': ratioText({ ratio: cols.ratio_net[0], se: cols.se_net[0] }) } });
    };

    return {
      perStep: {
        every,
        floats: FDR_DOTS * L,
        encode(batch, view, out) {
          const key = [view.params, view.grads, view.velocity, out];
          if (!bound || bound.key.some((k, i) => k !== key[i])) bound = { key, group: kernel.bindGroup({ ranges, theta: view.params, grad: view.grads, vel: view.velocity ?? view.params, out }, 'fdr.dots') };
          hyper.set(view.step, { lr: view.lr, weightDecay: view.weightDecay, momentum: view.momentum });
          batch.dispatch(kernel, bound.group, { layers: L }, [L]);
        },
        read(rows, steps) {
          const cols: Record<string, number[]> = Object.fromEntries([...FIXED, ...groups.flatMap((g) => [`lhs_${g}`, `rhs_${g}`, `ratio_${g}`, `se_${g}`])].map((c) => [c, []]));
          steps.forEach((step, r) => {
            const h = hyper.get(step)!;
            hyper.delete(step);
            if (acc.n === 0) acc.first = step;
            acc.n++;
            acc.loss += t.history.loss[step - 1] ?? NaN;
            let netL = 0;
            let netR = 0;
            for (let l = 0; l < L; l++) {
              const s = fdrSides(rows, r * FDR_DOTS * L + FDR_DOTS * l, h);
              acc.lhs[l] += s.lhs;
              acc.rhs[l] += s.rhs;
              netL += s.lhs;
              netR += s.rhs;
            }
            acc.lhs[L] += netL;
            acc.rhs[L] += netR;
            if (acc.n < block) return;
            blockFirst.push(acc.first);
            blockLast.push(step);
            const row: Record<string, number> = { step, first_step: acc.first, measurements: acc.n, loss: acc.loss / acc.n, lr: h.lr, momentum: h.momentum, weight_decay: h.weightDecay };
            groups.forEach((g, j) => {
              blockLhs[j].push(acc.lhs[j] / acc.n);
              blockRhs[j].push(acc.rhs[j] / acc.n);
              const k = blockLhs[j].length;
              const run = ratioWithError(blockLhs[j], blockRhs[j], Math.max(0, k - span), k);
              Object.assign(row, { [`lhs_${g}`]: blockLhs[j][k - 1], [`rhs_${g}`]: blockRhs[j][k - 1], [`ratio_${g}`]: run.ratio, [`se_${g}`]: run.se });
            });
            for (const [c, v] of Object.entries(row)) cols[c].push(v);
            acc.n = 0;
            acc.loss = 0;
            acc.lhs.fill(0);
            acc.rhs.fill(0);
          });
          if (!cols.step.length) return;
          const net = { ratio: cols.ratio_net.at(-1)!, se: cols.se_net.at(-1)! };
          ctx.emit({ tables: { blocks: cols }, ...(window ? {} : { headline: { 'fdr-window': `${ratioText(net)} (running)` } }) });
          emitWindow();
        },
      },
      refresh: {
        async run() {
          const s = ctx.upstream<WindowState>('pca-window');
          if (!s) return false;
          window = { first: s.first, last: s.last, final: s.kind === 'final' };
          emitWindow();
        },
      },
      final(f) {
        window = { first: f.windowFirst, last: f.windowLast, final: true };
        emitWindow();
      },
      dispose: () => ranges.destroy(),
    };
  },
});
