/**
 * "Signal propagation at initialisation" (issue 7, item 4): the mean-field phase diagram of tanh
 * networks (χ1 or ξ_c over σ_w² × σ_b², critical line; computed by the worker) as a clickable heat
 * map. A click shows that point's depth scales (meanFieldPoint, here on the page: a few ms) and asks
 * the worker to measure q^l, c^l of random networks at that point on the GPU (its own device, beside
 * training), drawn against the theory in two line panels; and (issue 12) the Jacobian's singular
 * values there (Gaussian and orthogonal weights) against free probability, the mean squared
 * singular value against χ1^l, and a great circle's length against χ1^{l/2}, in three more.
 */
import uPlot from 'uplot';
import { heatmapPlot } from '../analysis/report/heatmap-plot.js';
import type { HeatmapData } from '../experiments/propagation/charts.ts';
import type { ChartData } from '../analysis/report/chart-data.ts';
import { meanFieldPoint, type MeanFieldPoint } from '../analysis/meanfield/depth-scales.ts';
import { activationByName } from '../analysis/meanfield/activations.ts';
import { Panel, downloadCanvas, fmt } from './charts.ts';
import { chartDataColumns, chartDataSpec } from './chart-data-panel.ts';
import type { FromWorker, PropagationRequest, ToWorker } from '../experiments/dashboard/protocol.ts';
import { LIVE_INIT } from '../experiments/propagation/init-live.ts';

/** Small enough for a few seconds on SwiftShader. */
export const LIVE_PROPAGATION = { width: 256, depth: 30, nets: 4 } as const;

export interface PropagationProbe {
  /** Heat map drawn. */
  phaseReady: boolean;
  requests: number;
  results: number;
  point: MeanFieldPoint | null;
  text: string;
  /** Measured points of the last result's q and c charts. */
  measured: { q: number; c: number } | null;
  seconds: number | null;
  error: string | null;
  /** The Jacobian-spectrum and curve-length panels. */
  spectra: { requests: number; results: number; seconds: number | null; verdicts: string[]; error: string | null; charts: string[] };
}

const inf = (v: number, digits = 4): string => (v === Infinity ? '∞' : fmt(v, digits));

/** Before the first measurement: an empty chart with the panel's own title and axes. */
function emptyChart(title: string, yLabel: string): ChartData {
  return { id: '', title, xLabel: 'layer l', yLabel, xLog: false, yLog: false, x: [], series: [] };
}

export class PropagationPanels {
  readonly probe: PropagationProbe = {
    phaseReady: false, requests: 0, results: 0, point: null, text: '', measured: null, seconds: null, error: null,
    spectra: { requests: 0, results: 0, seconds: null, verdicts: [], error: null, charts: [] },
  };
  readonly lines: Panel[];
  /** Jacobian density, mean squared singular value vs depth, curve length vs depth. */
  readonly spectra: Panel[];
  private lastSpectra = 0;
  private maps: { chi1: HeatmapData; xiC: HeatmapData } | null = null;
  private plot: uPlot | null = null;
  private readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly info: HTMLElement;
  private readonly which: HTMLSelectElement;
  private lastId = 0;

