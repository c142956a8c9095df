/**
 * Sweep packing: grid points that share the batch size (the architecture is the sweep's) train as
 * one ensemble (src/train/trainer.ts), each point a replica with its own lr, weight decay, dropout
 * rate and seed, in the same dispatches. Replica r is bit for bit its point's run alone, so each
 * point's record and run folder are those runSweepPoint writes (only the timings differ: a packed
 * point reports its ensemble's wall time and steps/s). Points with and without dropout are not
 * mixed (a network with dropout runs extra mask dispatches); ASHA's runs are not packed (each
 * stops at its own rung).
 */
import { Trainer } from '../../train/trainer.ts';
import { replicaResult } from '../train-control.ts';
import type { RunFiles } from '../../train/run-files.ts';
import type { SweepPoint, SweepSpec } from './grid.ts';
import type { SweepRun } from './result.ts';
import { freeTrainerData, measurePoint, pointConfig, runSweepPoint, type SweepUnitEnv } from './unit.ts';

/** Largest ensemble a sweep packs. */
export const MAX_PACK = 64;

/** The points in packs of at most `pack` that share the batch size and whether they drop out, in grid order of each pack's first point. */
export function packPoints(points: readonly SweepPoint[], pack: number): SweepPoint[][] {
  if (!(Number.isInteger(pack) && pack >= 1 && pack <= MAX_PACK)) throw new Error(`sweep.pack must be an integer in [1, ${MAX_PACK}], got ${pack}`);
  const open = new Map<string, SweepPoint[]>();
  const out: SweepPoint[][] = [];
  for (const p of points) {
    const key = `${p.batchSize}/${p.dropout > 0}`;
    let group = open.get(key);
    if (!group || group.length >= pack) {
      group = [];
      open.set(key, group);
      out.push(group);
    }
    group.push(p);
  }
  return out;
}

/** Trains `points` as one ensemble and measures each replica: one record (and run folder) per point, in order. */
export async function runSweepPack(spec: SweepSpec, points: readonly SweepPoint[], env: SweepUnitEnv): Promise<{ run: SweepRun; files: RunFiles | null }[]> {
  if (points.length === 1) return [await runSweepPoint(spec, points[0], env)];
  if (spec.search?.asha) throw new Error('sweep: ASHA runs are not packed (each stops at its own rung)');
  const trainer = await Trainer.create(env.ctx, spec.model, points.map((p) => pointConfig(spec, p)), env.data);
  try {
    const all = await env.control.train(trainer, { key: 'train' });
    const out: { run: SweepRun; files: RunFiles | null }[] = [];
    for (const [r, p] of points.entries()) out.push(await measurePoint(spec, p, env, trainer, r, replicaResult(trainer, all, r), null));
    return out;
  } finally {
    freeTrainerData(trainer);
  }
}
