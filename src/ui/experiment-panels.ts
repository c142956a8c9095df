/**
 * "Curvature and generalisation" on the dashboard (issue 6): one card per experiment — the
 * Hessian of the network being trained, an (lr, B) sweep, the batch-size increase, activity–weight
 * duality, the SGD toy landscape — each with its small form (validated inline with the allowed range, as the training
 * settings are), run and export buttons, progress, a summary of the findings and its figures:
 * the same ChartData / HeatmapData the CLI writes to charts.json and draws in report.html. A
 * last card opens charts.json files of CLI run folders (`sgdscope sweep`, `reproduce awd`, …) and
 * draws them the same way, so a long headless run can be looked at here.
 *
 * The experiments run in the engine worker on its side device (src/experiments/dashboard/experiment-queue.ts);
 * figures are drawn from the page's frame loop like every other panel.
 */
import uPlot from 'uplot';
import { heatmapPlot } from '../analysis/report/heatmap-plot.js';
import type { ChartData, HeatmapData } from '../analysis/report/chart-data.ts';
import { Panel, downloadCanvas } from './charts.ts';
import { chartDataColumns, chartDataSpec, pointsDrawn } from './chart-data-panel.ts';
import {
  EXPERIMENT_FIELDS,
  EXPERIMENT_KINDS,
  formatValue,
  parseExperimentField,
  validateExperiment,
  type ExperimentContext,
  type ExperimentKind,
  type ExperimentValues,
} from '../experiments/dashboard-settings.ts';
import type { ExperimentOutcome } from '../experiments/dashboard-runner.ts';
import type { FromWorker, ToWorker } from '../experiments/dashboard/protocol.ts';
import type { RunSpec } from '../experiments/dashboard/run-settings.ts';

export interface ExperimentDeps {
  send(m: ToWorker): void;
  /** The dashboard's settings as a run spec (the sweep and AWD use its model and data), or why not. */
  runSpec(): { spec: RunSpec; files?: File[] } | { error: string };
  context(): ExperimentContext;
}

/** Per experiment, for tests: what ran and what each figure holds. */
export interface ExperimentProbe {
  state: 'idle' | 'running' | 'done' | 'error';
  requests: number;
  results: number;
  progress: string;
  error: string | null;
  outcome: Pick<ExperimentOutcome, 'numbers' | 'summary' | 'seconds' | 'title'> | null;
  /** Figure id → points drawn (heat maps: cells with a value). */
  figures: Record<string, number>;
}

