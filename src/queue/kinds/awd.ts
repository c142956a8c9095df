/**
 * `sgdscope reproduce awd --queue` (--full: the authors' 5 lr × 4 B × 4 penalties × 10 seeds): one
 * job per run — trained to the target loss (both phases when weight decay stops early) and its
 * hidden→hidden layer analysed — by the same runAwdPoint as in process; collect = awdFiles.
 * Each worker computes the pairings and builds the analysis probe once per spec.
 */
import { awdPairs, awdPoints, runAwdPoint, validateAwdSpec, type AwdExperimentResult, type AwdExperimentSpec, type AwdPoint, type AwdRun } from '../../experiments/awd/run.ts';
import { AwdProbe } from '../../experiments/awd/analyze.ts';
import { awdFiles } from '../../experiments/awd/files.ts';
import { validateMlpConfig } from '../../nn/config.ts';
import { decodeExactJson } from '../../util/exact-json.ts';
import type { DatasetSpec } from '../../data/index.ts';
import { requireFields } from './shape.ts';
import type { QueueKind } from '../kind.ts';

export const awdKind: QueueKind<AwdExperimentSpec, AwdPoint, AwdRun> = {
  name: 'awd',
  collectNeedsGpu: false,
  check(spec) {
    requireFields('awd', spec, ['model', 'data', 'base', 'lrs', 'batchSizes', 'weightDecays', 'seeds', 'targetLoss', 'maxEpochs', 'awd']);
    const s = spec as unknown as AwdExperimentSpec;
    validateMlpConfig(s.model);
    return validateAwdSpec(s);
  },
  units: (s) => awdPoints(s),
  runsOf: (p) => [p.index],
  label: (p) => `#${p.index} ${p.axis}: lr ${p.lr} B ${p.batchSize} wd ${p.weightDecay} seed ${p.seed}`,
  async run(env, s, p, io) {
    const ctx = await env.gpu();
    const loaded = await env.data(s.data as DatasetSpec);
    const data = { train: loaded.train, test: loaded.test };
    const key = JSON.stringify([s.model, s.data, s.awd]);
    const pairs = await env.cached(`awd-pairs:${key}`, async () => awdPairs(s, data), () => undefined);
    const probe = await env.cached(`awd-probe:${key}`, () => AwdProbe.create(ctx, s.model, data.train, s.awd.layer), (v) => v.destroy());
    const run = await runAwdPoint(ctx, s, p, data, probe, pairs, {}, io(p.index).control);
    const a = run.analysis;
    return [{
      index: p.index, record: run, files: new Map(),
      context: { trainSize: loaded.train.n, testSize: loaded.test.n, data: loaded.spec },
      summary: `${run.message}${a ? `; gap ${a.gapMeasured.toFixed(4)}, S_g ${a.factors.sharpness.toPrecision(4)}, S_w ${a.factors.size.toPrecision(4)}` : ''}`,
    }];
  },
  decode: (text) => decodeExactJson<AwdRun>(text),
  async collect(x) {
    // The pairings' time is spent once per worker; the result records the wall time of the whole.
    const result: AwdExperimentResult = { spec: x.spec, runs: x.records, trainSize: x.context.trainSize as number, testSize: x.context.testSize as number, pairsSeconds: 0, seconds: x.seconds };
    return awdFiles(result, x.assets, { data: x.context.data, adapter: x.adapter });
  },
};
