/**
 * Gradient noise scale B_simple = tr(Σ)/|G|² (McCandlish, Kaplan, Amodei et al. 2018;
 * ../shared/science.md §8), live: every `every` steps, from the minibatch's own per-sample
 * gradients, for the analysed layer and for the whole network.
 *
 * Per layer, shaders/grad_noise_scale.wgsl gives s = Σ_n |g_n|² (|g_n|² = |x_n|²·|δ_n|², no
 * per-sample gradient is formed) and q = |Ĝ|², Ĝ the minibatch gradient. Then, with B the batch
 * and M the training set (sampling without replacement inside an epoch):
 *   tr Σ̂ = (s − B·q)/(B − 1)                   unbiased per-sample covariance trace
 *   |G|² ≈ q − (1 − B/M)·tr Σ̂ / B              |Ĝ|² minus its noise bias (factor 1 with replacement)
 * The whole network sums s and q over the layers (its blocks are disjoint). One step's |G|² is very
 * noisy and can be negative, so B_simple averages numerator and denominator separately over the
 * last `smooth` measurements, as the paper does.
 */
import { Kernel } from '../gpu/kernel.ts';
import type { ChartData } from '../analysis/report/chart-data.ts';
import { registerInstrument } from './registry.ts';
import { int } from './settings.ts';
import type { StepView, TableView } from './types.ts';

const SHADER = 'grad_noise_scale';
const COLUMNS = ['step', 'loss', 'tr_sigma_layer', 'g2_layer', 'tr_sigma_net', 'g2_net', 'b_simple_layer', 'b_simple_net'];

/** B_simple from sums over the window (null when |G|² is not yet positive). */
const ratio = (tr: number, g2: number): number => (g2 > 0 ? tr / g2 : NaN);

/** What instruments that need this one read (b-noise): the analysed layer and the latest smoothed B_simple. */
export interface GradNoiseScaleState {
  layer: number;
  step: number | null;
  bSimpleLayer: number;
  bSimpleNetwork: number;
}

function charts(t: TableView, s: { layer: number; smooth: number }, run: { batchSize: number }): ChartData[] {
  const d = t.steps;
  const pos = (v: number): number | null => (Number.isFinite(v) && v > 0 ? v : null);
  const byStep: ChartData = {
    id: 'grad-noise-scale',
    title: 'Gradient noise scale B_simple',
    xLabel: 'SGD step',
    yLabel: 'B_simple (samples, log)',
    xLog: false,
    yLog: true,
    x: [...d.step],
    series: [
      { label: `layer ${s.layer}`, style: 'line+points', y: d.b_simple_layer.map(pos) },
      { label: 'whole network', style: 'line+points', y: d.b_simple_net.map(pos) },
      { label: `batch size B = ${run.batchSize}`, style: 'dashed', y: d.step.map(() => run.batchSize) },
    ],
    note: d.step.length
      ? `step ${d.step.at(-1)}: B_simple ≈ ${Math.round(d.b_simple_net.at(-1)!)} (network), ${Math.round(d.b_simple_layer.at(-1)!)} (layer ${s.layer}), averaged over the last ${s.smooth} measurements; training with B below it gains from larger batches, far above it samples are wasted`
      : undefined,
  };
  const order = d.loss.map((_, i) => i).filter((i) => d.loss[i] > 0).sort((a, b) => d.loss[a] - d.loss[b]);
  const byLoss: ChartData = {
    id: 'grad-noise-scale-loss',
    title: 'Gradient noise scale against the loss',
    xLabel: `minibatch loss, mean of ${s.smooth} measurements (nats, log)`,
    yLabel: 'B_simple (samples, log)',
    xLog: true,
    yLog: true,
    x: order.map((i) => d.loss[i]),
    series: [
      { label: `layer ${s.layer}`, style: 'points', y: order.map((i) => pos(d.b_simple_layer[i])) },
      { label: 'whole network', style: 'points', y: order.map((i) => pos(d.b_simple_net[i])) },
    ],
    note: 'McCandlish et al.: the critical batch grows as the loss falls — B_simple rises to the left',
  };
  return [byStep, byLoss];
}

