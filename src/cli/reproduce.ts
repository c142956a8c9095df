/**
 * `sgdscope reproduce feng-tu`: the Feng–Tu experiment end to end (src/experiments/feng-tu/run.ts) —
 * train the reference setting while recording the hidden→hidden layer at every step of the final
 * window, then PCA, flatness, the variance–flatness fit, noise temperatures, T(t) vs L(t) and the
 * mini-loss-function ensemble; writes a run folder (src/experiments/feng-tu/files.ts) with a
 * self-contained report.html.
 */
import { adapterRecord, acquireGpu } from '../gpu/device.ts';
import { loadDataset } from '../data/index.ts';
import { runFengTu, DEFAULT_FENG_TU, type FengTuOptions, type Stage } from '../experiments/feng-tu/run.ts';
import { fengTuFiles } from '../experiments/feng-tu/files.ts';
import { loadReportAssets } from '../analysis/report/assets.ts';
import { defaultRunDir, prepareRunDir, writeRunFiles } from './run-folder.ts';
import { helpText, parseFlags, UsageError, type FlagSpec, type FlagValues } from './args.ts';
import { ProgressBar, formatDuration } from './progress.ts';
import { TRAIN_FLAGS, resolveTrainSettings } from './train.ts';
import { AWD_SUMMARY, awdCommand } from './awd.ts';
import { TOY_SUMMARY, toyLandscapeCommand } from './toy-landscape.ts';
import { checkQueueFlags, QUEUE_FLAGS } from './queue-mode.ts';
import { fengTuSeedsCommand } from './feng-tu-seeds.ts';

const SHARED = ['config', 'dataset', 'train-size', 'test-size', 'split-seed', 'widths', 'activation', 'init', 'sigma-w', 'sigma-b', 'lr', 'batch', 'seed', 'sampling', 'chunk', 'stop-loss', 'stop-accuracy', 'stop-accuracy-epochs'] as const;

export const FENG_TU_FLAGS: Record<string, FlagSpec> = {
  ...Object.fromEntries(SHARED.map((k) => [k, TRAIN_FLAGS[k]])),
  epochs: { kind: 'int', help: 'training epochs (default 30, or the --config file\'s)', range: [1, 100000] },
  'window-epochs': { kind: 'int', help: 'epochs at the end of training recorded at every step (default 10)', range: [1, 100000] },
  'window-steps': { kind: 'int', help: 'window length in steps (overrides --window-epochs)', range: [3, 1e7] },
  layer: { kind: 'int', help: 'analysed layer (default 1: the hidden→hidden 50×50 matrix)', range: [0, 64] },
  k: { kind: 'int', help: 'principal components computed (default min(1000, P, T − 1) on the covariance route — the authors\' cut-off — and 40 on the trajectory route)', range: [2, 100000] },
  'flat-k': { kind: 'string', help: "flatness threshold factor: L = k·L(w*); a number > 1 or 'e' (default 2)" },
  'dir-stride': { kind: 'int', help: 'measure F_i and T_i for PCs 1, 1+s, 1+2s, … ≤ k (default 10 when k > 100, as the authors, else 1)', range: [1, 100000] },
  eig: { kind: 'string', help: "covariance-route eigensolver: 'auto' (default: dense for k > 100, else lanczos), 'lanczos' (block Lanczos, S·V on the GPU), 'subspace', or 'dense' (S read back, all eigenpairs on the CPU)", choices: ['auto', 'lanczos', 'subspace', 'dense'] },
  route: { kind: 'string', help: "'covariance' (P×P scatter on the GPU), 'trajectory' (products with the centred window) or 'auto' (default: covariance when P ≤ 4096)", choices: ['auto', 'covariance', 'trajectory'] },
  'checkpoint-every': { kind: 'int', help: 'checkpoint all weights every N steps for T(t) vs L(t) (default: one epoch)', range: [1, 1e9] },
  'scatter-block': { kind: 'int', help: 'recorded steps merged into the scatter matrix per block (default 200)', range: [1, 100000] },
  't-dirs': { kind: 'list', help: 'PCs (1-based) for T_i(t) vs L(t) (default 1,2,5,10,20,40)' },
  'mlf-dirs': { kind: 'list', help: 'PCs (1-based) for the mini-loss-function ensemble (default: the 2nd and the middle direction whose F_i is measured)' },
  'mlf-batches': { kind: 'int', help: 'minibatches in the ensemble (default 20)', range: [1, 10000] },
  'mlf-points': { kind: 'int', help: 'θ values per ensemble curve (default 41)', range: [3, 10001] },
  seeds: { kind: 'list', help: 'run the experiment once per seed (each seed\'s run folder under runs/NNNN/, seeds.csv and report.html across seeds); with --queue one job per seed' },
  ...QUEUE_FLAGS,
  out: { kind: 'string', help: 'run folder (default runs/<time>-feng-tu)' },
  force: { kind: 'bool', help: 'write into a non-empty run folder, replacing its files' },
  quiet: { kind: 'bool', help: 'no progress bars' },
  help: { kind: 'bool', help: 'show this help' },
};

