/**
 * The end of a dashboard ensemble whose Feng–Tu windows were recorded (session-build.ts
 * `ensemble`): each replica analysed in turn by the CLI's own loop (experiments/feng-tu/ensemble.ts
 * analyseReplicas: a single network holding the replica's final weights, stages of run.ts), reduced
 * to its key numbers as soon as it is done (its window is not kept), then the figures across seeds
 * (ensemble-figures.ts).
 */
import type { LoadedData } from '../../data/index.ts';
import type { RunResult } from '../../train/trainer.ts';
import { analyseReplicas } from '../feng-tu/ensemble.ts';
import { hasPca } from '../feng-tu/run.ts';
import { ensembleWindowResult, replicaWindowOf, type EnsembleWindowResult, type ReplicaWindow } from './ensemble-figures.ts';
import type { RunParts } from './session-build.ts';

/** Analyses every replica's window; `status` gets one line per stage and replica. */
export async function analyseEnsembleWindows(p: RunParts, run: RunResult, data: LoadedData, status: (text: string) => void): Promise<EnsembleWindowResult> {
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
      if (!hasPca(result)) failed.push({ seed: seeds[r], reason: `the PCA stage failed: ${result.stages.pca?.error ?? 'no result'}` });
      else reps.push(replicaWindowOf(seeds[r], result, (performance.now() - started) / 1000));
      started = performance.now();
      replica = r + 1;
    },
  );
  const s0 = e.sessions[0];
  return ensembleWindowResult(e.plan, { first: s0.windowStart + 1, last: s0.total, T: s0.T }, seeds, reps, failed);
}
