/**
 * `sgdscope sweep`: train a grid of runs over lr × batch size × weight decay × dropout × seed,
 * measure each one's final train/test loss and accuracy, generalisation gap, ‖w‖, top Hessian
 * eigenvalues (or "diverged at step N"), and write a run folder with CSV/npy/JSON and report.html
 * (src/experiments/sweep/files.ts).
 *
 * The base run comes from the same defaults/--config/flags as `sgdscope train`; the grid from
 * list flags (--lr 0.05,0.1,0.2) or --grid grid.json ({"lr": [...], "batchSize": [...],
 * "weightDecay": [...], "dropout": [...], "seed": [...], "sharpness": {...}, "concurrency": n}),
 * flags winning. Defaults are a grid scaled to finish in a few minutes on a CPU-emulated GPU.
 * --search random|asha: random points over ranges, and ASHA's early stopping (experiments/sweep/
 * search.ts, asha.ts). --queue: the runs go to `sgdscope worker` processes instead
 * (src/queue/); `sweep status` and `sweep collect` follow and gather such sweeps (sweep-queue.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adapterRecord, acquireGpu } from '../gpu/device.ts';
import { loadDataset } from '../data/index.ts';
import { loadReportAssets } from '../analysis/report/assets.ts';
import { DEFAULT_SHARPNESS, validateSweepSpec, type SearchSpec, type SharpnessSpec, type SweepGrid, type SweepSpec } from '../experiments/sweep/grid.ts';
import { searchPoints } from '../experiments/sweep/search.ts';
import { runName, unitJson, writeFolderAtomic } from '../queue/store.ts';
import { hessianSamples, runSweep } from '../experiments/sweep/run.ts';
import { sweepFiles } from '../experiments/sweep/files.ts';
import { indicesDigest, openCommandRunDir, resumeOnly } from './run-folder.ts';
import { inputPhase } from './input.ts';
import { StopSignals } from './signals.ts';
import { EXIT } from './exit-codes.ts';
import { CHECKPOINT_FILE } from '../util/run-dir.ts';
import { fromExact, toExact } from '../util/exact-json.ts';
import { saveCheckpoint } from '../train/checkpoint-store.ts';
import { withDeviceRecovery } from '../gpu/device-recovery.ts';
import { runsCsv } from '../experiments/sweep/files.ts';
import type { SweepRun } from '../experiments/sweep/result.ts';
import { helpText, parseFlags, UsageError, type FlagSpec, type FlagValues } from './args.ts';
import { formatDuration } from './progress.ts';
import { TRAIN_FLAGS, resolveTrainSettings } from './train-settings.ts';
import { checkQueueFlags, QUEUE_FLAGS, runOnQueue } from './queue-mode.ts';
import { resolveSearch, SEARCH_FLAGS } from './sweep-search.ts';
import { sweepCollectCommand, sweepStatusCommand } from './sweep-queue.ts';

const BASE = ['config', 'dataset', 'train-size', 'test-size', 'split-seed', 'widths', 'activation', 'bias', 'init', 'sigma-w', 'sigma-b', 'momentum', 'sampling', 'epochs', 'steps', 'stop-loss', 'stop-accuracy', 'stop-accuracy-epochs', 'eval-every', 'chunk', 'divergence-loss'] as const;

/** The scaled default grid (18 runs; minutes here: 2 cores, SwiftShader). */
export const DEFAULT_SWEEP_GRID: SweepGrid = { lr: [0.05, 0.1, 0.2, 0.4, 0.8, 1.6], batchSize: [20, 50, 100], weightDecay: [0], dropout: [0], seed: [1] };
export const DEFAULT_SWEEP_EPOCHS = 10;
export const DEFAULT_SWEEP_TRAIN_SIZE = 2000;

