/**
 * `sgdscope sweep` on the queue: one unit per grid (or random-search) point — the same
 * runSweepPoint the in-process sweep calls — and collect = the in-process sweep's files
 * (sweepFiles) from the records. A unit is a list of points so that points trained together (one
 * ensemble sharing B and the architecture) can go out as one job; today each unit holds one.
 */
import { validateSweepSpec, type SweepPoint, type SweepSpec } from '../../experiments/sweep/grid.ts';
import { searchPoints } from '../../experiments/sweep/search.ts';
import { hessianData, hessianSamples } from '../../experiments/sweep/run.ts';
import { SharpnessProbe } from '../../experiments/sweep/sharpness.ts';
import { runSweepPoint } from '../../experiments/sweep/unit.ts';
import { decodeRecord } from '../../experiments/sweep/record.ts';
import { sweepFiles } from '../../experiments/sweep/files.ts';
import type { SweepResult, SweepRun } from '../../experiments/sweep/result.ts';
import type { DatasetSpec } from '../../data/index.ts';
import { requireFields } from './shape.ts';
import { InputError, type QueueKind } from '../kind.ts';

export interface SweepUnit {
  points: SweepPoint[];
}

export const sweepKind: QueueKind<SweepSpec, SweepUnit, SweepRun> = {
  name: 'sweep',
  collectNeedsGpu: false,
  check(spec) {
    requireFields('sweep', spec, ['model', 'train', 'data', 'grid', 'sharpness']);
    return validateSweepSpec(spec as unknown as SweepSpec);
  },
  units: (spec) => searchPoints(spec.grid, spec.search).map((p) => ({ points: [p] })),
  runsOf: (u) => u.points.map((p) => p.index),
  label: (u) => u.points.map((p) => `#${p.index} lr ${p.lr} B ${p.batchSize} wd ${p.weightDecay} dropout ${p.dropout} seed ${p.seed}`).join('; '),
  async run(env, spec, unit, io) {
    const ctx = await env.gpu();
    const data = await env.data(spec.data as DatasetSpec);
    try {
      validateSweepSpec(spec, data.train.n);
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    const probe = spec.sharpness.k === 0
      ? null
      : await env.cached(
          `sweep-probe:${JSON.stringify([spec.model, spec.sharpness, spec.data])}`,
          async () => {
            const hess = hessianData(ctx, spec, data.train)!;
            return { hess, probe: await SharpnessProbe.create(ctx, spec.model, hess, spec.sharpness.layers) };
          },
          (v) => {
            v.probe.destroy();
            v.hess.x.destroy();
            v.hess.y.destroy();
          },
        );
    const adapter = await env.adapter();
    const out = [];
    for (const p of unit.points) {
      const { control, board } = io(p.index);
      const { run, files } = await runSweepPoint(spec, p, { ctx, data, probe: probe?.probe ?? null, control, board, adapter });
      const what = run.outcome === 'diverged' ? `diverged at step ${run.divergedStep}` : run.outcome === 'collapsed' ? 'collapsed' : `test ${(100 * (run.testAccuracy ?? NaN)).toFixed(2)}%`;
      out.push({
        index: p.index,
        record: run,
        files: files!,
        summary: `${what}${run.asha?.stoppedAtEpoch != null ? `, stopped early at epoch ${run.asha.stoppedAtEpoch}` : ''}`,
        context: { trainSize: data.train.n, testSize: data.test.n, hessianSamples: hessianSamples(spec, data.train.n), data: data.spec },
      });
    }
    return out;
  },
  decode: (text, where) => decodeRecord(text, where),
  async collect(x) {
    const points = searchPoints(x.spec.grid, x.spec.search);
    const result: SweepResult = {
      spec: x.spec,
      runs: x.records,
      trainSize: x.context.trainSize as number,
      testSize: x.context.testSize as number,
      seconds: x.seconds,
      hessianSamples: x.context.hessianSamples as number,
      ...(x.failed.length ? { failed: x.failed.map((f) => ({ point: points[f.index], reason: f.reason })) } : {}),
    };
    return sweepFiles(result, x.assets, { data: x.context.data, adapter: x.adapter });
  },
};
