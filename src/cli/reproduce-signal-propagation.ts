/**
 * `sgdscope reproduce signal-propagation`: Schoenholz et al. (ICLR 2017) end to end
 * (src/experiments/propagation/run.ts) — the mean-field phase diagram and depth scales, random
 * deep networks on the GPU against the theory, the input–output Jacobian's singular values against
 * free probability and a great circle's length against χ1^{l/2} (flags in
 * signal-propagation-init-flags.ts), and the depth × σ_w² trainability map — written
 * to a run folder (src/experiments/propagation/files.ts) with a self-contained report.html.
 * The critical σ_w² table and the ξ_c table are also printed.
 *
 * Default scale: finishes in about 15 minutes on a 2-core machine without a GPU (SwiftShader).
 * --paper: Schoenholz et al.'s scale (width 300, depths 10–300, 13 σ_w² in [1, 4], 2000 steps;
 * wide, deep propagation runs), for a real GPU — hours on SwiftShader.
 */
import { adapterRecord, acquireGpu } from '../gpu/device.ts';
import { loadDataset } from '../data/index.ts';
import {
  DEFAULT_SIGNAL_PROPAGATION, linspace, runSignalPropagation, type SignalPropagationOptions,
} from '../experiments/propagation/run.ts';
import { DEFAULT_TRAINABILITY, PAPER_TRAINABILITY, validateTrainabilitySpec, type TrainabilityCell, type TrainabilitySpec } from '../experiments/propagation/trainability.ts';
import { PROPAGATION_LIMITS } from '../experiments/propagation/gpu-propagation.ts';
import { readHeatmapScript, signalPropagationFiles, signalPropagationSummary } from '../experiments/propagation/files.ts';
import { loadReportAssets } from '../analysis/report/assets.ts';
import { jacobianLabel } from '../experiments/propagation/jacobian.ts';
import { itemCheckpoints, openCommandRunDir, resumeOnly } from './run-folder.ts';
import { StopSignals } from './signals.ts';
import { fromExact, toExact } from '../util/exact-json.ts';
import { inputPhase } from './input.ts';
import { helpText, parseFlags, UsageError, type FlagSpec, type FlagValues } from './args.ts';
import { curveOptions, INIT_FLAGS, jacobianOptions, sw2List } from './signal-propagation-init-flags.ts';
import { ProgressBar, formatDuration } from './progress.ts';
import { checkQueueFlags, QUEUE_FLAGS, runOnQueue } from './queue-mode.ts';

const CMD = 'sgdscope reproduce signal-propagation';

export const SIGNAL_PROPAGATION_SUMMARY =
  'reproduce Schoenholz et al. (ICLR 2017): order-to-chaos phase diagram and depth scales (theory), random deep networks on the GPU vs the theory, Jacobian spectra vs free probability (Pennington et al. 2017), curve lengths vs χ1^{l/2} (Poole et al. 2016), and trainability over depth × σ_w²';