const CARDS: Record<ExperimentKind, { title: string; caption: string; button: string }> = {
  hessian: {
    title: 'Hessian of the network being trained',
    caption: 'exact Hessian–vector products (R-operator) on the GPU: top eigenvalues by Lanczos, the SLQ spectral density, the trace, and the gradient-noise covariance C against H in its eigenbasis (Fisher ≈ Hessian near a minimum; C_ii ∝ H_ii^γ). Uses the current weights when paused or done, else the last epoch\'s snapshot.',
    button: 'compute Hessian',
  },
  sweep: {
    title: 'Sweep: learning rate × batch size',
    caption: 'trains the dashboard\'s model for every (lr, B, seed): sharpness spectrum against lr (bounded by 2/lr), test accuracy against the noise scale g = lr(N/B − 1) (Smith & Le: curves collapse onto g), and the (lr, B) phase diagram with its divergence boundary.',
    button: 'run sweep',
  },
  'batch-increase': {
    title: 'Increase the batch size instead of decaying the lr (Smith et al.)',
    caption: 'trains the dashboard\'s model (its seed and sampling, momentum 0) three ways from the same start: (a) lr divided by f at each milestone, (b) B multiplied by f instead — the same noise scale g = lr(N/B − 1) — and (c) both constant; test accuracy against epochs (a and b overlap) and against parameter updates (b needs fewer).',
    button: 'run schedules',
  },
  awd: {
    title: 'Activity–weight duality (Feng, Zhang & Tu)',
    caption: 'the authors\' 784-30-30-10 setting, scaled: each test sample paired with its nearest training sample of the same class, minimal dual weights ΔW* of layer 1, the gap decomposed along the Hessian eigenvectors into sharpness and size factors; varied along lr, B and weight decay.',
    button: 'run AWD',
  },
  toy: {
    title: 'The SGD toy landscape (Yang, Tang & Tu)',
    caption: 'many SGD walkers on a valley of degenerate minima L = λ(x)y²/2 whose sharpness λ grows along x: their density against exp(−L_eff/Δ), the drift to the flat end, and the noise level beyond which they escape.',
    button: 'run walkers',
  },
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

/** A heat map in a panel of its own (title, colour legend from heatmap-plot.js, PNG). */
class HeatmapPanel {
  readonly root: HTMLElement;
  /** Cells with a value. */
  readonly points: number;
  private plot: uPlot | null = null;
  private readonly body: HTMLElement;

  constructor(
    private readonly h: HeatmapData,
    parent: HTMLElement,
    private width: number,
  ) {
    const png = el('button', { className: 'png', type: 'button', textContent: 'PNG', title: `download "${h.title}" as a PNG image` });
    png.onclick = () => this.png();
    this.body = el('div');
    this.root = el('section', { className: 'panel', id: `panel-${h.id}` }, el('div', { className: 'panel-head' }, el('h3', { textContent: h.title }), png), el('div', { className: 'caption', textContent: h.zLabel }), this.body, el('div', { className: 'note', textContent: h.note ?? '' }));
    this.points = h.z.flat().filter((v) => v !== null).length;
    this.root.dataset.points = String(this.points);
    parent.append(this.root);
    this.draw();
  }

  resize(width: number): void {
    this.width = width;
    this.draw();
  }

  private draw(): void {
    this.plot?.destroy();
    this.body.textContent = '';
    // The panel's heading carries the title; the plot's own would repeat it.
    this.plot = heatmapPlot(uPlot, this.body, { ...this.h, title: '' }, { width: this.width, height: 300 });
  }

  private png(): void {
    if (this.plot) downloadCanvas(this.plot.ctx.canvas, `sgdscope-${this.h.id}.png`);
  }

  destroy(): void {
    this.plot?.destroy();
    this.root.remove();
  }
}

/** The figures of one result: chart panels and heat maps, replaced as a whole by the next result. */
class FigureGroup {
  private charts: Panel[] = [];
  private maps: HeatmapPanel[] = [];
  /** display: contents — the figures flow in the page's panel grid right after their card. */
  readonly root = el('div', { className: 'figures' });

  constructor(
    private readonly prefix: string,
    private width: number,
  ) {}

  show(charts: ChartData[], heatmaps: HeatmapData[]): Record<string, number> {
    this.clear();
    const figures: Record<string, number> = {};
    for (const h of heatmaps) {
      const m = new HeatmapPanel({ ...h, id: `${this.prefix}-${h.id}` }, this.root, this.width);
      this.maps.push(m);
      figures[h.id] = m.points;
    }
    for (const c of charts) {
      const p = new Panel(chartDataSpec(c, `${this.prefix}-${c.id}`), this.root, this.width, 240);
      const cols = chartDataColumns(c);
      p.set(cols, c.note ?? '');
      this.charts.push(p);
      figures[c.id] = pointsDrawn(cols);
    }
    return figures;
  }

  clear(): void {
    for (const p of this.charts) {
      p.plot.destroy();
      p.root.remove();
    }
    for (const m of this.maps) m.destroy();
    this.charts = [];
    this.maps = [];
  }

  frame(): number {
    return this.charts.reduce((n, p) => n + (p.frame() ? 1 : 0), 0);
  }

  resize(width: number): void {
    this.width = width;
    for (const p of this.charts) p.resize(width);
    for (const m of this.maps) m.resize(width);
  }
}

class ExperimentCard {
  readonly probe: ExperimentProbe = { state: 'idle', requests: 0, results: 0, progress: '', error: null, outcome: null, figures: {} };
  readonly figures: FigureGroup;
  private readonly inputs = new Map<string, HTMLInputElement>();
  private readonly errs = new Map<string, HTMLElement>();
  private readonly runBtn: HTMLButtonElement;
  private readonly exportBtn: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly summary: HTMLElement;
  lastId = 0;

  constructor(
    readonly kind: ExperimentKind,
    parent: HTMLElement,
    private readonly deps: ExperimentDeps,
    width: number,
    private readonly nextId: () => number,
  ) {
    const c = CARDS[kind];
    const form = el('div', { className: 'exp-form' });
    for (const f of EXPERIMENT_FIELDS[kind]) {
      const id = `exp-${kind}-${f.key}`;
      const input = el('input', { id, type: f.type === 'bool' ? 'checkbox' : 'text', title: f.hint });
      if (f.type === 'bool') input.checked = f.default as boolean;
      else input.value = formatValue(f.default);
      input.addEventListener('input', () => this.validate());
      input.addEventListener('change', () => this.validate());
      const err = el('small', { className: 'err', id: `err-${id}` });
      form.append(el('div', { className: 'field' }, el('label', { htmlFor: id, textContent: f.label, title: f.hint }), input, err));
      this.inputs.set(f.key, input);
      this.errs.set(f.key, err);
    }
    this.runBtn = el('button', { id: `exp-${kind}-run`, type: 'button', textContent: c.button });
    this.runBtn.onclick = () => this.run();
    this.exportBtn = el('button', { id: `exp-${kind}-export`, type: 'button', textContent: 'export run folder', disabled: true, title: 'the run folder of the CLI command (npy, CSV, JSON, report.html) as a .zip' });
    this.exportBtn.onclick = () => deps.send({ type: 'experiment-export', kind });
    this.status = el('div', { className: 'note', id: `exp-${kind}-status`, textContent: 'not run yet' });
    this.summary = el('ul', { className: 'exp-summary', id: `exp-${kind}-summary` });
    parent.append(el('section', { className: 'panel exp-card', id: `exp-${kind}` }, el('div', { className: 'panel-head' }, el('h3', { textContent: c.title })), el('div', { className: 'caption', textContent: c.caption }), form, el('div', { className: 'buttons' }, this.runBtn, this.exportBtn), this.status, this.summary));
    this.figures = new FigureGroup(`exp-${kind}`, width);
    parent.append(this.figures.root);
  }

  /** Parses the form; marks invalid fields with their message; the values, or null. */
  validate(): ExperimentValues | null {
    const ctx = this.deps.context();
    const values: ExperimentValues = {};
    let ok = true;
    for (const f of EXPERIMENT_FIELDS[this.kind]) {
      const input = this.inputs.get(f.key)!;
      const err = this.errs.get(f.key)!;
      try {
        values[f.key] = parseExperimentField(this.kind, f.key, f.type === 'bool' ? String(input.checked) : input.value, ctx);
        err.textContent = '';
        input.removeAttribute('aria-invalid');
      } catch (e) {
        err.textContent = (e as Error).message;
        input.setAttribute('aria-invalid', 'true');
        ok = false;
      }
    }
    if (ok) {
      // The rules between fields (lr·λ_max < 2, B ≤ train-size), once each field is valid alone.
      for (const [key, msg] of Object.entries(validateExperiment({ kind: this.kind, values }, ctx))) {
        const err = this.errs.get(key);
        if (err) err.textContent = msg;
        this.inputs.get(key)?.setAttribute('aria-invalid', 'true');
        ok = false;
      }
    }
    this.runBtn.disabled = !ok || this.probe.state === 'running';
    return ok ? values : null;
  }

  run(): void {
    const values = this.validate();
    if (!values) return;
    const rs = this.deps.runSpec();
    if ('error' in rs) {
      this.status.textContent = `fix the dashboard's settings first: ${rs.error}`;
      return;
    }
    this.lastId = this.nextId();
    this.probe.state = 'running';
    this.probe.requests++;
    this.probe.error = null;
    this.runBtn.disabled = true;
    this.status.textContent = 'starting…';
    this.deps.send({ type: 'experiment', id: this.lastId, request: { kind: this.kind, values }, spec: rs.spec, files: rs.files });
  }

  onProgress(text: string): void {
    this.probe.progress = text;
    this.status.textContent = text;
  }

  onResult(o: ExperimentOutcome): void {
    this.probe.state = 'done';
    this.probe.results++;
    this.probe.outcome = { numbers: o.numbers, summary: o.summary, seconds: o.seconds, title: o.title };
    this.probe.figures = this.figures.show(o.charts, o.heatmaps);
    this.status.textContent = `${o.title}: done in ${o.seconds.toFixed(1)} s on the side device`;
    this.summary.replaceChildren(...o.summary.map((s) => el('li', { textContent: s })));
    this.exportBtn.disabled = false;
    this.validate();
  }

  onError(message: string): void {
    this.probe.state = 'error';
    this.probe.error = message;
    this.status.textContent = `failed: ${message}`;
    this.validate();
  }
}

/** charts.json of CLI run folders, drawn as the dashboard draws its own figures. */
class RunFolderViewer {
  readonly figures: FigureGroup;
  readonly probe: { files: string[]; figures: Record<string, number>; error: string | null } = { files: [], figures: {}, error: null };
  private readonly status: HTMLElement;

  constructor(parent: HTMLElement, width: number) {
    const input = el('input', { id: 'open-charts', type: 'file', multiple: true, accept: '.json,application/json' });
    input.onchange = () => void this.open([...(input.files ?? [])]);
    this.status = el('div', { className: 'note', id: 'open-charts-status', textContent: 'no file opened' });
    parent.append(
      el(
        'section',
        { className: 'panel exp-card', id: 'exp-open' },
        el('div', { className: 'panel-head' }, el('h3', { textContent: 'Open a run folder' })),
        el('div', { className: 'caption', textContent: 'charts.json from the run folder of `sgdscope sweep`, `hessian`, `reproduce awd`, `reproduce toy-landscape` or `reproduce batch-increase` (e.g. a full grid run headless on a real GPU): its figures are drawn below.' }),
        input,
        this.status,
      ),
    );
    this.figures = new FigureGroup('open', width);
    parent.append(this.figures.root);
  }

  async open(files: File[]): Promise<void> {
    const charts: ChartData[] = [];
    const maps: HeatmapData[] = [];
    try {
      for (const f of files) {
        // Figures of several files may share ids: prefix each file's with its position.
        const parsed = parseChartsJson(await f.text(), f.name);
        const prefix = `f${files.indexOf(f)}`;
        charts.push(...parsed.charts.map((c) => ({ ...c, id: `${prefix}-${c.id}` })));
        maps.push(...parsed.heatmaps.map((h) => ({ ...h, id: `${prefix}-${h.id}` })));
      }
      this.probe.files = files.map((f) => f.name);
      this.probe.figures = this.figures.show(charts, maps);
      this.probe.error = null;
      this.status.textContent = `${files.map((f) => f.name).join(', ')}: ${charts.length} charts, ${maps.length} heat maps`;
    } catch (e) {
      this.probe.error = (e as Error).message;
      this.status.textContent = `cannot draw: ${(e as Error).message}`;
    }
  }
}

/** A charts.json: a list of ChartData (and HeatmapData, told apart by their z grid); throws naming the file and entry. */
export function parseChartsJson(text: string, name: string): { charts: ChartData[]; heatmaps: HeatmapData[] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${name}: not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(data)) throw new Error(`${name}: expected a list of charts (the charts.json of a run folder), got ${typeof data}`);
  const charts: ChartData[] = [];
  const heatmaps: HeatmapData[] = [];
  data.forEach((c: Record<string, unknown>, i) => {
    const where = `${name}[${i}]`;
    if (!c || typeof c !== 'object' || typeof c.id !== 'string' || !Array.isArray(c.x)) throw new Error(`${where}: not a chart (needs id and x)`);
    if (Array.isArray(c.z)) heatmaps.push(c as unknown as HeatmapData);
    else if (Array.isArray(c.series) && c.series.every((s: { y?: unknown }) => Array.isArray(s.y) && s.y.length === (c.x as unknown[]).length)) charts.push(c as unknown as ChartData);
    else throw new Error(`${where} (${c.id}): each series needs a y column as long as x`);
  });
  return { charts, heatmaps };
}