const SUMMARY = 'reproduce Feng & Tu (PNAS 2021): train the reference MLP, record the hidden→hidden layer at every step of the last epochs, and measure PCA, flatness, ψ and noise temperatures';

function listFlag(flags: FlagValues, name: string, fallback: number[]): number[] {
  const v = flags[name] as number[] | undefined;
  if (v === undefined) return fallback;
  for (const x of v) if (!(Number.isInteger(x) && x >= 1)) throw new UsageError(`sgdscope reproduce feng-tu: --${name} takes 1-based PC indices (integers ≥ 1), got ${x}`);
  return v;
}

export function resolveFengTuOptions(flags: FlagValues): Partial<FengTuOptions> {
  const o: Partial<FengTuOptions> = {};
  if (flags['window-epochs'] !== undefined) o.windowEpochs = flags['window-epochs'] as number;
  if (flags['window-steps'] !== undefined) o.windowSteps = flags['window-steps'] as number;
  if (flags.layer !== undefined) o.layer = flags.layer as number;
  if (flags.k !== undefined) o.k = flags.k as number;
  if (flags['flat-k'] !== undefined) {
    const raw = String(flags['flat-k']);
    const v = raw === 'e' ? Math.E : Number(raw);
    if (!(Number.isFinite(v) && v > 1 && v <= 1e6)) throw new UsageError(`sgdscope reproduce feng-tu: --flat-k must be a number in (1, 1e6] or 'e', got '${raw}'`);
    o.flatK = v;
  }
  if (flags['dir-stride'] !== undefined) o.dirStride = flags['dir-stride'] as number;
  if (flags.eig !== undefined) o.eig = flags.eig as FengTuOptions['eig'];
  if (flags.route !== undefined) o.route = flags.route as FengTuOptions['route'];
  if (flags['checkpoint-every'] !== undefined) o.checkpointEvery = flags['checkpoint-every'] as number;
  if (flags['scatter-block'] !== undefined) o.scatterBlock = flags['scatter-block'] as number;
  o.tDirs = listFlag(flags, 't-dirs', DEFAULT_FENG_TU.tDirs);
  if (flags['mlf-dirs'] !== undefined) o.mlfDirs = listFlag(flags, 'mlf-dirs', []);
  if (flags['mlf-batches'] !== undefined) o.mlfBatches = flags['mlf-batches'] as number;
  if (flags['mlf-points'] !== undefined) o.mlfPoints = flags['mlf-points'] as number;
  return o;
}

