/**
 * planFengTu: the run's shape from its settings alone (the CLI checks it before the GPU starts;
 * prepareFengTu builds its session from it). Pure: no GPU.
 */
import { describe, expect, it } from 'vitest';
import { planFengTu } from '../src/experiments/feng-tu/plan.ts';
import { AUTHORS_PROTOCOL } from '../src/experiments/feng-tu/options.ts';
import { SEED_MLP } from '../src/nn/config.ts';
import { validateTrainConfig } from '../src/train/config.ts';

describe('planFengTu', () => {
  const train = validateTrainConfig({ epochs: 30, batchSize: 50 }, 8000);

  it('P from the widths, T from the window and ⌊n / B⌋ steps per epoch, the default k and stride', () => {
    const p = planFengTu(SEED_MLP, train, 8010);
    expect([p.P, p.stepsPerEpoch, p.total, p.T, p.windowStart, p.open, p.route]).toEqual([2500, 160, 4800, 1600, 3200, false, 'covariance']);
    expect([p.o.k, p.o.dirStride, p.o.eig]).toEqual([1000, 10, 'dense']);
    // A short window caps the default k at T − 1; then every direction is analysed.
    const short = planFengTu(SEED_MLP, train, 8000, { windowSteps: 60 });
    expect([short.o.k, short.o.dirStride]).toEqual([59, 1]);
  });

  it('the authors\' protocol: an open window (the stop rule ends the run) under the epoch cap', () => {
    const p = planFengTu(SEED_MLP, validateTrainConfig({ ...train, ...AUTHORS_PROTOCOL.train }, 8000), 8000, AUTHORS_PROTOCOL.analysis);
    expect([p.open, p.total, p.T, p.o.k, p.o.dirStride]).toEqual([true, 160000, 12000, 1000, 10]);
  });

  it('names the setting and its range', () => {
    expect(() => planFengTu(SEED_MLP, train, 8000, { k: 5000 })).toThrow(/k must be an integer in \[2, min\(P = 2500, T − 1 = 1599\)\], got 5000/);
    expect(() => planFengTu(SEED_MLP, train, 8000, { windowSteps: 5000 })).toThrow(/window must be between 3 and the 4800 training steps, got 5000/);
    expect(() => planFengTu(SEED_MLP, train, 8000, { layer: 3 })).toThrow(/layer must be an integer in \[0, 2\]/);
  });
});
