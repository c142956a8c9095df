/**
 * The dashboard's uPlot panels: each panel owns its chart, the columnar arrays it draws and a
 * dirty flag; Panels.frame() (called once per animation frame) calls setData only on the panels
 * whose data changed since the last frame. Data arrive as often as the worker sends them and are
 * all kept; drawing is what gets dropped when frames are slow.
 */
import uPlot from 'uplot';

export const COLORS = ['#1f4e8c', '#c0392b', '#27864a', '#8e44ad', '#d68910', '#17808a', '#7f8c8d', '#b03a6f'];

export type Data = uPlot.AlignedData;

export interface PanelSpec {
  id: string;
  title: string;
  /** One line under the title: what is plotted, units. */
  caption: string;
  opts: (width: number) => Omit<uPlot.Options, 'width' | 'height'>;
  empty: Data;
}

export class Panel {
  plot: uPlot;
  private data: Data;
  private dirty = false;
  /** Points drawn at least once (the test waits for every panel to have data). */
  hasData = false;
  readonly root: HTMLElement;
  readonly note: HTMLElement;
  readonly titleEl: HTMLElement;
  private readonly captionEl: HTMLElement;
  onClickIndex: ((idx: number, u: uPlot) => void) | null = null;

  constructor(
    readonly spec: PanelSpec,
    parent: HTMLElement,
    private width: number,
    private readonly height: number,
  ) {
    this.root = document.createElement('section');
    this.root.className = 'panel';
    this.root.id = `panel-${spec.id}`;
    const head = document.createElement('div');
    head.className = 'panel-head';
    this.titleEl = document.createElement('h3');
    this.titleEl.textContent = spec.title;
    const png = document.createElement('button');
    png.className = 'png';
    png.type = 'button';
    png.textContent = 'PNG';
    png.title = `download "${spec.title}" as a PNG image`;
    png.onclick = () => downloadPng(this);
    head.append(this.titleEl, png);
    const cap = document.createElement('div');
    cap.className = 'caption';
    cap.textContent = spec.caption;
    this.captionEl = cap;
    this.note = document.createElement('div');
    this.note.className = 'note';
    this.note.textContent = 'no data yet';
    const body = document.createElement('div');
    this.root.append(head, cap, body, this.note);
    parent.append(this.root);
    this.data = spec.empty;
    this.plot = this.make(body);
  }

  private make(body: HTMLElement): uPlot {
    const u = new uPlot({ ...this.spec.opts(this.width), width: this.width, height: this.height }, this.data, body);
    u.over.addEventListener('click', () => {
      const idx = u.cursor.idx;
      if (idx !== null && idx !== undefined && this.onClickIndex) this.onClickIndex(idx, u);
    });
    return u;
  }

  /** Replaces the data; drawn at the next frame. */
  set(data: Data, note?: string): void {
    this.data = data;
    this.dirty = true;
    if (note !== undefined) this.note.textContent = note;
  }

  /** New series (rebuilt at the next frame, in its place in the page). */
  rebuild(spec: PanelSpec, data: Data): void {
    (this as { spec: PanelSpec }).spec = spec;
    this.captionEl.textContent = spec.caption;
    this.rebuildPending = true;
    this.set(data);
  }

  private rebuildPending = false;

  resize(width: number): void {
    this.width = width;
    this.plot.setSize({ width, height: this.height });
  }

  /** Draws pending data; true if it drew. */
  frame(): boolean {
    if (!this.dirty) return false;
    this.dirty = false;
    if (this.rebuildPending) {
      this.rebuildPending = false;
      const body = this.plot.root.parentElement!;
      this.plot.destroy();
      this.plot = this.make(body);
    } else this.plot.setData(this.data);
    this.hasData = this.data[0].length > 0 && this.data.slice(1).some((s) => (s as ArrayLike<number | null>).length > 0);
    this.root.dataset.points = String(this.data[0].length);
    return true;
  }
}

/** The panel as a PNG: title, the chart's canvas (axes and series) and a legend line. */
export function downloadPng(p: Panel): void {
  const u = p.plot;
  const src = u.ctx.canvas;
  const pad = 10;
  const titleH = 28;
  const legendH = 22;
  const c = document.createElement('canvas');
  c.width = src.width + 2 * pad;
  c.height = src.height + titleH + legendH + 2 * pad;
  const g = c.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, c.width, c.height);
  g.fillStyle = '#222';
  g.font = '600 15px system-ui, sans-serif';
  g.fillText(p.titleEl.textContent ?? '', pad, pad + 16);
  g.drawImage(src, pad, pad + titleH);
  g.font = '12px system-ui, sans-serif';
  let x = pad;
  const y = pad + titleH + src.height + 15;
  u.series.forEach((s, i) => {
    if (i === 0 || !s.show || typeof s.label !== 'string') return;
    const stroke = typeof s.stroke === 'function' ? s.stroke(u, i) : s.stroke;
    g.fillStyle = typeof stroke === 'string' ? stroke : '#555';
    g.fillRect(x, y - 8, 12, 3);
    g.fillStyle = '#333';
    g.fillText(s.label, x + 16, y);
    x += 24 + g.measureText(s.label).width;
  });
  downloadCanvas(c, `sgdscope-${p.spec.id}.png`);
}

/** Saves a blob as a download named `name` (the object URL is released once the browser has it). */
export function downloadBlob(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 30_000);
}