export const gradNoiseScale = registerInstrument({
  id: 'grad-noise-scale',
  title: 'Gradient noise scale (B_simple)',
  about:
    'B_simple = tr(Σ)/|G|² (McCandlish et al. 2018) from the per-sample gradients of each measured minibatch: the batch size beyond which SGD stops gaining — below it doubling B nearly halves the steps needed, far above it extra samples are wasted. Σ is the per-sample gradient covariance, G the true gradient (|G|² corrected for the minibatch noise); numerator and denominator are averaged over the last `smooth` measurements.',
  settings: {
    every: int(10, { min: 1, max: 1e6 }, 'measure every N steps'),
    layer: int(1, (c) => ({ min: 0, max: Math.max(0, c.widths.length - 2) }), 'the analysed layer (the whole network is measured too)'),
    smooth: int(20, { min: 1, max: 1e5 }, 'measurements averaged into each B_simple'),
  },
  tables: { steps: { mode: 'append', columns: COLUMNS, about: 'one measured step: tr Σ̂ and unbiased |G|² of the layer and of the network at that step; loss and b_simple_* are means over the last `smooth` measurements (B_simple = mean tr Σ̂ / mean |G|²)', npy: true } },
  panels: [
    { chart: 'grad-noise-scale', caption: 'B_simple = tr(Σ)/|G|² of the analysed layer and the network against the step (log), with the batch size in use' },
    { chart: 'grad-noise-scale-loss', caption: 'B_simple against the minibatch loss (log–log): it grows as the loss falls' },
  ],
  headline: [{ id: 'b-simple', label: 'B_simple' }],
  charts,
  summary: (t) => {
    const d = t.steps;
    const n = d.step.length;
    return { measurements: n, lastStep: n ? d.step[n - 1] : null, bSimpleLayer: n ? d.b_simple_layer[n - 1] : null, bSimpleNetwork: n ? d.b_simple_net[n - 1] : null, loss: n ? d.loss[n - 1] : null };
  },
  async start(ctx) {
    const { every, layer, smooth } = ctx.settings;
    const t = ctx.trainer;
    const layers = t.mlp.layout.layers;
    const constants = { HAS_BIAS: t.model.bias };
    const [norms, sq] = await Promise.all([
      Kernel.create(ctx.device, { shader: SHADER, entry: 'sample_norms', constants }),
      Kernel.create(ctx.device, { shader: SHADER, entry: 'grad_sq', constants }),
    ]);
    let groups: { norms: GPUBindGroup; sq: GPUBindGroup }[] | null = null;
    const B = t.config.batchSize;
    const fpc = t.config.sampling === 'shuffle' ? 1 - B / t.trainData.n : 1;
    const recent: number[][] = [];
    const state: GradNoiseScaleState = { layer, step: null, bSimpleLayer: NaN, bSimpleNetwork: NaN };
    return {
      provides: () => state,
      perStep: {
        every,
        floats: 2 * layers.length,
        encode(batch, view: StepView, out) {
          groups ??= view.layers.map((L) => ({
            norms: norms.bindGroup({ x: L.input, dz: L.outputGrad, out }, `${SHADER}.norms${L.index}`),
            sq: sq.bindGroup({ grad: L.grad, out }, `${SHADER}.sq${L.index}`),
          }));
          for (const L of view.layers) {
            const u = { rows: view.batchSize, k: L.fanIn, n: L.fanOut, p: L.size, slot: L.index, grad_scale: L.outputGradScale };
            batch.dispatch(norms, groups[L.index].norms, u, [1]);
            batch.dispatch(sq, groups[L.index].sq, u, [1]);
          }
        },
        read(rows, steps) {
          const cols: Record<string, number[]> = Object.fromEntries(COLUMNS.map((c) => [c, []]));
          steps.forEach((step, r) => {
            const row = rows.subarray(r * 2 * layers.length, (r + 1) * 2 * layers.length);
            const at = (l: number): [number, number] => {
              const trace = (row[2 * l] - B * row[2 * l + 1]) / Math.max(1, B - 1);
              return [trace, row[2 * l + 1] - (fpc * trace) / B];
            };
            const mine = at(layer);
            const net = layers.map((_, l) => at(l)).reduce((a, b) => [a[0] + b[0], a[1] + b[1]], [0, 0]);
            recent.push([mine[0], mine[1], net[0], net[1], t.history.loss[step - 1] ?? NaN]);
            if (recent.length > smooth) recent.shift();
            const mean = (j: number): number => recent.reduce((a, v) => a + v[j], 0) / recent.length;
            const values = [step, mean(4), mine[0], mine[1], net[0], net[1], ratio(mean(0), mean(1)), ratio(mean(2), mean(3))];
            COLUMNS.forEach((c, j) => cols[c].push(values[j]));
          });
          const last = cols.b_simple_net.at(-1);
          Object.assign(state, { step: cols.step.at(-1) ?? null, bSimpleLayer: cols.b_simple_layer.at(-1) ?? NaN, bSimpleNetwork: last ?? NaN });
          ctx.emit({ tables: { steps: cols }, headline: { 'b-simple': last !== undefined && Number.isFinite(last) ? String(Math.round(last)) : '–' } });
        },
      },
    };
  },
});
