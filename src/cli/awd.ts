/**
 * `sgdscope reproduce awd`: the activity–weight duality experiment (src/experiments/awd/run.ts)
 * — train the authors' network around lr 0.1, B 25 with lr, B and weight decay varied, analyse
 * each network's hidden→hidden layer, and write a run folder with report.html
 * (src/experiments/awd/files.ts). Default: a scaled design that runs here in minutes; --full is the
 * authors' grid (hours on a real GPU).
 */
import { adapterRecord, acquireGpu } from '../gpu/device.ts';
import { loadDataset, type DatasetSpec } from '../data/index.ts';
import { loadReportAssets } from '../analysis/report/assets.ts';
import { validateMlpConfig } from '../nn/config.ts';
import { AWD_FULL, AWD_MODEL, AWD_SCALED, awdPoints, runAwdExperiment, validateAwdSpec, type AwdExperimentSpec, type AwdRun } from '../experiments/awd/run.ts';
import { awdFiles, trends } from '../experiments/awd/files.ts';
import { indexFiles, stackedWeightFiles } from '../train/run-files.ts';
import { indicesDigest, itemCheckpoints, openCommandRunDir, resumeOnly } from './run-folder.ts';
import { StopSignals } from './signals.ts';
import { fromExact, toExact } from '../util/exact-json.ts';
import { inputPhase } from './input.ts';
import { helpText, parseFlags, UsageError, type FlagSpec, type FlagValues } from './args.ts';
import { formatDuration } from './progress.ts';
import { checkQueueFlags, QUEUE_FLAGS, runOnQueue } from './queue-mode.ts';
import { STOP_FLAGS, stopSettings } from './train-settings.ts';

export const AWD_FLAGS: Record<string, FlagSpec> = {
  full: { kind: 'bool', help: "the authors' grid: lr 0.005–0.1, B 25–400, weight decay 0–2e-3, 10 seeds, to loss 1e-3 (for a real GPU: hours)" },
  dataset: { kind: 'string', help: 'mnist10k (embedded, default), fashion, idx:<dir> (e.g. the full MNIST IDX files)', choices: ['mnist10k', 'fashion', 'idx:'] },
  'train-size': { kind: 'int', help: 'training samples (default 4000, as the authors)', range: [10, 1e7] },
  'test-size': { kind: 'int', help: 'test samples (default: 2000 for MNIST-10k, 1000 for file datasets as the authors)', range: [10, 1e7] },
  'split-seed': { kind: 'int', help: 'seed of the train/test split and subsamples (default 0)', range: [0, 4294967295] },
  widths: { kind: 'list', help: 'layer widths (default 784,30,30,10)' },
  layer: { kind: 'int', help: 'analysed layer (default 1: hidden→hidden)', range: [0, 64] },
  pairing: { kind: 'string', help: "pairing used for the factors and figures: 'test-to-train' (default, the authors' code: each test sample → nearest same-class training sample) or 'train-to-test' (each training sample → nearest test sample); the other is decomposed alongside", choices: ['train-to-test', 'test-to-train'] },
  'one-pairing': { kind: 'bool', help: 'analyse only the chosen pairing (saves two projections per run)' },
  lrs: { kind: 'list', help: `learning rates, at B and weight decay of the base (default ${AWD_SCALED.lrs.join(',')})` },
  batches: { kind: 'list', help: `batch sizes (default ${AWD_SCALED.batchSizes.join(',')})` },
  'weight-decays': { kind: 'list', help: `weight decays (default ${AWD_SCALED.weightDecays.join(',')})` },
  seeds: { kind: 'list', help: 'seeds (default 1)' },
  'base-lr': { kind: 'number', help: 'base learning rate (default 0.1)', range: [0, 100, true] },
  'base-batch': { kind: 'int', help: 'base batch size (default 25)', range: [1, 65536] },
  'target-loss': { kind: 'number', help: `stop when the full training loss is at or below this (default ${AWD_SCALED.targetLoss}; authors 1e-3)`, range: [0, 1e6, true] },
  'max-epochs': { kind: 'int', help: `epoch cap per run (default ${AWD_SCALED.maxEpochs})`, range: [1, 1e6] },
  ...STOP_FLAGS,
  'wd-epochs': { kind: 'int', help: `weight decay only during the first N epochs, then off to the target (default ${AWD_SCALED.weightDecayEpochs}; 0: the whole run)`, range: [0, 1e6] },
  ...QUEUE_FLAGS,
  out: { kind: 'string', help: 'run folder (default runs/<time>-awd)' },
  force: { kind: 'bool', help: 'replace an existing run folder (and discard an unfinished run of it)' },
  resume: { kind: 'string', help: 'continue the interrupted experiment in this folder: finished runs are kept, the rest run' },
  quiet: { kind: 'bool', help: 'no progress lines' },
  help: { kind: 'bool', help: 'show this help' },
};