  constructor(
    container: HTMLElement,
    private readonly send: (m: ToWorker) => void,
    private width: number,
  ) {
    this.root = document.createElement('section');
    this.root.className = 'panel';
    this.root.id = 'panel-phase';
    const head = document.createElement('div');
    head.className = 'panel-head';
    const title = document.createElement('h3');
    title.textContent = 'Signal propagation at initialisation: phase diagram (tanh)';
    this.which = document.createElement('select');
    this.which.id = 'phase-map';
    this.which.innerHTML = '<option value="chi1">χ1</option><option value="xiC">ξ_c</option>';
    this.which.onchange = () => this.draw();
    const png = document.createElement('button');
    png.className = 'png';
    png.type = 'button';
    png.textContent = 'PNG';
    png.title = 'download the phase diagram as a PNG image';
    png.onclick = () => this.png();
    const right = document.createElement('span');
    right.append(this.which, ' ', png);
    head.append(title, right);
    const cap = document.createElement('div');
    cap.className = 'caption';
    cap.textContent = `mean-field theory (Schoenholz et al. 2017) over σ_w² × σ_b², critical line χ1 = 1; click a point: its depth scales, and ${LIVE_PROPAGATION.nets} random networks of width ${LIVE_PROPAGATION.width}, ${LIVE_PROPAGATION.depth} layers measured on the GPU`;
    this.body = document.createElement('div');
    this.body.textContent = 'computing the phase diagram…';
    this.info = document.createElement('div');
    this.info.className = 'note';
    this.info.id = 'phase-point';
    this.info.textContent = 'click a point of the map';
    this.root.append(head, cap, this.body, this.info);
    container.append(this.root);
    const cap2 = `measured (points: mean over ${LIVE_PROPAGATION.nets} networks) vs mean-field theory (dashed) at the clicked point`;
    this.lines = [
      new Panel(chartDataSpec(emptyChart('Propagation: length q^l', 'q^l'), 'propagation-q', cap2), container, width, 230),
      new Panel(chartDataSpec(emptyChart('Propagation: correlation c^l', 'c^l'), 'propagation-c', cap2), container, width, 230),
    ];
    const j = LIVE_INIT;
    const cap3 = `at the clicked point: ${j.nets} tanh networks of width ${j.width}, ${j.depth} layers per weight ensemble (points: measured; dashed: theory)`;
    this.spectra = [
      new Panel(chartDataSpec({ ...emptyChart('Jacobian singular values: density of log10 s²', 'density'), xLabel: 'log10 s²' }, 'init-density', `${cap3}; free probability (Pennington et al. 2017)`), container, width, 230),
      new Panel(chartDataSpec({ ...emptyChart('Mean squared singular value vs depth', '(1/N) tr J Jᵀ'), yLog: true }, 'init-depth', `${cap3}; dashed: χ1^l`), container, width, 230),
      new Panel(chartDataSpec({ ...emptyChart('Length of a great circle of inputs vs depth', 'ℓ^l / ℓ^0'), yLog: true }, 'init-curve', `at the clicked point: ${j.curvePoints} inputs on a circle at q*, ${j.curveNets} networks of width ${j.curveWidth}; dashed: χ1^{l/2} (Poole et al. 2016)`), container, width, 230),
    ];
    for (const p of [...this.lines, ...this.spectra]) p.note.textContent = 'click a point of the phase diagram';
    send({ type: 'phase-diagram', activation: 'tanh' });
  }

  resize(width: number): void {
    this.width = width;
    this.draw();
    for (const p of [...this.lines, ...this.spectra]) p.resize(width);
  }

  /** Draws pending line data (from the page's frame loop). */
  frame(): number {
    return [...this.lines, ...this.spectra].reduce((n, p) => n + (p.frame() ? 1 : 0), 0);
  }

  private draw(): void {
    if (!this.maps) return;
    this.plot?.destroy();
    this.body.textContent = '';
    const h = this.which.value === 'xiC' ? this.maps.xiC : this.maps.chi1;
    this.plot = heatmapPlot(uPlot, this.body, h, { width: this.width, height: 300, onClick: (x, y) => this.select(x, y) });
    this.probe.phaseReady = true;
  }

  /** A point of the phase diagram (the heat map's click handler). */
  select(sw2Raw: number, sb2Raw: number): void {
    const sw2 = Math.max(0.01, Math.round(sw2Raw * 100) / 100);
    const sb2 = Math.max(0, Math.round(sb2Raw * 1000) / 1000);
    const p = meanFieldPoint(activationByName('tanh'), sw2, sb2);
    this.probe.point = p;
    const text = `σ_w² = ${sw2}, σ_b² = ${sb2}: ${p.phase}; q* = ${inf(p.qStar)}, χ1 = ${inf(p.chi1)}, c* = ${inf(p.cStar)}, ξ_q = ${inf(p.xiQ)}, ξ_c = ${inf(p.xiC)}, ξ_∇ = ${inf(p.xiGrad)} layers${p.xiGrad < 0 ? ' (negative: χ1 > 1, gradients grow by e every |ξ_∇| layers)' : ''}`;
    this.info.textContent = text;
    this.probe.text = text;
    const req: PropagationRequest = { type: 'propagate', id: ++this.lastId, activation: 'tanh', sw2, sb2, ...LIVE_PROPAGATION };
    this.probe.requests++;
    for (const l of this.lines) l.note.textContent = `measuring at σ_w² = ${sw2}, σ_b² = ${sb2} on the GPU…`;
    this.send(req);
    this.probe.spectra.requests++;
    for (const l of this.spectra) l.note.textContent = `measuring Jacobian spectra and curve length at σ_w² = ${sw2}, σ_b² = ${sb2} on the GPU…`;
    this.send({ type: 'init-spectra', id: ++this.lastSpectra, sw2, sb2 });
  }

