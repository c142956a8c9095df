/**
 * The kernel lab page (lab.html): the editor, the forms and the results. It draws; the engine
 * (src/kernel-lab/lab.worker.ts, a worker with a GPU device of its own) compiles, validates and
 * times. A lost device or a watchdog timeout leaves this page running and offers a new worker on a
 * new device with the same experiment. body[data-state] says where the page is: starting, ready,
 * running, done, invalid (the kernel does not compile, bind or match), failed, lost, error.
 */
import { createEditor } from './editor.ts';
import { LabForm } from './form.ts';
import { ResultsView, download } from './results.ts';
import { PROBLEMS, defaultParams } from '../../kernel-lab/catalog.ts';
import { decodeSpec, shareUrl } from '../../kernel-lab/share.ts';
import { resultCsv, resultJson, resultStem, rungInstructions } from '../../kernel-lab/export.ts';
import type { FromWorker, Inspection, LabResult, LabSpec, RunOptions, ToWorker } from '../../kernel-lab/protocol.ts';
import { fmt } from '../../../bench/core/report.ts';

type PageState = 'starting' | 'ready' | 'running' | 'done' | 'invalid' | 'failed' | 'lost' | 'error';

declare global {
  interface Window {
    /** For automation (the headless test, scripts): the editor's text and the last result. */
    sgdscopeLab?: {
      source(): string;
      setSource(text: string): void;
      spec(): LabSpec;
      result(): LabResult | null;
      loseDevice(): void;
    };
  }
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const spec: LabSpec = { problem: 'matmul', params: defaultParams(PROBLEMS.matmul), source: '', entry: 'main', template: {}, overrides: {}, grid: ['1'] };
let worker: Worker | null = null;
let workerReady = false;
let nextId = 1;
let inspectId = 0;
let runId = 0;
let inspection: Inspection | null = null;
let lastResult: LabResult | null = null;
let inspectTimer: ReturnType<typeof setTimeout> | undefined;

const form = new LabForm(spec, () => refreshButtons());
const editor = createEditor($('editor'), (text) => {
  spec.source = text;
  clearTimeout(inspectTimer);
  inspectTimer = setTimeout(inspectText, 250);
});
const results = new ResultsView((line, col) => editor.goto(line, col));

function setState(s: PageState, status?: string): void {
  document.body.dataset.state = s;
  if (status !== undefined) $('status').textContent = status;
  refreshButtons();
}

function refreshButtons(): void {
  const s = document.body.dataset.state as PageState;
  const can = workerReady && !['starting', 'running', 'lost', 'error'].includes(s) && form.paramError === null;
  $<HTMLButtonElement>('run').disabled = !can;
  $<HTMLButtonElement>('validate').disabled = !can;
  $<HTMLButtonElement>('load').disabled = !workerReady || s === 'running' || form.paramError !== null;
}

function send(m: ToWorker): void {
  worker?.postMessage(m);
}

function inspectText(): void {
  inspectId = nextId++;
  send({ type: 'inspect', id: inspectId, source: spec.source });
}

function applySpec(s: LabSpec): void {
  Object.assign(spec, structuredClone(s));
  form.drawProblem();
  editor.setText(spec.source);
  form.drawKernel(inspection);
  $('rung-steps').textContent = rungInstructions(spec);
}

function startWorker(): void {
  workerReady = false;
  worker = new Worker(new URL('../../kernel-lab/lab.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (ev: MessageEvent<FromWorker>) => onMessage(ev.data);
  worker.onerror = (e) => setState('error', `the lab's worker failed: ${e.message}`);
  setState('starting', "starting the lab's GPU device");
}

function lostBanner(text: string): void {
  $('lost-text').textContent = text;
  $('lost').hidden = false;
  workerReady = false;
  setState('lost', text);
}

function doneStatus(r: LabResult): string {
  const mine = r.bench.rows[0];
  if (r.options.validateOnly) return `validated: ${mine.check}`;
  const parts = [`your kernel ${fmt(mine.ms)} ms (${fmt(mine.gflops)} GFLOP/s, ${fmt(mine.gbs)} GB/s, ${fmt(mine.peakPct, 2)}% of this adapter's peak, ${mine.bound}-bound)`];
  for (const x of r.ratios) parts.push(`${fmt(x.ratio)}× ${x.label}`);
  return `done in ${r.bench.seconds.toFixed(0)} s: ${parts.join('; ')}`;
}

function onMessage(m: FromWorker): void {
  switch (m.type) {
    case 'ready':
      workerReady = true;
      $('adapter').textContent = `adapter: ${m.adapter.name} (${m.adapter.description || 'no description'})${m.adapter.isSoftware ? ', software (CPU-emulated)' : ''}; timestamp-query: ${m.adapter.timestamps ? 'yes' : 'no (wall time, many calls per submit)'}; the lab's own device, robustness on`;
      setState('ready', 'ready');
      inspectText();
      return;
    case 'fatal':
      $('nowebgpu-why').textContent = m.message;
      $('nowebgpu').hidden = false;
      $('app').hidden = true;
      setState('error', m.message);
      return;
    case 'inspected':
      if (m.id !== inspectId) return;
      inspection = m.inspection;
      if (inspection.entries.length && !inspection.entries.some((e) => e.name === spec.entry)) spec.entry = inspection.entries[0].name;
      form.drawKernel(inspection);
      return;
    case 'started':
      applySpec(m.spec);
      if (document.body.dataset.state !== 'running') $('status').textContent = `loaded ${m.label}`;
      return;
    case 'lost':
      lostBanner(`${m.message}. The page and your kernel are kept.`);
      return;
  }
  if (m.id !== runId) return;
  switch (m.type) {
    case 'stage':
      $('status').textContent = `${m.text}…`;
      break;
    case 'log':
      break;
    case 'diagnostics':
      editor.mark(m.diagnostics);
      results.diagnostics(m.diagnostics);
      break;
    case 'invalid':
      if (m.stage !== 'compile') results.messages(m.stage, m.messages);
      if (m.checks) results.checks(m.checks, null, '');
      setState('invalid', m.stage === 'compile' ? `the kernel does not compile: ${m.messages[0].split('\n')[0]}` : m.stage === 'validate' ? `the kernel is wrong: ${m.messages[0]}` : `${m.stage}: ${m.messages[0]}`);
      break;
    case 'checked':
      results.checks(m.checks, m.summary, m.guard);
      break;
    case 'peaks':
      results.notes([`adapter peaks (measured once per device): FMA ${fmt(m.peaks.fmaGflops)} GFLOP/s, bandwidth ${fmt(m.peaks.cacheGBs)} GB/s (≤ 16 MiB) / ${fmt(m.peaks.dramGBs)} GB/s, empty dispatch ${fmt((m.peaks.dispatchGpuMs ?? 0) * 1000)} µs`]);
      break;
    case 'row':
      results.row(m.row, m.role);
      break;
    case 'done':
      lastResult = m.result;
      $<HTMLButtonElement>('export-json').disabled = false;
      $<HTMLButtonElement>('export-csv').disabled = false;
      $('rung-steps').textContent = rungInstructions(m.result.spec);
      setState('done', doneStatus(m.result));
      break;
    case 'failed':
      results.messages(m.stage, [m.message]);
      if (m.watchdog) lostBanner(`${m.message}: the device may still be busy with the kernel. Continue on a new device (this one is abandoned).`);
      else setState('failed', `${m.stage}: ${m.message}`);
      break;
  }
}

function run(validateOnly: boolean): void {
  if (form.paramError) return;
  results.clear();
  editor.mark([]);
  lastResult = null;
  $<HTMLButtonElement>('export-json').disabled = true;
  $<HTMLButtonElement>('export-csv').disabled = true;
  runId = nextId++;
  const options: RunOptions = { validateOnly, quick: $<HTMLInputElement>('quick').checked, compare: form.compareIds(), tfjs: $<HTMLInputElement>('tfjs').checked };
  setState('running', 'compiling…');
  send({ type: 'run', id: runId, spec: structuredClone(spec), options });
}

async function init(): Promise<void> {
  form.drawProblem();
  if (!('gpu' in navigator)) {
    onMessage({ type: 'fatal', message: 'navigator.gpu is missing: this browser has no WebGPU.' });
    return;
  }
  $('run').addEventListener('click', () => run(false));
  $('validate').addEventListener('click', () => run(true));
  $('load').addEventListener('click', () => send({ type: 'start', id: nextId++, problem: spec.problem, params: structuredClone(spec.params), start: form.selectedStart() }));
  $('new-device').addEventListener('click', () => {
    worker?.terminate();
    $('lost').hidden = true;
    startWorker();
  });
  $('share').addEventListener('click', async () => {
    const url = await shareUrl(location.href, spec);
    history.replaceState(null, '', url);
    const box = $<HTMLInputElement>('share-url');
    box.value = url;
    box.select();
    await navigator.clipboard?.writeText(url).catch(() => undefined);
  });
  $('export-json').addEventListener('click', () => lastResult && download(`${resultStem(lastResult.spec)}.json`, resultJson(lastResult), 'application/json'));
  $('export-csv').addEventListener('click', () => lastResult && download(`${resultStem(lastResult.spec)}.csv`, resultCsv(lastResult), 'text/csv'));
  window.sgdscopeLab = {
    source: () => editor.text(),
    setSource: (text) => editor.setText(text),
    spec: () => structuredClone(spec),
    result: () => lastResult,
    loseDevice: () => send({ type: 'lose-device' }),
  };
  startWorker();
  const link = /^#k=(.+)$/.exec(location.hash);
  if (link) {
    try {
      applySpec(await decodeSpec(link[1]));
      $('status').textContent = 'experiment loaded from the link';
      return;
    } catch (e) {
      results.messages('link', [(e as Error).message]);
    }
  }
  send({ type: 'start', id: nextId++, problem: spec.problem, params: structuredClone(spec.params), start: form.selectedStart() });
}

void init();
