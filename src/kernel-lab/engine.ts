/**
 * The kernel lab's engine (no DOM; it runs in src/kernel-lab/lab.worker.ts on a device of its own):
 * validate, then time, like the benchmark.
 *
 *  1. compile the text, messages at the editor's line and column;
 *  2. reflect the entry point, bind its buffers and uniform fields to the problem's by name;
 *  3. run it once — loop-guarded (src/kernel-lab/loop-guard.ts), under a watchdog — on NaN-filled
 *     outputs and compare with the CPU reference, first mismatches by position;
 *  4. only then time it (bench/core: timestamp queries around many calls, else wall time), beside
 *     sgdscope's own kernels for the problem (validated the same way) and tfjs-webgpu on the same
 *     device and shapes, against this adapter's peaks measured once per device (bench/suites/peak.ts).
 *
 * Rows are the benchmark's (bench/core/report.ts), so a result exports as bench/results/*.json does.
 */
import type { GpuContext } from '../gpu/device.ts';
import { GpuBatch } from '../gpu/batch.ts';
import { shaderSource } from '../gpu/shader-source.ts';
import { overrideDecls } from '../gpu/reflect.ts';
import { BenchEnv, DEFAULT_OPTIONS, runCase, type BenchOptions } from '../../bench/core/env.ts';
import type { AdapterPeaks, BenchResult, Row } from '../../bench/core/report.ts';
import type { CheckResult } from '../../bench/core/check.ts';
import { runPeak } from '../../bench/suites/peak.ts';
import { PROBLEMS, checkParams, type Params, type Problem, type StartKernel } from './catalog.ts';
import { expectedOutputs, makeInputs, type Expected } from './data.ts';
import { checkOutput, checkSummary, type OutputCheck } from './compare.ts';
import { guardLoops } from './loop-guard.ts';
import { FILE, compileMessages, expand, inspect } from './source.ts';
import { LabBuffers, LabError, buildKernel, type BuiltKernel, type KernelText } from './prepare.ts';
import { tfjsPeer } from './peers.ts';
import type { FromWorker, LabResult, LabSpec, RunOptions, Stage } from './protocol.ts';

export type Emit = (m: FromWorker) => void;

/** Generous: a kernel is never timed against these, they only catch one that never ends. */
const VALIDATE_TIMEOUT_MS = 60_000;
const TIME_TIMEOUT_MS = 240_000;

export class WatchdogError extends Error {}

