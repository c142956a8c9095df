/**
 * Runs a sweep (grid.ts): every grid point is a full training run (src/train/trainer.ts) followed
 * by its final train/test evaluation, the solution size ‖w‖ and the sharpness spectrum (top
 * Hessian eigenvalues, sharpness.ts). A diverged run reports "diverged at step N" and no spectrum.
 *
 * Several runs at once: `concurrency` trainers run interleaved on the one device (each keeps two
 * command buffers in flight; their chunks queue behind each other), so one run's JavaScript —
 * encoding, read-backs, the Lanczos loop on the CPU — overlaps another's GPU work. Whether that
 * beats running them one after the other depends on the device; `sgdscope sweep --concurrency`
 * measures it (timings in result.json).
 *
 * Each point is one unit of work (unit.ts), the same a queue worker runs (src/queue/): it gives
 * the run's record and, for a loaded dataset, its run folder (handed to onRunEnd). With
 * spec.pack = R, points that share the batch size train R at a time as one ensemble (pack.ts):
 * the same records and folders, fewer and fuller dispatches.
 */
import type { GpuContext } from '../../gpu/device.ts';
import { stratifiedSample, subset, type Dataset } from '../../data/index.ts';
import { uploadDataset, type GpuDataset } from '../../train/gpu-dataset.ts';
import { localTraining, StopRequested } from '../train-control.ts';
import type { SweepPoint, SweepSpec } from './grid.ts';
import { SharpnessProbe } from './sharpness.ts';
import { searchPoints } from './search.ts';
import { MemoryRungBoard } from './asha.ts';
import type { RunFiles } from '../../train/run-files.ts';
import type { SweepData } from './unit.ts';
import { packPoints, runSweepPack } from './pack.ts';
import type { SweepResult, SweepRun } from './result.ts';

export { CHANCE_FACTOR, COLLAPSE_FRACTION, classifyRun, type SweepOutcome, type SweepResult, type SweepRun } from './result.ts';

export interface SweepHooks {
  onRunStart?(p: SweepPoint, running: number): void;
  /** files: the run's own run folder (when the data carry their split indices), else null. */
  onRunEnd?(r: SweepRun, done: number, total: number, files: RunFiles | null): void;
  /** Runs finished earlier (a resumed sweep): their points are skipped and their records kept. */
  done?: SweepRun[];
  /** Polled between chunks: true ends the sweep early (runs in progress are dropped; `stopped` is set). */
  shouldStop?(): boolean;
}

/** Training samples the sharpness is averaged over. */
export function hessianSamples(spec: SweepSpec, trainSize: number): number {
  return spec.sharpness.k === 0 ? 0 : spec.sharpness.samples === null ? trainSize : Math.min(spec.sharpness.samples, trainSize);
}

/** The Hessian's data: a stratified subsample of the training set (or all of it), uploaded once. */
export function hessianData(ctx: GpuContext, spec: SweepSpec, train: Dataset): GpuDataset | null {
  if (spec.sharpness.k === 0) return null;
  const classes = spec.model.widths[spec.model.widths.length - 1];
  const n = hessianSamples(spec, train.n);
  const ds = n === train.n ? train : subset(train, stratifiedSample(train.y, train.classes, n, 7, 'sweep.sharpness.samples'), `${train.name}[hessian ${n}]`);
  return uploadDataset(ctx, 'sweep.hessian', ds.x, ds.y, ds.d, classes);
}

export async function runSweep(ctx: GpuContext, spec: SweepSpec, data: SweepData, hooks: SweepHooks = {}): Promise<SweepResult> {
  const t0 = performance.now();
  const points = searchPoints(spec.grid, spec.search);
  const hess = hessianData(ctx, spec, data.train);
  const probe = hess ? await SharpnessProbe.create(ctx, spec.model, hess, spec.sharpness.layers) : null;
  const env = { ctx, data, probe, board: new MemoryRungBoard() };
  const runs: SweepRun[] = new Array(points.length);
  for (const r of hooks.done ?? []) runs[r.point.index] = r;
  const todo = points.filter((p) => runs[p.index] === undefined);
  // ASHA's runs stop at their own rungs: one at a time.
  const packs = packPoints(todo, spec.search?.asha ? 1 : (spec.pack ?? 1));
  let next = 0;
  let done = points.length - todo.length;
  let running = 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (next < packs.length && !stopped) {
      const pack = packs[next++];
      running += pack.length;
      for (const p of pack) hooks.onRunStart?.(p, running);
      let results: Awaited<ReturnType<typeof runSweepPack>>;
      try {
        results = await runSweepPack(spec, pack, { ...env, control: localTraining(hooks.shouldStop) });
      } catch (e) {
        if (!(e instanceof StopRequested)) throw e;
        stopped = true;
        return;
      } finally {
        running -= pack.length;
      }
      for (const [j, p] of pack.entries()) {
        runs[p.index] = results[j].run;
        done++;
        hooks.onRunEnd?.(runs[p.index], done, points.length, results[j].files);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(spec.concurrency, packs.length) }, worker));
  } finally {
    probe?.destroy();
    hess?.x.destroy();
    hess?.y.destroy();
  }
  return {
    spec,
    runs,
    trainSize: data.train.n,
    testSize: data.test?.n ?? 0,
    seconds: (performance.now() - t0) / 1000,
    hessianSamples: hess?.n ?? 0,
    ...(stopped ? { stopped } : {}),
  };
}