export async function reproduceCommand(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (!what || what === '--help' || what === 'help') {
    process.stdout.write(
      `usage: sgdscope reproduce <experiment> [flags]\n\nexperiments:\n  feng-tu        ${SUMMARY}\n  awd            ${AWD_SUMMARY}\n  toy-landscape  ${TOY_SUMMARY}\n`,
    );
    return what ? 0 : 2;
  }
  if (what === 'awd') return awdCommand(rest);
  if (what === 'toy-landscape') return toyLandscapeCommand(rest);
  if (what !== 'feng-tu') throw new UsageError(`sgdscope reproduce: unknown experiment '${what}' (experiments: feng-tu, signal-propagation, awd, toy-landscape)`);
  const { flags, positional } = parseFlags(rest, FENG_TU_FLAGS, 'sgdscope reproduce feng-tu');
  if (flags.help) {
    process.stdout.write(helpText('sgdscope reproduce feng-tu', SUMMARY, FENG_TU_FLAGS));
    return 0;
  }
  if (positional.length) throw new UsageError(`sgdscope reproduce feng-tu: unexpected argument '${positional[0]}' (flags start with --)`);
  // 30 epochs unless --epochs or a --config file's train.epochs says otherwise.
  if (flags.epochs === undefined && !flags.config) flags.epochs = 30;
  checkQueueFlags(flags, 'sgdscope reproduce feng-tu');
  const run = resolveTrainSettings(flags);
  const options = resolveFengTuOptions(flags);
  if (flags.seeds !== undefined || flags.queue !== undefined) return fengTuSeedsCommand(flags, run, options);
  const outDir = prepareRunDir((flags.out as string | undefined) ?? defaultRunDir('feng-tu'), !!flags.force);
  const assets = await loadReportAssets();

  const quiet = !!flags.quiet;
  const log = (s: string): void => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  const ctx = await acquireGpu();
  const loaded = await loadDataset(run.data);
  log(`sgdscope reproduce feng-tu: ${run.model.widths.join('-')} ${run.model.activation}${run.model.bias ? ' +bias' : ''}, lr ${run.train.lr}, B ${run.train.batchSize}, ${run.train.epochs} epochs, seed ${run.train.seed} on ${ctx.adapterName} (${ctx.runtime})`);
  log(`data: ${loaded.train.name} ${loaded.train.n} train / ${loaded.test.n} test`);

  const t0 = performance.now();
  const trainBar = new ProgressBar('train');
  let stageBar: ProgressBar | null = null;
  let lastEval = '';
  const result = await runFengTu(ctx, run.model, run.train, { train: loaded.train, test: loaded.test }, options, {
    onTrainChunk: (p) => {
      if (p.eval) lastEval = ` | train ${p.eval.train.loss.toFixed(4)}/${(100 * p.eval.train.accuracy).toFixed(2)}% test ${p.eval.test ? `${(100 * p.eval.test.accuracy).toFixed(2)}%` : '-'}`;
      if (quiet) return;
      const elapsed = (performance.now() - t0) / 1000;
      const rate = p.step / Math.max(elapsed, 1e-9);
      const eta = p.totalSteps ? (p.totalSteps - p.step) / rate : NaN;
      const loss = p.losses.reduce((a, b) => a + b, 0) / p.losses.length;
      trainBar.update(p.step, p.totalSteps, `step ${p.step}/${p.totalSteps} ep ${p.epoch.toFixed(1)} loss ${loss.toFixed(4)} ${rate.toFixed(0)} steps/s ETA ${formatDuration(eta)}${lastEval}`);
    },
    onStageStart: (stage: Stage, detail: string) => {
      if (stage === 'train') {
        log(`train: ${detail}`);
        return;
      }
      log(`${stage}: ${detail}`);
      stageBar = quiet ? null : new ProgressBar(stage);
    },
    onStageProgress: (_stage, done, total, detail) => stageBar?.update(done, total, detail),
    onStageEnd: (stage, seconds, detail) => {
      if (stage === 'train') trainBar.done();
      stageBar?.done();
      stageBar = null;
      log(`${stage}: done in ${formatDuration(seconds)}${detail ? ` — ${detail}` : ''}`);
    },
  });

  const files = fengTuFiles(result, assets, {
    data: loaded.spec,
    adapter: adapterRecord(ctx),
  });
  writeRunFiles(outDir, files);
  const s = result.summary;
  const d = (p: typeof s.all | null): string => (p ? `D90 ${p.d90 ?? `>${p.variances.length}`}, D99 ${p.d99 ?? `>${p.variances.length}`}` : '—');
  const fit = result.fit;
  const lines = [
    `${result.run.message}; window steps ${result.window.firstStep}–${result.window.lastStep} (T = ${result.window.T}), layer ${result.layer} (P = ${result.P}), k = ${result.options.k}`,
    `dimensions (of P = ${result.P}): all ${d(s.all)} | PC1 left out ${d(s.pc1Removed)} | detrended ${d(s.detrended)} | |cos(PC1, w*)| ${result.pc1VsMeanWeight?.toFixed(3)}`,
    fit ? `variance–flatness: ψ = ${fit.psi.toFixed(3)} ± ${fit.psiSE.toFixed(3)}, r = ${fit.r.toFixed(3)} (n = ${fit.n}, PC1 left out)` : `variance–flatness: no fit (${result.fitError ?? 'skipped'})`,
    result.anisotropy ? `temperature: max/min ${result.anisotropy.maxOverMin.toPrecision(3)}, Spearman(T, F) ${result.anisotropy.spearmanWithFlatness?.toFixed(3)}` : 'temperature: skipped',
    result.temperatureVsLoss.length ? `T(t) vs L(t): Pearson r(ln T, ln L) ${result.tDirs.map((i, j) => `PC${i} ${result.temperatureLossCorrelation[j].toFixed(3)}`).join(', ')}` : '',
    `time: ${Object.entries(result.timings).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(', ')}; total ${formatDuration((performance.now() - t0) / 1000)}`,
    `run folder: ${outDir} (report.html)`,
  ].filter(Boolean);
  process.stdout.write(`${lines.join('\n')}\n`);
  ctx.destroy();
  return 0;
}
