/**
 * The bench page (bench/index.html, built by Vite): the same suite as `npm run bench`, on the
 * browser's WebGPU adapter, shown as a table while it runs. bench/headless.ts drives it from the
 * command line with ?auto=1&opts=<json> and collects window.__benchResult.
 */
import { acquireGpu } from '../src/gpu/device.ts';
import { DEFAULT_OPTIONS, SUITES, runSuite, failedChecks, type BenchOptions, type SuiteName } from './suite.ts';
import { fmt, formatRow, type BenchResult, type Row } from './core/report.ts';
import { MATMUL_LADDER } from './ladder.ts';

declare global {
  interface Window {
    __benchResult?: BenchResult;
    __benchError?: string;
  }
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = $('status');
const tbody = $('table').querySelector('tbody')!;
const logEl = $('log');
const HEAD = ['kernel', 'variant', 'shape', 'ms', 'GFLOP/s', 'GB/s', '% of peak', 'bound', 'vs peer', 'check'];
$('table').querySelector('thead')!.innerHTML = `<tr>${HEAD.map((h) => `<th>${h}</th>`).join('')}</tr>`;

$<HTMLInputElement>('variants').placeholder = `all (0-${MATMUL_LADDER.length - 1})`;

const suiteBoxes = new Map<SuiteName, HTMLInputElement>();
for (const s of SUITES) {
  const label = document.createElement('label');
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.checked = true;
  label.append(box, ` ${s}`);
  $('suites').append(label);
  suiteBoxes.set(s, box);
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function addRow(r: Row): void {
  const tr = document.createElement('tr');
  if (r.check.startsWith('FAIL')) tr.className = 'fail';
  const vs = r.vsPeer ? `<span class="${r.vsPeer.ratio >= 1 ? 'faster' : 'slower'}">${fmt(r.vsPeer.ratio)}×</span> ${esc(r.vsPeer.peer)}` : '';
  const cells = [
    esc(r.kernel), esc(r.variant), esc(r.shape),
    r.ms === null ? '-' : `${fmt(r.ms)}${r.timer === 'wall' ? ' w' : ''}`,
    r.flops > 0 ? fmt(r.gflops) : '-', r.bytes > 0 ? fmt(r.gbs) : '-',
    r.peakPct === null ? '-' : `${fmt(r.peakPct, 2)}%`, r.bound, vs, esc(r.check),
  ];
  tr.innerHTML = cells.map((c, i) => `<td${i >= 3 && i <= 6 ? ' class="num"' : ''}>${c}</td>`).join('');
  if (r.note) tr.title = r.note;
  tbody.append(tr);
}

function addLine(text: string): void {
  if (text.startsWith('\n## ') || text.startsWith('## ')) {
    const tr = document.createElement('tr');
    tr.className = 'section';
    tr.innerHTML = `<td colspan="${HEAD.length}">${esc(text.replace(/^\n?## /, ''))}</td>`;
    tbody.append(tr);
  } else {
    logEl.textContent += `${text}\n`;
  }
  status.textContent = text.replace(/^\n/, '');
}

function showSteps(res: BenchResult): void {
  const t = $('steps');
  t.querySelector('thead')!.innerHTML = '<tr><th>variant</th><th>steps/s</th><th>wall ms/step</th><th>GPU ms/step</th><th>Σ kernels ms/step</th><th>kernel share</th><th>encode ms/step</th></tr>';
  t.querySelector('tbody')!.innerHTML = res.steps
    .map((s) => `<tr><td>${esc(s.variant)}</td>${[s.stepsPerSecond, s.wallMsPerStep, s.gpuMsPerStep, s.kernelMsPerStep].map((x) => `<td class="num">${fmt(x)}</td>`).join('')}<td class="num">${s.kernelShare === null ? '-' : `${(100 * s.kernelShare).toFixed(0)}%`}</td><td class="num">${fmt(s.encodeMsPerStep)}</td></tr>`)
    .join('');
}

function optionsFromForm(): Partial<BenchOptions> {
  const o: Partial<BenchOptions> = { suites: SUITES.filter((s) => suiteBoxes.get(s)!.checked) };
  const v = $<HTMLInputElement>('variants').value.trim();
  if (v) o.variants = v.split(',').map(Number);
  if ($<HTMLInputElement>('validate').checked) o.validateOnly = true;
  if ($<HTMLInputElement>('quick').checked) Object.assign(o, { quick: true, targetMs: 40, repeats: 3 });
  return o;
}

async function run(opts: Partial<BenchOptions>): Promise<void> {
  document.body.dataset.state = 'running';
  $<HTMLButtonElement>('run').disabled = true;
  tbody.innerHTML = '';
  logEl.textContent = '';
  try {
    const ctx = await acquireGpu();
    $('adapter').textContent = `adapter: ${ctx.adapterName} (${[ctx.adapterInfo.vendor, ctx.adapterInfo.architecture, ctx.adapterInfo.description].filter(Boolean).join(' / ')}), timestamp-query: ${ctx.hasTimestamps ? 'yes' : 'no'}`;
    console.log(`adapter ${ctx.adapterName}; timestamps ${ctx.hasTimestamps}`);
    const res = await runSuite(ctx, { ...DEFAULT_OPTIONS, ...opts }, {
      line: (s) => {
        addLine(s);
        console.log(s);
      },
      row: (r) => {
        addRow(r);
        console.log(formatRow(r));
      },
    });
    ctx.destroy();
    showSteps(res);
    window.__benchResult = res;
    const a = $<HTMLAnchorElement>('download');
    a.href = URL.createObjectURL(new Blob([JSON.stringify(res, null, 1)], { type: 'application/json' }));
    a.hidden = false;
    const failed = failedChecks(res);
    status.textContent = `done: ${res.rows.length} rows in ${res.seconds.toFixed(0)} s${failed.length ? `; ${failed.length} check(s) FAILED` : ''}`;
    document.body.dataset.state = 'done';
  } catch (e) {
    const msg = (e as Error).stack ?? String(e);
    window.__benchError = msg;
    status.textContent = `error: ${(e as Error).message}`;
    console.error(msg);
    document.body.dataset.state = 'error';
  } finally {
    $<HTMLButtonElement>('run').disabled = false;
  }
}

if (!('gpu' in navigator)) {
  $('nowebgpu').hidden = false;
  $('controls').hidden = true;
} else {
  $('run').addEventListener('click', () => void run(optionsFromForm()));
  const params = new URLSearchParams(location.search);
  if (params.get('auto') === '1') {
    const opts = params.get('opts') ? (JSON.parse(params.get('opts')!) as Partial<BenchOptions>) : {};
    void run(opts);
  }
}
