/**
 * `sgdscope train --replicas R` / `--seeds a,b,…`: R networks of one architecture and settings,
 * differing in their seed (initial weights, minibatch order, dropout masks), trained in lockstep
 * by the same dispatches (src/train/trainer.ts). Replica r is bit for bit the run
 * `sgdscope train --seed <its seed>` would make; the folder stacks them (src/train/ensemble-files.ts).
 */
import { adapterRecord, acquireGpu } from '../gpu/device.ts';
import { loadDataset } from '../data/index.ts';
import { Trainer } from '../train/trainer.ts';
import { seedEnsemble } from '../train/ensemble.ts';
import { ensembleRunFiles } from '../train/ensemble-files.ts';
import type { EvalRecord } from '../train/history.ts';
import { defaultRunDir, prepareRunDir, writeRunFiles } from './run-folder.ts';
import { UsageError, type FlagValues } from './args.ts';
import { ProgressBar, formatDuration } from './progress.ts';
import type { DatasetSpec } from '../data/index.ts';
import type { MlpConfig } from '../nn/config.ts';
import type { TrainConfig } from '../train/config.ts';

/** The settings `sgdscope train` resolved from defaults, --config and flags. */
interface ResolvedRun {
  model: MlpConfig;
  train: TrainConfig;
  data: DatasetSpec;
}

/** The seeds of an ensemble from --replicas / --seeds, or null for a single run. */
export function ensembleSeeds(flags: FlagValues, seed: number): number[] | null {
  const list = flags.seeds as number[] | undefined;
  const R = flags.replicas as number | undefined;
  if (list) {
    if (list.length < 1 || list.length > 1024) throw new UsageError(`sgdscope train: --seeds must list 1 to 1024 seeds, got ${list.length}`);
    for (const s of list) if (!(Number.isInteger(s) && s >= 0 && s <= 4294967295)) throw new UsageError(`sgdscope train: --seeds must be integers in [0, 4294967295], got ${s}`);
    if (new Set(list).size !== list.length) throw new UsageError('sgdscope train: --seeds lists a seed twice (the replicas would be identical)');
    if (R !== undefined && R !== list.length) throw new UsageError(`sgdscope train: --seeds lists ${list.length} seeds but --replicas is ${R}`);
    if (flags.seed !== undefined) throw new UsageError('sgdscope train: give --seed or --seeds, not both');
    return list;
  }
  if (R === undefined || R === 1) return null;
  return seedEnsemble({ seed }, R).map((c) => c.seed!);
}

export async function trainEnsembleCommand(flags: FlagValues, run: ResolvedRun, seeds: number[]): Promise<number> {
  const outDir = prepareRunDir((flags.out as string | undefined) ?? defaultRunDir('train'), !!flags.force);
  const ctx = await acquireGpu();
  const log = (s: string): void => {
    if (!flags.quiet) process.stderr.write(`${s}\n`);
  };
  const R = seeds.length;
  log(`sgdscope train: ensemble of ${R} × ${run.model.widths.join('-')} ${run.model.activation}${run.model.bias ? ' +bias' : ''}, lr ${run.train.lr}, B ${run.train.batchSize}, seeds ${seeds.join(',')} on ${ctx.adapterName} (${ctx.runtime})`);
  const loaded = await loadDataset(run.data);
  log(`data: ${loaded.train.name} ${loaded.train.n} train / ${loaded.test.n} test, ${loaded.train.d} features, ${loaded.train.classes} classes`);
  const trainer = await Trainer.create(ctx, run.model, seedEnsemble(run.train, R, seeds), { train: loaded.train, test: loaded.test });
  const total = trainer.totalSteps;
  const bar = new ProgressBar('train');
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  const t0 = performance.now();
  const result = await trainer.run({
    shouldStop: () => interrupted,
    onChunk: (p) => {
      if (flags.quiet) return;
      const rate = p.step / Math.max((performance.now() - t0) / 1000, 1e-9);
      const losses = p.replicas.map((x) => x.losses.reduce((a, b) => a + b, 0) / x.losses.length).filter(Number.isFinite);
      const mean = losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length);
      const accs = p.replicas.flatMap((x) => (x.eval?.test ? [x.eval.test.accuracy] : []));
      const test = accs.length ? ` | test acc ${(100 * Math.min(...accs)).toFixed(1)}–${(100 * Math.max(...accs)).toFixed(1)}%` : '';
      bar.update(p.step, total, `step ${p.step}${total ? `/${total}` : ''} ep ${p.epoch.toFixed(2)} loss ${mean.toFixed(4)} (mean of ${losses.length}) ${rate.toFixed(0)} steps/s × ${R} ETA ${formatDuration(total ? (total - p.step) / rate : NaN)}${test}`);
    },
  });
  bar.done();
  process.off('SIGINT', onSigint);

  // Weights: each replica's final ones, or for one that diverged its last known-good checkpoint
  // (already put back on the GPU by the trainer, which froze it there).
  const params = await trainer.mlp.readParams();
  const paramsSteps = trainer.outcomes.map((o) => o.step);
  const evals = await trainer.evaluateAll();
  const finalEvals: (EvalRecord | null)[] = trainer.outcomes.map((o, r) => {
    if (o.status === 'diverged') return null;
    const last = trainer.histories[r].evals.at(-1);
    return last?.step === o.step ? last : { ...evals[r], step: o.step, epoch: trainer.epochOf(o.step) };
  });
  writeRunFiles(
    outDir,
    ensembleRunFiles({
      model: run.model,
      configs: trainer.configs,
      data: loaded.spec,
      adapter: adapterRecord(ctx),
      result: { status: result.status, message: result.message, steps: result.steps, seconds: result.seconds, stepsPerSecond: result.stepsPerSecond },
      outcomes: trainer.outcomes,
      finalEvals,
      histories: trainer.histories,
      paramsSteps,
      stepsPerEpoch: trainer.stepsPerEpoch,
      params,
      trainIndices: loaded.trainIndices,
      testIndices: loaded.testIndices,
    }),
  );
  const acc = finalEvals.flatMap((e) => (e?.test ? [e.test.accuracy] : []));
  const mean = acc.reduce((a, b) => a + b, 0) / Math.max(1, acc.length);
  const se = acc.length > 1 ? Math.sqrt(acc.reduce((a, b) => a + (b - mean) ** 2, 0) / (acc.length - 1) / acc.length) : NaN;
  process.stdout.write(
    `${result.message} in ${formatDuration(result.seconds)} (${result.stepsPerSecond.toFixed(0)} steps/s × ${R} replicas = ${(R * result.stepsPerSecond).toFixed(0)} replica-steps/s); ` +
      `test accuracy ${(100 * mean).toFixed(2)}% ± ${(100 * se).toFixed(2)}% (mean ± SE over ${acc.length} replicas)\nrun folder: ${outDir}\n`,
  );
  ctx.destroy();
  return trainer.outcomes.every((o) => o.status === 'diverged') ? 3 : 0;
}
