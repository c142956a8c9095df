/**
 * GPU time per SGD step of every kernel, from timestamp queries: one chunk in `every` is encoded
 * with a timestamped pass per dispatch (src/gpu/profiler.ts), never a chunk that ends in an
 * evaluation (its evaluation kernels are not per step). Needs the adapter's timestamp-query
 * feature and chunks of at most 150 steps (the query set holds 2,048 passes).
 */
import { Profiler } from '../gpu/profiler.ts';
import type { ChartData } from '../analysis/report/chart-data.ts';
import type { ChunkPlan } from '../train/trainer.ts';
import { registerInstrument } from './registry.ts';
import { int } from './settings.ts';
import type { TableView } from './types.ts';

const FIXED = ['step', 'wall_ms', 'total_ms'];

function charts(t: TableView): ChartData[] {
  const d = t.timings;
  const steps = d.step ?? [];
  const kernels = Object.keys(d).filter((c) => !FIXED.includes(c));
  const last = steps.length - 1;
  const top = kernels
    .filter((k) => last >= 0 && Number.isFinite(d[k][last]))
    .sort((a, b) => d[b][last] - d[a][last])
    .slice(0, 3)
    .map((k) => `${k} ${d[k][last].toFixed(3)}`);
  const orNull = (v: number): number | null => (Number.isFinite(v) && v > 0 ? v : null);
  return [
    {
      id: 'timings',
      title: 'Kernel timings',
      xLabel: 'SGD step',
      yLabel: 'ms per step (log)',
      xLog: false,
      yLog: true,
      x: [...steps],
      series: [
        ...kernels.map((k) => ({ label: k, style: 'line+points' as const, y: d[k].map(orNull) })),
        { label: 'all kernels (sum)', style: 'line' as const, y: (d.total_ms ?? []).map(orNull) },
        { label: 'wall clock per step', style: 'dashed' as const, y: (d.wall_ms ?? []).map(orNull) },
      ],
      note: last >= 0 ? `step ${steps[last]}: ${d.total_ms[last].toFixed(3)} ms of kernels per step (${top.join(', ')} …)` : undefined,
    },
  ];
}

export const kernelTimings = registerInstrument({
  id: 'kernel-timings',
  title: 'Kernel timings',
  about: 'GPU time per SGD step of each kernel, from timestamp queries around every dispatch of one profiled chunk in `every` (the profiled chunk runs a little slower: one pass per dispatch), against the wall clock per step.',
  settings: { every: int(5, { min: 1, max: 1e6 }, 'profile one chunk of steps in this many', { label: 'profile every (chunks)' }) },
  tables: { timings: { mode: 'append', about: 'step (end of the profiled chunk), wall-clock ms per step, the sum over kernels and one column per kernel label: GPU ms per step' } },
  panels: [{ chart: 'timings', caption: 'GPU time per SGD step of each kernel (timestamp queries; log; ms), against the step of the profiled chunk' }],
  charts,
  start(ctx) {
    if (!ctx.device.hasTimestamps || ctx.trainer.config.chunkSteps > 150) {
      ctx.emit({ note: 'this adapter has no timestamp-query feature (or steps per chunk > 150): no per-kernel times; the panel shows nothing' });
      return {};
    }
    const pr = new Profiler(ctx.device);
    let chunks = 0;
    let next = 2;
    let profiled: ChunkPlan | null = null;
    let collecting = false;
    return {
      chunk: {
        start(c) {
          chunks++;
          if (profiled || collecting || chunks < next || c.evalDue) return;
          profiled = c;
          next = chunks + ctx.settings.every;
          return { profiler: pr };
        },
        done(p) {
          const c = profiled;
          if (!c || p.firstStep - 1 !== c.firstStep) return;
          profiled = null;
          collecting = true;
          const wall = p.stepsPerSecond > 0 ? 1000 / p.stepsPerSecond : NaN;
          // Not awaited: the read-back of the timestamps never holds up the next chunk.
          pr.collect().then(
            () => {
              const t = pr.timings();
              pr.reset();
              collecting = false;
              if (!t.length) return;
              const ms = t.map((x) => x.totalMs / c.steps);
              const cols: Record<string, number[]> = { step: [c.firstStep + c.steps], wall_ms: [wall], total_ms: [ms.reduce((a, b) => a + b, 0)] };
              t.forEach((x, j) => (cols[x.label] = [ms[j]]));
              ctx.emit({ tables: { timings: cols } });
            },
            (e: unknown) => {
              collecting = false;
              ctx.warn(`reading the timestamps failed: ${(e as Error).message}`);
            },
          );
        },
      },
      dispose: () => pr.destroy(),
    };
  },
});
