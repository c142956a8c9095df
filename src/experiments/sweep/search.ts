/**
 * Which points a sweep trains: the full grid (grid.ts), or random search — `trials` points drawn
 * from a seeded generator, the learning rate log-uniform over a range, weight decay and dropout
 * uniform over ranges, and every axis without a range picked uniformly from its grid list — and,
 * on top of either, ASHA (asha.ts), which stops hopeless runs at its rungs. The spec's types and
 * checks are in grid.ts.
 */
import { Rng } from '../../util/rng.ts';
import { expandGrid, type SearchSpec, type SweepGrid, type SweepPoint } from './grid.ts';

export const GRID_SEARCH: SearchSpec = { sampler: 'grid', trials: 0, seed: 0, lrRange: null, weightDecayRange: null, dropoutRange: null, asha: null };

/** Six significant digits: a drawn value reads well in a table and survives any round trip. */
const tidy = (x: number): number => Number(x.toPrecision(6));

/** The sweep's points, in the order they are trained (and numbered). */
export function searchPoints(grid: SweepGrid, search: SearchSpec = GRID_SEARCH): SweepPoint[] {
  if (search.sampler === 'grid') return expandGrid(grid);
  const rng = new Rng(search.seed);
  const pick = (v: number[]): number => v[rng.int(v.length)];
  const uniform = ([lo, hi]: [number, number]): number => tidy(lo + (hi - lo) * rng.uniform());
  const points: SweepPoint[] = [];
  for (let index = 0; index < search.trials; index++) {
    const lr = search.lrRange ? tidy(Math.exp(Math.log(search.lrRange[0]) + (Math.log(search.lrRange[1]) - Math.log(search.lrRange[0])) * rng.uniform())) : pick(grid.lr);
    const batchSize = pick(grid.batchSize);
    const weightDecay = search.weightDecayRange ? uniform(search.weightDecayRange) : pick(grid.weightDecay);
    const dropout = search.dropoutRange ? uniform(search.dropoutRange) : pick(grid.dropout);
    points.push({ index, lr, batchSize, weightDecay, dropout, seed: pick(grid.seed) });
  }
  return points;
}