export const SIGNAL_PROPAGATION_FLAGS: Record<string, FlagSpec> = {
  activation: { kind: 'string', help: 'activation of every hidden layer (default tanh)', choices: ['tanh', 'relu'] },
  paper: { kind: 'bool', help: "Schoenholz et al.'s scale for a real GPU: trainability width 300, depths 10–300, σ_w² = 1, 1.25, …, 4, 2000 SGD steps (lr 0.001, B 128); propagation width 2048, 200 layers, 8 networks; finer phase grid. Other flags still override" },
  'phase-sw2': { kind: 'list', help: 'phase-diagram σ_w² axis as min,max,count (default 0.5,4.5,41)' },
  'phase-sb2': { kind: 'list', help: 'phase-diagram σ_b² axis as min,max,count (default 0,0.3,31)' },
  'prop-sw2': { kind: 'string', help: "σ_w² of the propagation points, comma-separated; 'crit' = the critical σ_w²* at --prop-sb2 (default 1.3,crit,3)" },
  'prop-sb2': { kind: 'number', help: 'σ_b² of the propagation points (default 0.05)', range: [0, 100] },
  width: { kind: 'int', help: 'propagation: network width N (default 768)', range: [...PROPAGATION_LIMITS.width] },
  depth: { kind: 'int', help: 'propagation: layers L (default 40)', range: [...PROPAGATION_LIMITS.depth] },
  nets: { kind: 'int', help: 'propagation: random networks (seeds) per point (default 8)', range: [...PROPAGATION_LIMITS.nets] },
  inputs: { kind: 'int', help: 'propagation: MNIST test digits 0…n−1 used as inputs (default 5)', range: [1, 10] },
  twin: { kind: 'number', help: 'propagation: add an input with this correlation ρ to the first one (default 0.95; 0 = none)', range: [-0.999, 0.999] },
  'no-gradients': { kind: 'bool', help: 'propagation: forward statistics only (no backpropagated gradient lengths)' },
  'skip-propagation': { kind: 'bool', help: 'no GPU propagation stage' },
  ...INIT_FLAGS,
  'train-sb2': { kind: 'number', help: 'trainability: σ_b² (default 0.05)', range: [0, 100] },
  'train-sw2': { kind: 'list', help: 'trainability: σ_w² grid, ascending (default 0.5,0.707,1,1.414,2,2.828,4,5.657,8)' },
  'train-depths': { kind: 'list', help: 'trainability: hidden-layer counts, ascending (default 2,4,8,16,32)' },
  'train-width': { kind: 'int', help: 'trainability: hidden width (default 64)', range: [1, 65536] },
  steps: { kind: 'int', help: 'trainability: SGD steps per cell (default 300)', range: [1, 1e7] },
  lr: { kind: 'number', help: 'trainability: learning rate (default 0.01)', range: [0, 100, true] },
  batch: { kind: 'int', help: 'trainability: minibatch size (default 64)', range: [1, 8000] },
  threshold: { kind: 'number', help: 'trainability: train accuracy from which a cell counts as trainable (default 0.5; chance is 0.1)', range: [0, 1] },
  'skip-training': { kind: 'bool', help: 'no trainability stage' },
  seed: { kind: 'int', help: 'seed of the random networks and of the trainings (default 1)', range: [0, 4294967295] },
  ...QUEUE_FLAGS,
  out: { kind: 'string', help: 'run folder (default runs/<time>-signal-propagation)' },
  force: { kind: 'bool', help: 'replace an existing run folder (and discard an unfinished run of it)' },
  resume: { kind: 'string', help: 'continue the interrupted run in this folder: finished trainability cells are kept, the rest run' },
  quiet: { kind: 'bool', help: 'no progress output (the tables are still printed)' },
  help: { kind: 'bool', help: 'show this help' },
};

function triple(flags: FlagValues, name: string, fallback: [number, number, number], min: number): [number, number, number] {
  const v = flags[name] as number[] | undefined;
  if (v === undefined) return fallback;
  if (v.length !== 3) throw new UsageError(`${CMD}: --${name} takes min,max,count (3 numbers), got ${v.length}`);
  const [lo, hi, n] = v;
  if (!(lo >= min && hi > lo && Number.isInteger(n) && n >= 2 && n <= 2001)) {
    throw new UsageError(`${CMD}: --${name} needs ${min} ≤ min < max and an integer count in [2, 2001], got ${v.join(',')}`);
  }
  return [lo, hi, n];
}

function ascendingList(flags: FlagValues, name: string, fallback: number[], check: (x: number) => boolean, what: string): number[] {
  const v = flags[name] as number[] | undefined;
  if (v === undefined) return fallback;
  v.forEach((x, i) => {
    if (!check(x)) throw new UsageError(`${CMD}: --${name} values must be ${what}, got ${x}`);
    if (i > 0 && !(x > v[i - 1])) throw new UsageError(`${CMD}: --${name} must be strictly ascending, got ${v.join(',')}`);
  });
  return v;
}

