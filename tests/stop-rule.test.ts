/**
 * The authors' stop rule (src/train/stop-rule.ts): the pure rule on hand-made evaluations, the
 * trainer stopping at the first evaluation where it holds (and not before), the epoch cap when it
 * never holds, and the CLI flags that set it.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { gaussianMixture } from '../src/data/index.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { Trainer } from '../src/train/trainer.ts';
import { validateTrainConfig } from '../src/train/config.ts';
import { stopRuleMet, type EvalPoint } from '../src/train/stop-rule.ts';
import { parseFlags, UsageError } from '../src/cli/args.ts';
import { TRAIN_FLAGS, resolveTrainSettings } from '../src/cli/train.ts';

const ctx = useGpu();

const ev = (epoch: number, loss: number, accuracy: number): EvalPoint => ({ step: epoch * 10, epoch, train: { loss, accuracy } });
const rule = { stopLoss: 5e-5, stopAccuracy: 0.99, stopAccuracyEpochs: 3 };

describe('stopRuleMet', () => {
  it('needs the loss below the threshold and the mean accuracy of the last N evaluations above it', () => {
    const evals = [ev(1, 1, 0.5), ev(2, 1e-4, 1), ev(3, 4e-5, 0.995)];
    // Loss ok at epoch 3, but the mean of the last 3 accuracies is (0.5 + 1 + 0.995)/3 < 0.99.
    expect(stopRuleMet(rule, evals)).toBeNull();
    evals.push(ev(4, 4.9e-5, 0.99));
    // Last three: 1, 0.995, 0.99 → mean 0.995 > 0.99 and 4.9e-5 < 5e-5.
    expect(stopRuleMet(rule, evals)).toMatch(/stop rule met at step 40 \(epoch 4\.00\): train loss 4\.900e-5 < 5e-5 and mean train accuracy of the last 3 evaluations 0\.99500 > 0\.99/);
    // Strict inequalities, as the authors' code.
    expect(stopRuleMet({ ...rule, stopAccuracy: 0.9951 }, evals)).toBeNull();
    expect(stopRuleMet({ ...rule, stopLoss: 4.9e-5 }, evals)).toBeNull();
    // Fewer evaluations than N: the mean of those there are.
    expect(stopRuleMet(rule, [ev(1, 1e-5, 0.999)])).toMatch(/last 1 evaluations/);
    // Either part alone; none: no rule.
    expect(stopRuleMet({ stopLoss: null, stopAccuracy: 0.6, stopAccuracyEpochs: 1 }, [ev(1, 9, 0.7)])).not.toBeNull();
    expect(stopRuleMet({ stopLoss: 2, stopAccuracy: null, stopAccuracyEpochs: 1 }, [ev(1, 1, 0)])).not.toBeNull();
    expect(stopRuleMet({ stopLoss: null, stopAccuracy: null, stopAccuracyEpochs: 1 }, [ev(1, 0, 1)])).toBeNull();
  });

  it('validates its settings with the field named', () => {
    expect(() => validateTrainConfig({ stopAccuracyEpochs: 0 })).toThrow(/train\.stopAccuracyEpochs must be an integer in \[1, 100000\]/);
    expect(() => validateTrainConfig({ stopLoss: -1 })).toThrow(/train\.stopLoss must be \(0, 1000000\]/);
  });
});

describe('Trainer with a stop rule', () => {
  const MODEL: MlpConfig = { widths: [8, 16, 3], activation: 'relu', bias: true, init: { kind: 'pytorch' } };
  const data = gaussianMixture({ classes: 3, d: 8, n: 300, sep: 1.5, seed: 4 });

  it('stops at the first evaluation where the rule holds, not before', async () => {
    const c = ctx();
    const cfg = { epochs: 50, batchSize: 20, lr: 0.1, seed: 3, chunkSteps: 7, stopLoss: 0.5, stopAccuracy: 0.8, stopAccuracyEpochs: 3 };
    const t = await Trainer.create(c, MODEL, cfg, { train: data, test: null });
    const r = await t.run();
    expect(r.status).toBe('target-reached');
    expect(r.message).toMatch(/^stop rule met at step \d+/);
    const evals = t.history.evals;
    expect(r.steps).toBe(evals.at(-1)!.step);
    expect(r.steps % t.stepsPerEpoch).toBe(0);
    expect(stopRuleMet(t.config, evals)).not.toBeNull();
    for (let n = 1; n < evals.length; n++) expect(stopRuleMet(t.config, evals.slice(0, n)), `after evaluation ${n}`).toBeNull();
    // The weights on the GPU are those of the step reported (no chunk ran ahead).
    expect(r.steps).toBeLessThan(50 * t.stepsPerEpoch);
  });

  it('runs to the epoch cap when the rule never holds', async () => {
    const c = ctx();
    const t = await Trainer.create(c, MODEL, { epochs: 3, batchSize: 20, seed: 3, stopLoss: 1e-9 }, { train: data, test: null });
    const r = await t.run();
    expect(r.status).toBe('completed');
    expect(r.steps).toBe(3 * t.stepsPerEpoch);
  });
});

describe('stop-rule flags', () => {
  const resolve = (argv: string[]) => resolveTrainSettings(parseFlags(argv, TRAIN_FLAGS, 'sgdscope train').flags).train;
  it('map to the training settings', () => {
    expect(resolve(['--stop-loss', '5e-5', '--stop-accuracy', '0.99', '--stop-accuracy-epochs', '9', '--epochs', '1000'])).toMatchObject({ stopLoss: 5e-5, stopAccuracy: 0.99, stopAccuracyEpochs: 9, epochs: 1000 });
  });
  it('reject bad values with the flag named', () => {
    expect(() => resolve(['--stop-loss', '0'])).toThrow(/--stop-loss must be in \(0, 1000000\]/);
    expect(() => resolve(['--stop-accuracy', '1.5'])).toThrow(/--stop-accuracy must be in \[0, 1\]/);
    expect(() => resolve(['--stop-accuracy-epochs', '9'])).toThrow(UsageError);
    expect(() => resolve(['--stop-accuracy-epochs', '9'])).toThrow(/needs --stop-accuracy/);
  });
});
