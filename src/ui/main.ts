/**
 * The dashboard page (main thread): it draws, it does not analyse. The settings form ⇄ URL
 * (settings-form.ts), the engine worker (engine.worker.ts, which owns every GPU device), and the
 * panels: training (training-panels.ts), one per instrument chart (instrument-panels.ts, from the
 * registry), signal propagation and the experiment cards. Every number received is stored; the
 * panels are redrawn at most once per animation frame (only those whose data changed), so a slow
 * frame drops a drawing, never data, and never delays the worker.
 */
import 'uplot/dist/uPlot.min.css';
import { downloadBlob } from './charts.ts';
import { KNOWN_TRAIN_SIZE, runSpecOf, settingsFromQuery } from '../experiments/dashboard/run-settings.ts';
import type { FromWorker, RunState, ToWorker } from '../experiments/dashboard/protocol.ts';
import { PropagationPanels } from './propagation.ts';
import { ExperimentPanels } from './experiment-panels.ts';
import { SettingsForm, buildEnsembleFields, buildInstrumentFields } from './settings-form.ts';
import { TrainingPanels } from './training-panels.ts';
import { InstrumentPanels } from './instrument-panels.ts';
import { EnsembleWindowPanels } from './ensemble-window-panels.ts';
import { createProbe, headlineTexts } from './probe.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const probe = createProbe();

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
  const { settings: fromUrl, problems } = settingsFromQuery(location.search);
  const autostart = new URLSearchParams(location.search).get('autostart') === '1';
  buildEnsembleFields($('ensemble-settings'));
  buildInstrumentFields($('instrument-settings'));
  const form = new SettingsForm(fromUrl);
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' });
  const send = (m: ToWorker): void => worker.postMessage(m);

  // ---------------- panels ----------------
  const container = $('panels');
  const widthOf = (): number => {
    const cols = Math.max(1, Math.floor((container.clientWidth + 10) / 470));
    return Math.floor((container.clientWidth - 10 * (cols - 1)) / cols) - 18;
  };
  const training = new TrainingPanels(container, widthOf());
  const instruments = new InstrumentPanels(container, $('headline'), widthOf(), (name, value) => send({ type: 'instrument-request', name, value }));
  const ensembleWindow = new EnsembleWindowPanels(container, widthOf());
  const propagation = new PropagationPanels(container, send, widthOf());
  probe.propagation = propagation.probe;
  // Curvature and generalisation: experiments on the worker's side device, after propagation.
  let readyTrainN: number | null = null;
  const experiments = new ExperimentPanels(
    container,
    {
      send,
      runSpec: () => {
        const bad = Object.values(form.errors);
        if (bad.length) return { error: bad.join('; ') };
        return { spec: runSpecOf(form.current, form.files.map((f) => f.name)), files: form.current.dataset === 'mnist10k' ? undefined : form.files };
      },
      context: () => ({ layers: form.current.widths.length - 1, trainN: readyTrainN ?? form.current['train-size'] ?? KNOWN_TRAIN_SIZE[form.current.dataset] }),
    },
    widthOf(),
  );
  probe.experiments = experiments.probe;
  probe.chart = (id) => {
    const p = training.panels.find((x) => x.spec.id === id);
    return p ? { data: p.plot.data.map((col) => Array.from(col as ArrayLike<number | null>)), series: p.plot.series.map((x) => String(x.label ?? '')), bands: (p.spec.opts(0).bands ?? []).map((b) => [...b.series]) } : null;
  };
  const charts = (): { id: string; panel: { frame(): boolean; hasData: boolean; root: HTMLElement; resize(w: number): void } }[] => [
    ...training.panels.map((p) => ({ id: p.spec.id, panel: p })),
    ...instruments.panels().map((x) => ({ id: x.id, panel: x.view.panel })),
    ...ensembleWindow.panels().map((x) => ({ id: x.id, panel: x.view.panel })),
  ];
  // Every chart follows the window's width, once the resizing has settled.
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => {
      const w = widthOf();
      for (const c of charts()) c.panel.resize(w);
      propagation.resize(w);
      experiments.resize(w);
    }, 150);
  });

  // ---------------- state and buttons ----------------
  let state: RunState = 'idle';
  let finalAvailable = false;
  const status = $('status');
  const updateButtons = (filesMissing = $('err-files').textContent !== ''): void => {
    const invalid = Object.keys(form.errors).length > 0 || filesMissing;
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
  const validate = (): void => {
    updateButtons(form.validate());
    experiments.validate();
  };

  // ---------------- messages from the engine ----------------
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
      case 'ready': {
        readyTrainN = m.trainN;
        experiments.validate();
        const spec = runSpecOf(form.current);
        instruments.start(m.run, m.instruments, spec.instruments.values);
        $('adapter').textContent = m.adapter;
        $('total-steps').textContent = String(m.totalSteps);
        training.setReplicas(m.seeds.length);
        probe.ensemble = m.seeds.length > 1 ? { seeds: m.seeds, testAccuracies: null } : null;
        $('window').textContent = m.window ? `${m.window.first}–${m.window.last}` : 'none (ensemble)';
        $('window').title = m.window?.note ?? '';
        const ens = m.seeds.length > 1 ? `an ensemble of ${m.seeds.length} (seeds ${m.seeds.join(', ')}): mean and min–max band, ` : '';
        status.textContent = `training on ${m.adapter}: ${m.data}; ${m.stepsPerEpoch} steps per epoch; ${ens}${
          m.window ? (m.window.note ?? `the final analysis records steps ${m.window.first}–${m.window.last}`) : 'no final analysis'
        }`;
        break;
      }
      case 'chunk': {
        training.onChunk(m);
        const c = probe.chunks;
        if (c.count++ === 0) {
          c.firstAt = performance.now();
          c.firstStep = m.step;
        }
        c.lastAt = performance.now();
        c.lastStep = m.step;
        probe.stepsPerSecond = m.stepsPerSecond;
        if (m.eval) probe.testAccuracy = m.eval.testAccuracy;
        if (m.band?.eval && probe.ensemble) probe.ensemble.testAccuracies = m.band.eval.replicas.map((e) => e?.testAccuracy ?? null);
        break;
      }
      case 'instrument':
        if (instruments.onUpdate(m.id, m.update) === 'final') {
          probe.lastLab = { kind: 'final', step: null, headline: headlineTexts() };
          status.dataset.final = '1';
        }
        probe.instruments = instruments.probe;
        break;
      case 'ensemble-window':
        ensembleWindow.show(m);
        probe.ensembleWindow = () => ensembleWindow.probe;
        break;
      case 'refresh': {
        probe.liveFrames++;
        probe.liveMs.push(Object.values(m.ms).reduce((a, b) => a + b, 0));
        probe.lastLab = { kind: 'live', step: m.step, headline: headlineTexts() };
        const ms = Object.entries(m.ms).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`);
        if (state === 'running') status.textContent = `training; the live refresh at step ${m.step} took ${ms.join(', ')}`;
        break;
      }
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
        training.truncateTo(m.step);
        instruments.truncateAfter(m.step);
        status.textContent = `resumed from the snapshot at step ${m.step} on a new device`;
        break;
      case 'export':
        downloadBlob(new Blob([m.zip], { type: 'application/zip' }), m.name);
        status.textContent = `exported ${m.name}: ${m.files.join(', ')}`;
        break;
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
  const start = (): void => {
    validate();
    if (Object.keys(form.errors).length || ($('err-files').textContent ?? '') !== '') return;
    training.clear();
    for (const id of ['test-acc', 'window', 'epoch', 'rate']) $(id).textContent = '–';
    probe.lastLab = null;
    probe.testAccuracy = null;
    probe.ensemble = null;
    ensembleWindow.clear();
    probe.ensembleWindow = () => null;
    probe.chunks = { count: 0, firstAt: 0, firstStep: 0, lastAt: 0, lastStep: 0 };
    probe.liveFrames = 0;
    probe.liveMs = [];
    finalAvailable = false;
    delete status.dataset.final;
    state = 'loading';
    document.body.dataset.state = 'running';
    updateButtons();
    send({ type: 'start', spec: runSpecOf(form.current, form.files.map((f) => f.name)), files: form.current.dataset === 'mnist10k' ? undefined : form.files });
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
    form.files = [...((e.target as HTMLInputElement).files ?? [])];
    validate();
  });
  $('controls').addEventListener('input', validate);
  $('controls').addEventListener('change', validate);
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
    worst = Math.max(worst, t - lastT);
    lastT = t;
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
    instruments.frame();
    for (const { id, panel } of charts()) {
      if (panel.frame()) probe.draws++;
      probe.panels[id] = panel.hasData ? Number(panel.root.dataset.points ?? 0) : 0;
    }
    probe.draws += propagation.frame();
    probe.draws += experiments.frame();
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  if (autostart) start();
}

void main();
