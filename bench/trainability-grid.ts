/**
 * `node --import tsx bench/trainability-grid.ts`: the trainability grid of `reproduce
 * signal-propagation` cell by cell (one Trainer per cell, runTrainabilityCell) against rows as
 * ensembles (runTrainability), in one process on the same MNIST-10k data, and a check that both
 * give the same cells. Settings by environment: DEPTHS=2,8 (default: the command's), STEPS,
 * PACK (cells per ensemble; default a row), ORDER=cells,packs (run both orders to pair them under a
 * changing load). Prints wall seconds and the load average before and after each.
 */
import { loadavg } from 'node:os';
import { acquireGpu } from '../src/gpu/device.ts';
import { loadDataset } from '../src/data/index.ts';
import { DEFAULT_TRAINABILITY, runTrainability, runTrainabilityCell, trainabilityCells, type TrainabilityCell, type TrainabilitySpec } from '../src/experiments/propagation/trainability.ts';

const env = process.env;
const depths = (env.DEPTHS ?? '').split(',').filter(Boolean).map(Number);
const spec: TrainabilitySpec = { ...DEFAULT_TRAINABILITY, ...(depths.length ? { depths } : {}), steps: Number(env.STEPS ?? DEFAULT_TRAINABILITY.steps) };
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const ctx = await acquireGpu();
const loaded = await loadDataset({ kind: 'mnist10k' });
const data = { train: loaded.train, test: loaded.test };
console.log(`${ctx.adapterName}: depths ${spec.depths.join(',')} × ${spec.sw2.length} σ_w², ${spec.steps} steps, width ${spec.width}; load ${load()}`);

async function cellByCell(): Promise<TrainabilityCell[]> {
  const out: TrainabilityCell[] = [];
  for (const c of trainabilityCells(spec)) out.push(await runTrainabilityCell(ctx, spec, c.depth, c.sw2, data));
  return out;
}

const got: Record<string, string> = {};
for (const way of (env.ORDER ?? 'cells,packs').split(',')) {
  const t0 = performance.now();
  const cells = way === 'packs' ? (await runTrainability(ctx, spec, data, env.PACK ? { pack: Number(env.PACK) } : {})).cells : await cellByCell();
  got[way] = JSON.stringify(cells.map(({ seconds: _, ...c }) => c));
  console.log(`${way}: ${((performance.now() - t0) / 1000).toFixed(1)} s; load ${load()}`);
}
if (got.cells && got.packs) console.log(`same cells: ${got.cells === got.packs}`);
ctx.destroy();