function watchdog<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WatchdogError(`watchdog: ${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/** The spec of a start kernel (a ladder rung, a production kernel) at params `p`. */
export function startSpec(problem: Problem, p: Params, s: StartKernel): LabSpec {
  const setup = s.setup(p);
  const fixed = new Set(Object.keys(problem.fixed(p)));
  const overrides = Object.fromEntries(Object.entries(setup.constants).filter(([k]) => !fixed.has(k)));
  return { problem: problem.id, params: p, source: shaderSource(s.shader), entry: s.entry, template: { ...(setup.template ?? {}) } as Record<string, number>, overrides, grid: [...s.grid] };
}

export class LabEngine {
  private peaks: AdapterPeaks | null = null;
  /** Set when a watchdog fired: the device may still be busy with the kernel; use a new one. */
  stuck = false;

  constructor(readonly ctx: GpuContext, private readonly emit: Emit) {}

  inspect(id: number, source: string): void {
    this.emit({ type: 'inspected', id, inspection: inspect(source) });
  }

  start(id: number, problemId: keyof typeof PROBLEMS, params: Params, startId: string): void {
    const problem = PROBLEMS[problemId];
    const s = problem.starts.find((x) => x.id === startId);
    if (!s) throw new Error(`${problemId} has no start kernel '${startId}' (has: ${problem.starts.map((x) => x.id).join(', ')})`);
    this.emit({ type: 'started', id, spec: startSpec(problem, checkParams(problem, params), s), label: s.label });
  }

  async run(id: number, spec: LabSpec, options: RunOptions): Promise<void> {
    const t0 = performance.now();
    const stage = (s: Stage, text: string): void => this.emit({ type: 'stage', id, stage: s, text });
    const invalid = (s: Stage, messages: string[], checks?: OutputCheck[]): void => this.emit({ type: 'invalid', id, stage: s, messages, checks });
    const problem = PROBLEMS[spec.problem];
    let p: Params;
    try {
      p = checkParams(problem, spec.params);
    } catch (e) {
      return invalid('source', [(e as Error).message]);
    }
    stage('compile', 'compiling');
    let expanded: ReturnType<typeof expand>;
    try {
      expanded = expand(spec.source, spec.template);
    } catch (e) {
      return invalid('source', [(e as Error).message]);
    }
    const diagnostics = await compileMessages(this.ctx.device, spec.source, expanded);
    this.emit({ type: 'diagnostics', id, diagnostics });
    const errors = diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) return invalid('compile', errors.map((d) => d.text));

    let bufs: LabBuffers | null = null;
    let env: BenchEnv | null = null;
    let current: Stage = 'pipeline';
    try {
      const inputs = makeInputs(problem, p);
      bufs = new LabBuffers(this.ctx, problem, p, inputs);
      stage('pipeline', 'building the pipeline');
      const text: KernelText = { file: FILE, source: spec.source, entry: spec.entry, template: spec.template, overrides: spec.overrides, grid: spec.grid };
      const yours = await buildKernel(this.ctx, problem, p, text, bufs, 'lab.kernel');

      current = 'validate';
      stage('validate', 'running once and comparing with the CPU reference');
      const expected = expectedOutputs(problem, p, inputs);
      const biggest = Math.max(...bufs.decls.map((d) => d.elements));
      const cap = Math.max(4 * biggest, 1 << 16);
      const syncCap = 4 * Math.max(...Object.values(problem.sizes(p))) + 1024;
      const guarded = guardLoops(expanded.code, cap, syncCap);
      let runner = yours;
      let guard = 'no loops';
      if (guarded) {
        try {
          runner = await buildKernel(this.ctx, problem, p, text, bufs, 'lab.kernel.guarded', guarded.code);
          guard = `loop guard on ${guarded.loops} loop(s): ${cap} iterations each (${syncCap} where the loop synchronises)`;
        } catch (e) {
          guard = `no loop guard (${(e as Error).message.split('\n')[0]}): the watchdog alone`;
        }
      }
      const errorsBefore = this.ctx.uncapturedErrors.length;
      const checks = await watchdog(this.check(runner, bufs, expected, problem), VALIDATE_TIMEOUT_MS, 'the validation run');
      if (runner !== yours && (await bufs.guardTripped())) {
        return invalid('validate', [`a loop ran past its guard (${cap} iterations; ${syncCap} for a loop with a barrier) and was stopped: the kernel may never end. Look for a loop whose condition never becomes false.`], checks);
      }
      const gpuErrs = this.ctx.uncapturedErrors.slice(errorsBefore);
      if (gpuErrs.length) return invalid('validate', [`WebGPU reported ${gpuErrs.length} error(s) running the kernel: ${gpuErrs[0]}`]);
      const summary = checkSummary(checks, problem.tolerance.atol, problem.tolerance.rtol);
      this.emit({ type: 'checked', id, checks, summary: summary.message, guard });
      if (!summary.ok) return invalid('validate', [summary.message], checks);

      env = this.env(options);
      const rows: Row[] = [];
      const notes = [guard, `grid (${yours.grid.join(', ')}) of workgroups (${yours.kernel.workgroupSize.join(', ')})`];
      const { flops, bytes } = problem.cost(p);
      const shape = problem.shapeLabel(p);
      const caseOf = (variant: string, k: BuiltKernel, chk: CheckResult) => ({ kernel: problem.kernelName, variant, shape, flops, bytes, dispatches: 1, encode: k.encode, check: async () => chk });
      if (!options.validateOnly) {
        current = 'peaks';
        if (!this.peaks) {
          stage('peaks', "measuring this adapter's peaks (once per device)");
          const penv = this.env(options);
          await watchdog(runPeak(penv), TIME_TIMEOUT_MS, 'the peak measurement');
          penv.timer.destroy();
          this.peaks = penv.peaks;
        }
        env.peaks = this.peaks;
        this.emit({ type: 'peaks', id, peaks: this.peaks });
      }
      current = 'time';
      stage('time', options.validateOnly ? 'validated' : 'timing your kernel');
      const mine = await watchdog(runCase(env, caseOf(`lab: your kernel (${spec.entry})`, yours, summary)), TIME_TIMEOUT_MS, 'timing your kernel');
      rows.push(mine);
      this.emit({ type: 'row', id, row: mine, role: 'yours' });
      const ratios: LabResult['ratios'] = [];
      if (!options.validateOnly) {
        current = 'compare';
        for (const sid of options.compare) {
          const s = problem.starts.find((x) => x.id === sid);
          if (!s) continue;
          stage('compare', `validating and timing sgdscope ${s.label}`);
          const row = await this.compareWith(env!, problem, p, s, bufs, expected, caseOf);
          rows.push(row);
          this.emit({ type: 'row', id, row, role: 'sgdscope' });
          if (row.ms && mine.ms) ratios.push({ label: `sgdscope ${row.variant}`, ratio: row.ms / mine.ms, basis: row.timer === 'timestamp' ? 'gpu' : 'wall' });
        }
        if (options.tfjs) {
          current = 'peer';
          stage('peer', 'checking and timing tfjs-webgpu on the same device');
          const base = { kernel: problem.kernelName, shape, ms: null, wallMs: null, timer: '-' as const, flops, bytes, gflops: null, gbs: null, peakPct: null, bound: '-' as const };
          const row = await watchdog(tfjsPeer(env, problem, p, inputs, expected, yours.encode, base), TIME_TIMEOUT_MS, 'tfjs-webgpu');
          rows.push(row);
          this.emit({ type: 'row', id, row, role: 'peer' });
          if (row.vsPeer) {
            mine.vsPeer = row.vsPeer;
            ratios.push({ label: row.variant, ratio: row.vsPeer.ratio, basis: 'wall' });
          }
        }
      }
      const result: LabResult = { spec, options, bench: this.benchResult(spec, options, rows, notes, (performance.now() - t0) / 1000), ratios };
      this.emit({ type: 'done', id, result });
    } catch (e) {
      if (e instanceof LabError) return invalid(e.stage, e.messages);
      const watchdogFired = e instanceof WatchdogError;
      if (watchdogFired) this.stuck = true;
      this.emit({ type: 'failed', id, stage: current, message: (e as Error).message, watchdog: watchdogFired });
    } finally {
      // After a watchdog the kernel may still be running on these buffers: leave them.
      if (!this.stuck) bufs?.destroy();
      env?.timer.destroy();
    }
  }

  private env(options: RunOptions): BenchEnv {
    const opts: BenchOptions = { ...DEFAULT_OPTIONS, validateOnly: options.validateOnly, quick: options.quick, ...(options.quick ? { targetMs: 40, repeats: 3 } : {}) };
    return new BenchEnv(this.ctx, opts, { line: () => {}, row: () => {} });
  }

  /** One run on NaN-filled outputs, compared with the reference. */
  private async check(k: BuiltKernel, bufs: LabBuffers, expected: Expected[], problem: Problem): Promise<OutputCheck[]> {
    bufs.resetOutputs();
    const b = new GpuBatch(this.ctx, 'lab.check');
    k.encode(b, 0);
    b.submit();
    const got = await bufs.readOutputs();
    return expected.map((e) => checkOutput(got[e.output], e, problem.tolerance.atol, problem.tolerance.rtol));
  }

  /** One of sgdscope's kernels for the problem, validated on the same buffers, then timed. */
  private async compareWith(env: BenchEnv, problem: Problem, p: Params, s: StartKernel, bufs: LabBuffers, expected: Expected[], caseOf: (v: string, k: BuiltKernel, c: CheckResult) => Parameters<typeof runCase>[1]): Promise<Row> {
    const spec = startSpec(problem, p, s);
    const label = problem.id === 'matmul' ? s.label.replace(/:.*/, `: ${s.setup(p).label}`) : s.setup(p).label;
    const declared = overrideDecls(spec.source).map((d) => d.name);
    if (problem.fixed(p).HAS_BIAS === true && !declared.includes('HAS_BIAS')) {
      return { ...rowBase(problem, p, label), check: 'skipped: this kernel has no bias row (no HAS_BIAS override)' };
    }
    const text: KernelText = { file: `shaders/${s.shader}.wgsl`, source: spec.source, entry: spec.entry, template: spec.template, overrides: spec.overrides, grid: spec.grid };
    let k: BuiltKernel;
    try {
      k = await buildKernel(this.ctx, problem, p, text, bufs, `lab.${s.shader}.${s.id}`);
    } catch (e) {
      return { ...rowBase(problem, p, label), check: `FAIL: ${(e as Error).message.split('\n')[0]}` };
    }
    const checks = await this.check(k, bufs, expected, problem);
    return watchdog(runCase(env, caseOf(label, k, checkSummary(checks, problem.tolerance.atol, problem.tolerance.rtol))), TIME_TIMEOUT_MS, `timing ${label}`);
  }

  private benchResult(spec: LabSpec, options: RunOptions, rows: Row[], notes: string[], seconds: number): BenchResult {
    const c = this.ctx;
    const nav = globalThis.navigator as Navigator | undefined;
    return {
      runtime: c.runtime,
      date: new Date().toISOString(),
      adapter: { name: c.adapterName, ...c.adapterInfo, isSoftware: c.isSoftware, timestamps: c.hasTimestamps },
      userAgent: nav?.userAgent ?? c.runtime,
      options: { lab: spec, ...options },
      peaks: this.peaks ?? { fmaGflops: null, cacheGBs: null, dramGBs: null, dispatchGpuMs: null, dispatchWallMs: null, cacheBytes: 16 * 2 ** 20 },
      rows,
      steps: [],
      notes,
      seconds,
    };
  }
}

function rowBase(problem: Problem, p: Params, variant: string): Omit<Row, 'check'> {
  const { flops, bytes } = problem.cost(p);
  return { kernel: problem.kernelName, variant, shape: problem.shapeLabel(p), ms: null, wallMs: null, timer: '-', flops, bytes, gflops: null, gbs: null, peakPct: null, bound: '-' };
}
