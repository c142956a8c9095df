/**
 * `sgdscope reproduce toy-landscape`: SGD walkers on the toy valley of Yang, Tang & Tu (PRL 2023)
 * on the GPU — stationary density vs the effective-loss prediction, drift toward the flat end,
 * escape beyond a noise level (src/experiments/toy/run.ts); writes a run folder with
 * report.html (src/experiments/toy/files.ts).
 */
import { adapterRecord, acquireGpu } from '../gpu/device.ts';
import { loadReportAssets } from '../analysis/report/assets.ts';
import { TOY_DEFAULT, runToyExperiment, validateToySpec, type ToyExperimentSpec } from '../experiments/toy/run.ts';
import { toyFiles } from '../experiments/toy/files.ts';
import { openPlainRun } from './run-folder.ts';
import { inputPhase } from './input.ts';
import { helpText, parseFlags, UsageError, type FlagSpec, type FlagValues } from './args.ts';
import { formatDuration } from './progress.ts';

export const TOY_FLAGS: Record<string, FlagSpec> = {
  'lam-min': { kind: 'number', help: `sharpness λ at the flat end x = 0 (default ${TOY_DEFAULT.lamMin})`, range: [0, 1e6, true] },
  'lam-max': { kind: 'number', help: `sharpness λ at the sharp end x = 1 (default ${TOY_DEFAULT.lamMax})`, range: [0, 1e6, true] },
  lr: { kind: 'number', help: `learning rate α (default ${TOY_DEFAULT.lr}; needs α·λmax < 2)`, range: [0, 100, true] },
  delta: { kind: 'number', help: `noise Δ along the sharp direction (default ${TOY_DEFAULT.delta})`, range: [0, 1e3, true] },
  kappa: { kind: 'number', help: `noise anisotropy κ: Δ/κ along the flat direction (default ${TOY_DEFAULT.kappa})`, range: [0, 1e6, true] },
  walkers: { kind: 'int', help: `walkers (default ${TOY_DEFAULT.walkers})`, range: [64, 4e6] },
  steps: { kind: 'int', help: `steps of the density runs (default ${TOY_DEFAULT.density.steps}; burn-in a quarter)`, range: [100, 1e9] },
  'drift-deltas': { kind: 'list', help: `noise levels of the drift runs (default ${TOY_DEFAULT.drift.deltas.join(',')})` },
  'escape-deltas': { kind: 'list', help: `noise levels of the escape runs (default ${TOY_DEFAULT.escape.deltas.join(',')})` },
  'escape-loss': { kind: 'number', help: `a walker with L above this has left the valley (default ${TOY_DEFAULT.escape.escLoss})`, range: [0, 1e9, true] },
  'escape-steps': { kind: 'int', help: `steps of each escape run (default ${TOY_DEFAULT.escape.steps})`, range: [1, 1e9] },
  seed: { kind: 'int', help: 'seed of the noise stream (default 1)', range: [0, 4294967295] },
  out: { kind: 'string', help: 'run folder (default runs/<time>-toy-landscape)' },
  force: { kind: 'bool', help: 'replace an existing run folder' },
  quiet: { kind: 'bool', help: 'no progress lines' },
  help: { kind: 'bool', help: 'show this help' },
};

export const TOY_SUMMARY = "SGD walkers on Yang, Tang & Tu's valley of degenerate minima: density vs exp(−L_eff/Δ), drift to flat minima, escape beyond a noise level";

