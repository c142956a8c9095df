/**
 * Feng–Tu across seeds (`sgdscope reproduce feng-tu --seeds 1,2,3`): the same experiment (run.ts)
 * once per seed — each seed's full run folder under runs/NNNN/ — and, at the top, how its numbers
 * spread over seeds: seeds.csv (one row per seed), summary.json (mean, standard deviation and standard error of ψ,
 * D90, D99, the temperature anisotropy) and report.html. One seed — or, with `replicas`, a group of
 * seeds trained as one ensemble (ensemble.ts) — is one unit of work, in process or on a queue worker
 * (src/queue/kinds/feng-tu.ts); both write these files from the records.
 */
import type { GpuContext, AdapterRecord } from '../../gpu/device.ts';
import type { Dataset } from '../../data/index.ts';
import type { MlpConfig } from '../../nn/config.ts';
import type { TrainConfig } from '../../train/config.ts';
import type { RunFiles } from '../../train/run-files.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';
import { esc, fmt, reportPage } from '../../analysis/report/html.ts';
import { toCsv } from '../../util/csv.ts';
import { runFengTu, type FengTuOptions, type FengTuProgress, type FengTuResult } from './run.ts';
import { fengTuFiles } from './files.ts';

export interface FengTuSeedsSpec {
  model: MlpConfig;
  train: Partial<TrainConfig>;
  data: unknown;
  options: Partial<FengTuOptions>;
  seeds: number[];
  /** Seeds trained together as one ensemble (src/experiments/feng-tu/ensemble.ts); absent or 1: one at a time. */
  replicas?: number;
}

/** One seed's key numbers (its full results are in its own run folder). */
export interface FengTuSeedRecord {
  seed: number;
  message: string;
  testAccuracy: number | null;
  finalTrainLoss: number | null;
  P: number;
  T: number;
  d90: number | null;
  d99: number | null;
  d90Pc1Removed: number | null;
  d99Pc1Removed: number | null;
  psi: number | null;
  psiSE: number | null;
  r: number | null;
  fitN: number | null;
  temperatureMaxOverMin: number | null;
  temperatureSpearmanFlatness: number | null;
  seconds: number;
}

export function validateSeeds(seeds: unknown): number[] {
  if (!Array.isArray(seeds) || seeds.length === 0) throw new Error('feng-tu.seeds must be a non-empty list of seeds');
  for (const s of seeds) if (!(Number.isInteger(s) && s >= 0 && s <= 0xffffffff)) throw new Error(`feng-tu.seeds: ${s} is not an integer in [0, 4294967295]`);
  if (new Set(seeds).size !== seeds.length) throw new Error(`feng-tu.seeds lists a seed twice: ${seeds.join(',')}`);
  return seeds as number[];
}

/** Trains and analyses one seed: its record and its run folder. */
export async function runFengTuSeed(
  ctx: GpuContext, spec: FengTuSeedsSpec, seed: number, data: { train: Dataset; test: Dataset | null }, assets: ReportAssets,
  meta: { data: unknown; adapter: AdapterRecord }, progress: FengTuProgress = {},
): Promise<{ record: FengTuSeedRecord; files: RunFiles }> {
  const t0 = performance.now();
  const r = await runFengTu(ctx, spec.model, { ...spec.train, seed }, data, spec.options, progress);
  try {
    return { record: seedRecord(seed, r, (performance.now() - t0) / 1000), files: fengTuFiles(r, assets, meta) };
  } finally {
    for (const d of [r.trainer.trainData, r.trainer.testData]) {
      d?.x.destroy();
      d?.y.destroy();
    }
  }
}

/** A seed's key numbers from its analysis. */
export function seedRecord(seed: number, r: FengTuResult, seconds: number): FengTuSeedRecord {
  const last = r.history.evals.at(-1);
  return {
    seed, message: r.run.message, testAccuracy: last?.test?.accuracy ?? null, finalTrainLoss: last?.train.loss ?? null, P: r.P, T: r.window.T,
    d90: r.summary?.all.d90 ?? null, d99: r.summary?.all.d99 ?? null, d90Pc1Removed: r.summary?.pc1Removed?.d90 ?? null, d99Pc1Removed: r.summary?.pc1Removed?.d99 ?? null,
    psi: r.fit?.psi ?? null, psiSE: r.fit?.psiSE ?? null, r: r.fit?.r ?? null, fitN: r.fit?.n ?? null,
    temperatureMaxOverMin: r.anisotropy?.maxOverMin ?? null, temperatureSpearmanFlatness: r.anisotropy?.spearmanWithFlatness ?? null,
    seconds,
  };
}

const COLUMNS: (keyof FengTuSeedRecord)[] = ['seed', 'testAccuracy', 'finalTrainLoss', 'P', 'T', 'd90', 'd99', 'd90Pc1Removed', 'd99Pc1Removed', 'psi', 'psiSE', 'r', 'fitN', 'temperatureMaxOverMin', 'temperatureSpearmanFlatness', 'seconds'];

