/**
 * The end of a dashboard ensemble whose Feng–Tu windows were recorded (session-build.ts
 * `ensemble`): each replica analysed in turn by the CLI's own loop (experiments/feng-tu/ensemble.ts
 * analyseReplicas: a single network holding the replica's final weights, stages of run.ts), reduced
 * to its key numbers as soon as it is done (its window is not kept), then the figures across seeds
 * (ensemble-figures.ts); and the files of the analysis for the run folder the page exports.
 */
import type { LoadedData } from '../../data/index.ts';
import type { RunResult } from '../../train/trainer.ts';
import { analyseReplicas } from '../feng-tu/ensemble.ts';
import { hasPca } from '../feng-tu/run.ts';
import { ensembleWindowResult, replicaWindowOf, type EnsembleWindowResult, type ReplicaWindow } from './ensemble-figures.ts';
import type { RunParts } from './session-build.ts';
import type { AdapterRecord } from '../../gpu/device.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';
import type { RunFiles } from '../../train/run-files.ts';
import type { RunSpec } from './run-settings.ts';
import { fengTuSeedsFiles } from '../feng-tu/seeds.ts';
import { toCsv } from '../../util/csv.ts';

/** Analyses every replica's window; `status` gets one line per stage and replica. */
export async function analyseEnsembleWindows(p: RunParts, run: RunResult, data: LoadedData, status: (text: string) => void): Promise<{ result: EnsembleWindowResult; reps: ReplicaWindow[] }> {
  const e = p.ensemble;
  if (!e) throw new Error('this run recorded no Feng–Tu window (internal error)');
  const t = p.trainer;
  const seeds = t.configs.map((c) => c.seed);
  const reps: ReplicaWindow[] = [];
  const failed: EnsembleWindowResult['failed'] = [];
  let replica = 0;
  let started = performance.now();
  const where = (): string => `replica ${replica + 1} of ${t.replicas} (seed ${seeds[replica]})`;
  await analyseReplicas(
    p.ctx, t, e.sessions, run, { train: data.train, test: data.test },
    {
      onStageStart: (stage, detail) => status(`final analysis of ${where()} — ${stage}: ${detail}`),
      onStageProgress: (stage, done, total, detail) => status(`final analysis of ${where()} — ${stage}: ${detail}${total ? ` (${done}/${total})` : ''}`),
    },
    {},
    (r, result) => {
      // Its window is analysed: give its GPU memory back at once.
      e.sessions[r].recorder.traj.destroy();
      if (!hasPca(result)) failed.push({ seed: seeds[r], reason: `the PCA stage failed: ${result.stages.pca?.error ?? 'no result'}` });
      else reps.push(replicaWindowOf(seeds[r], result, (performance.now() - started) / 1000));
      started = performance.now();
      replica = r + 1;
    },
  );
  const s0 = e.sessions[0];
  return { result: ensembleWindowResult(e.plan, { first: s0.windowStart + 1, last: s0.total, T: s0.T }, seeds, reps, failed), reps };
}

/**
 * The analysis in the exported run folder: `sgdscope reproduce feng-tu --replicas`'s seeds.csv,
 * summary.json and report.html, each seed's σ_i² and F_i (spectra.csv) and the figures' numbers
 * with their error bars (figures.json).
 */
export function ensembleWindowFiles(p: RunParts, spec: RunSpec, done: { result: EnsembleWindowResult; reps: ReplicaWindow[] }, assets: ReportAssets, adapter: AdapterRecord): RunFiles {
  const { result, reps } = done;
  const seconds = reps.reduce((a, r) => a + r.record.seconds, 0);
  const seedsSpec = { model: spec.model, train: spec.train, data: spec.data, options: p.ensemble?.options ?? {}, seeds: result.seeds, replicas: result.seeds.length };
  const failed = result.failed.map((f) => ({ index: result.seeds.indexOf(f.seed), reason: f.reason }));
  const files = fengTuSeedsFiles(seedsSpec, result.records, failed, assets, adapter, seconds);
  const rows = reps.flatMap((r) => Array.from(r.variances, (v, i) => {
    const j = r.dirs.indexOf(i);
    return [r.record.seed, i + 1, v, j >= 0 ? r.F[j] : null];
  }));
  files.set('spectra.csv', toCsv(['seed', 'pc', 'sigma2', 'F'], rows));
  files.set('figures.json', JSON.stringify({ note: result.note, window: result.window, spread: result.spread, charts: result.charts }, null, 1) + '\n');
  return files;
}
