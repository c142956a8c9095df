/**
 * The whole benchmark suite, shared by the Node runner (bench/node.ts) and the bench page
 * (bench/index.html → bench/page.ts). A runner supplies the GPU context and a printer; the suite
 * validates every benchmark against its CPU reference before timing it, and returns the rows.
 *
 * Order: the adapter's limits first (every later row is placed against them), then the kernels,
 * the whole SGD step, and the peers (TensorFlow.js, jax-js) measured on the same adapter.
 */
import type { GpuContext } from '../src/gpu/device.ts';
import { BenchEnv, DEFAULT_OPTIONS, SUITES, type BenchOptions, type Printer, type SuiteName } from './core/env.ts';
import type { BenchResult, Row } from './core/report.ts';
import { runPeak } from './suites/peak.ts';
import { runDenseBackward, runMatmulLadder } from './suites/dense.ts';
import { runSmallKernels } from './suites/kernels.ts';
import { runNoiseKernels } from './suites/noise.ts';
import { runStep } from './suites/step.ts';
import { runEnsemble } from './suites/ensemble.ts';
import { runTfjs } from './suites/tfjs.ts';
import { runJax } from './suites/jax.ts';
import { PRODUCTION_RUNG } from './ladder.ts';

export { DEFAULT_OPTIONS, SUITES, type BenchOptions, type SuiteName };

const RUNNERS: Record<SuiteName, (env: BenchEnv) => Promise<void>> = {
  peak: runPeak,
  matmul: runMatmulLadder,
  backward: runDenseBackward,
  kernels: runSmallKernels,
  noise: runNoiseKernels,
  step: runStep,
  ensemble: runEnsemble,
  tfjs: runTfjs,
  jax: runJax,
};

export async function runSuite(ctx: GpuContext, opts: Partial<BenchOptions>, print: Printer): Promise<BenchResult> {
  const o: BenchOptions = { ...DEFAULT_OPTIONS, ...opts };
  const env = new BenchEnv(ctx, o, print);
  const t0 = performance.now();
  const loadAvg = (): number | null => {
    if (ctx.runtime !== 'node') return null;
    const os = process.getBuiltinModule('node:os') as typeof import('node:os');
    return os.loadavg()[0];
  };
  const load0 = loadAvg();
  if (!ctx.hasTimestamps) env.note('this adapter has no timestamp-query: every figure is wall time with many calls queued per submit');
  for (const name of SUITES) {
    if (!o.suites.includes(name)) continue;
    const errorsBefore = ctx.uncapturedErrors.length;
    const ts = performance.now();
    try {
      await RUNNERS[name](env);
      env.log(`(${name}: ${((performance.now() - ts) / 1000).toFixed(1)} s)`);
    } catch (e) {
      env.note(`suite ${name} stopped: ${(e as Error).message}`);
      if (o.validateOnly) throw e;
    }
    const errs = ctx.uncapturedErrors.slice(errorsBefore);
    if (errs.length) env.note(`suite ${name}: ${errs.length} WebGPU error(s), first: ${errs[0].split('\n')[0]}`);
  }
  env.timer.destroy();
  summarize(env);
  const nav = globalThis.navigator as Navigator | undefined;
  return {
    runtime: ctx.runtime,
    date: new Date().toISOString(),
    adapter: { name: ctx.adapterName, ...ctx.adapterInfo, isSoftware: ctx.isSoftware, timestamps: ctx.hasTimestamps },
    userAgent: ctx.runtime === 'node' ? `Node ${process.version}, Dawn (npm webgpu)` : (nav?.userAgent ?? 'browser'),
    options: { ...o },
    peaks: env.peaks,
    rows: env.rows,
    steps: env.steps,
    notes: env.notes,
    seconds: (performance.now() - t0) / 1000,
    ...(load0 !== null ? { load: [load0, loadAvg()!] as [number, number] } : {}),
  };
}

/** Every row whose check failed (the test asserts there are none). */
export function failedChecks(res: BenchResult): string[] {
  return res.rows.filter((r) => r.check.startsWith('FAIL')).map((r) => `${r.kernel} | ${r.variant} | ${r.shape}: ${r.check}`);
}

/**
 * The issue's goals, read off this run's paired ratios: training ≥ 10× tfjs-webgpu steps/s; the
 * fused forward ≥ 3× tfjs-webgpu at the seed shapes and ≥ 2× at 1024³. Added to the notes.
 */
function summarize(env: BenchEnv): void {
  if (env.opts.validateOnly) return;
  const peerRow = (kernel: string, shape: string): { ratio: number; row: Row } | null => {
    const r = env.rows.find((x) => x.kernel === kernel && x.shape === shape && x.variant.startsWith('tfjs-webgpu') && x.vsPeer);
    return r?.vsPeer ? { ratio: r.vsPeer.ratio, row: r } : null;
  };
  const parts: string[] = [];
  const train = peerRow('sgd_step', '784-50-50-10 B50');
  if (train) parts.push(`training ${train.ratio.toFixed(1)}× tfjs-webgpu steps/s (goal ≥ 10×: ${train.ratio >= 10 ? 'met' : 'MISSED'})`);
  for (const [shape, goal] of [['50x784x50', 3], ['50x50x50', 3], ['50x50x10', 3], ['512x784x256', 2], ['1024x1024x1024', 2]] as const) {
    const p = peerRow('dense_forward', shape);
    if (!p) continue;
    const mine = env.rows.find((x) => x.kernel === 'dense_forward' && x.shape === shape && x.variant.startsWith(`${PRODUCTION_RUNG}: `));
    const bound = mine ? `${mine.bound}-bound, ${mine.peakPct?.toFixed(0) ?? '-'}% of peak` : '';
    const goalText = shape === '512x784x256' ? '' : ` (goal ≥ ${goal}×: ${p.ratio >= goal ? 'met' : 'MISSED'})`;
    parts.push(`fused matmul ${shape}: ${p.ratio.toFixed(1)}× tfjs-webgpu${goalText}${bound ? `; sgdscope ${bound}` : ''}`);
  }
  if (parts.length) env.note(`goals on this adapter: ${parts.join('; ')}`);
}
