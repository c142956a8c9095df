/**
 * Collect: from the run folders in the store to the experiment's own run folder — runs.csv,
 * charts.json, report.html… — by the kind's collect, which calls the same file builders as the
 * in-process command. Run by a worker as the sweep's parent job once every unit is done, and by
 * `sgdscope sweep collect` (again, elsewhere, or on a partial sweep with --partial).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadReportAssets } from '../analysis/report/assets.ts';
import type { AdapterRecord } from '../gpu/device.ts';
import type { Job } from 'bullmq';
import { kindByName } from './kinds/index.ts';
import { unitOfJobId, type SweepJobData } from './names.ts';
import type { KindName, WorkerEnv } from './kind.ts';
import { runName, writeFileAtomic, type Store } from './store.ts';

/** Failed children of a sweep's parent job, by run index. */
export async function failedRuns(job: Job<SweepJobData>): Promise<{ index: number; reason: string }[]> {
  const kind = kindByName(job.data.kind);
  const units = kind.units(kind.check(job.data.spec));
  const out: { index: number; reason: string }[] = [];
  for (const [key, reason] of Object.entries(await job.getIgnoredChildrenFailures())) {
    const u = unitOfJobId(key);
    if (u !== null && units[u]) for (const index of kind.runsOf(units[u])) out.push({ index, reason });
  }
  return out;
}

export interface CollectRequest {
  store: Store;
  sweepId: string;
  kind: KindName;
  spec: unknown;
  /** Runs whose jobs failed for good (from the queue), with the reason; the store's failed/ folder adds its own. */
  failed: { index: number; reason: string }[];
  /** Write even when runs are missing (they are listed as not run). */
  partial?: boolean;
  /** Where to write (default: the sweep's folder in the store). */
  out?: string;
  env: WorkerEnv | null;
}

export interface UnitMeta {
  startedAt: string;
  finishedAt: string;
  adapter: AdapterRecord;
  context: Record<string, unknown>;
}

export async function collectSweep(r: CollectRequest): Promise<{ dir: string; runs: number; failed: number; files: string[] }> {
  const kind = kindByName(r.kind);
  const spec = kind.check(r.spec);
  const { store, sweepId } = r;
  store.removePartials(sweepId);
  const all = kind.units(spec).flatMap((u) => kind.runsOf(u)).sort((a, b) => a - b);
  const failed = new Map(r.failed.map((f) => [f.index, f.reason]));
  const failedDir = join(store.sweepDir(sweepId), 'failed');
  for (const i of all) {
    const f = join(failedDir, `${runName(i)}.json`);
    if (!failed.has(i) && existsSync(f)) failed.set(i, (JSON.parse(readFileSync(f, 'utf8')) as { reason: string }).reason);
  }
  const records: unknown[] = [];
  const metas: UnitMeta[] = [];
  const missing: number[] = [];
  for (const i of all) {
    if (store.hasRun(sweepId, i)) {
      records.push(kind.decode(store.readRunFile(sweepId, i, 'record.json'), `${store.runDir(sweepId, i)}/record.json`));
      metas.push(JSON.parse(store.readRunFile(sweepId, i, 'unit.json')) as UnitMeta);
      failed.delete(i);
    } else if (!failed.has(i)) missing.push(i);
  }
  if (missing.length && !r.partial) {
    const shown = missing.slice(0, 12).join(', ') + (missing.length > 12 ? ', …' : '');
    throw new Error(`sweep ${sweepId}: ${missing.length} of ${all.length} runs are not in the store yet (${shown}); wait for the workers (sgdscope sweep status), or pass --partial`);
  }
  for (const i of missing) failed.set(i, 'not run (collected with --partial before it finished)');
  if (!records.length) throw new Error(`sweep ${sweepId}: no run has finished, nothing to collect`);
  const t0 = Math.min(...metas.map((m) => Date.parse(m.startedAt)));
  const t1 = Math.max(...metas.map((m) => Date.parse(m.finishedAt)));
  const adapters = [...new Map(metas.map((m) => [`${m.adapter.name}|${m.adapter.runtime}`, m.adapter])).values()];
  const adapter = adapters.length === 1 ? adapters[0] : { name: `mixed: ${adapters.map((a) => a.name).join(', ')}`, description: adapters.map((a) => a.description).join('; '), runtime: adapters[0].runtime };
  if (kind.collectNeedsGpu && !r.env) throw new Error(`collecting a ${r.kind} sweep needs a GPU`);
  const dir = r.out ?? store.sweepDir(sweepId);
  const files = await kind.collect({
    spec, records, failed: [...failed].map(([index, reason]) => ({ index, reason })).sort((a, b) => a.index - b.index),
    context: metas[0].context, adapter, seconds: (t1 - t0) / 1000, assets: await loadReportAssets(), dir, env: r.env,
  });
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(store.sweepDir(sweepId), 'sweep.json'), JSON.stringify({ sweepId, kind: r.kind, spec, runs: all.length }, null, 2) + '\n');
  for (const [name, content] of files) writeFileAtomic(join(dir, name), content);
  return { dir, runs: records.length, failed: failed.size, files: [...files.keys()] };
}