export const SWEEP_FLAGS: Record<string, FlagSpec> = {
  ...Object.fromEntries(BASE.map((k) => [k, TRAIN_FLAGS[k]])),
  epochs: { kind: 'int', help: `epochs per run (default ${DEFAULT_SWEEP_EPOCHS})`, range: [1, 100000] },
  'train-size': { kind: 'int', help: `training samples (stratified subsample; default ${DEFAULT_SWEEP_TRAIN_SIZE} for the embedded MNIST-10k, all for file datasets)`, range: [1, 1e7] },
  grid: { kind: 'string', help: 'JSON file with the grid {lr, batchSize, weightDecay, dropout, seed} (lists) and optionally sharpness {k, samples, layers, residualTol, maxIter} and concurrency' },
  lr: { kind: 'list', help: `learning rates (default ${DEFAULT_SWEEP_GRID.lr.join(',')})` },
  batch: { kind: 'list', help: `batch sizes (default ${DEFAULT_SWEEP_GRID.batchSize.join(',')})` },
  'weight-decay': { kind: 'list', help: 'weight decays (default 0)' },
  dropout: { kind: 'list', help: 'dropout rates on the hidden activations (default 0)' },
  seeds: { kind: 'list', help: 'seeds of init and minibatch order (default 1)' },
  'sharpness-k': { kind: 'int', help: `top Hessian eigenvalues per run (default ${DEFAULT_SHARPNESS.k}; 0: skip)`, range: [0, 100] },
  'sharpness-samples': { kind: 'int', help: `training samples the Hessian averages over (default ${DEFAULT_SHARPNESS.samples}; 0: all)`, range: [0, 1e7] },
  'sharpness-layers': { kind: 'list', help: 'Hessian block: these layers only (default: the whole network)' },
  concurrency: { kind: 'int', help: 'runs trained at the same time on the device (default 1: one after the other)', range: [1, 16] },
  pack: { kind: 'int', help: 'train up to R grid points that share the batch size as one ensemble (the same numbers per run, fewer dispatches; default 1: each alone; not with ASHA or --queue)', range: [1, 64] },
  ...SEARCH_FLAGS,
  ...QUEUE_FLAGS,
  out: { kind: 'string', help: 'run folder (default runs/<time>-sweep)' },
  force: { kind: 'bool', help: 'replace an existing run folder (and discard an unfinished sweep of it)' },
  resume: { kind: 'string', help: 'continue the interrupted sweep in this folder: finished runs are kept, the others run' },
  quiet: { kind: 'bool', help: 'no progress lines' },
  help: { kind: 'bool', help: 'show this help' },
};

const SUMMARY = 'train a grid of runs (lr × batch × weight decay × dropout × seed) and report sharpness, generalisation gap, ‖w‖ and divergence\n(also: sgdscope sweep status --queue URL, sgdscope sweep collect --queue URL --store DIR)';

interface GridFile extends Partial<SweepGrid> {
  sharpness?: Partial<SharpnessSpec>;
  concurrency?: number;
  pack?: number;
  search?: Partial<SearchSpec>;
}

