/**
 * `npm run bench:fengtu -- --run <feng-tu run folder>`: sgdscope's Feng–Tu analysis stages against
 * the authors' Python pipeline (bench/peers/authors_pipeline.py: sklearn PCA, torch bisection) on
 * the same machine, side by side in one run, written to bench/results/<date>-fengtu-analysis.{json,md}.
 *
 *  PCA       the run's window (T × P, float32): sklearn PCA(k) vs sgdscope's precise scatter and
 *            top-k eigensolver (WebAssembly; its JavaScript twin and the all-pairs tred2/tql2 solver
 *            it replaced for reference), each compared with a float64 eigendecomposition of the
 *            same window (numpy, bench/peers/float64_reference.py);
 *  flatness  100 directions (every 10th PC) at the run's w* over its training set, the authors'
 *            threshold and tolerance (ln L rises by 1, |θ| ≤ 1000, bracket to an absolute 0.01);
 *  scaling   PCA of synthetic windows at P = 625, 1250, 2500 (k = 0.4·P), flatness over 10, 30 and
 *            100 directions.
 * The Python peers need Debian's python3-sklearn and python3-torch (bench/peers/install-python.sh);
 * without them their rows say "skipped". Times are wall-clock seconds of the work itself; the
 * machine's load average is recorded at the start and the end.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireGpu, type GpuContext } from '../src/gpu/device.ts';
import { loadDataset } from '../src/data/index.ts';
import { SEED_MLP } from '../src/nn/config.ts';
import { MlpGpu } from '../src/nn/mlp-gpu.ts';
import { paramLayout } from '../src/nn/params.ts';
import { uploadDataset } from '../src/train/gpu-dataset.ts';
import { decodeNpy, encodeNpy } from '../src/util/npy.ts';
import { Rng } from '../src/util/rng.ts';
import { createStorage } from '../src/gpu/buffers.ts';
import { windowMoments, traceOf } from '../src/analysis/numerics/window-scatter.ts';
import { symmetricEig } from '../src/analysis/numerics/symmetric-eig.ts';
import { symmetricEigTop } from '../src/analysis/numerics/symmetric-eig-top.ts';
import { loadLinalg } from '../src/analysis/numerics/wasm/linalg.ts';
import { varianceProfile } from '../src/analysis/numerics/pca-summary.ts';
import { preciseScatter } from '../src/analysis/noise/precise-scatter.ts';
import { ProbeEvaluator } from '../src/analysis/noise/probe-eval.ts';
import { gpuFlatness } from '../src/analysis/noise/flatness-gpu.ts';

const BENCH = dirname(fileURLToPath(import.meta.url));
const PY = '/usr/bin/python3';

interface Row {
  task: string;
  impl: string;
  seconds: number | null;
  note: string;
  /** Seconds of the authors' implementation of the same task (for the ratio). */
  peer?: number | null;
}

const rows: Row[] = [];
const log = (s: string): void => console.log(s);
const time = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const r = f();
  return [r, (performance.now() - t0) / 1000];
};

function python(args: string[], label: string): Record<string, unknown> | null {
  const out = join(mkdtempSync(join(tmpdir(), 'fengtu-peer-')), 'out.json');
  const r = spawnSync(PY, [...args, out], { encoding: 'utf8', timeout: 3_600_000 });
  if (r.status !== 0) {
    log(`  ${label}: skipped (${(r.stderr || r.error?.message || 'failed').trim().split('\n').at(-1)})`);
    return null;
  }
  return JSON.parse(readFileSync(out, 'utf8'));
}

function hasPeers(): boolean {
  return spawnSync(PY, ['-c', 'import sklearn, torch, numpy'], { encoding: 'utf8' }).status === 0;
}

/** Worst relative error of σ_i² against the reference over σ_i² ≥ 1e-9·σ₁², σ₂²'s, and D99 with PC1 out. */
function precision(got: ArrayLike<number>, ref: number[], total: number): { worst: number; second: number; d99: number | null; n: number } {
  let worst = 0;
  let n = 0;
  for (let i = 0; i < Math.min(got.length, ref.length) && ref[i] >= 1e-9 * ref[0]; i++, n++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / ref[i]);
  const rest = Array.from(got).slice(1).map((v) => Math.max(0, v));
  return { worst, second: (got[1] - ref[1]) / ref[1], d99: varianceProfile(rest, Math.max(total - got[0], rest.reduce((a, b) => a + b, 0)), 'pc1-removed', 2).d99, n };
}

