/**
 * `sgdscope reproduce feng-tu`: the Feng–Tu experiment end to end (src/experiments/feng-tu/run.ts) —
 * train the reference setting while recording the hidden→hidden layer at every step of the final
 * window, then PCA, flatness, the variance–flatness fit, noise temperatures, T(t) vs L(t) and the
 * mini-loss-function ensemble; writes a run folder (src/experiments/feng-tu/files.ts) with a
 * self-contained report.html.
 */
import { AUTHORS_PROTOCOL, DEFAULT_FENG_TU, type FengTuOptions, type Protocol } from '../experiments/feng-tu/run.ts';
import { SAVE_EVERY_HELP } from '../train/save-policy.ts';
import { DECIMAL, helpText, parseFlags, UsageError, type FlagSpec, type FlagValues } from './args.ts';
import { TRAIN_FLAGS, resolveTrainSettings } from './train-settings.ts';
import { fengTuCommand } from './feng-tu.ts';
import { AWD_SUMMARY, awdCommand } from './awd.ts';
import { TOY_SUMMARY, toyLandscapeCommand } from './toy-landscape.ts';
import { checkQueueFlags, QUEUE_FLAGS } from './queue-mode.ts';
import { fengTuSeedsCommand } from './feng-tu-seeds.ts';
import { BATCH_INCREASE_SUMMARY, batchIncreaseCommand } from './batch-increase.ts';

const SHARED = ['config', 'dataset', 'train-size', 'test-size', 'split-seed', 'widths', 'activation', 'init', 'sigma-w', 'sigma-b', 'lr', 'batch', 'seed', 'sampling', 'chunk', 'stop-loss', 'stop-accuracy', 'stop-accuracy-epochs'] as const;

