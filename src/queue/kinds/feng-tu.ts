/**
 * `sgdscope reproduce feng-tu --seeds … --queue`: one job per seed (the whole experiment: training
 * with the window recorded, then the analysis), its run folder into the store; collect = the
 * across-seeds files. A Feng–Tu job taken over from a dead worker starts again (the recorded
 * window lives on the GPU; the reliability issue's window checkpoints will let it resume).
 */
import { runFengTuSeed, fengTuSeedsFiles, validateSeeds, type FengTuSeedRecord, type FengTuSeedsSpec } from '../../experiments/feng-tu/seeds.ts';
import { validateMlpConfig } from '../../nn/config.ts';
import { validateTrainConfig } from '../../train/config.ts';
import { loadReportAssets } from '../../analysis/report/assets.ts';
import { decodeExactJson } from '../../util/exact-json.ts';
import type { DatasetSpec } from '../../data/index.ts';
import { requireFields } from './shape.ts';
import type { QueueKind } from '../kind.ts';

export const fengTuKind: QueueKind<FengTuSeedsSpec, { index: number; seed: number }, FengTuSeedRecord> = {
  name: 'feng-tu',
  collectNeedsGpu: false,
  check(spec) {
    requireFields('feng-tu', spec, ['model', 'train', 'data', 'options', 'seeds']);
    const s = spec as unknown as FengTuSeedsSpec;
    validateMlpConfig(s.model);
    validateTrainConfig(s.train, null, 'feng-tu.train');
    validateSeeds(s.seeds);
    return s;
  },
  units: (s) => s.seeds.map((seed, index) => ({ index, seed })),
  runsOf: (u) => [u.index],
  label: (u) => `#${u.index} seed ${u.seed}`,
  async run(env, s, u, io) {
    const ctx = await env.gpu();
    const loaded = await env.data(s.data as DatasetSpec);
    const progress = io(u.index).progress;
    const { record, files } = await runFengTuSeed(ctx, s, u.seed, loaded, await loadReportAssets(), { data: loaded.spec, adapter: await env.adapter() }, {
      onTrainChunk: (p) => progress({ key: 'train', step: p.step, totalSteps: p.totalSteps, loss: p.losses[p.losses.length - 1] }),
    });
    return [{ index: u.index, record, files, context: {}, summary: `ψ = ${record.psi?.toFixed(3) ?? '—'}, D90 ${record.d90 ?? '—'}, D99 ${record.d99 ?? '—'}` }];
  },
  decode: (text) => decodeExactJson<FengTuSeedRecord>(text),
  collect: async (x) => fengTuSeedsFiles(x.spec, x.records, x.failed, x.assets, x.adapter, x.seconds),
};