export const AWD_SUMMARY = "reproduce Feng, Zhang & Tu's activity–weight duality (784-30-30-10, 4,000 samples, lr 0.1, B 25): sharpness and size factors of the gap vs lr, B, weight decay";

export function resolveAwd(flags: FlagValues): AwdExperimentSpec {
  const preset = flags.full ? AWD_FULL : AWD_SCALED;
  const ds = (flags.dataset as string | undefined) ?? 'mnist10k';
  let data: DatasetSpec;
  const trainSize = (flags['train-size'] as number | undefined) ?? 4000;
  const seed = (flags['split-seed'] as number | undefined) ?? 0;
  if (ds === 'mnist10k') data = { kind: 'mnist10k', seed, trainSize, ...(flags['test-size'] !== undefined ? { testSize: flags['test-size'] as number } : {}) };
  else if (ds === 'fashion') data = { kind: 'fashion', seed, trainSize, testSize: (flags['test-size'] as number | undefined) ?? 1000 };
  else data = { kind: 'idx', dir: ds.slice(4), seed, trainSize, testSize: (flags['test-size'] as number | undefined) ?? 1000 };
  const model = { ...AWD_MODEL, widths: (flags.widths as number[] | undefined) ?? AWD_MODEL.widths };
  const spec: AwdExperimentSpec = {
    model,
    data,
    ...preset,
    base: { lr: (flags['base-lr'] as number | undefined) ?? preset.base.lr, batchSize: (flags['base-batch'] as number | undefined) ?? preset.base.batchSize, weightDecay: 0 },
    lrs: (flags.lrs as number[] | undefined) ?? preset.lrs,
    batchSizes: (flags.batches as number[] | undefined) ?? preset.batchSizes,
    weightDecays: (flags['weight-decays'] as number[] | undefined) ?? preset.weightDecays,
    seeds: (flags.seeds as number[] | undefined) ?? preset.seeds,
    targetLoss: (flags['target-loss'] as number | undefined) ?? preset.targetLoss,
    maxEpochs: (flags['max-epochs'] as number | undefined) ?? preset.maxEpochs,
    stop: stopSettings(flags),
    weightDecayEpochs: flags['wd-epochs'] === undefined ? preset.weightDecayEpochs : (flags['wd-epochs'] as number) === 0 ? null : (flags['wd-epochs'] as number),
    awd: { ...preset.awd, layer: (flags.layer as number | undefined) ?? preset.awd.layer, pairing: (flags.pairing as AwdExperimentSpec['awd']['pairing'] | undefined) ?? preset.awd.pairing, both: !flags['one-pairing'] },
  };
  try {
    validateMlpConfig(spec.model);
    if (spec.awd.layer >= spec.model.widths.length - 1) throw new Error(`--layer must be below ${spec.model.widths.length - 1} for widths ${spec.model.widths.join(',')}`);
    for (const v of spec.lrs) if (!(v > 0 && v <= 100)) throw new Error(`--lrs: ${v} is not in (0, 100]`);
    for (const v of spec.batchSizes) if (!(Number.isInteger(v) && v >= 1 && v <= trainSize)) throw new Error(`--batches: ${v} is not an integer in [1, ${trainSize}]`);
    for (const v of spec.weightDecays) if (!(v >= 0 && v <= 10)) throw new Error(`--weight-decays: ${v} is not in [0, 10]`);
    for (const v of spec.seeds) if (!(Number.isInteger(v) && v >= 0 && v <= 4294967295)) throw new Error(`--seeds: ${v} is not a u32`);
    return validateAwdSpec(spec);
  } catch (e) {
    throw new UsageError(`sgdscope reproduce awd: ${(e as Error).message}`);
  }
}

const CMD = 'sgdscope reproduce awd';