export const FENG_TU_FLAGS: Record<string, FlagSpec> = {
  protocol: { kind: 'string', help: "'sgdscope' (default: 30 epochs, window = last 10 epochs, flatness factor 2) or 'authors' (Feng & Tu's code: stop when train loss < 5e-5 and the mean train accuracy of the last 9 epochs > 0.99, at most 1000 epochs; window = last 12,000 steps, k = 1000, flatness at the final weights with factor e along every 10th PC, |θ| ≤ 1000); other flags override either", choices: ['sgdscope', 'authors'] },
  ...Object.fromEntries(SHARED.map((k) => [k, TRAIN_FLAGS[k]])),
  epochs: { kind: 'int', help: 'training epochs (default 30, or the --config file\'s); with a stop rule, the cap (the authors: 1000)', range: [1, 100000] },
  'window-epochs': { kind: 'int', help: 'epochs at the end of training recorded at every step (default 10)', range: [1, 100000] },
  'window-steps': { kind: 'int', help: 'window length in steps (overrides --window-epochs)', range: [3, 1e7] },
  layer: { kind: 'int', help: 'analysed layer (default 1: the hidden→hidden 50×50 matrix)', range: [0, 64] },
  k: { kind: 'int', help: 'principal components computed (default min(1000, P, T − 1) on the covariance route — the authors\' cut-off — and 40 on the trajectory route)', range: [2, 100000] },
  'flat-k': { kind: 'string', help: "flatness threshold factor: L = k·L(w*); a number > 1 or 'e' (default 2)" },
  'dir-stride': { kind: 'int', help: 'measure F_i and T_i for PCs 1, 1+s, 1+2s, … ≤ k (default 10 when k > 100, as the authors, else 1)', range: [1, 100000] },
  eig: { kind: 'string', help: "covariance-route eigensolver: 'auto' (default: dense for k > 100, else lanczos), 'lanczos' (block Lanczos, S·V on the GPU), 'subspace', or 'dense' (S read back, all eigenpairs on the CPU)", choices: ['auto', 'lanczos', 'subspace', 'dense'] },
  route: { kind: 'string', help: "'covariance' (P×P scatter on the GPU), 'trajectory' (products with the centred window) or 'auto' (default: covariance when P ≤ 4096)", choices: ['auto', 'covariance', 'trajectory'] },
  'checkpoint-every': { kind: 'int', help: 'checkpoint all weights every N steps for T(t) vs L(t) (default: one epoch)', range: [1, 1e9] },
  scatter: { kind: 'string', help: "arithmetic of the window's scatter matrix: 'auto' (default: double-single on the GPU if this device passes its exactness check, float64 on the CPU if that is faster here or it does not), 'ds-fma', 'ds-dekker' or 'cpu-f64'", choices: ['auto', 'ds-fma', 'ds-dekker', 'cpu-f64'] },
  'flat-at': { kind: 'string', help: "where F_i and the MLF ensemble slice the loss: 'mean' (default: w*, the window's mean) or 'final' (the final weights; the authors' protocol)", choices: ['mean', 'final'] },
  'flat-cap': { kind: 'number', help: 'flatness search: largest |θ| probed (default 100·‖w*‖; the authors: 1000)', range: [0, 1e9, true] },
  'flat-rel-tol': { kind: 'number', help: 'flatness search: relative tolerance on θ (default 1e-3)', range: [0, 0.5, true] },
  'flat-abs-tol': { kind: 'number', help: 'flatness search: absolute tolerance on θ (default 0; the authors bisect to 0.01)', range: [0, 1e6] },
  't-dirs': { kind: 'list', help: 'PCs (1-based) for T_i(t) vs L(t) (default 1,2,5,10,20,40)' },
  'mlf-dirs': { kind: 'list', help: 'PCs (1-based) for the mini-loss-function ensemble (default: the 2nd and the middle direction whose F_i is measured)' },
  'mlf-batches': { kind: 'int', help: 'minibatches in the ensemble (default 20)', range: [1, 10000] },
  'mlf-points': { kind: 'int', help: 'θ values per ensemble curve (default 41)', range: [3, 10001] },
  replicas: { kind: 'int', help: 'train R seeds at a time in lockstep as one ensemble (seeds s … s+R−1, or --seeds in groups of R): the same numbers per seed, faster; ψ, D90/D99 and the temperature anisotropy as mean ± standard error across seeds', range: [1, 64] },
  seeds: { kind: 'list', help: 'run the experiment once per seed (each seed\'s run folder under runs/NNNN/, seeds.csv and report.html across seeds); with --queue one job per seed' },
  ...QUEUE_FLAGS,
  out: { kind: 'string', help: 'run folder (default runs/<time>-feng-tu)' },
  force: { kind: 'bool', help: 'replace an existing run folder (and discard an unfinished run of it)' },
  resume: { kind: 'string', help: 'continue the run in this folder: its training from the last checkpoint (window recording included), then the analysis stages that are missing or failed (summary.json stages.<name>)' },
  'save-every': { kind: 'string', help: SAVE_EVERY_HELP },
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

/**
 * The training flags a protocol implies, unless given: 'sgdscope' 30 epochs; 'authors' their stop
 * rule with a 1000-epoch cap (a --config file's train section counts as given).
 */
export function applyProtocolTraining(flags: FlagValues): void {
  const protocol = (flags.protocol as Protocol | undefined) ?? 'sgdscope';
  if (protocol === 'sgdscope') {
    if (flags.epochs === undefined && !flags.config) flags.epochs = 30;
    return;
  }
  const t = AUTHORS_PROTOCOL.train;
  if (flags.epochs === undefined && !flags.config) flags.epochs = t.epochs as number;
  const stopGiven = flags['stop-loss'] !== undefined || flags['stop-accuracy'] !== undefined;
  if (!stopGiven) {
    flags['stop-loss'] = t.stopLoss as number;
    flags['stop-accuracy'] = t.stopAccuracy as number;
    if (flags['stop-accuracy-epochs'] === undefined) flags['stop-accuracy-epochs'] = t.stopAccuracyEpochs;
  }
}

export function resolveFengTuOptions(flags: FlagValues): Partial<FengTuOptions> {
  const o: Partial<FengTuOptions> = flags.protocol === 'authors' ? { ...AUTHORS_PROTOCOL.analysis } : {};
  // --window-epochs overrides the authors' window in steps.
  if (flags['window-epochs'] !== undefined && flags['window-steps'] === undefined) delete o.windowSteps;
  if (flags['window-epochs'] !== undefined) o.windowEpochs = flags['window-epochs'] as number;
  if (flags['window-steps'] !== undefined) o.windowSteps = flags['window-steps'] as number;
  if (flags.layer !== undefined) o.layer = flags.layer as number;
  if (flags.k !== undefined) o.k = flags.k as number;
  if (flags['flat-k'] !== undefined) {
    const raw = String(flags['flat-k']);
    const v = raw === 'e' ? Math.E : DECIMAL.test(raw) ? Number(raw) : NaN;
    if (!(Number.isFinite(v) && v > 1 && v <= 1e6)) throw new UsageError(`sgdscope reproduce feng-tu: --flat-k must be a number in (1, 1e6] or 'e', got '${raw}'`);
    o.flatK = v;
  }
  if (flags['dir-stride'] !== undefined) o.dirStride = flags['dir-stride'] as number;
  if (flags.eig !== undefined) o.eig = flags.eig as FengTuOptions['eig'];
  if (flags.route !== undefined) o.route = flags.route as FengTuOptions['route'];
  if (flags['checkpoint-every'] !== undefined) o.checkpointEvery = flags['checkpoint-every'] as number;
  if (flags.scatter !== undefined) o.scatter = flags.scatter as FengTuOptions['scatter'];
  if (flags['flat-at'] !== undefined) o.flatAt = flags['flat-at'] as FengTuOptions['flatAt'];
  if (flags['flat-cap'] !== undefined) o.flatThetaMax = flags['flat-cap'] as number;
  if (flags['flat-rel-tol'] !== undefined) o.flatRelTol = flags['flat-rel-tol'] as number;
  if (flags['flat-abs-tol'] !== undefined) o.flatAbsTol = flags['flat-abs-tol'] as number;
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
      `usage: sgdscope reproduce <experiment> [flags]\n\nexperiments:\n  feng-tu        ${SUMMARY}\n  awd            ${AWD_SUMMARY}\n  toy-landscape  ${TOY_SUMMARY}\n  batch-increase ${BATCH_INCREASE_SUMMARY}\n`,
    );
    return what ? 0 : 2;
  }
  if (what === 'awd') return awdCommand(rest);
  if (what === 'toy-landscape') return toyLandscapeCommand(rest);
  if (what === 'batch-increase') return batchIncreaseCommand(rest);
  if (what !== 'feng-tu') throw new UsageError(`sgdscope reproduce: unknown experiment '${what}' (experiments: feng-tu, signal-propagation, awd, toy-landscape, batch-increase)`);
  const { flags, positional } = parseFlags(rest, FENG_TU_FLAGS, 'sgdscope reproduce feng-tu');
  if (flags.help) {
    process.stdout.write(helpText('sgdscope reproduce feng-tu', SUMMARY, FENG_TU_FLAGS));
    return 0;
  }
  if (positional.length) throw new UsageError(`sgdscope reproduce feng-tu: unexpected argument '${positional[0]}' (flags start with --)`);
  // A resumed run takes its settings from the checkpoint; a new one gets its protocol's defaults
  // (before --replicas's own defaults, which read the seed and the settings).
  if (flags.resume === undefined) applyProtocolTraining(flags);
  if (flags.resume === undefined && (flags.seeds !== undefined || flags.queue !== undefined || flags.replicas !== undefined)) {
    checkQueueFlags(flags, 'sgdscope reproduce feng-tu');
    return fengTuSeedsCommand(flags, resolveTrainSettings(flags), resolveFengTuOptions(flags));
  }
  return fengTuCommand(flags, rest, resolveFengTuOptions);
}
