/**
 * `sgdscope reproduce feng-tu --seeds … --queue`: one job per seed (the whole experiment: training
 * with the window recorded, then the analysis), its run folder into the store; collect = the
 * across-seeds files. A Feng–Tu job taken over from a dead worker starts again (the recorded
 * window lives on the GPU; the reliability issue's window checkpoints will let it resume).
 */
import { runFengTuSeed, fengTuSeedsFiles, seedGroups, validateSeeds, type FengTuSeedRecord, type FengTuSeedsSpec } from '../../experiments/feng-tu/seeds.ts';
import { runFengTuEnsemble } from '../../experiments/feng-tu/ensemble.ts';
import { validateMlpConfig } from '../../nn/config.ts';
import { validateTrainConfig } from '../../train/config.ts';
import { loadReportAssets } from '../../analysis/report/assets.ts';
import { decodeExactJson } from '../../util/exact-json.ts';
import type { DatasetSpec } from '../../data/index.ts';
import { requireFields } from './shape.ts';
import type { QueueKind } from '../kind.ts';

export const fengTuKind: QueueKind<FengTuSeedsSpec, { indices: number[]; seeds: number[] }, FengTuSeedRecord> = {
  name: 'feng-tu',
  collectNeedsGpu: false,
  check(spec) {
    requireFields('feng-tu', spec, ['model', 'train', 'data', 'options', 'seeds']);
    const s = spec as unknown as FengTuSeedsSpec;
    validateMlpConfig(s.model);
    validateTrainConfig(s.train, null, 'feng-tu.train');
    validateSeeds(s.seeds);
    if (s.replicas !== undefined && !(Number.isInteger(s.replicas) && s.replicas >= 1 && s.replicas <= 64)) throw new Error(`feng-tu.replicas must be an integer in [1, 64], got ${s.replicas}`);
    return s;
  },
  // A unit: one seed, or spec.replicas seeds trained as one ensemble.
  units: (s) => seedGroups(s),
  runsOf: (u) => u.indices,
  label: (u) => (u.seeds.length > 1 ? `#${u.indices.join(',')} seeds ${u.seeds.join(',')} (ensemble)` : `#${u.indices[0]} seed ${u.seeds[0]}`),
  async run(env, s, u, io) {
    const ctx = await env.gpu();
    const loaded = await env.data(s.data as DatasetSpec);
    const progress = io(u.indices[0]).progress;
    const meta = { data: loaded.spec, adapter: await env.adapter() };
    const assets = await loadReportAssets();
    const onTrainChunk = (p: { step: number; totalSteps: number | null; losses: Float32Array }): void => progress({ key: 'train', step: p.step, totalSteps: p.totalSteps, loss: p.losses[p.losses.length - 1] });
    const done = u.seeds.length > 1 ? await runFengTuEnsemble(ctx, s, u.seeds, loaded, assets, meta, { onTrainChunk }) : [await runFengTuSeed(ctx, s, u.seeds[0], loaded, assets, meta, { onTrainChunk })];
    return done.map(({ record, files }, j) => ({ index: u.indices[j], record, files, context: {}, summary: `ψ = ${record.psi?.toFixed(3) ?? '—'}, D90 ${record.d90 ?? '—'}, D99 ${record.d99 ?? '—'}` }));
  },
  decode: (text) => decodeExactJson<FengTuSeedRecord>(text),
  collect: async (x) => fengTuSeedsFiles(x.spec, x.records, x.failed, x.assets, x.adapter, x.seconds),
};