export function resolveSignalPropagationOptions(flags: FlagValues): SignalPropagationOptions {
  const paper = !!flags.paper;
  const base = DEFAULT_SIGNAL_PROPAGATION;
  const activation = (flags.activation as 'tanh' | 'relu' | undefined) ?? 'tanh';
  const seed = (flags.seed as number | undefined) ?? 1;
  const prop = base.propagation!;
  let propagation: SignalPropagationOptions['propagation'] = null;
  if (!flags['skip-propagation']) {
    const sw2 = sw2List(CMD, flags, 'prop-sw2', prop.sw2);
    const twin = flags.twin === undefined ? prop.twin : (flags.twin as number) === 0 ? null : (flags.twin as number);
    const inputs = (flags.inputs as number | undefined) ?? prop.inputs;
    if (twin !== null && inputs < 2) throw new UsageError(`${CMD}: --twin needs --inputs ≥ 2 (the twin is built from digits 0 and 1); pass --twin 0 for none`);
    propagation = {
      sw2,
      sb2: (flags['prop-sb2'] as number | undefined) ?? prop.sb2,
      width: (flags.width as number | undefined) ?? (paper ? 2048 : prop.width),
      depth: (flags.depth as number | undefined) ?? (paper ? 200 : prop.depth),
      nets: (flags.nets as number | undefined) ?? (paper ? 8 : prop.nets),
      seed,
      inputs,
      twin,
      gradients: !flags['no-gradients'],
    };
  }
  let trainability: TrainabilitySpec | null = null;
  if (!flags['skip-training']) {
    const t0 = paper ? PAPER_TRAINABILITY : DEFAULT_TRAINABILITY;
    trainability = {
      ...t0,
      activation,
      seed,
      sb2: (flags['train-sb2'] as number | undefined) ?? t0.sb2,
      sw2: ascendingList(flags, 'train-sw2', t0.sw2, (x) => x > 0 && x <= 10000, 'in (0, 10000]'),
      depths: ascendingList(flags, 'train-depths', t0.depths, (x) => Number.isInteger(x) && x >= 1 && x <= 2000, 'integers in [1, 2000]'),
      width: (flags['train-width'] as number | undefined) ?? t0.width,
      steps: (flags.steps as number | undefined) ?? t0.steps,
      lr: (flags.lr as number | undefined) ?? t0.lr,
      batchSize: (flags.batch as number | undefined) ?? t0.batchSize,
    };
    try {
      validateTrainabilitySpec(trainability);
    } catch (e) {
      throw new UsageError(`${CMD}: ${(e as Error).message}`);
    }
  }
  return {
    ...base,
    activation,
    phaseSw2: triple(flags, 'phase-sw2', paper ? [0.5, 4.5, 161] : base.phaseSw2, 1e-6),
    phaseSb2: triple(flags, 'phase-sb2', paper ? [0, 0.3, 121] : base.phaseSb2, 0),
    propagation,
    jacobian: jacobianOptions(CMD, flags, paper, seed),
    curve: curveOptions(CMD, flags, paper, seed),
    trainability,
    trainableThreshold: (flags.threshold as number | undefined) ?? base.trainableThreshold,
  };
}

function printTables(r: Awaited<ReturnType<typeof runSignalPropagation>>): string {
  const f = (x: number): string => (Number.isFinite(x) ? x.toPrecision(10) : String(x));
  const lines = [`critical line χ1 = 1 (${r.options.activation}):`, '  σ_b²    σ_w²*'];
  for (const p of r.critical) lines.push(`  ${String(p.sb2).padEnd(6)}  ${f(p.sw2)}`);
  lines.push('depth scales at fixed points:', '  σ_w²  σ_b²  phase     χ1              c*              ξ_c');
  for (const p of r.xiTable) lines.push(`  ${p.sw2.toFixed(2)}  ${p.sb2.toFixed(2)}  ${p.phase.padEnd(8)}  ${f(p.chi1).padEnd(14)}  ${f(p.cStar).padEnd(14)}  ${f(p.xiC)}`);
  for (const p of r.propagation) {
    const a = p.comparison.agreement;
    const one = (name: string, s: typeof a.q | null): string => (s ? `${name} ${s.agrees ? 'agrees' : 'DISAGREES'} (${(100 * s.fractionWithin).toFixed(0)}% within, max|z| ${s.maxZ.toFixed(2)})` : `${name} -`);
    lines.push(`propagation ${p.label}: ${one('q', a.q)}; ${one('c', a.c)}; ${one('gradient', a.lnGrad)}${p.comparison.warning ? ` [${p.comparison.warning}]` : ''}`);
  }
  for (const m of r.jacobian) {
    const v = m.ks ? `KS D = ${m.ks.d.toFixed(4)} (critical ${m.ks.critical.toFixed(4)}, n = ${m.ks.n})` : `max |λ/${m.atom!.value.toPrecision(4)} − 1| = ${m.atom!.maxRelDeviation.toExponential(2)}`;
    lines.push(`jacobian ${jacobianLabel(m.point)}, L = ${m.run.depth}: ${v}; mean s² ${m.moments.meanSq.toPrecision(4)} vs χ1^L ${m.moments.meanSqTheory.toPrecision(4)}; ${m.agrees ? 'agrees' : 'DISAGREES'}`);
  }
  for (const c of r.curves) {
    lines.push(`curve length σ_w² = ${Number(c.spec.sw2.toPrecision(6))} (${c.meanField.phase}): rate ${c.rate.measured.toFixed(4)} ± ${c.rate.se.toFixed(4)} per layer vs ½ ln χ1 = ${c.rate.theory.toFixed(4)}; ${c.agreement.agrees && c.rate.agrees ? 'agrees' : 'DISAGREES'}`);
  }
  if (r.band) {
    lines.push(`trainability: trainable (train acc ≥ ${r.band.threshold}) matches L ≤ 6ξ_c in ${(100 * r.band.agreement).toFixed(0)}% of cells (${r.band.trainableBeyond} train beyond 6ξ_c, ${r.band.untrainableWithin} fail inside); best σ_w² per depth: ${r.band.rows.map((row) => `L=${row.depth}: ${row.bestSw2 ?? '-'}`).join(', ')}`);
  }
  return lines.join('\n') + '\n';
}

