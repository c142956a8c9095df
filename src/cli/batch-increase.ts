/**
 * `sgdscope reproduce batch-increase`: "Don't decay the learning rate, increase the batch size"
 * (Smith, Kindermans, Ying & Le, ICLR 2018) on the seed network — (a) lr divided by f at the
 * milestones at fixed B, (b) B multiplied by f at fixed lr (the same noise-scale schedule), (c) the
 * constant baseline — test accuracy against epochs and against updates
 * (src/experiments/batch-increase/); writes a run folder with report.html.
 */
import { adapterRecord, acquireGpu } from '../gpu/device.ts';
import { loadDataset } from '../data/index.ts';
import { loadReportAssets } from '../analysis/report/assets.ts';
import { DEFAULT_BATCH_INCREASE, validateBatchIncreaseSpec, type BatchIncreaseSpec, type BatchRule } from '../experiments/batch-increase/schedule.ts';
import { compareSchedules, runBatchIncrease } from '../experiments/batch-increase/run.ts';
import { batchIncreaseFiles } from '../experiments/batch-increase/files.ts';
import { openPlainRun } from './run-folder.ts';
import { inputPhase } from './input.ts';
import { helpText, parseFlags, UsageError, type FlagSpec, type FlagValues } from './args.ts';
import { ProgressBar, formatDuration } from './progress.ts';
import { TRAIN_FLAGS, resolveTrainSettings, type ResolvedRun } from './train-settings.ts';

const CMD = 'sgdscope reproduce batch-increase';
const SHARED = ['config', 'dataset', 'train-size', 'test-size', 'split-seed', 'widths', 'activation', 'init', 'sigma-w', 'sigma-b', 'seed', 'sampling', 'chunk'] as const;
const D = DEFAULT_BATCH_INCREASE;

export const BATCH_INCREASE_FLAGS: Record<string, FlagSpec> = {
  ...Object.fromEntries(SHARED.map((k) => [k, TRAIN_FLAGS[k]])),
  lr: { kind: 'number', help: 'learning rate ε₀ of the first phase (default 0.1; (a) divides it by the factor at each milestone)', range: [0, 100, true] },
  batch: { kind: 'int', help: 'batch size B₀ of the first phase (default 50; (b) multiplies it by the factor at each milestone)', range: [1, 65536] },
  epochs: { kind: 'int', help: `epochs of every schedule (default ${D.epochs})`, range: [2, 100000] },
  milestones: { kind: 'list', help: 'epochs at which lr is divided / B multiplied (default: a third and two thirds of the epochs, 10,20 for 30)' },
  factor: { kind: 'number', help: `factor f per milestone (default ${D.factor}: B 50 → 200 → 800 divides the 8,000 MNIST-10k training samples)`, range: [1, 1000, true] },
  'batch-rule': { kind: 'string', help: "'factor' (default, the paper's: B·f^k, equal lr·N/B) or 'equal-g' (B solving lr·(N/B − 1) = (a)'s g, rounded)", choices: ['factor', 'equal-g'] },
  'no-baseline': { kind: 'bool', help: 'skip (c), the constant-lr, constant-B baseline' },
  out: { kind: 'string', help: 'run folder (default runs/<time>-batch-increase)' },
  force: { kind: 'bool', help: 'replace an existing run folder' },
  quiet: { kind: 'bool', help: 'no progress bars' },
  help: { kind: 'bool', help: 'show this help' },
};

export const BATCH_INCREASE_SUMMARY = "Smith et al. (ICLR 2018): decay the lr (a) or increase B by the same factors (b): same noise scale g, same test accuracy per epoch, fewer updates";

/** A third and two thirds of the way (10, 20 for 30 epochs), each in [1, epochs − 1]. */
export function defaultMilestones(epochs: number): number[] {
  return [...new Set([Math.round(epochs / 3), Math.round((2 * epochs) / 3)].map((e) => Math.min(epochs - 1, Math.max(1, e))))];
}

/** The spec from the flags (checked against the training set once it is loaded: validateBatchIncreaseSpec). */
export function resolveBatchIncrease(flags: FlagValues): { spec: BatchIncreaseSpec; data: ResolvedRun['data'] } {
  if (flags.epochs === undefined && !flags.config) flags.epochs = D.epochs;
  const run = resolveTrainSettings(flags);
  const epochs = run.train.epochs ?? D.epochs;
  const spec: BatchIncreaseSpec = {
    model: run.model,
    train: { ...run.train, epochs },
    milestones: (flags.milestones as number[] | undefined) ?? defaultMilestones(epochs),
    factor: (flags.factor as number | undefined) ?? D.factor,
    batchRule: ((flags['batch-rule'] as string | undefined) ?? D.batchRule) as BatchRule,
    baseline: !flags['no-baseline'],
  };
  return { spec, data: run.data };
}

