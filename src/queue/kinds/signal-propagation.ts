/**
 * `sgdscope reproduce signal-propagation --queue`: the trainability grid's cells (depth × σ_w², one
 * MNIST training each — at the paper's scale 156 trainings of up to 300 layers) go out one per
 * job, each runTrainabilityCell. In process a row trains as one ensemble whose replicas are bit
 * for bit these cells; a job stays one cell, so each is checkpointed, resumed and retried alone,
 * and N workers share a row. The collect — on a worker, since the propagation stage needs a GPU —
 * runs the theory, the propagation, Jacobian and curve stages and writes the command's run folder
 * with the collected grid.
 */
import { validateTrainabilitySpec, runTrainabilityCell, trainabilityCells, type TrainabilityCell } from '../../experiments/propagation/trainability.ts';
import { runSignalPropagation, type SignalPropagationOptions } from '../../experiments/propagation/run.ts';
import { readHeatmapScript, signalPropagationFiles, signalPropagationSummary } from '../../experiments/propagation/files.ts';
import { decodeExactJson } from '../../util/exact-json.ts';
import { requireFields } from './shape.ts';
import type { QueueKind } from '../kind.ts';

type Cell = ReturnType<typeof trainabilityCells>[number];

/** The dataset the command trains and propagates on. */
const DATA = { kind: 'mnist10k' as const };

export const signalPropagationKind: QueueKind<SignalPropagationOptions, Cell, TrainabilityCell> = {
  name: 'signal-propagation',
  collectNeedsGpu: true,
  check(spec) {
    requireFields('signal-propagation', spec, ['activation', 'phaseSw2', 'phaseSb2', 'criticalSb2', 'xiPoints', 'trainability', 'trainableThreshold']);
    const o = spec as unknown as SignalPropagationOptions;
    requireFields('signal-propagation trainability', o.trainability, ['sw2', 'depths', 'width', 'steps', 'lr', 'batchSize', 'seed', 'sb2', 'activation']);
    validateTrainabilitySpec(o.trainability!);
    return o;
  },
  units: (o) => trainabilityCells(o.trainability!),
  runsOf: (c) => [c.index],
  label: (c) => `#${c.index} depth ${c.depth}, σ_w² ${c.sw2}`,
  async run(env, o, c, io) {
    const ctx = await env.gpu();
    const data = await env.data(DATA);
    const cell = await runTrainabilityCell(ctx, o.trainability!, c.depth, c.sw2, data, io(c.index).control);
    return [{
      index: c.index, record: cell, files: new Map(), context: {},
      summary: cell.status === 'diverged' ? 'diverged' : `train ${(100 * (cell.trainAccuracy ?? 0)).toFixed(1)}%`,
    }];
  },
  decode: (text) => decodeExactJson<TrainabilityCell>(text),
  async collect(x) {
    const env = x.env!;
    const ctx = await env.gpu();
    const data = await env.data(DATA);
    const t0 = performance.now();
    const trained = { spec: x.spec.trainability!, cells: x.records, seconds: x.seconds };
    if (x.failed.length) throw new Error(`signal-propagation: ${x.failed.length} trainability cells failed (${x.failed.map((f) => `#${f.index}: ${f.reason}`).join('; ')}); the heat map needs every cell`);
    const result = await runSignalPropagation(ctx, x.spec, data, {}, trained);
    const summary = signalPropagationSummary(result, { adapter: x.adapter, seconds: x.seconds + (performance.now() - t0) / 1000, outDir: x.dir });
    return signalPropagationFiles(result, summary, { assets: x.assets, heatmapScript: readHeatmapScript(), adapter: x.adapter });
  },
};
