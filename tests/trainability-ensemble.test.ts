/**
 * The trainability grid (src/experiments/propagation/trainability.ts) trains each depth's σ_w²
 * cells as one ensemble whose replicas start from different initial weights (Trainer.create's
 * `initial`): every cell — accuracies, losses, status, message — is bit for bit that cell trained
 * alone, including cells that diverge, a resumed grid (some cells of a row done) and rows split
 * into smaller ensembles (TrainabilityHooks.pack).
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { gaussianMixture } from '../src/data/index.ts';
import { Trainer } from '../src/train/trainer.ts';
import {
  runTrainability, runTrainabilityCell, trainabilityCells, trainabilityModel, trainabilityPackSize, type TrainabilityCell, type TrainabilitySpec,
} from '../src/experiments/propagation/trainability.ts';

const ctx = useGpu();

// relu: the forward gain (σ_w²/2)^{L/2} makes the largest σ_w² diverge, the smallest train.
const SPEC: TrainabilitySpec = { activation: 'relu', sb2: 0.05, sw2: [0.5, 2, 60], depths: [2, 3], width: 8, steps: 24, lr: 0.2, batchSize: 16, seed: 3 };
const all = gaussianMixture({ classes: 3, d: 12, n: 300, sep: 1.5, seed: 7 });
const DATA = { train: { ...all, n: 200, x: all.x.subarray(0, 200 * 12), y: all.y.subarray(0, 200) }, test: { ...all, n: 100, x: all.x.subarray(200 * 12), y: all.y.subarray(200) } };

const exact = (cells: TrainabilityCell[]): Omit<TrainabilityCell, 'seconds'>[] => cells.map(({ seconds: _, ...c }) => c);

describe('trainability grid as ensembles', () => {
  it('every cell of a row trained as one ensemble is bit for bit the cell trained alone', async () => {
    const c = ctx();
    expect(trainabilityPackSize(c, SPEC, 3, 12, 3)).toBe(3);
    const alone: TrainabilityCell[] = [];
    for (const { depth, sw2 } of trainabilityCells(SPEC)) alone.push(await runTrainabilityCell(c, SPEC, depth, sw2, DATA));
    const statuses = alone.map((x) => x.status);
    expect(statuses).toContain('diverged');
    expect(statuses).toContain('completed');
    const ends: number[] = [];
    const grid = await runTrainability(c, SPEC, DATA, { onCellEnd: (_, done) => ends.push(done) });
    expect(ends).toEqual([1, 2, 3, 4, 5, 6]);
    expect(exact(grid.cells)).toEqual(exact(alone));
    // Resumed with the first row and one cell of the second done: the rest of that row is one ensemble.
    const resumed = await runTrainability(c, SPEC, DATA, { done: alone.slice(0, 4) });
    expect(exact(resumed.cells)).toEqual(exact(alone));
    // Rows split into ensembles of at most 2 (as when the device cannot hold a row): 2 + 1 cells per row.
    expect(exact((await runTrainability(c, SPEC, DATA, { pack: 2 })).cells)).toEqual(exact(alone));
    await expect(runTrainability(c, SPEC, DATA, { pack: 0 })).rejects.toThrow(/pack must be an integer >= 1, got 0/);
  }, 120_000);

  it('Trainer.create checks the per-replica initial parameters', async () => {
    const model = trainabilityModel(SPEC, 2, 1, 12, 3);
    const cfg = { steps: 1, epochs: null, batchSize: 16 };
    await expect(Trainer.create(ctx(), model, [cfg, cfg], DATA, [new Float32Array(5)])).rejects.toThrow(/one vector per replica \(2\), got 1/);
    await expect(Trainer.create(ctx(), model, cfg, DATA, [new Float32Array(5)])).rejects.toThrow(/initial parameters\[0\]: expected a Float32Array of the model's \d+ parameters, got 5/);
  });
});