export async function batchIncreaseCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, BATCH_INCREASE_FLAGS, CMD);
  if (flags.help) {
    process.stdout.write(helpText(CMD, BATCH_INCREASE_SUMMARY, BATCH_INCREASE_FLAGS));
    return 0;
  }
  if (positional.length) throw new UsageError(`${CMD}: unexpected argument '${positional[0]}' (flags start with --)`);
  // Everything checked (flags, the schedule against the loaded training set, the run folder) before the GPU starts.
  const { spec, loaded, assets, cr } = await inputPhase(async () => {
    const { spec: raw, data } = resolveBatchIncrease(flags);
    const loaded = await loadDataset(data);
    const spec = validateBatchIncreaseSpec(raw, loaded.train.n);
    const assets = await loadReportAssets();
    return { spec, loaded, assets, cr: openPlainRun(flags, { kind: 'batch-increase', command: CMD, argv }) };
  });
  const quiet = !!flags.quiet;
  const log = (s: string): void => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  const ctx = await acquireGpu();
  log(`${CMD}: ${spec.model.widths.join('-')} ${spec.model.activation}, lr ${spec.train.lr}, B ${spec.train.batchSize}, ${spec.train.epochs} epochs, milestones ${spec.milestones.join(',')}, factor ${spec.factor} (${spec.batchRule}), seed ${spec.train.seed} on ${ctx.adapterName} (${ctx.runtime})`);
  log(`data: ${loaded.train.name} ${loaded.train.n} train / ${loaded.test.n} test`);
  let bar: ProgressBar | null = null;
  let lastEval = '';
  const r = await runBatchIncrease(ctx, spec, { train: loaded.train, test: loaded.test }, {
    onPhaseStart: (s, p, shared) => {
      const what = `${s.name} phase ${p.index + 1}/${s.phases.length}: epochs ${p.startEpoch}–${p.endEpoch}, lr ${p.lr}, B ${p.batchSize}, g ${p.g.toPrecision(4)}, ${p.updates} updates`;
      if (shared) log(`${what} — same as an earlier schedule's, reused`);
      else {
        log(what);
        bar = quiet ? null : new ProgressBar(s.name);
      }
    },
    onChunk: (s, p, c) => {
      if (c.eval?.test) lastEval = ` | test ${(100 * c.eval.test.accuracy).toFixed(2)}%`;
      const done = c.step - p.startEpoch * p.stepsPerEpoch;
      bar?.update(done, p.updates, `epoch ${c.epoch.toFixed(1)} update ${p.updatesBefore + done} loss ${(c.losses.reduce((a, b) => a + b, 0) / c.losses.length).toFixed(4)}${lastEval}`);
    },
    onPhaseEnd: (_s, o, shared) => {
      if (shared) return;
      (bar as ProgressBar | null)?.done();
      bar = null;
      log(`  ${o.message}; test ${o.evals.at(-1)?.test ? (100 * o.evals.at(-1)!.test!.accuracy).toFixed(2) + '%' : '—'} (${o.seconds.toFixed(1)} s training, ${o.wallSeconds.toFixed(1)} s with set-up)`);
    },
  });
  cr.finish(batchIncreaseFiles(r, assets, { data: loaded.spec, adapter: adapterRecord(ctx), trainIndices: loaded.trainIndices, testIndices: loaded.testIndices }));
  const c = compareSchedules(r);
  const lines = [
    ...r.runs.map((x) => `${x.schedule.label}: ${x.message}; final test ${x.evals.at(-1)?.test ? (100 * x.evals.at(-1)!.test!.accuracy).toFixed(2) + '%' : '—'}, ${x.updates} updates`),
    `(a) vs (b): max |Δ test accuracy| over epochs ${c.maxGap === null ? '—' : (100 * c.maxGap).toFixed(2)} points (mean ${c.meanGap === null ? '—' : (100 * c.meanGap).toFixed(2)}); (a) needs ${c.updateRatio?.toFixed(2) ?? '—'}× the updates of (b)`,
    `time: ${formatDuration(r.seconds)}; run folder: ${cr.dir.shown} (report.html)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  ctx.destroy();
  return 0;
}
