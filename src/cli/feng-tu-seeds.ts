/**
 * `sgdscope reproduce feng-tu --seeds 1,2,3` (and any feng-tu with --queue or --replicas): the
 * experiment once per seed, each seed's run folder under <out>/runs/NNNN/, and the across-seeds
 * files at the top (src/experiments/feng-tu/seeds.ts) — in this process, or by queue workers. With
 * --replicas R the seeds train R at a time as one ensemble (src/experiments/feng-tu/ensemble.ts):
 * the same numbers per seed; --replicas alone means seeds s … s + R − 1.
 */
import { join } from 'node:path';
import { adapterRecord, acquireGpu } from '../gpu/device.ts';
import { loadDataset, type DatasetSpec } from '../data/index.ts';
import { loadReportAssets } from '../analysis/report/assets.ts';
import type { MlpConfig } from '../nn/config.ts';
import type { TrainConfig } from '../train/config.ts';
import { encodeExactJson } from '../util/exact-json.ts';
import { fengTuSeedsFiles, runFengTuSeed, seedGroups, validateSeeds, type FengTuSeedRecord, type FengTuSeedsSpec } from '../experiments/feng-tu/seeds.ts';
import { runFengTuEnsemble } from '../experiments/feng-tu/ensemble.ts';
import type { FengTuOptions } from '../experiments/feng-tu/run.ts';
import { runName, unitJson, writeFolderAtomic } from '../queue/store.ts';
import { openPlainRun } from './run-folder.ts';
import { inputPhase } from './input.ts';
import { UsageError, type FlagValues } from './args.ts';
import { formatDuration } from './progress.ts';
import { runOnQueue } from './queue-mode.ts';

const CMD = 'sgdscope reproduce feng-tu';

export async function fengTuSeedsCommand(flags: FlagValues, run: { model: MlpConfig; train: TrainConfig; data: DatasetSpec }, options: Partial<FengTuOptions>): Promise<number> {
  if (flags.seed !== undefined && flags.seeds !== undefined) throw new UsageError(`${CMD}: give --seed or --seeds, not both`);
  const R = flags.replicas as number | undefined;
  let seeds: number[];
  try {
    seeds = validateSeeds((flags.seeds as number[] | undefined) ?? Array.from({ length: R ?? 1 }, (_, i) => run.train.seed + i));
  } catch (e) {
    throw new UsageError(`${CMD}: --seeds: ${(e as Error).message}`);
  }
  if (R !== undefined && R > 1 && (run.train.stopLoss !== null || run.train.stopAccuracy !== null)) {
    throw new UsageError(`${CMD}: --replicas ${R} needs a run of known length; the stop rule (--stop-loss/--stop-accuracy, the authors' protocol) ends each seed at its own step: use --replicas 1`);
  }
  const train: Partial<TrainConfig> = { ...run.train };
  delete train.seed;
  const spec: FengTuSeedsSpec = { model: run.model, train, data: run.data, options, seeds, ...(R && R > 1 ? { replicas: R } : {}) };
  const log = (s: string): void => {
    if (!flags.quiet) process.stderr.write(`${s}\n`);
  };
  if (flags.queue !== undefined) {
    if (flags.out !== undefined) throw new UsageError(`${CMD}: with --queue the run folder is written by the workers into their store, not --out`);
    return runOnQueue('feng-tu', spec, flags, CMD, log);
  }
  // The seeds one after the other, in one atomically written run folder (no checkpoints: a signal ends it).
  const { cr, assets, loaded } = await inputPhase(async () => ({ assets: await loadReportAssets(), loaded: await loadDataset(run.data), cr: openPlainRun(flags, { kind: 'feng-tu-seeds', command: CMD, argv: [] }) }));
  const outDir = cr.dir.work;
  const ctx = await acquireGpu();
  const adapter = adapterRecord(ctx);
  const t0 = performance.now();
  const records: FengTuSeedRecord[] = [];
  for (const group of seedGroups(spec)) {
    const startedAt = new Date().toISOString();
    const what = group.seeds.length > 1 ? `seeds ${group.seeds.join(', ')} (an ensemble; ${group.indices[0] + 1}–${group.indices.at(-1)! + 1}/${seeds.length})` : `seed ${group.seeds[0]} (${group.indices[0] + 1}/${seeds.length})`;
    log(`${what}: training and analysing…`);
    const meta = { data: loaded.spec, adapter };
    const done = group.seeds.length > 1 ? await runFengTuEnsemble(ctx, spec, group.seeds, loaded, assets, meta) : [await runFengTuSeed(ctx, spec, group.seeds[0], loaded, assets, meta)];
    for (const [j, { record, files }] of done.entries()) {
      const i = group.indices[j];
      files.set('record.json', encodeExactJson(record));
      files.set('unit.json', unitJson({ kind: 'feng-tu', run: i, worker: 'in-process', adapter, startedAt, context: {} }));
      writeFolderAtomic(join(outDir, 'runs'), runName(i), files);
      records.push(record);
      log(`seed ${record.seed}: ψ = ${record.psi?.toFixed(3) ?? '—'} ± ${record.psiSE?.toFixed(3) ?? '—'}, D90 ${record.d90 ?? '—'}, D99 ${record.d99 ?? '—'} (${formatDuration(record.seconds)})`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  cr.finish(fengTuSeedsFiles(spec, records, [], assets, adapter, seconds));
  process.stdout.write(`${seeds.length} seeds in ${formatDuration(seconds)}; run folder: ${cr.dir.shown} (seeds.csv, report.html; runs/NNNN: each seed's)\n`);
  ctx.destroy();
  return 0;
}
