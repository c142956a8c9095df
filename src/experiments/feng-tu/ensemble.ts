/**
 * Feng–Tu for several seeds trained as one ensemble (`sgdscope reproduce feng-tu --replicas R`):
 * the R seeds train in lockstep (src/train/trainer.ts), one window recorder per replica records
 * its analysed layer at every step of the window (and its weight checkpoints); then each replica
 * is analysed on its own (stages 2–7 of run.ts) on a single network holding its final weights.
 * Replica r's training is bit for bit the seed's run alone and the analysis is the same code on
 * the same weights, so each seed's record and folder are those runFengTuSeed writes — only faster.
 * A window that ends where a stop rule ends the run (a ring, plan.ts 'open') needs R = 1: replicas
 * stop at different steps, and the recorders follow the ensemble's steps.
 */
import type { AdapterRecord, GpuContext } from '../../gpu/device.ts';
import type { Dataset } from '../../data/dataset.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';
import { Trainer, type RunResult } from '../../train/trainer.ts';
import type { RunFiles } from '../../train/run-files.ts';
import { analyseFengTu, prepareFengTu, type FengTuProgress, type FengTuResult, type FengTuSession } from './run.ts';
import { fengTuFiles } from './files.ts';
import { seedRecord, type FengTuSeedRecord, type FengTuSeedsSpec } from './seeds.ts';

/** Trains `seeds` as one ensemble and analyses each: one record and run folder per seed, in order. */
export async function runFengTuEnsemble(
  ctx: GpuContext, spec: FengTuSeedsSpec, seeds: readonly number[], data: { train: Dataset; test: Dataset | null }, assets: ReportAssets,
  meta: { data: unknown; adapter: AdapterRecord }, progress: FengTuProgress = {},
): Promise<{ record: FengTuSeedRecord; files: RunFiles }[]> {
  const t0 = performance.now();
  const configs = seeds.map((seed) => ({ ...spec.train, seed }));
  const trainer = await Trainer.create(ctx, spec.model, configs, data);
  try {
    const sessions: FengTuSession[] = [];
    for (let r = 0; r < seeds.length; r++) sessions.push(await prepareFengTu(ctx, trainer, spec.options, r));
    const { T, windowStart, total, open } = sessions[0];
    if (open && seeds.length > 1) {
      throw new Error(`Feng–Tu --replicas ${seeds.length}: the stop rule (stopLoss/stopAccuracy) ends each seed's run at its own step; train such seeds one at a time (--replicas 1)`);
    }
    for (const s of sessions) s.recorder.recordInitial();
    progress.onStageStart?.('train', `${seeds.length} seeds in lockstep (${seeds.join(', ')}), ${total} steps, window ${windowStart + 1}–${total} (${T} steps), layer ${sessions[0].o.layer}`);
    const run = await trainer.run({
      onStepEncoded: (batch, step) => {
        for (const s of sessions) s.recorder.onStepEncoded(batch, step);
      },
      onChunk: (p) => progress.onTrainChunk?.(p, trainer),
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    progress.onStageEnd?.('train', trainSeconds, run.message);
    const out: { record: FengTuSeedRecord; files: RunFiles }[] = [];
    let started = performance.now();
    await analyseReplicas(ctx, trainer, sessions, run, data, progress, { train: trainSeconds }, (r, result) => {
      const record = seedRecord(seeds[r], result, trainSeconds + (performance.now() - started) / 1000);
      out.push({ record, files: fengTuFiles(result, assets, meta) });
      started = performance.now();
    });
    return out;
  } finally {
    freeData([trainer]);
  }
}

/**
 * Analyses each replica of a trained ensemble in turn (stages 2–7 of run.ts, `sessions[r]` its
 * window recorder), on a single network holding its final weights (the trainer itself when R = 1);
 * `each` gets replica r's result before the next replica's network is made, and that network's
 * data buffers are freed after it. The CLI (above) and the dashboard (experiments/dashboard) share it.
 */
export async function analyseReplicas(
  ctx: GpuContext, trainer: Trainer, sessions: readonly FengTuSession[], run: RunResult, data: { train: Dataset; test: Dataset | null },
  progress: FengTuProgress, timings: Record<string, number>, each: (r: number, result: FengTuResult) => void | Promise<void>,
): Promise<void> {
  const R = trainer.replicas;
  const params = R > 1 ? await trainer.mlp.readParams() : null;
  const Tp = trainer.mlp.layout.total;
  for (let r = 0; r < R; r++) {
    let single = trainer;
    if (params) {
      single = await Trainer.create(ctx, trainer.model, trainer.configs[r], data);
      single.mlp.uploadParams(params.subarray(r * Tp, (r + 1) * Tp));
    }
    try {
      const result = await analyseFengTu({ ...sessions[r], trainer: single, config: trainer.configs[r], history: trainer.histories[r] }, replicaRun(trainer, run, r), progress, { ...timings });
      await each(r, result);
    } finally {
      if (single !== trainer) freeData([single]);
    }
  }
}

/** Replica r's part of the ensemble's result, as its run alone would report it. */
function replicaRun(t: Trainer, run: RunResult, r: number): RunResult {
  const o = run.replicas?.[r] ?? { status: 'running', message: run.message, step: run.steps };
  const running = o.status === 'running' || (o.status as string) === 'completed';
  const message = running ? `completed ${run.steps} steps (${t.epochOf(run.steps).toFixed(2)} epochs)` : o.message;
  return { status: running ? (run.status === 'stopped' ? 'stopped' : 'completed') : (o.status as RunResult['status']), message, steps: running ? run.steps : o.step, seconds: run.seconds, stepsPerSecond: run.stepsPerSecond };
}

function freeData(trainers: Trainer[]): void {
  for (const t of trainers) {
    for (const d of [t.trainData, t.testData]) {
      d?.x.destroy();
      d?.y.destroy();
    }
  }
}

export type { FengTuResult };
