/**
 * `sgdscope train --replicas R` / `--seeds a,b,…`: R networks of one architecture and settings,
 * differing in their seed (initial weights, minibatch order, dropout masks), trained in lockstep
 * by the same dispatches (src/train/trainer.ts). Replica r is bit for bit the run
 * `sgdscope train --seed <its seed>` would make; the folder stacks them (src/train/ensemble-files.ts).
 * The command itself is train.ts's (checkpoints, --resume, signals, device loss); this file holds
 * what differs for an ensemble: the seeds, the progress line, the files and the closing line.
 */
import type { adapterRecord } from '../gpu/device.ts';
import type { LoadedData } from '../data/index.ts';
import { seedEnsemble } from '../train/ensemble.ts';
import { ensembleRunFiles } from '../train/ensemble-files.ts';
import { History, type ChunkProgress, type EvalRecord, type ReplicaOutcome, type RunResult } from '../train/run-types.ts';
import type { TrainerState } from '../train/trainer-state.ts';
import type { Trainer } from '../train/trainer.ts';
import type { RunFiles } from '../train/run-files.ts';
import type { TrainConfig } from '../train/config.ts';
import { UsageError, type FlagValues } from './args.ts';
import { formatDuration } from './progress.ts';
import type { ResolvedRun } from './train-settings.ts';

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

/** The seeds a checkpoint's meta stored (null: a single run). */
export function seedsFromMeta(meta: Record<string, unknown>, where: string): number[] | null {
  const s = meta.seeds;
  if (s === undefined) return null;
  if (!Array.isArray(s) || s.length < 2 || s.length > 1024 || s.some((x) => !Number.isInteger(x) || x < 0 || x > 4294967295)) throw new Error(`${where}: the checkpoint's seeds are malformed`);
  return s as number[];
}

/** The replicas' training settings. */
export function ensembleConfigs(run: ResolvedRun, seeds: number[]): Partial<TrainConfig>[] {
  return seedEnsemble(run.train, seeds.length, seeds);
}

/** The progress bar's line: the mean minibatch loss of the replicas and the spread of their test accuracy. */
export function ensembleProgress(p: ChunkProgress, total: number | null, rate: number): string {
  const R = p.replicas.length;
  const losses = p.replicas.map((x) => x.losses.reduce((a, b) => a + b, 0) / x.losses.length).filter(Number.isFinite);
  const mean = losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length);
  const accs = p.replicas.flatMap((x) => (x.eval?.test ? [x.eval.test.accuracy] : []));
  const test = accs.length ? ` | test acc ${(100 * Math.min(...accs)).toFixed(1)}–${(100 * Math.max(...accs)).toFixed(1)}%` : '';
  return `step ${p.step}${total ? `/${total}` : ''} ep ${p.epoch.toFixed(2)} loss ${mean.toFixed(4)} (mean of ${losses.length}) ${rate.toFixed(0)} steps/s × ${R} ETA ${formatDuration(total ? (total - p.step) / rate : NaN)}${test}`;
}

interface EnsembleFilesInput {
  run: ResolvedRun;
  seeds: number[];
  loaded: LoadedData;
  adapter: ReturnType<typeof adapterRecord>;
  result: RunResult;
  stepsPerEpoch: number;
}

/** The folder of an ensemble that trained to its end: final weights (last good ones for a diverged replica) and evaluations. */
export async function ensembleFilesAtEnd(trainer: Trainer, i: EnsembleFilesInput): Promise<{ files: RunFiles; finalEvals: (EvalRecord | null)[] }> {
  const params = await trainer.mlp.readParams();
  const T = trainer.mlp.layout.total;
  // A diverged replica was put back to its last good weights (after step d − 2) and frozen there.
  const paramsSteps = await Promise.all(trainer.outcomes.map(async (o, r) => (o.status === 'diverged' ? (await trainer.lastGoodParams(r))!.step : o.step)));
  for (const [r, o] of trainer.outcomes.entries()) if (o.status === 'diverged') params.set((await trainer.lastGoodParams(r))!.params, r * T);
  const evals = await trainer.evaluateAll();
  const finalEvals: (EvalRecord | null)[] = trainer.outcomes.map((o, r) => {
    if (o.status === 'diverged') return null;
    const last = trainer.histories[r].evals.at(-1);
    return last?.step === o.step ? last : { ...evals[r], step: o.step, epoch: trainer.epochOf(o.step) };
  });
  const outcomes = trainer.outcomes.map((o) => (o.status === 'running' ? { ...o, step: trainer.step } : o));
  return { files: filesOf(i, outcomes, finalEvals, trainer.histories, paramsSteps, params), finalEvals };
}

/** The folder of an ensemble stopped early (interrupted, device lost): its states at a checkpoint or now. */
export function ensembleFilesOf(states: readonly TrainerState[], i: EnsembleFilesInput): RunFiles {
  const T = states[0].params.length;
  const params = new Float32Array(states.length * T);
  states.forEach((s, r) => params.set(s.params, r * T));
  const histories = states.map((s) => {
    const h = new History();
    h.loss = Array.from(s.history.loss);
    h.accuracy = Array.from(s.history.accuracy);
    h.evals = s.history.evals;
    return h;
  });
  const outcomes: ReplicaOutcome[] = states.map((s) => s.outcome ?? { status: 'running', message: '', step: s.step });
  const paramsSteps = outcomes.map((o, r) => (o.status === 'diverged' ? Math.max(0, o.step - 2) : states[r].step));
  return filesOf(i, outcomes, states.map(() => null), histories, paramsSteps, params);
}

function filesOf(i: EnsembleFilesInput, outcomes: ReplicaOutcome[], finalEvals: (EvalRecord | null)[], histories: History[], paramsSteps: number[], params: Float32Array): RunFiles {
  return ensembleRunFiles({
    model: i.run.model,
    configs: i.seeds.map((seed) => ({ ...i.run.train, seed })),
    data: i.loaded.spec,
    adapter: i.adapter,
    result: { status: i.result.status, message: i.result.message, steps: i.result.steps, seconds: i.result.seconds, stepsPerSecond: i.result.stepsPerSecond },
    outcomes,
    finalEvals,
    histories,
    paramsSteps,
    stepsPerEpoch: i.stepsPerEpoch,
    params,
    trainIndices: i.loaded.trainIndices,
    testIndices: i.loaded.testIndices,
  });
}

/** The closing line: throughput and the test accuracy as mean ± standard error over the replicas. */
export function ensembleSummary(result: RunResult, finalEvals: (EvalRecord | null)[], R: number): string {
  const acc = finalEvals.flatMap((e) => (e?.test ? [e.test.accuracy] : []));
  const mean = acc.reduce((a, b) => a + b, 0) / Math.max(1, acc.length);
  const se = acc.length > 1 ? Math.sqrt(acc.reduce((a, b) => a + (b - mean) ** 2, 0) / (acc.length - 1) / acc.length) : NaN;
  return (
    `${result.message} in ${formatDuration(result.seconds)} (${result.stepsPerSecond.toFixed(0)} steps/s × ${R} replicas = ${(R * result.stepsPerSecond).toFixed(0)} replica-steps/s); ` +
    `test accuracy ${(100 * mean).toFixed(2)}% ± ${(100 * se).toFixed(2)}% (mean ± SE over ${acc.length} replicas)`
  );
}