function readGridFile(path: string): GridFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--grid ${path}: cannot read the file (${(e as Error).message})`);
  }
  let g: GridFile;
  try {
    g = JSON.parse(text) as GridFile;
  } catch (e) {
    throw new UsageError(`--grid ${path}: not valid JSON (${(e as Error).message})`);
  }
  const allowed = ['lr', 'batchSize', 'weightDecay', 'dropout', 'seed', 'sharpness', 'concurrency', 'pack', 'search'];
  for (const k of Object.keys(g)) if (!allowed.includes(k)) throw new UsageError(`--grid ${path}: unknown key '${k}' (keys: ${allowed.join(', ')})`);
  return g;
}

export function resolveSweepSpec(flags: FlagValues): SweepSpec {
  const baseFlags: FlagValues = {};
  for (const k of BASE) if (flags[k] !== undefined) baseFlags[k] = flags[k];
  if (baseFlags.epochs === undefined && baseFlags.steps === undefined) baseFlags.epochs = DEFAULT_SWEEP_EPOCHS;
  const ds = (flags.dataset as string | undefined) ?? 'mnist10k';
  if (baseFlags['train-size'] === undefined && ds === 'mnist10k' && flags.config === undefined) baseFlags['train-size'] = DEFAULT_SWEEP_TRAIN_SIZE;
  const base = resolveTrainSettings(baseFlags);
  const file = typeof flags.grid === 'string' ? readGridFile(flags.grid) : {};
  const pick = (flag: string, key: keyof SweepGrid): number[] => (flags[flag] as number[] | undefined) ?? (file[key] as number[] | undefined) ?? DEFAULT_SWEEP_GRID[key];
  const grid: SweepGrid = { lr: pick('lr', 'lr'), batchSize: pick('batch', 'batchSize'), weightDecay: pick('weight-decay', 'weightDecay'), dropout: pick('dropout', 'dropout'), seed: pick('seeds', 'seed') };
  const sharpness: SharpnessSpec = { ...DEFAULT_SHARPNESS, ...(file.sharpness ?? {}) };
  if (flags['sharpness-k'] !== undefined) sharpness.k = flags['sharpness-k'] as number;
  if (flags['sharpness-samples'] !== undefined) sharpness.samples = (flags['sharpness-samples'] as number) === 0 ? null : (flags['sharpness-samples'] as number);
  if (flags['sharpness-layers'] !== undefined) sharpness.layers = flags['sharpness-layers'] as number[];
  const concurrency = (flags.concurrency as number | undefined) ?? file.concurrency ?? 1;
  const pack = (flags.pack as number | undefined) ?? file.pack;
  if (pack !== undefined && pack > 1 && flags.queue !== undefined) throw new UsageError(`${CMD}: --pack trains points as one ensemble in this process; not with --queue (a queue job checkpoints one network)`);
  // The grid owns these; the base keeps every other training setting.
  const train = { ...base.train } as Partial<typeof base.train>;
  for (const k of ['lr', 'batchSize', 'weightDecay', 'dropout', 'seed'] as const) delete train[k];
  const search = resolveSearch(flags, file.search);
  const spec: SweepSpec = { model: base.model, train, data: base.data, grid, sharpness, concurrency, ...(pack !== undefined && pack > 1 ? { pack } : {}), ...(search ? { search } : {}) };
  try {
    return validateSweepSpec(spec);
  } catch (e) {
    throw new UsageError(`sgdscope sweep: ${(e as Error).message}`);
  }
}

const CMD = 'sgdscope sweep';

export async function sweepCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'status') return sweepStatusCommand(argv.slice(1));
  if (argv[0] === 'collect') return sweepCollectCommand(argv.slice(1));
  const { flags, positional } = parseFlags(argv, SWEEP_FLAGS, 'sgdscope sweep');
  if (flags.help) {
    process.stdout.write(helpText('sgdscope sweep', SUMMARY, SWEEP_FLAGS));
    return 0;
  }
  if (positional.length) throw new UsageError(`sgdscope sweep: unexpected argument '${positional[0]}' (flags start with --; subcommands: status, collect)`);
  checkQueueFlags(flags, 'sgdscope sweep');
  const log = (s: string): void => {
    if (!flags.quiet) process.stderr.write(`${s}\n`);
  };
  if (flags.resume !== undefined) {
    resumeOnly(flags, CMD, ['resume', 'quiet', 'help']);
    return sweepInProcess(flags, argv, null, log);
  }
  const spec = resolveSweepSpec(flags);
  if (flags.queue !== undefined) {
    if (flags.out !== undefined) throw new UsageError('sgdscope sweep: with --queue the run folder is written by the workers into their store (--out is for in-process sweeps; `sgdscope sweep collect --out` copies a queued sweep\'s files elsewhere)');
    // Data this machine has at hand (embedded or generated) check the grid against the training set's size now, not on the workers.
    if (spec.data.kind === 'mnist10k' || spec.data.kind === 'synthetic') {
      try {
        validateSweepSpec(spec, (await loadDataset(spec.data)).train.n);
      } catch (e) {
        throw new UsageError(`sgdscope sweep: ${(e as Error).message}`);
      }
    }
    return runOnQueue('sweep', spec, flags, 'sgdscope sweep', log);
  }
  return sweepInProcess(flags, argv, spec, log);
}

/**
 * The sweep in this process, losing nothing: each finished run goes into runs/NNNN, runs.csv and
 * the checkpoint the moment it ends; a signal stops it with status "interrupted" (runs in
 * progress start again on resume); a lost device is replaced; --resume keeps the finished runs.
 */
async function sweepInProcess(flags: FlagValues, argv: string[], fresh: SweepSpec | null, log: (s: string) => void): Promise<number> {
  const signals = new StopSignals(log);
  const { cr, spec, loaded, assets, finished } = await inputPhase(async () => {
    const cr = openCommandRunDir(flags, { kind: 'sweep', command: CMD, argv, checkpointKind: 'sweep', carry: ['runs'] });
    try {
      // A resumed sweep takes its settings from the checkpoint (grid and config files may have changed since).
      const spec = fresh ?? validateSweepSpec(fromExact<SweepSpec>(cr.resume!.meta.spec));
      const loaded = await loadDataset(spec.data);
      validateSweepSpec(spec, loaded.train.n);
      cr.checkIndices(loaded);
      const finished = cr.resume ? fromExact<SweepRun[]>(cr.resume.meta.finished) : [];
      return { cr, spec, loaded, assets: await loadReportAssets(), finished };
    } catch (e) {
      cr.dir.release();
      throw e;
    }
  });
  const { dir } = cr;
  const total = searchPoints(spec.grid, spec.search).length;
  const save = (): void => {
    dir.write('runs.csv', runsCsv({ spec, runs: [...finished].sort((a, b) => a.point.index - b.point.index) }));
    saveCheckpoint(dir.path(CHECKPOINT_FILE), { kind: 'sweep', meta: { progress: finished.length, spec: toExact(spec), indices: indicesDigest(loaded), finished: toExact(finished) }, arrays: {} });
  };
  save();
  const ctx0 = await acquireGpu();
  const adapter = adapterRecord(ctx0);
  log(`${CMD}: ${total} runs of ${spec.model.widths.join('-')} on ${loaded.train.name} (${loaded.train.n} train / ${loaded.test.n} test), ${spec.train.epochs ? `${spec.train.epochs} epochs` : `${spec.train.steps} steps`} each, ${spec.concurrency} at a time, on ${ctx0.adapterName}${finished.length ? `; ${finished.length} finished earlier` : ''}`);
  log(`run folder: ${dir.shown} (written in ${dir.work} until it ends)`);
  const t0 = performance.now();
  let doneHere = 0;
  const started = new Map<number, string>();
  const outcome = await withDeviceRecovery(
    ctx0,
    (ctx) =>
      runSweep(ctx, spec, loaded, {
        done: finished,
        shouldStop: () => signals.requested,
        onRunStart: (p) => started.set(p.index, new Date().toISOString()),
        onRunEnd: (r, done, n, files) => {
          // Each run's own folder, as a queue worker writes it into its store; then runs.csv and the checkpoint.
          files!.set('unit.json', unitJson({ kind: 'sweep', run: r.point.index, worker: 'in-process', adapter, startedAt: started.get(r.point.index)!, context: { trainSize: loaded.train.n, testSize: loaded.test.n, hessianSamples: hessianSamples(spec, loaded.train.n), data: loaded.spec } }));
          writeFolderAtomic(join(dir.work, 'runs'), runName(r.point.index), files!);
          finished.push(r);
          save();
          doneHere++;
          const el = (performance.now() - t0) / 1000;
          const what = r.outcome === 'diverged' ? `diverged at step ${r.divergedStep}` : r.outcome === 'collapsed' ? `collapsed (train loss ${r.trainLoss?.toFixed(4)}${r.spikeStep !== null ? `, loss spike at step ${r.spikeStep}` : ''})` : `test ${(100 * (r.testAccuracy ?? NaN)).toFixed(2)}%, gap ${r.gapLoss?.toFixed(4)}, ‖w‖ ${r.weightNorm.toFixed(2)}${r.sharpness ? `, λ1 ${r.sharpness[0].toPrecision(4)}` : ''}`;
          const early = r.asha?.stoppedAtEpoch != null ? `; stopped early at epoch ${r.asha.stoppedAtEpoch} (ASHA)` : '';
          log(`[${done}/${n}] lr ${r.point.lr} B ${r.point.batchSize} wd ${r.point.weightDecay} dropout ${r.point.dropout} seed ${r.point.seed}: ${what}${early} (${r.seconds.toFixed(1)} s train, ${r.sharpnessSeconds.toFixed(1)} s sharpness) — ETA ${formatDuration((el / doneHere) * (n - done))}`);
        },
      }),
    { acquire: () => acquireGpu(), log },
  );
  signals.dispose();
  if (!outcome.ok) return cr.stop('device-lost', `${outcome.reason}; ${finished.length} of ${total} runs finished (runs.csv)`, finished.length, new Map(), EXIT.deviceLost);
  const { value: result, ctx } = outcome;
  if (result.stopped) {
    ctx.destroy();
    return cr.stop('interrupted', `interrupted by ${signals.signal} after ${finished.length} of ${total} runs (runs.csv holds them; runs in progress start again on resume)`, finished.length, new Map(), signals.exitCode);
  }
  cr.finish(sweepFiles(result, assets, { data: loaded.spec, adapter }));
  const diverged = result.runs.filter((r) => r.outcome === 'diverged').length;
  const collapsed = result.runs.filter((r) => r.outcome === 'collapsed').length;
  const early = result.runs.filter((r) => r.asha?.stoppedAtEpoch != null).length;
  process.stdout.write(`${result.runs.length} runs (${diverged} diverged, ${collapsed} collapsed${spec.search?.asha ? `, ${early} stopped early` : ''}) in ${formatDuration(result.seconds)}; run folder: ${dir.shown} (report.html)\n`);
  ctx.destroy();
  return EXIT.ok;
}