export async function signalPropagationCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, SIGNAL_PROPAGATION_FLAGS, CMD);
  if (flags.help) {
    process.stdout.write(helpText(CMD, SIGNAL_PROPAGATION_SUMMARY, SIGNAL_PROPAGATION_FLAGS));
    return 0;
  }
  if (positional.length) throw new UsageError(`${CMD}: unexpected argument '${positional[0]}' (flags start with --)`);
  checkQueueFlags(flags, CMD);
  const quiet = !!flags.quiet;
  const log = (s: string): void => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  if (flags.queue !== undefined && flags.resume === undefined) {
    const options = resolveSignalPropagationOptions(flags);
    // The trainability grid's cells go to the workers; the collect job runs the rest on one of them.
    if (!options.trainability) throw new UsageError(`${CMD}: --queue sends the trainability grid to the workers; there is none with --skip-training`);
    if (flags.out !== undefined) throw new UsageError(`${CMD}: with --queue the run folder is written by the workers into their store, not --out`);
    return runOnQueue('signal-propagation', options, flags, CMD, log);
  }
  const signals = new StopSignals(log);
  const { options, cr, assets, heatmapScript } = await inputPhase(async () => {
    if (flags.resume !== undefined) resumeOnly(flags, CMD, ['resume', 'quiet', 'help']);
    const fresh = flags.resume === undefined ? resolveSignalPropagationOptions(flags) : null;
    const assets = await loadReportAssets();
    const heatmapScript = readHeatmapScript();
    const cr = openCommandRunDir(flags, { kind: 'signal-propagation', command: CMD, argv, checkpointKind: 'signal-propagation' });
    // A resumed run continues with the options it was started with (the theory, propagation,
    // Jacobian and curve stages, minutes at most, run again; finished trainability cells are kept).
    const options = fresh ?? fromExact<SignalPropagationOptions>(cr.resume!.meta.options);
    return { options, assets, heatmapScript, cr };
  });
  const outDir = cr.dir.dir;
  const cells = itemCheckpoints<TrainabilityCell>(cr, 'signal-propagation', { options: toExact(options) }, signals, 'trainability cells');
  const resumedCells = cells.done.length;
  const needData = options.propagation !== null || options.trainability !== null;
  const needGpu = needData || options.jacobian !== null || options.curve !== null;
  const ctx = needGpu ? await acquireGpu() : null;
  const loaded = needData ? await loadDataset({ kind: 'mnist10k' }) : null;
  log(`${CMD}: ${options.activation}${ctx ? ` on ${ctx.adapterName} (${ctx.runtime})` : ''}`);
  const t0 = performance.now();
  let bar: ProgressBar | null = null;
  let cellsT0 = 0;
  try {
    const result = await runSignalPropagation(ctx, options, loaded ? { train: loaded.train, test: loaded.test } : null, {
      doneCells: cells.done,
      onStage: (stage, detail) => log(`${stage}: ${detail}`),
      onStageEnd: (stage, s) => log(`${stage}: ${formatDuration(s)}${s < 60 ? ` (${s.toFixed(1)} s)` : ''}`),
      onCellStart: () => {
        if (cellsT0 === 0) {
          cellsT0 = performance.now();
          if (!quiet) bar = new ProgressBar('trainability');
        }
      },
      onCellEnd: (cell, done, total) => {
        cells.add(cell);
        const el = (performance.now() - cellsT0) / 1000;
        bar?.update(done, total, `L=${cell.depth} σ_w²=${cell.sw2}: ${cell.status === 'diverged' ? 'diverged' : `train ${(100 * (cell.trainAccuracy ?? 0)).toFixed(1)}%`} (${cell.seconds.toFixed(1)} s) ETA ${formatDuration((el / (done - resumedCells)) * (total - done))}`);
        if (done === total) bar?.done();
      },
    });
    const adapter = ctx ? adapterRecord(ctx) : { name: 'none', description: 'theory only', runtime: 'node' };
    const tr = performance.now();
    const summary = signalPropagationSummary(result, { adapter, seconds: (tr - t0) / 1000, outDir });
    const files = signalPropagationFiles(result, summary, { assets, heatmapScript, adapter });
    signals.dispose();
    cr.finish(files);
    log(`report and files: ${((performance.now() - tr) / 1000).toFixed(1)} s`);
    process.stdout.write(printTables(result));
    process.stdout.write(`done in ${formatDuration((performance.now() - t0) / 1000)}\nrun folder: ${cr.dir.shown}\n`);
  } finally {
    ctx?.destroy();
  }
  return 0;
}

export { linspace };