/** A T × P window with PC1 holding 99.9% (a drift) and a power-law noise spectrum, in a random
 * basis made of four Householder reflections (cheap to apply, dense enough for an eigensolver). */
function syntheticWindow(T: number, P: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const H = Array.from({ length: 4 }, () => {
    const v = Float64Array.from({ length: P }, () => rng.normal());
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
  const lam = Float64Array.from({ length: P }, (_, i) => (i === 0 ? 0 : 1e-6 * i ** (-Math.log(1e5) / Math.log(P))));
  const a = Math.sqrt((12 * lam.reduce((s, v) => s + v, 0) * 0.999) / 0.001);
  const mu = Float64Array.from({ length: P }, () => 0.1 * rng.normal());
  const x = new Float32Array(T * P);
  const z = new Float64Array(P);
  for (let t = 0; t < T; t++) {
    z[0] = a * (t / T - 0.5);
    for (let i = 1; i < P; i++) z[i] = Math.sqrt(lam[i]) * rng.normal();
    for (const v of H) {
      let s = 0;
      for (let i = 0; i < P; i++) s += v[i] * z[i];
      for (let i = 0; i < P; i++) z[i] -= 2 * s * v[i];
    }
    for (let i = 0; i < P; i++) x[t * P + i] = mu[i] + z[i];
  }
  return x;
}

async function benchPca(ctx: GpuContext, x: Float32Array, T: number, P: number, k: number, label: string, peers: boolean, full: boolean, dir: string): Promise<void> {
  const file = join(dir, `window-${P}.npy`);
  writeFileSync(file, encodeNpy(x, [T, P]));
  const task = `PCA top ${k} of ${P} (${label}, T = ${T})`;
  log(`\n${task}`);
  const ref = python([join(BENCH, 'peers/float64_reference.py'), file, String(k)], 'float64 reference') as { variances: number[]; total: number; seconds: number } | null;
  const skl = peers ? (python([join(BENCH, 'peers/authors_pipeline.py'), 'pca', file, String(k)], 'sklearn') as { seconds: number; variances: number[]; solver: string } | null) : null;
  const m = windowMoments(x, T, P);
  const gpu = createStorage(ctx, 'bench.window', x);
  const [sc, scSec] = await (async () => {
    const t0 = performance.now();
    const r = await preciseScatter(ctx, { gpu, cpu: x, T, P, mean: m.mean });
    return [r, (performance.now() - t0) / 1000] as const;
  })();
  gpu.destroy();
  const [eig, eigSec] = time(() => symmetricEigTop(sc.S, P, k));
  const variances = Array.from(eig.values.subarray(0, k), (v) => v / (T - 1));
  const total = traceOf(m) / (T - 1);
  const prec = (v: ArrayLike<number>): string => {
    if (!ref) return '';
    const p = precision(v, ref.variances, ref.total);
    return `worst |Δσ²|/σ² ${p.worst.toExponential(1)} over the ${p.n} PCs ≥ 1e-9·σ₁²; σ₂² ${(100 * p.second).toFixed(2)}%; D99 without PC1 ${p.d99 ?? '> k'}`;
  };
  const peer = skl?.seconds ?? null;
  if (skl) rows.push({ task, impl: `authors: sklearn PCA(${k}).fit, float32 window (${skl.solver} solver)`, seconds: skl.seconds, note: prec(skl.variances) });
  rows.push({ task, impl: 'sgdscope: top-k eigensolver (WebAssembly) on the precise scatter', seconds: eigSec, peer, note: prec(variances) });
  rows.push({ task, impl: `sgdscope: precise scatter of the window (${sc.arithmetic})`, seconds: scSec, peer, note: sc.reason });
  rows.push({ task, impl: 'sgdscope: window → PCA (scatter + eigensolver)', seconds: scSec + eigSec, peer, note: '' });
  if (ref) rows.push({ task, impl: 'numpy float64 XᵀX + eigvalsh (the precision reference; values only)', seconds: ref.seconds, note: `total variance ${total.toExponential(4)} (numpy ${ref.total.toExponential(4)})` });
  if (full) {
    const [, jsSec] = time(() => symmetricEigTop(sc.S, P, k, { js: true }));
    rows.push({ task, impl: 'sgdscope: top-k eigensolver, its JavaScript twin', seconds: jsSec, peer, note: 'the fallback without WebAssembly SIMD' });
    const [, oldSec] = time(() => symmetricEig(sc.S, P));
    rows.push({ task, impl: 'sgdscope before: all P eigenpairs (tred2 + tql2, JavaScript)', seconds: oldSec, peer, note: 'the dense solver the PCA stage used until this change' });
  }
  for (const r of rows.filter((q) => q.task === task)) log(`  ${r.impl}: ${r.seconds?.toFixed(2)} s ${r.note}`);
}

async function benchFlatness(ctx: GpuContext, run: string, counts: number[], peers: boolean, dir: string): Promise<void> {
  const data = await loadDataset({ kind: 'mnist10k' });
  writeFileSync(join(dir, 'train_x.npy'), encodeNpy(Float32Array.from(data.train.x), [data.train.n, data.train.d]));
  writeFileSync(join(dir, 'train_y.npy'), encodeNpy(Int32Array.from(data.train.y), [data.train.n]));
  const layout = paramLayout(SEED_MLP);
  const params = new Float32Array(layout.total);
  for (const L of layout.layers) {
    const bytes = readFileSync(join(run, `weights_layer${L.index}.npy`));
    writeFileSync(join(dir, `weights_layer${L.index}.npy`), bytes);
    params.set(decodeNpy(bytes).data as Float32Array, L.offset);
  }
  const compBytes = readFileSync(join(run, 'pca_components.npy'));
  writeFileSync(join(dir, 'pca_components.npy'), compBytes);
  const comps = decodeNpy(compBytes).data as Float32Array;
  const P = layout.layers[1].size;
  let wNorm = 0;
  for (let p = 0; p < P; p++) wNorm += params[layout.layers[1].offset + p] ** 2;
  wNorm = Math.sqrt(wNorm);
  const mlp = await MlpGpu.create(ctx, SEED_MLP, { momentum: false });
  mlp.uploadParams(params);
  const gd = uploadDataset(ctx, 'bench.train', data.train.x, data.train.y, data.train.d, 10);
  for (const D of counts) {
    const task = `flatness, ${D} directions (PCs 1, 11, …), k = e, |θ| ≤ 1000, absolute tolerance 0.01`;
    log(`\n${task}`);
    const auth = peers ? (python([join(BENCH, 'peers/authors_pipeline.py'), 'flatness', dir, '10', String(D)], 'torch bisection') as { seconds: number; F: number[]; evaluations: number } | null) : null;
    const rowsD = new Float64Array(D * P);
    for (let j = 0; j < D; j++) rowsD.set(comps.subarray(10 * j * P, (10 * j + 1) * P), j * P);
    const ev = await ProbeEvaluator.create(mlp, gd, 1, D);
    const same = { nDirs: D, k: Math.E, weightNorm: wNorm, thetaMax: 1000, absTol: 0.01, relTol: 1e-9 };
    const peer = auth?.seconds ?? null;
    const agree = (F: (number | null)[]): string => {
      if (!auth) return '';
      const r = F.map((f, j) => Math.abs((f ?? NaN) / auth.F[j] - 1)).filter(Number.isFinite).sort((a, b) => a - b);
      return `; |F/F_authors − 1|: median ${r[r.length >> 1].toExponential(1)}, max ${r[r.length - 1].toExponential(1)}`;
    };
    if (auth) rows.push({ task, impl: 'authors: serial torch bisection from [0, 100]', seconds: auth.seconds, note: `${auth.evaluations} full-loss evaluations` });
    for (const [impl, o] of [
      ['sgdscope: batched probes, model search', { ...same, bracket: 'model' as const }],
      ['sgdscope: batched probes, geometric search (before this change)', { ...same, bracket: 'geometric' as const }],
      ['sgdscope: model search, default relative tolerance 1e-3', { nDirs: D, k: Math.E, weightNorm: wNorm, thetaMax: 1000, bracket: 'model' as const }],
    ] as const) {
      await ev.prepare(rowsD);
      const t0 = performance.now();
      const f = await gpuFlatness(ev, o);
      const sec = (performance.now() - t0) / 1000;
      rows.push({ task, impl, seconds: sec, peer, note: `${f.probes} probes in ${f.rounds} rounds${agree(f.directions.map((d) => d.F))}` });
    }
    for (const r of rows.filter((q) => q.task === task)) log(`  ${r.impl}: ${r.seconds?.toFixed(2)} s ${r.note}`);
  }
}

function markdown(meta: Record<string, unknown>): string {
  const lines = [
    '# sgdscope Feng–Tu analysis vs the authors\' Python pipeline — same machine, one run',
    '',
    ...Object.entries(meta).map(([k, v]) => `- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
    '',
    'vs authors: the authors\' time for the same task over this row\'s (> 1: sgdscope faster). Precision against a float64',
    'eigendecomposition of the same window (numpy).',
    '',
    '| task | implementation | seconds | vs authors | notes |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.task.replace(/\|/g, '\\|')} | ${r.impl} | ${r.seconds === null ? '-' : r.seconds.toFixed(2)} | ${r.peer && r.seconds ? `${(r.peer / r.seconds).toFixed(2)}×` : ''} | ${r.note.replace(/\|/g, '\\|')} |`),
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (argv.includes('--help')) {
    console.log('usage: npm run bench:fengtu -- [--run <feng-tu run folder with a 12,000 × 2,500 window>] [--quick] [--no-write] [--out DIR]');
    return;
  }
  const run = arg('run');
  const quick = argv.includes('--quick');
  const out = arg('out') ?? join(BENCH, 'results');
  const peers = hasPeers();
  if (!peers) log('the Python peers are not installed (bench/peers/install-python.sh): their rows are skipped');
  const dir = mkdtempSync(join(tmpdir(), 'fengtu-bench-'));
  const ctx = await acquireGpu();
  await loadLinalg();
  const meta: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model}; adapter ${ctx.adapterName}`,
    runtime: `Node ${process.version}; ${peers ? spawnSync(PY, ['-c', 'import sklearn, torch, numpy; print(f"sklearn {sklearn.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {numpy.__version__}")'], { encoding: 'utf8' }).stdout.trim() : 'no Python peers'}`,
    'load average at start': loadavg()[0].toFixed(2),
    window: run ? `${run}/trajectory.npy` : 'synthetic',
  };
  const t0 = performance.now();
  if (run) {
    const w = decodeNpy(readFileSync(join(run, 'trajectory.npy')));
    const [T, P] = w.shape;
    await benchPca(ctx, w.data as Float32Array, T, P, Math.min(1000, P, T - 1), 'the run\'s window', peers, !quick, dir);
  }
  for (const P of quick ? [625] : [625, 1250, 2500]) {
    const T = quick ? 3000 : 12000;
    await benchPca(ctx, syntheticWindow(T, P, P), T, P, Math.round(0.4 * P), 'synthetic, PC1 99.9%', peers, false, dir);
  }
  if (run) await benchFlatness(ctx, run, quick ? [10] : [10, 30, 100], peers, dir);
  meta['load average at end'] = loadavg()[0].toFixed(2);
  meta.seconds = ((performance.now() - t0) / 1000).toFixed(0);
  ctx.destroy();
  const md = markdown(meta);
  console.log(`\n${md}`);
  if (!argv.includes('--no-write')) {
    mkdirSync(out, { recursive: true });
    const stem = join(out, `${String(meta.date).slice(0, 10)}-fengtu-analysis`);
    writeFileSync(`${stem}.json`, JSON.stringify({ meta, rows }, null, 1) + '\n');
    writeFileSync(`${stem}.md`, md);
    console.log(`wrote ${stem}.md`);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