export function resolveToy(flags: FlagValues): ToyExperimentSpec {
  const d = TOY_DEFAULT;
  const steps = (flags.steps as number | undefined) ?? d.density.steps;
  const spec: ToyExperimentSpec = {
    ...d,
    lamMin: (flags['lam-min'] as number | undefined) ?? d.lamMin,
    lamMax: (flags['lam-max'] as number | undefined) ?? d.lamMax,
    lr: (flags.lr as number | undefined) ?? d.lr,
    delta: (flags.delta as number | undefined) ?? d.delta,
    kappa: (flags.kappa as number | undefined) ?? d.kappa,
    walkers: (flags.walkers as number | undefined) ?? d.walkers,
    seed: (flags.seed as number | undefined) ?? d.seed,
    density: { ...d.density, steps, burnIn: flags.steps === undefined ? d.density.burnIn : Math.floor(steps / 4) },
    drift: { ...d.drift, deltas: (flags['drift-deltas'] as number[] | undefined) ?? d.drift.deltas },
    escape: {
      ...d.escape,
      deltas: (flags['escape-deltas'] as number[] | undefined) ?? d.escape.deltas,
      escLoss: (flags['escape-loss'] as number | undefined) ?? d.escape.escLoss,
      steps: (flags['escape-steps'] as number | undefined) ?? d.escape.steps,
    },
  };
  for (const v of [...spec.drift.deltas, ...spec.escape.deltas]) if (!(v > 0)) throw new UsageError(`sgdscope reproduce toy-landscape: noise levels must be > 0, got ${v}`);
  try {
    return validateToySpec(spec);
  } catch (e) {
    throw new UsageError(`sgdscope reproduce toy-landscape: ${(e as Error).message}`);
  }
}

export async function toyLandscapeCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, TOY_FLAGS, 'sgdscope reproduce toy-landscape');
  if (flags.help) {
    process.stdout.write(helpText('sgdscope reproduce toy-landscape', TOY_SUMMARY, TOY_FLAGS));
    return 0;
  }
  if (positional.length) throw new UsageError(`sgdscope reproduce toy-landscape: unexpected argument '${positional[0]}' (flags start with --)`);
  const { spec, cr, assets } = await inputPhase(async () => {
    const spec = resolveToy(flags);
    const assets = await loadReportAssets();
    return { spec, assets, cr: openPlainRun(flags, { kind: 'toy-landscape', command: 'sgdscope reproduce toy-landscape', argv }) };
  });
  const log = (s: string): void => {
    if (!flags.quiet) process.stderr.write(`${s}\n`);
  };
  const ctx = await acquireGpu();
  log(`sgdscope reproduce toy-landscape on ${ctx.adapterName} (${ctx.runtime})`);
  const r = await runToyExperiment(ctx, spec, { onStage: (s) => log(s) });
  cr.finish(toyFiles(r, assets, { adapter: adapterRecord(ctx) }));
  const lines = [
    ...r.densities.map((d) => `density (${d.noise} noise): ⟨x⟩ ${d.meanX.toFixed(3)}; exp(−L_eff/Δ) predicts ${d.meanXPredicted.effectiveLoss.toFixed(3)}, adiabatic+ ${d.meanXPredicted.adiabaticPlus.toFixed(3)}, Boltzmann ${d.meanXPredicted.boltzmann.toFixed(3)}; max bin deviation: L_eff ${d.deviation.effectiveLoss.toFixed(3)}, adiabatic+ ${d.deviation.adiabaticPlus.toFixed(3)}`),
    `drift: ${r.drifts.map((d) => `Δ ${d.delta} κ ${d.kappa}: ⟨x⟩ → ${d.trace.at(-1)!.meanX.toFixed(3)} (pred. ${d.meanXPredicted.toFixed(3)}) in ${d.relaxationSteps ?? `> ${spec.drift.steps}`} steps`).join('; ')}`,
    `escape: ${r.escapes.map((e) => `${e.noise} noise: half the walkers escape at Δ ≈ ${e.halfMeasured?.toPrecision(3) ?? '—'} (predicted ${e.halfPredicted.mixed?.toPrecision(3) ?? '—'}–${e.halfPredicted.frozen?.toPrecision(3) ?? '—'})`).join('; ')}`,
    `${r.walkerSteps.toExponential(2)} walker-steps in ${formatDuration(r.seconds)} (${(r.walkerStepsPerSecond / 1e6).toFixed(1)} M/s)`,
    `run folder: ${cr.dir.shown} (report.html)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  ctx.destroy();
  return 0;
}
