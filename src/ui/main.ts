/**
 * The dashboard page (main thread): settings form ⇄ URL, the engine worker, and the uPlot panels.
 * The main thread never touches the GPU: the worker trains and analyses and posts small columnar
 * messages; this file stores every number it receives and redraws at most once per animation frame
 * (only the panels whose data changed), so a slow frame drops a drawing, never data, and never
 * delays the worker.
 */
import 'uplot/dist/uPlot.min.css';
import { Panel, panelSpecs, COLORS, downloadBlob, fmt, line, points, type Data, type DashboardMarks, type PanelSpec } from './charts.ts';
import {
  DEFAULT_SETTINGS,
  KNOWN_TRAIN_SIZE,
  SETTING_KEYS,
  formatField,
  parseField,
  runSpecOf,
  settingsFromQuery,
  settingsToQuery,
  validateSettings,
  type DashSettings,
  type FieldErrors,
  type SettingKey,
} from './settings.ts';
import type { FromWorker, LabFrame, MlfCurves, RunState, ToWorker } from './protocol.ts';
import { PropagationPanels, type PropagationProbe } from './propagation.ts';
import { ExperimentPanels } from './experiment-panels.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const MLF_BATCHES = 20;

/** Numbers for tests and measurements (frame rate while training, what each panel holds). */
interface PageProbe {
  fps: number;
  frames: number;
  /** Longest gap between two animation frames in the last second, ms. */
  worstFrameMs: number;
  draws: number;
  panels: Record<string, number>;
  lastLab: { kind: string; d90: number | null; d99: number | null; psi: number | null; windowLast: number } | null;
  testAccuracy: number | null;
  stepsPerSecond: number | null;
  state: RunState;
  /** Wall clock of the chunks received (page clock, ms) and the steps they ended at. */
  chunks: { count: number; firstAt: number; firstStep: number; lastAt: number; lastStep: number };
  /** Live refreshes received and their wall time (sum of stages, ms). */
  liveFrames: number;
  liveMs: number[];
  /** The signal-propagation panels (phase diagram, measured q^l and c^l). */
  propagation: PropagationProbe | null;
  /** The curvature-and-generalisation experiments (Hessian, sweep, AWD, toy landscape) and the run-folder viewer. */
  experiments: ExperimentPanels['probe'] | null;
}
const probe: PageProbe = {
  fps: 0,
  frames: 0,
  worstFrameMs: 0,
  draws: 0,
  panels: {},
  lastLab: null,
  testAccuracy: null,
  stepsPerSecond: null,
  state: 'idle',
  chunks: { count: 0, firstAt: 0, firstStep: 0, lastAt: 0, lastStep: 0 },
  liveFrames: 0,
  liveMs: [],
  propagation: null,
  experiments: null,
};
(window as unknown as { sgdscope: PageProbe }).sgdscope = probe;

async function main(): Promise<void> {
  if (!('gpu' in navigator) || !navigator.gpu) return noWebGpu('This browser does not offer WebGPU (navigator.gpu is missing).');
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await navigator.gpu.requestAdapter();
  } catch (e) {
    return noWebGpu(`navigator.gpu.requestAdapter() failed: ${(e as Error).message}`);
  }
  if (!adapter) {
    return noWebGpu('This browser has WebGPU, but it offered no GPU adapter: the GPU or its driver is blocked (see chrome://gpu), or WebGPU is switched off.');
  }
  setup();
}

function noWebGpu(why: string): void {
  $('nowebgpu').hidden = false;
  $('nowebgpu-why').textContent = why;
  $('app').hidden = true;
  $('status').textContent = 'WebGPU is not available: nothing can run here (see below).';
  document.body.dataset.state = 'error';
}