/** A canvas as a PNG download. */
export function downloadCanvas(canvas: HTMLCanvasElement, name: string): void {
  canvas.toBlob((blob) => {
    if (blob) downloadBlob(blob, name);
  }, 'image/png');
}

// ---------- formatting ----------

export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(digits - 1) : v.toPrecision(digits);
}

const sci = (_u: uPlot, vals: number[]): string[] => vals.map((v) => (v === null ? '' : fmt(v, 2)));
const valueFmt = (_u: uPlot, v: number | null): string => (v === null ? '–' : fmt(v, 4));

function logScale(): uPlot.Scale {
  return { distr: 3 };
}

const points = (color: string, size = 6): Partial<uPlot.Series> => ({
  stroke: color,
  fill: color,
  width: 0,
  paths: () => null,
  points: { show: true, size, stroke: color, fill: color },
  value: valueFmt,
});

const line = (color: string, width = 2, dash?: number[]): Partial<uPlot.Series> => ({
  stroke: color,
  width,
  dash,
  points: { show: false },
  value: valueFmt,
  spanGaps: true,
});

function axis(label: string, opts: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return { label, labelSize: 18, size: 56, values: sci, ...opts };
}

const xAxis = (label: string, log = false): uPlot.Axis => ({ label, labelSize: 18, values: log ? sci : undefined, space: 60 });

/** Vertical markers drawn over a chart, e.g. D90 and D99 on the spectrum. */
export function markers(get: () => { x: number; label: string; color: string }[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const g = u.ctx;
        for (const m of get()) {
          const px = u.valToPos(m.x, 'x', true);
          if (!Number.isFinite(px) || px < u.bbox.left || px > u.bbox.left + u.bbox.width) continue;
          g.save();
          g.strokeStyle = m.color;
          g.setLineDash([5, 4]);
          g.lineWidth = 1.5 * devicePixelRatio;
          g.beginPath();
          g.moveTo(px, u.bbox.top);
          g.lineTo(px, u.bbox.top + u.bbox.height);
          g.stroke();
          g.setLineDash([]);
          g.fillStyle = m.color;
          g.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
          g.fillText(m.label, px + 4 * devicePixelRatio, u.bbox.top + 14 * devicePixelRatio);
          g.restore();
        }
      },
    },
  };
}

// ---------- the panels ----------

/** The training panels' curves: minibatch, full train set (points at evaluations), test set. */
const TRAINING_CURVES: { label: string; color: string; width: number; dots: boolean }[] = [
  { label: 'minibatch', color: '#8fb0d9', width: 1, dots: false },
  { label: 'train (full)', color: COLORS[0], width: 2, dots: true },
  { label: 'test', color: COLORS[1], width: 2, dots: true },
];

/**
 * The training panels' series after the step: one line per curve; an ensemble (replicas > 1)
 * draws each curve's mean with a min–max band (two thin edge series, left out of the legend).
 */
function trainingSeries(replicas: number): { series: uPlot.Series[]; bands: uPlot.Band[] } {
  const series: uPlot.Series[] = [];
  const bands: uPlot.Band[] = [];
  for (const c of TRAINING_CURVES) {
    series.push({ label: replicas > 1 ? `${c.label} (mean of ${replicas})` : c.label, ...line(c.color, c.width), ...(c.dots ? { points: { show: true, size: 5 } } : {}) });
    if (replicas === 1) continue;
    for (const edge of ['min', 'max']) series.push({ label: `${c.label} ${edge}`, ...line(c.color, 0.5), alpha: 0.7, class: 'band-edge' });
    // Series indices count the step (series 0): the max edge is series.length, the min edge the one before.
    bands.push({ series: [series.length, series.length - 1], fill: `${c.color}40` });
  }
  return { series, bands };
}

/** The training panels: loss and accuracy against the step (every minibatch, full sets at evaluations); an ensemble's with their bands. */
export function trainingPanelSpecs(replicas = 1): PanelSpec[] {
  const { series, bands } = trainingSeries(replicas);
  const empty: Data = [[], ...series.map(() => [])];
  const band = replicas > 1 ? { bands } : {};
  const across = replicas > 1 ? `; mean of ${replicas} replicas (seeds seed … seed + ${replicas - 1}), the band is their min–max` : '';
  return [
    {
      id: 'loss',
      title: 'Loss',
      caption: `cross-entropy (nats, log axis) against SGD step: every minibatch, and the full train / test sets at each evaluation${across}`,
      empty,
      opts: () => ({
        scales: { x: { time: false }, y: logScale() },
        axes: [xAxis('SGD step'), axis('loss (nats)')],
        series: [{ label: 'step', value: (_u, v) => (v === null ? '–' : String(v)) }, ...series],
        ...band,
      }),
    },
    {
      id: 'accuracy',
      title: 'Accuracy',
      caption: `fraction correct against SGD step: minibatch, full train set, test set${across}`,
      empty,
      opts: () => ({
        scales: { x: { time: false }, y: { range: (_u, lo, hi) => [Math.max(0, Math.min(lo, 0.8)), Math.min(1, Math.max(hi, 1))] } },
        axes: [xAxis('SGD step'), axis('accuracy')],
        series: [{ label: 'step' }, ...series],
        ...band,
      }),
    },
  ];
}

export { points, line, valueFmt };