export class ExperimentPanels {
  readonly cards = new Map<ExperimentKind, ExperimentCard>();
  readonly viewer: RunFolderViewer;
  readonly probe: Record<ExperimentKind, ExperimentProbe> & { open: RunFolderViewer['probe'] };
  private id = 0;

  constructor(container: HTMLElement, deps: ExperimentDeps, width: number) {
    container.append(el('h2', { className: 'section-title', id: 'experiments', textContent: 'Curvature and generalisation' }));
    for (const kind of EXPERIMENT_KINDS) this.cards.set(kind, new ExperimentCard(kind, container, deps, width, () => ++this.id));
    this.viewer = new RunFolderViewer(container, width);
    this.probe = Object.assign(Object.fromEntries([...this.cards].map(([k, c]) => [k, c.probe])) as Record<ExperimentKind, ExperimentProbe>, { open: this.viewer.probe });
  }

  /** Re-checks every form (the ranges depend on the dashboard's model and data). */
  validate(): void {
    for (const c of this.cards.values()) c.validate();
  }

  onMessage(m: FromWorker): boolean {
    if (m.type === 'experiment-progress' || m.type === 'experiment-error') {
      const c = this.cards.get(m.kind);
      if (c && m.id === c.lastId) {
        if (m.type === 'experiment-progress') c.onProgress(m.text);
        else c.onError(m.message);
      }
      return true;
    }
    if (m.type !== 'experiment') return false;
    const c = this.cards.get(m.outcome.kind);
    if (c && m.id === c.lastId) c.onResult(m.outcome);
    return true;
  }

  frame(): number {
    let n = this.viewer.figures.frame();
    for (const c of this.cards.values()) n += c.figures.frame();
    return n;
  }

  resize(width: number): void {
    for (const c of this.cards.values()) c.figures.resize(width);
    this.viewer.figures.resize(width);
  }
}