function setup(): void {
  // ---------------- settings ⇄ form ⇄ URL ----------------
  const { settings: fromUrl, problems } = settingsFromQuery(location.search);
  const autostart = new URLSearchParams(location.search).get('autostart') === '1';
  const inputs = new Map<SettingKey, HTMLInputElement | HTMLSelectElement>();
  for (const k of SETTING_KEYS) inputs.set(k, $(k));
  const writeForm = (s: DashSettings): void => {
    for (const k of SETTING_KEYS) {
      const el = inputs.get(k)!;
      if (el instanceof HTMLInputElement && el.type === 'checkbox') el.checked = s[k] as boolean;
      else el.value = formatField(k, s[k]);
    }
  };
  writeForm(fromUrl);
  let files: File[] = [];
  let errors: FieldErrors = {};
  let current: DashSettings = fromUrl;

  const readForm = (): { s: DashSettings; syntax: FieldErrors } => {
    const s: DashSettings = { ...DEFAULT_SETTINGS };
    const syntax: FieldErrors = {};
    for (const k of SETTING_KEYS) {
      const el = inputs.get(k)!;
      try {
        const raw = el instanceof HTMLInputElement && el.type === 'checkbox' ? String(el.checked) : el.value;
        (s as unknown as Record<string, unknown>)[k] = parseField(k, raw);
      } catch (e) {
        syntax[k] = (e as Error).message;
        (s as unknown as Record<string, unknown>)[k] = DEFAULT_SETTINGS[k];
      }
    }
    return { s, syntax };
  };

  /** Set once the experiment cards exist: their ranges follow the model and dataset chosen here. */
  let revalidateExperiments = (): void => {};
  const validate = (): void => {
    const { s, syntax } = readForm();
    current = s;
    errors = { ...validateSettings(s), ...syntax };
    for (const k of SETTING_KEYS) {
      const el = inputs.get(k)!;
      const msg = errors[k] ?? '';
      $(`err-${k}`).textContent = msg;
      el.setAttribute('aria-invalid', msg ? 'true' : 'false');
    }
    const normal = s.init === 'normal';
    (inputs.get('sigma-w') as HTMLInputElement).disabled = !normal;
    (inputs.get('sigma-b') as HTMLInputElement).disabled = !normal;
    $('files-field').hidden = s.dataset === 'mnist10k';
    const fileMsg = s.dataset === 'idx' && files.length === 0 ? 'choose the four IDX files' : '';
    $('err-files').textContent = fileMsg;
    $('files-hint').textContent =
      s.dataset === 'fashion'
        ? 'optional: the four Fashion-MNIST IDX files; without them the page asks its server for /usr/share/datasets/fashion-mnist (npm run dev)'
        : 'the four files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (plain or .gz)';
    const q = settingsToQuery(s);
    history.replaceState(null, '', q ? `?${q}` : location.pathname);
    updateButtons(fileMsg !== '');
    revalidateExperiments();
  };

  // ---------------- panels ----------------
  const marks: DashboardMarks = { d90: null, d99: null, selected: 2 };
  const container = $('panels');
  const widthOf = (): number => {
    const cols = Math.max(1, Math.floor((container.clientWidth + 10) / 470));
    return Math.floor((container.clientWidth - 10 * (cols - 1)) / cols) - 18;
  };
  const specs = panelSpecs(marks, MLF_BATCHES);
  const panels = new Map<string, Panel>();
  for (const spec of specs) panels.set(spec.id, new Panel(spec, container, widthOf(), 230));
  const P = (id: string): Panel => panels.get(id)!;

  // Choosing the MLF direction: a click on a spectrum point.
  const select = (pc: number): void => {
    if (!(pc >= 1)) return;
    marks.selected = pc;
    worker.postMessage({ type: 'select', pc } satisfies ToWorker);
    P('mlf').note.textContent = `computing the ensemble along PC${pc}…`;
    P('spectrum').plot.redraw();
    P('flatness').plot.redraw();
  };
  P('spectrum').onClickIndex = (idx, u) => select(Number(u.data[0][idx]));
  P('flatness').onClickIndex = (idx, u) => select(Number(u.data[0][idx]));
  P('temperature').onClickIndex = (idx, u) => select(Number(u.data[0][idx]));

  // ---------------- data ----------------
  const steps: number[] = [];
  const mbLoss: (number | null)[] = [];
  const mbAcc: (number | null)[] = [];
  const trLoss: (number | null)[] = [];
  const teLoss: (number | null)[] = [];
  const trAcc: (number | null)[] = [];
  const teAcc: (number | null)[] = [];
  /** Live T(t) points per PC: loss and T at the refreshes. */
  let tPoints = new Map<number, { loss: number; T: number; step: number }[]>();
  let tSeries: number[] = [];
  let timingLabels: string[] = [];
  const timingRows: { step: number; ms: Map<string, number>; wall: number | null }[] = [];
  let lastRate = 0;

  const clearData = (): void => {
    for (const a of [steps, mbLoss, mbAcc, trLoss, teLoss, trAcc, teAcc]) a.length = 0;
    tPoints = new Map();
    timingRows.length = 0;
    marks.d90 = marks.d99 = null;
    for (const p of panels.values()) p.note.textContent = 'no data yet';
    for (const spec of specs) P(spec.id).set(spec.empty);
    tSeries = [];
    timingLabels = [];
    P('temperature-loss').rebuild(specs.find((s) => s.id === 'temperature-loss')!, [[]]);
    P('timings').rebuild(specs.find((s) => s.id === 'timings')!, [[]]);
    for (const id of ['test-acc', 'd90', 'd99', 'psi', 'fit-r', 'aniso', 'window', 'epoch', 'rate']) $(id).textContent = '–';
    $('analysis-kind').textContent = '';
    probe.lastLab = null;
    probe.testAccuracy = null;
    probe.chunks = { count: 0, firstAt: 0, firstStep: 0, lastAt: 0, lastStep: 0 };
    probe.liveFrames = 0;
    probe.liveMs = [];
  };

  const truncateTo = (step: number): void => {
    const keep = steps.findIndex((s) => s > step);
    if (keep >= 0) for (const a of [steps, mbLoss, mbAcc, trLoss, teLoss, trAcc, teAcc]) a.length = keep;
    drawTraining();
  };

  const drawTraining = (): void => {
    P('loss').set([steps, mbLoss, trLoss, teLoss] as Data);
    P('accuracy').set([steps, mbAcc, trAcc, teAcc] as Data);
  };

  const onChunk = (m: Extract<FromWorker, { type: 'chunk' }>): void => {
    if (steps.length && m.firstStep <= steps[steps.length - 1]) truncateTo(m.firstStep - 1);
    for (let i = 0; i < m.losses.length; i++) {
      steps.push(m.firstStep + i);
      mbLoss.push(m.losses[i]);
      mbAcc.push(m.accuracies[i]);
      trLoss.push(null);
      teLoss.push(null);
      trAcc.push(null);
      teAcc.push(null);
    }
    if (m.eval) {
      const i = m.eval.step - steps[0];
      trLoss[i] = m.eval.trainLoss;
      teLoss[i] = m.eval.testLoss;
      trAcc[i] = m.eval.trainAccuracy;
      teAcc[i] = m.eval.testAccuracy;
      $('test-acc').textContent = (100 * m.eval.testAccuracy).toFixed(2);
      probe.testAccuracy = m.eval.testAccuracy;
      P('accuracy').note.textContent = `step ${m.eval.step}: train ${(100 * m.eval.trainAccuracy).toFixed(2)}%, test ${(100 * m.eval.testAccuracy).toFixed(2)}%`;
      P('loss').note.textContent = `step ${m.eval.step}: train loss ${fmt(m.eval.trainLoss, 4)}, test loss ${fmt(m.eval.testLoss, 4)} nats`;
    }
    const c = probe.chunks;
    if (c.count++ === 0) {
      c.firstAt = performance.now();
      c.firstStep = m.step;
    }
    c.lastAt = performance.now();
    c.lastStep = m.step;
    $('step').textContent = String(m.step);
    $('epoch').textContent = m.epoch.toFixed(2);
    lastRate = m.stepsPerSecond;
    $('rate').textContent = m.stepsPerSecond.toFixed(0);
    probe.stepsPerSecond = m.stepsPerSecond;
    drawTraining();
  };

  const byF = (F: Float64Array, other: (j: number) => number, skipFirst: boolean): { x: number[]; y: (number | null)[]; pc1: (number | null)[] } => {
    const idx = [...F.keys()].filter((j) => Number.isFinite(F[j]) && F[j] > 0).sort((a, b) => F[a] - F[b]);
    return {
      x: idx.map((j) => F[j]),
      y: idx.map((j) => (skipFirst && j === 0 ? null : other(j))),
      pc1: idx.map((j) => (j === 0 ? other(j) : null)),
    };
  };

  const onLab = (f: LabFrame): void => {
    const live = f.kind === 'live';
    const i = Array.from({ length: f.k }, (_, j) => j + 1);
    marks.d90 = f.d90;
    marks.d99 = f.d99;
    const dText = (d: number | null): string => (d === null ? `>${f.k}` : String(d));
    $('d90').textContent = dText(f.d90);
    $('d99').textContent = dText(f.d99);
    $('analysis-kind').textContent = live ? `(live, ${f.rows} rows)` : '(final)';
    $('window').textContent = `${f.windowFirst}–${f.windowLast}`;
    const where = live
      ? `live: steps ${f.windowFirst}–${f.windowLast}, every ${f.stride}${f.stride > 1 ? 'th' : ''} step (${f.rows} rows), ${f.samples} training samples`
      : `final: every step ${f.windowFirst}–${f.windowLast} (T = ${f.rows}), all ${f.samples} training samples`;
    P('spectrum').set([i, Array.from(f.variances), Array.from(f.cumulative)], `${where}; total variance ${fmt(f.total)}, D90 ${dText(f.d90)}, D99 ${dText(f.d99)} (PC1 left out: ${dText(f.d90NoPc1)}, ${dText(f.d99NoPc1)}); |cos(PC1, w*)| ${fmt(f.pc1VsMeanWeight)}`);
    const dirs = Array.from(f.dirs);
    const F = f.F;
    const reached = [...F].filter(Number.isFinite).length;
    P('flatness').set([dirs, Array.from(F, (v) => (Number.isFinite(v) ? v : null))], `${reached}/${dirs.length} directions reached k·L0 on both sides; L(w*) = ${fmt(f.L0, 4)} nats`);

    const vf = byF(F, (j) => f.variances[f.dirs[j] - 1], true);
    const fit = f.fit;
    const fitLine = vf.x.map((x) => (fit ? Math.exp(fit.intercept) * x ** -fit.psi : null));
    P('variance-flatness').set([vf.x, vf.y, vf.pc1, fitLine], fit ? `ψ = ${fit.psi.toFixed(2)} ± ${fit.psiSE.toFixed(2)}, r = ${fit.r.toFixed(3)} over ${fit.n} PCs (Feng & Tu: ψ ≈ 4 on MNIST; equilibrium would give −2)` : `no fit: ${f.fitError ?? 'too few points'}`);
    $('psi').textContent = fit ? `${fit.psi.toFixed(2)} ± ${fit.psiSE.toFixed(2)}` : '–';
    $('fit-r').textContent = fit ? fit.r.toFixed(3) : '–';

    P('temperature').set([dirs, Array.from(f.T, (v) => (Number.isFinite(v) && v > 0 ? v : null))], f.anisotropy ? `max/min ${fmt(f.anisotropy.maxOverMin)}; Spearman(T, F) ${fmt(f.anisotropy.spearman)}` : '');
    $('aniso').textContent = f.anisotropy ? fmt(f.anisotropy.maxOverMin) : '–';
    const tf = byF(F, (j) => f.T[j], false);
    const tFit = f.tFit;
    P('temperature-flatness').set([tf.x, tf.y, tf.x.map((x) => (tFit ? Math.exp(tFit.intercept) * x ** -tFit.exponent : null))], tFit ? `T ∝ F^(−${tFit.exponent.toFixed(2)}), r = ${tFit.r.toFixed(3)}` : 'no fit yet');

    if (f.tPoint) {
      const tp = f.tPoint;
      tp.pcs.forEach((pc, j) => {
        const list = tPoints.get(pc) ?? [];
        list.push({ loss: tp.loss, T: tp.T[j], step: tp.step });
        tPoints.set(pc, list);
      });
      drawTLive();
    }
    if (f.tCurve) drawTCurve(f.tCurve);
    if (f.mlf) onMlf(f.mlf);
    if (live) {
      probe.liveFrames++;
      probe.liveMs.push(Object.entries(f.ms).filter(([k]) => !/Rounds|Probes/.test(k)).reduce((a, [, v]) => a + v, 0));
    }
    probe.lastLab = { kind: f.kind, d90: f.d90, d99: f.d99, psi: fit?.psi ?? null, windowLast: f.windowLast };
    const ms = Object.entries(f.ms)
      .filter(([k]) => !/Rounds|Probes/.test(k))
      .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`)
      .join(', ');
    $('status').textContent = live ? `training; live analysis of steps ${f.windowFirst}–${f.windowLast} took ${ms}` : `final analysis: ${ms}`;
    if (!live) $('status').dataset.final = '1';
  };

  const rebuildSeries = (id: string, labels: string[], make: (label: string, j: number) => Partial<import('uplot').Series>): PanelSpec => {
    const base = specs.find((s) => s.id === id)!;
    return {
      ...base,
      opts: (w) => {
        const o = base.opts(w);
        return { ...o, series: [o.series[0], ...labels.map((l, j) => ({ label: l, ...make(l, j) }))] };
      },
    };
  };

  const drawTLive = (): void => {
    const pcs = [...tPoints.keys()].sort((a, b) => a - b);
    const all = pcs.flatMap((pc) => tPoints.get(pc)!.map((p) => p.loss));
    const xs = [...new Set(all)].sort((a, b) => a - b);
    const cols = pcs.map((pc) => {
      const m = new Map(tPoints.get(pc)!.map((p) => [p.loss, p.T]));
      return xs.map((x) => m.get(x) ?? null);
    });
    if (pcs.join() !== tSeries.join()) {
      tSeries = pcs;
      P('temperature-loss').rebuild(rebuildSeries('temperature-loss', pcs.map((pc) => `T PC${pc}`), (_l, j) => ({ ...points(COLORS[j % COLORS.length], 6) })), [xs, ...cols]);
    }
    const n = tPoints.get(pcs[0])?.length ?? 0;
    P('temperature-loss').set([xs, ...cols], `live: ${n} refreshes, each along the principal directions of its own window (the final analysis recomputes T(t) at every epoch's weights along the final ones)`);
  };

  const drawTCurve = (c: NonNullable<LabFrame['tCurve']>): void => {
    const pcs = Array.from(c.pcs);
    const idx = [...c.loss.keys()].filter((j) => c.loss[j] > 0).sort((a, b) => c.loss[a] - c.loss[b]);
    const xs = idx.map((j) => c.loss[j]);
    const cols = c.T.map((T) => idx.map((j) => (T[j] > 0 ? T[j] : null)));
    tSeries = pcs;
    P('temperature-loss').rebuild(rebuildSeries('temperature-loss', pcs.map((pc) => `T PC${pc}`), (_l, j) => ({ ...line(COLORS[j % COLORS.length], 1.5), points: { show: true, size: 5 } })), [xs, ...cols]);
    P('temperature-loss').set([xs, ...cols], `final: ${xs.length} checkpoints (one per epoch) along the final principal directions`);
  };

  const onMlf = (m: MlfCurves): void => {
    marks.selected = m.pc;
    const data: (number | null)[][] = [Array.from(m.theta), Array.from(m.full)];
    for (let j = 0; j < MLF_BATCHES; j++) data.push(m.mini[j] ? Array.from(m.mini[j]) : m.theta.length ? Array.from(m.theta, () => null) : []);
    P('mlf').set(data as Data, `PC${m.pc}: ${m.mini.length} minibatches of the training set; click a point of the spectrum, flatness or temperature panel to choose another direction`);
    P('spectrum').plot.redraw();
    P('flatness').plot.redraw();
  };

  const onTimings = (m: Extract<FromWorker, { type: 'timings' }>): void => {
    const ms = new Map<string, number>();
    m.labels.forEach((l, j) => ms.set(l, m.msPerStep[j]));
    timingRows.push({ step: m.step, ms, wall: lastRate > 0 ? 1000 / lastRate : null });
    const labels = [...new Set([...timingLabels, ...m.labels])];
    const series = [...labels, 'all kernels (sum)', 'wall clock per step'];
    const xs = timingRows.map((r) => r.step);
    const cols = [
      ...labels.map((l) => timingRows.map((r) => r.ms.get(l) ?? null)),
      timingRows.map((r) => [...r.ms.values()].reduce((a, b) => a + b, 0)),
      timingRows.map((r) => r.wall),
    ];
    if (labels.join() !== timingLabels.join()) {
      timingLabels = labels;
      P('timings').rebuild(
        rebuildSeries('timings', series, (l, j) => (j < labels.length ? { ...line(COLORS[j % COLORS.length], 1.5), points: { show: true, size: 4 } } : { ...line(l.startsWith('all') ? '#111' : '#999', 2, l.startsWith('wall') ? [5, 4] : undefined) })),
        [xs, ...cols],
      );
    }
    const sum = [...ms.values()].reduce((a, b) => a + b, 0);
    const top = m.labels.slice(0, 3).map((l, j) => `${l} ${m.msPerStep[j].toFixed(3)}`).join(', ');
    P('timings').set([xs, ...cols], `step ${m.step}: ${sum.toFixed(3)} ms of kernels per step (${top} …)`);
  };

  // ---------------- worker ----------------
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' });
  // Signal propagation at initialisation: after the training panels, on its own GPU device in the worker.
  const propagation = new PropagationPanels(container, (m) => worker.postMessage(m), widthOf());
  probe.propagation = propagation.probe;
  // Curvature and generalisation (issue 6): experiments on the worker's side device, after propagation.
  let readyTrainN: number | null = null;
  const experiments = new ExperimentPanels(
    container,
    {
      send: (m) => worker.postMessage(m),
      runSpec: () => {
        const bad = Object.values(errors);
        if (bad.length) return { error: bad.join('; ') };
        return { spec: runSpecOf(current, files.map((f) => f.name)), files: current.dataset === 'mnist10k' ? undefined : files };
      },
      context: () => ({ layers: current.widths.length - 1, trainN: readyTrainN ?? current['train-size'] ?? KNOWN_TRAIN_SIZE[current.dataset] }),
    },
    widthOf(),
  );
  probe.experiments = experiments.probe;
  revalidateExperiments = () => experiments.validate();
  revalidateExperiments();
  // Every chart follows the window's width, once the resizing has settled.
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => {
      const w = widthOf();
      panels.forEach((p) => p.resize(w));
      propagation.resize(w);
      experiments.resize(w);
    }, 150);
  });
  let state: RunState = 'idle';
  let finalAvailable = false;
  const status = $('status');

  const updateButtons = (filesMissing = $('err-files').textContent !== ''): void => {
    const invalid = Object.keys(errors).length > 0 || filesMissing;
    const busy = state === 'loading' || state === 'running' || state === 'analysing';
    ($('start') as HTMLButtonElement).disabled = invalid || busy;
    ($('start') as HTMLButtonElement).title = invalid ? 'fix the settings marked in red first' : '';
    ($('pause') as HTMLButtonElement).disabled = state !== 'running';
    ($('resume') as HTMLButtonElement).disabled = state !== 'paused';
    ($('step-btn') as HTMLButtonElement).disabled = state !== 'paused';
    ($('stop') as HTMLButtonElement).disabled = state !== 'running' && state !== 'paused';
    ($('export') as HTMLButtonElement).disabled = state !== 'paused' && state !== 'done';
    $('lost').hidden = state !== 'lost';
  };

  worker.onmessage = (ev: MessageEvent<FromWorker>) => {
    const m = ev.data;
    if (propagation.onMessage(m) || experiments.onMessage(m)) return;
    switch (m.type) {
      case 'status':
        status.textContent = m.text;
        break;
      case 'state':
        state = m.state;
        probe.state = m.state;
        document.body.dataset.state = m.state === 'analysing' ? 'running' : m.state;
        if (m.state !== 'running' || !status.textContent) status.textContent = m.text;
        updateButtons();
        break;
      case 'ready':
        readyTrainN = m.trainN;
        experiments.validate();
        $('adapter').textContent = m.adapter;
        $('total-steps').textContent = String(m.totalSteps);
        $('window').textContent = `${m.window.first}–${m.window.last}`;
        status.textContent = `training on ${m.adapter}: ${m.data}; ${m.stepsPerEpoch} steps per epoch; the final analysis records steps ${m.window.first}–${m.window.last}`;
        if (!m.hasTimestamps) P('timings').note.textContent = 'this adapter has no timestamp-query feature (or steps per chunk > 150): no per-kernel times; the panel shows nothing';
        break;
      case 'chunk':
        onChunk(m);
        break;
      case 'lab':
        onLab(m.frame);
        break;
      case 'mlf':
        onMlf(m.mlf);
        break;
      case 'timings':
        onTimings(m);
        break;
      case 'done':
        finalAvailable = m.final;
        status.textContent = m.message;
        break;
      case 'lost':
        $('lost-text').textContent = m.message;
        ($('resume-snapshot') as HTMLButtonElement).hidden = m.resumeStep === null;
        ($('resume-snapshot') as HTMLButtonElement).textContent = m.resumeStep === null ? '' : `resume from the snapshot at step ${m.resumeStep}`;
        status.textContent = m.message;
        break;
      case 'resumed':
        truncateTo(m.step);
        status.textContent = `resumed from the snapshot at step ${m.step} on a new device`;
        break;
      case 'export': {
        downloadBlob(new Blob([m.zip], { type: 'application/zip' }), m.name);
        status.textContent = `exported ${m.name}: ${m.files.join(', ')}`;
        break;
      }
      case 'error':
        status.textContent = `error: ${m.message}`;
        document.body.dataset.state = 'error';
        break;
    }
  };
  worker.onerror = (e) => {
    status.textContent = `engine worker failed: ${e.message}`;
    document.body.dataset.state = 'error';
  };

  // ---------------- controls ----------------
  const send = (m: ToWorker): void => worker.postMessage(m);
  const start = (): void => {
    validate();
    if (Object.keys(errors).length || ($('err-files').textContent ?? '') !== '') return;
    clearData();
    finalAvailable = false;
    delete $('status').dataset.final;
    state = 'loading';
    document.body.dataset.state = 'running';
    updateButtons();
    send({ type: 'start', spec: runSpecOf(current, files.map((f) => f.name)), files: current.dataset === 'mnist10k' ? undefined : files });
  };
  $('start').onclick = start;
  $('pause').onclick = () => send({ type: 'pause' });
  $('resume').onclick = () => send({ type: 'resume' });
  $('step-btn').onclick = () => send({ type: 'step' });
  $('stop').onclick = () => send({ type: 'stop' });
  $('export').onclick = () => {
    status.textContent = finalAvailable ? 'building the run folder…' : 'building the training run folder (no final analysis)…';
    send({ type: 'export' });
  };
  $('resume-snapshot').onclick = () => send({ type: 'resume-snapshot' });
  $('copy-link').onclick = async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      status.textContent = 'link copied';
    } catch {
      status.textContent = `link: ${location.href}`;
    }
  };
  $('idx-files').addEventListener('change', (e) => {
    files = [...((e.target as HTMLInputElement).files ?? [])];
    validate();
  });
  $('controls').addEventListener('input', () => validate());
  $('controls').addEventListener('change', () => validate());
  $('controls').addEventListener('submit', (e) => e.preventDefault());
  // Debug hook for the browser test: lose the device as a driver reset would.
  (window as unknown as { sgdscopeLoseDevice: () => void }).sgdscopeLoseDevice = () => send({ type: 'debug-lose-device' });

  validate();
  status.textContent = problems.length ? `URL: ${problems.join('; ')}` : 'press start: the Feng–Tu network on MNIST-10k (change anything on the left first)';

  // ---------------- the frame loop ----------------
  let lastT = performance.now();
  let windowStart = lastT;
  let framesInWindow = 0;
  let worst = 0;
  const frame = (t: number): void => {
    const dt = t - lastT;
    lastT = t;
    worst = Math.max(worst, dt);
    framesInWindow++;
    probe.frames++;
    if (t - windowStart >= 1000) {
      probe.fps = (1000 * framesInWindow) / (t - windowStart);
      probe.worstFrameMs = worst;
      $('fps').textContent = probe.fps.toFixed(0);
      windowStart = t;
      framesInWindow = 0;
      worst = 0;
    }
    for (const [id, p] of panels) {
      if (p.frame()) probe.draws++;
      probe.panels[id] = p.hasData ? Number(p.root.dataset.points ?? 0) : 0;
    }
    probe.draws += propagation.frame();
    probe.draws += experiments.frame();
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);

  if (autostart) start();
}

void main();