  /** The Jacobian-spectrum and curve-length result (or error) of the latest click. */
  private onSpectra(m: FromWorker): boolean {
    if (m.type === 'init-spectra-error') {
      if (m.id === this.lastSpectra) {
        this.probe.spectra.error = m.message;
        for (const l of this.spectra) l.note.textContent = `measurement failed: ${m.message}`;
      }
      return true;
    }
    if (m.type !== 'init-spectra') return false;
    if (m.id !== this.lastSpectra) return true;
    this.spectra.forEach((panel, i) => {
      const cd = m.charts[i];
      if (!cd) {
        panel.set([[]], m.verdicts[m.verdicts.length - 1]);
        return;
      }
      const data = chartDataColumns(cd);
      panel.rebuild(chartDataSpec(cd, panel.spec.id, panel.spec.caption, { pairedSeries: true, title: panel.spec.title }), data);
      panel.set(data, `${cd.title}: ${m.seconds.toFixed(1)} s on the GPU (all three panels). ${i === 0 ? m.verdicts.slice(0, 2).join('; ') + '. ' : i === 2 ? m.verdicts[2] + '. ' : ''}${cd.note ?? ''}`);
    });
    const sp = this.probe.spectra;
    sp.results++;
    sp.seconds = m.seconds;
    sp.verdicts = m.verdicts;
    sp.error = null;
    sp.charts = m.charts.map((c) => c.id);
    return true;
  }

  /** Worker messages of this panel; false for any other. */
  onMessage(m: FromWorker): boolean {
    if (m.type === 'phase-diagram') {
      this.maps = { chi1: m.chi1, xiC: m.xiC };
      this.draw();
      return true;
    }
    if (this.onSpectra(m)) return true;
    if (m.type === 'propagation-error') {
      if (m.id === this.lastId) {
        this.probe.error = m.message;
        for (const l of this.lines) l.note.textContent = `propagation failed: ${m.message}`;
      }
      return true;
    }
    if (m.type !== 'propagation') return false;
    if (m.id !== this.lastId) return true;
    const byId = (suffix: string): ChartData | undefined => m.charts.find((c) => c.id.endsWith(suffix));
    const q = byId('-q');
    const c = byId('-c');
    const count = (cd: ChartData | undefined): number => (cd ? cd.series.filter((s) => s.style === 'points').reduce((n, s) => n + s.y.filter((v) => v !== null).length, 0) : 0);
    [q, c].forEach((cd, i) => {
      if (!cd) return;
      const panel = this.lines[i];
      const data = chartDataColumns(cd);
      panel.rebuild(chartDataSpec(cd, panel.spec.id, panel.spec.caption, { pairedSeries: true, title: panel.spec.title }), data);
      const ok = i === 0 ? m.agrees.q : m.agrees.c;
      panel.set(data, `${cd.title}: ${m.seconds.toFixed(2)} s on the GPU; agreement with the theory (≥ 95% of points within 4 SE + finite-width allowance): ${ok ? 'yes' : 'no'}. ${cd.note ?? ''}`);
    });
    this.probe.results++;
    this.probe.seconds = m.seconds;
    this.probe.measured = { q: count(q), c: count(c) };
    this.probe.error = null;
    return true;
  }

  private png(): void {
    if (this.plot) downloadCanvas(this.plot.ctx.canvas, 'sgdscope-phase.png');
  }
}