export async function awdCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, AWD_FLAGS, 'sgdscope reproduce awd');
  if (flags.help) {
    process.stdout.write(helpText('sgdscope reproduce awd', AWD_SUMMARY, AWD_FLAGS));
    return 0;
  }
  if (positional.length) throw new UsageError(`sgdscope reproduce awd: unexpected argument '${positional[0]}' (flags start with --)`);
  const log = (s: string): void => {
    if (!flags.quiet) process.stderr.write(`${s}\n`);
  };
  checkQueueFlags(flags, CMD);
  if (flags.queue !== undefined && flags.resume === undefined) {
    if (flags.out !== undefined) throw new UsageError(`${CMD}: with --queue the run folder is written by the workers into their store, not --out`);
    return runOnQueue('awd', resolveAwd(flags), flags, CMD, log);
  }
  const signals = new StopSignals(log);
  const { spec, loaded, assets, cr } = await inputPhase(async () => {
    if (flags.resume !== undefined) resumeOnly(flags, CMD, ['resume', 'quiet', 'help']);
    const fresh = flags.resume === undefined ? resolveAwd(flags) : null;
    const cr = openCommandRunDir(flags, { kind: 'awd', command: CMD, argv, checkpointKind: 'awd' });
    try {
      // A resumed experiment continues with its saved design; finished runs are kept.
      const spec = fresh ?? validateAwdSpec(fromExact<AwdExperimentSpec>(cr.resume!.meta.spec));
      const loaded = await loadDataset(spec.data);
      cr.checkIndices(loaded);
      return { spec, loaded, assets: await loadReportAssets(), cr };
    } catch (e) {
      cr.dir.release();
      throw e;
    }
  });
  const finished = itemCheckpoints<AwdRun>(cr, 'awd', { spec: toExact(spec), indices: indicesDigest(loaded) }, signals, 'runs');
  const ctx = await acquireGpu();
  const n = awdPoints(spec).length;
  log(`sgdscope reproduce awd: ${n} runs of ${spec.model.widths.join('-')} on ${loaded.train.name} (${loaded.train.n} train / ${loaded.test.n} test), to training loss ${spec.targetLoss} (≤ ${spec.maxEpochs} epochs), layer ${spec.awd.layer}, on ${ctx.adapterName}`);
  const t0 = performance.now();
  const result = await runAwdExperiment(ctx, spec, { train: loaded.train, test: loaded.test }, {
    done: finished.done,
    onPhase: (p, what) => log(`  run ${p.index + 1}/${n} (lr ${p.lr}, B ${p.batchSize}, wd ${p.weightDecay}, seed ${p.seed}): ${what}…`),
    onRunEnd: (r, done, total) => {
      finished.add(r);
      const a = r.analysis;
      const el = (performance.now() - t0) / 1000;
      log(
        `[${done}/${total}] ${r.message}; ${a ? `test ${(100 * a.testAccuracy).toFixed(2)}%, gap ${a.gapMeasured.toFixed(4)} (pairs ${a.gapPairs.toFixed(4)} = Σ ${a.gapDecomposition.toFixed(4)}${a.alternate ? `; ${a.alternate.pairing}: ${a.alternate.gapDecomposition.toFixed(4)}` : ''}), S_g ${a.factors.sharpness.toPrecision(4)}, S_w ${a.factors.size.toPrecision(4)}, λ_max ${a.stats.lambda[0].toPrecision(4)}` : 'not analysed'} ` +
          `(${r.trainSeconds.toFixed(0)} s train, ${r.analysisSeconds.toFixed(0)} s analysis) — ETA ${formatDuration((el / done) * (total - done))}`,
      );
    },
  });
  signals.dispose();
  cr.finish(new Map([...awdFiles(result, assets, { data: loaded.spec, adapter: adapterRecord(ctx) }), ...stackedWeightFiles(spec.model, result.runs.map((r) => r.params)), ...indexFiles(loaded)]));
  const lines = trends(result).map((t) => `  ${t.factor} factor vs ${t.axis}: ${t.expected ? `expected ${t.expected}, ` : ''}observed ${t.observed}${t.expected && t.observed !== 'n/a' ? (t.holds ? ' ✓' : ' ✗') : ''} (${t.values.map((v) => `${v.x}: ${v.y.toPrecision(4)}`).join(' → ')})`);
  process.stdout.write(`${result.runs.length} runs in ${formatDuration(result.seconds)}\n${lines.join('\n')}\nrun folder: ${cr.dir.shown} (report.html)\n`);
  ctx.destroy();
  return 0;
}
