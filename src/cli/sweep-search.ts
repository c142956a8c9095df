/**
 * `sgdscope sweep --search grid|random|asha` and its flags → the sweep's SearchSpec
 * (src/experiments/sweep/grid.ts, search.ts, asha.ts). A grid file's "search" object gives the
 * same settings; flags win.
 */
import type { SearchSpec } from '../experiments/sweep/grid.ts';
import { UsageError, type FlagSpec, type FlagValues } from './args.ts';

export const SEARCH_FLAGS: Record<string, FlagSpec> = {
  search: { kind: 'string', help: "grid (default: every combination), random (--trials points: lr log-uniform in --lr-range, weight decay and dropout uniform in their ranges, other axes from their lists) or asha (the grid's points — or --trials random ones — with ASHA's early stopping)", choices: ['grid', 'random', 'asha'] },
  trials: { kind: 'int', help: 'random search: number of points', range: [1, 100000] },
  'search-seed': { kind: 'int', help: 'random search: seed of the draws (default 1)', range: [0, 4294967295] },
  'lr-range': { kind: 'list', help: 'random search: lr drawn log-uniformly in min,max (default: from --lr)' },
  'weight-decay-range': { kind: 'list', help: 'random search: weight decay drawn uniformly in min,max (default: from --weight-decay)' },
  'dropout-range': { kind: 'list', help: 'random search: dropout drawn uniformly in min,max (default: from --dropout)' },
  'asha-eta': { kind: 'int', help: 'ASHA: reduction factor η — the best 1/η at each rung go on (default 3)', range: [2, 100] },
  'asha-min-epochs': { kind: 'int', help: 'ASHA: the first rung, in epochs; rungs at min·η^k (default 1)', range: [1, 100000] },
  'asha-metric': { kind: 'string', help: 'ASHA: what ranks runs at a rung (default test-loss)', choices: ['test-loss', 'test-accuracy'] },
};

const CMD = 'sgdscope sweep';

function range(flags: FlagValues, name: string, file: [number, number] | null | undefined): [number, number] | null {
  const v = flags[name] as number[] | undefined;
  if (v === undefined) return file ?? null;
  if (v.length !== 2 || !(v[0] < v[1])) throw new UsageError(`${CMD}: --${name} takes min,max with min < max, got ${v.join(',')}`);
  return [v[0], v[1]];
}

/** The search, or undefined for a plain grid with no search settings anywhere. */
export function resolveSearch(flags: FlagValues, file: Partial<SearchSpec> | undefined): SearchSpec | undefined {
  const kind = (flags.search as string | undefined) ?? (file ? (file.asha ? 'asha' : (file.sampler ?? 'grid')) : undefined);
  const set = (n: string): boolean => flags[n] !== undefined;
  const randomFlags = ['trials', 'search-seed', 'lr-range', 'weight-decay-range', 'dropout-range'].filter(set);
  const ashaFlags = ['asha-eta', 'asha-min-epochs', 'asha-metric'].filter(set);
  if (kind === undefined || kind === 'grid') {
    const stray = [...randomFlags, ...ashaFlags];
    if (stray.length) throw new UsageError(`${CMD}: --${stray[0]} needs --search random or asha`);
    return kind === undefined ? undefined : { sampler: 'grid', trials: 0, seed: 0, lrRange: null, weightDecayRange: null, dropoutRange: null, asha: null };
  }
  if (kind === 'random' && ashaFlags.length) throw new UsageError(`${CMD}: --${ashaFlags[0]} needs --search asha`);
  const trials = (flags.trials as number | undefined) ?? file?.trials;
  const random = kind === 'random' || (trials !== undefined && trials > 0);
  if (kind === 'random' && trials === undefined) throw new UsageError(`${CMD}: --search random needs --trials N`);
  const fa = file?.asha ?? undefined;
  return {
    sampler: random ? 'random' : 'grid',
    trials: random ? trials! : 0,
    seed: (flags['search-seed'] as number | undefined) ?? file?.seed ?? 1,
    lrRange: range(flags, 'lr-range', file?.lrRange),
    weightDecayRange: range(flags, 'weight-decay-range', file?.weightDecayRange),
    dropoutRange: range(flags, 'dropout-range', file?.dropoutRange),
    asha: kind === 'asha'
      ? { eta: (flags['asha-eta'] as number | undefined) ?? fa?.eta ?? 3, minEpochs: (flags['asha-min-epochs'] as number | undefined) ?? fa?.minEpochs ?? 1, metric: ((flags['asha-metric'] as string | undefined) ?? fa?.metric ?? 'test-loss') as 'test-loss' | 'test-accuracy' }
      : null,
  };
}
