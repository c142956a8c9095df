/**
 * `sgdscope hessian`: the Hessian of the mean training loss of a trained MLP — top-k eigenpairs
 * (Lanczos on exact GPU Hessian–vector products), SLQ spectral density, Hutchinson trace, outliers
 * above the bulk, gradient-noise covariance against the Hessian — written as a run folder
 * (src/experiments/curvature/files.ts). The weights come from a `sgdscope train` run folder (--run),
 * or, without --run, from training the reference setting here first (its run folder goes to
 * <out>/train). --verify-dense also builds the block explicitly (dim products) and compares the
 * top eigenvalues with a dense float64 eigensolver; the exit status is 4 when they differ by more
 * than 1e-3 relative (the run folder is written either way).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { adapterRecord, acquireGpu } from '../gpu/device.ts';
import { loadDataset } from '../data/index.ts';
import { SEED_MLP, type MlpConfig } from '../nn/config.ts';
import { MlpGpu } from '../nn/mlp-gpu.ts';
import { paramLayout } from '../nn/params.ts';
import { validateTrainConfig } from '../train/config.ts';
import { Trainer } from '../train/trainer.ts';
import { runFiles } from '../train/run-files.ts';
import { uploadDataset } from '../train/gpu-dataset.ts';
import { checkRunIndices, loadRunFolder } from '../train/run-load.ts';
import { analyseHessian, DEFAULT_HESSIAN_OPTIONS, type HessianAnalysisOptions } from '../experiments/curvature/run.ts';
import { hessianRunFiles } from '../experiments/curvature/files.ts';
import { loadReportAssets } from '../analysis/report/assets.ts';
import { defaultRunDir, prepareRunDir, writeRunFiles } from './run-folder.ts';
import { helpText, parseFlags, UsageError, type FlagSpec } from './args.ts';
import { formatDuration } from './progress.ts';
import { STOP_FLAGS, stopSettings } from './train.ts';

export const HESSIAN_FLAGS: Record<string, FlagSpec> = {
  run: { kind: 'string', help: 'a `sgdscope train` run folder whose final weights and training set are analysed (default: train the reference run here first)' },
  epochs: { kind: 'int', help: 'without --run: epochs of the reference training (default 20; the cap with a stop rule)', range: [1, 100000] },
  ...STOP_FLAGS,
  layer: { kind: 'string', help: "block analysed: a layer index (default 1, the hidden→hidden layer), a comma list, or 'all' (the whole network)" },
  k: { kind: 'int', help: 'top eigenpairs by Lanczos (default 20)', range: [1, 1000] },
  'max-iter': { kind: 'int', help: 'largest Lanczos Krylov dimension (default max(4k + 60, 150), at most the block size)', range: [2, 100000] },
  tol: { kind: 'number', help: 'Lanczos residual tolerance relative to |λ1| (default 1e-6)', range: [0, 0.1, true] },
  probes: { kind: 'int', help: 'SLQ probe vectors (default 8)', range: [1, 4096] },
  steps: { kind: 'int', help: 'Lanczos steps per SLQ probe (default 60)', range: [2, 10000] },
  sigma: { kind: 'number', help: 'SLQ Gaussian broadening relative to the spectral range (default 0.005)', range: [0, 1, true] },
  hutchinson: { kind: 'int', help: 'Hutchinson trace probes (default 64)', range: [2, 100000] },
  'no-noise': { kind: 'bool', help: 'skip the gradient-noise covariance (Fisher) against the Hessian' },
  'verify-dense': { kind: 'bool', help: 'build the block explicitly (one product per parameter), solve it densely in float64 and compare the top eigenvalues' },
  'verify-top': { kind: 'int', help: 'eigenvalues compared by --verify-dense (default 10)', range: [1, 1000] },
  'max-dense': { kind: 'int', help: 'largest block --verify-dense accepts (default 6000: the dense solve is O(n³))', range: [1, 100000] },
  chunk: { kind: 'int', help: 'rows per GPU chunk of the training set, a multiple of 64 (default 2048)', range: [64, 1 << 20] },
  vectors: { kind: 'int', help: 'directions per GPU pass (default 32)', range: [1, 1024] },
  seed: { kind: 'int', help: 'seed of the Lanczos start vector and the probes (default 1)', range: [0, 4294967295] },
  out: { kind: 'string', help: 'run folder (default runs/<time>-hessian)' },
  force: { kind: 'bool', help: 'write into a non-empty run folder, replacing its files' },
  quiet: { kind: 'bool', help: 'no progress messages' },
  help: { kind: 'bool', help: 'show this help' },
};

function parseLayers(spec: string | undefined, model: MlpConfig): number[] {
  const count = model.widths.length - 1;
  if (spec === undefined) {
    if (count < 2) throw new UsageError(`sgdscope hessian: the model has ${count} layer; give --layer 0 or --layer all`);
    return [1];
  }
  if (spec === 'all') return Array.from({ length: count }, (_, i) => i);
  const parts = spec.split(',').map((s) => s.trim());
  const layers = parts.map((s) => {
    const v = Number(s);
    if (s === '' || !Number.isInteger(v) || v < 0 || v >= count) {
      throw new UsageError(`sgdscope hessian: --layer must be 'all' or layer indices in [0, ${count - 1}] (the model has ${count} layers), got '${spec}'`);
    }
    return v;
  });
  return [...new Set(layers)].sort((a, b) => a - b);
}

export async function hessianCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, HESSIAN_FLAGS, 'sgdscope hessian');
  if (flags.help) {
    process.stdout.write(helpText('sgdscope hessian', 'Hessian spectrum, trace, density and gradient-noise covariance of a trained MLP; writes a run folder', HESSIAN_FLAGS));
    return 0;
  }
  if (positional.length) throw new UsageError(`sgdscope hessian: unexpected argument '${positional[0]}' (flags start with --)`);
  if (flags.run !== undefined && flags.epochs !== undefined) throw new UsageError('sgdscope hessian: --epochs only applies without --run (the run folder already holds trained weights)');
  if (flags.run !== undefined && Object.keys(STOP_FLAGS).some((f) => flags[f] !== undefined)) throw new UsageError('sgdscope hessian: the stop-rule flags only apply without --run (the run folder already holds trained weights)');
  if (flags.chunk !== undefined && (flags.chunk as number) % 64 !== 0) throw new UsageError(`sgdscope hessian: --chunk must be a multiple of 64, got ${flags.chunk}`);
  // The run folder is read (and --layer checked against its model) before anything is written.
  const run = flags.run !== undefined ? loadRunFolder(flags.run as string) : null;
  const model = run ? run.model : SEED_MLP;
  const layers = parseLayers(flags.layer as string | undefined, model);
  const dim = layers.reduce((s, l) => s + paramLayout(model).layers[l].size, 0);
  const maxDense = (flags['max-dense'] as number | undefined) ?? 6000;
  if (flags['verify-dense'] && dim > maxDense) {
    throw new UsageError(`sgdscope hessian: --verify-dense on a block of ${dim} parameters exceeds --max-dense ${maxDense} (the dense solve is O(n³)); choose a smaller --layer or raise --max-dense`);
  }
  const outDir = prepareRunDir((flags.out as string | undefined) ?? defaultRunDir('hessian'), !!flags.force);
  const quiet = !!flags.quiet;
  const log = (s: string): void => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  const t0 = performance.now();
  const stamp = (): string => `[${((performance.now() - t0) / 1000).toFixed(1)} s]`;

  const ctx = await acquireGpu();
  let params: Float32Array;
  let trainX: Float32Array;
  let trainY: Uint8Array;
  let source: string;
  let trainCfg: unknown;
  let dataSpec: unknown;
  let finalEval: unknown = null;
  if (run) {
    const loaded = await loadDataset(run.data);
    checkRunIndices(run, loaded);
    params = run.params;
    trainX = loaded.train.x;
    trainY = loaded.train.y;
    source = run.dir;
    trainCfg = run.train;
    dataSpec = loaded.spec;
    finalEval = (run.result as { final?: unknown } | null)?.final ?? null;
    log(`sgdscope hessian: ${model.widths.join('-')} from ${run.dir}, ${loaded.train.n} training samples, on ${ctx.adapterName} (${ctx.runtime})`);
  } else {
    const train = validateTrainConfig({ epochs: (flags.epochs as number | undefined) ?? 20, ...stopSettings(flags) });
    const loaded = await loadDataset({ kind: 'mnist10k' });
    log(`sgdscope hessian: training the reference run first (${model.widths.join('-')}, lr ${train.lr}, B ${train.batchSize}, ${train.epochs} epochs on ${loaded.train.name})`);
    const trainer = await Trainer.create(ctx, model, train, { train: loaded.train, test: loaded.test });
    const result = await trainer.run();
    params = await trainer.mlp.readParams();
    const ev = trainer.history.evals.at(-1) ?? (await trainer.evaluate());
    finalEval = ev;
    log(`${stamp()} ${result.message}; train loss ${ev.train.loss.toFixed(4)}, test accuracy ${ev.test ? (100 * ev.test.accuracy).toFixed(2) : '-'}%`);
    const trainDir = join(outDir, 'train');
    mkdirSync(trainDir, { recursive: true });
    writeRunFiles(
      trainDir,
      runFiles({
        model,
        train,
        data: loaded.spec,
        adapter: adapterRecord(ctx),
        result,
        finalEval: ev,
        history: trainer.history,
        stepsPerEpoch: trainer.stepsPerEpoch,
        params,
        paramsStep: result.steps,
        trainIndices: loaded.trainIndices,
        testIndices: loaded.testIndices,
      }),
    );
    if (result.status === 'diverged') throw new Error(`training diverged (${result.message}); nothing to analyse`);
    trainX = loaded.train.x;
    trainY = loaded.train.y;
    source = 'trained here (train/)';
    trainCfg = train;
    dataSpec = loaded.spec;
  }

  const mlp = await MlpGpu.create(ctx, model, { momentum: false });
  mlp.uploadParams(params);
  const classes = model.widths[model.widths.length - 1];
  const data = uploadDataset(ctx, 'hessian.train', trainX, trainY, model.widths[0], classes);
  const options: Partial<HessianAnalysisOptions> = {
    layers,
    k: Math.min((flags.k as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.k, dim),
    lanczosMaxIter: flags['max-iter'] !== undefined ? Math.min(flags['max-iter'] as number, dim) : undefined,
    residualTol: (flags.tol as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.residualTol,
    slqProbes: (flags.probes as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.slqProbes,
    slqSteps: (flags.steps as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.slqSteps,
    sigmaRel: (flags.sigma as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.sigmaRel,
    hutchinsonProbes: (flags.hutchinson as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.hutchinsonProbes,
    noise: !flags['no-noise'],
    verifyDense: !!flags['verify-dense'],
    verifyTop: (flags['verify-top'] as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.verifyTop,
    chunkRows: flags.chunk as number | undefined,
    maxVectors: flags.vectors as number | undefined,
    seed: (flags.seed as number | undefined) ?? DEFAULT_HESSIAN_OPTIONS.seed,
    onStage: (stage, detail) => log(`${stamp()} ${stage}: ${detail}`),
  };
  if (options.lanczosMaxIter !== undefined && options.lanczosMaxIter < options.k!) {
    throw new UsageError(`sgdscope hessian: --max-iter ${options.lanczosMaxIter} is below --k ${options.k}`);
  }
  const analysis = await analyseHessian(mlp, data, { params, x: trainX, y: trainY }, options);
  const { onStage: _drop, ...recorded } = options;
  void _drop;
  const assets = await loadReportAssets();
  writeRunFiles(
    outDir,
    hessianRunFiles(
      analysis,
      { model, source, train: trainCfg, data: dataSpec, options: recorded as Record<string, unknown>, adapter: adapterRecord(ctx), finalEval },
      assets,
    ),
  );
  const top = Array.from(analysis.lanczos.values.slice(0, 5), (v) => v.toPrecision(4)).join(', ');
  let msg = `layers ${layers.join(',')} (${dim} parameters): λ1..5 = ${top}; trace ${analysis.hutchinson.trace.toPrecision(5)} ± ${analysis.hutchinson.stdErr.toPrecision(2)}; ${analysis.outliers.count} outliers above ${analysis.outliers.bulkEdge.toPrecision(3)}`;
  if (analysis.diagonalFit) msg += `; C_ii ∝ H_ii^${analysis.diagonalFit.gamma.toFixed(3)}`;
  if (analysis.dense) {
    const d = analysis.dense;
    msg += `\ndense check: top ${d.dense.length} max relative error ${d.maxRelErr.toExponential(2)} (${d.maxRelErr <= 1e-3 ? 'within' : 'NOT within'} 1e-3); Lanczos ${analysis.timings.lanczos.toFixed(1)} s vs build ${d.buildSeconds.toFixed(1)} s + dense solve ${d.solveSeconds.toFixed(1)} s`;
  }
  process.stdout.write(`${msg}\nin ${formatDuration((performance.now() - t0) / 1000)}; run folder: ${outDir}\n`);
  const errors = [...ctx.uncapturedErrors];
  ctx.destroy();
  if (errors.length) throw new Error(`WebGPU errors:\n${errors.join('\n')}`);
  return analysis.dense && analysis.dense.maxRelErr > 1e-3 ? 4 : 0;
}