const HEADER = ['seed', 'test_accuracy', 'final_train_loss', 'P', 'T', 'd90', 'd99', 'd90_pc1_removed', 'd99_pc1_removed', 'psi', 'psi_se', 'r', 'fit_n', 'temperature_max_over_min', 'temperature_spearman_flatness', 'seconds'];

export interface Spread {
  mean: number;
  sd: number;
  se: number;
  n: number;
}

/** Mean, sample standard deviation and standard error of the mean over the seeds that have the number. */
export function spread(v: (number | null)[]): Spread | null {
  const x = v.filter((y): y is number => y !== null && Number.isFinite(y));
  if (!x.length) return null;
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const sd = x.length > 1 ? Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (x.length - 1)) : 0;
  return { mean, sd, se: sd / Math.sqrt(x.length), n: x.length };
}

/** The seeds grouped into the ensembles that train together (spec.replicas at a time). */
export function seedGroups(spec: FengTuSeedsSpec): { indices: number[]; seeds: number[] }[] {
  const R = spec.replicas ?? 1;
  const out: { indices: number[]; seeds: number[] }[] = [];
  for (let i = 0; i < spec.seeds.length; i += R) {
    const indices = spec.seeds.slice(i, i + R).map((_, j) => i + j);
    out.push({ indices, seeds: indices.map((j) => spec.seeds[j]) });
  }
  return out;
}

export function fengTuSeedsFiles(spec: FengTuSeedsSpec, records: FengTuSeedRecord[], failed: { index: number; reason: string }[], assets: ReportAssets, adapter: AdapterRecord, seconds: number): RunFiles {
  const files: RunFiles = new Map();
  const stats = Object.fromEntries((['psi', 'd90', 'd99', 'd90Pc1Removed', 'd99Pc1Removed', 'temperatureMaxOverMin', 'testAccuracy'] as const).map((k) => [k, spread(records.map((r) => r[k]))]));
  const summary = {
    sgdscope: '0.1.0', kind: 'feng-tu-seeds', seeds: records.map((r) => r.seed), spread: stats,
    ...(failed.length ? { failed: failed.map((f) => ({ seed: spec.seeds[f.index], reason: f.reason })) } : {}), seconds, adapter, spec,
  };
  files.set('seeds.csv', toCsv(HEADER, records.map((r) => COLUMNS.map((c) => r[c] as number | null))));
  files.set('summary.json', JSON.stringify(summary, null, 2) + '\n');
  const rows = records.map((r, i) => `<tr><td>${r.seed}</td><td>runs/${String(spec.seeds.indexOf(r.seed)).padStart(4, '0')}</td><td class="num">${r.testAccuracy === null ? '—' : (100 * r.testAccuracy).toFixed(2) + '%'}</td><td class="num">${r.d90 ?? '—'}</td><td class="num">${r.d99 ?? '—'}</td><td class="num">${r.d90Pc1Removed ?? '—'}</td><td class="num">${r.d99Pc1Removed ?? '—'}</td><td class="num">${fmt(r.psi)} ± ${fmt(r.psiSE)}</td><td class="num">${fmt(r.r)}</td><td class="num">${fmt(r.temperatureMaxOverMin)}</td><td>${esc(records[i].message)}</td></tr>`).join('');
  const s = (k: string): string => {
    const v = stats[k];
    return v ? `${fmt(v.mean)} ± ${fmt(v.se)} (sd ${fmt(v.sd)}, n = ${v.n})` : '—';
  };
  files.set('report.html', reportPage({
    title: 'Feng & Tu across seeds',
    intro: `${esc(spec.model.widths.join('-'))}, lr ${spec.train.lr ?? 0.1}, B ${spec.train.batchSize ?? 50}; ${records.length} seeds (${records.map((r) => r.seed).join(', ')})${(spec.replicas ?? 1) > 1 ? `, trained ${spec.replicas} at a time in lockstep (an ensemble)` : ''}, each seed's full report in its run folder. ψ = ${s('psi')} (mean ± standard error over seeds); D90 ${s('d90')}, D99 ${s('d99')} (PC1 left out: ${s('d90Pc1Removed')}, ${s('d99Pc1Removed')}). Adapter ${esc(adapter.name)}; ${seconds.toFixed(0)} s.`,
    assets,
    summary,
    sections: [
      { title: 'Seeds', html: `<table><tr><th>seed</th><th>run folder</th><th>test acc</th><th>D90</th><th>D99</th><th>D90 (PC1 out)</th><th>D99 (PC1 out)</th><th>ψ</th><th>r</th><th>T max/min</th><th>run</th></tr>${rows}</table>` },
      ...(failed.length ? [{ title: 'Failed seeds', html: `<table>${failed.map((f) => `<tr><td>${spec.seeds[f.index]}</td><td>${esc(f.reason)}</td></tr>`).join('')}</table>` }] : []),
    ],
  }));
  return files;
}
