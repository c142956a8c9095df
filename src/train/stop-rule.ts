/**
 * The stop rule of Feng & Tu's published code (github.com/YuFengDuke/PCA-SGD, demo.py), as a
 * training setting: after each full evaluation (once per epoch by default),
 *
 *   stop when  L_train < stopLoss  and  mean(train accuracy of the last N evaluations) > stopAccuracy
 *
 * (strict inequalities, N = stopAccuracyEpochs; fewer than N evaluations so far: the mean of those
 * there are, as Python's slice acc[-1:-10:-1] gives). Either part may be left out (null); with both
 * null there is no rule. The epoch/step cap still ends the run if the rule never fires (its status
 * is then 'completed', not 'target-reached'). Kept apart from the trainer, which only asks
 * stopRuleMet after each evaluation.
 */
import type { TrainConfig } from './config.ts';

/** The slice of an evaluation record the rule reads. */
export interface EvalPoint {
  step: number;
  epoch: number;
  train: { loss: number; accuracy: number };
}

export function hasStopRule(c: Pick<TrainConfig, 'stopLoss' | 'stopAccuracy'>): boolean {
  return c.stopLoss !== null || c.stopAccuracy !== null;
}

/** A message if the rule holds after the last of `evals`, else null. */
export function stopRuleMet(c: Pick<TrainConfig, 'stopLoss' | 'stopAccuracy' | 'stopAccuracyEpochs'>, evals: readonly EvalPoint[]): string | null {
  if (!hasStopRule(c) || evals.length === 0) return null;
  const last = evals[evals.length - 1];
  const parts: string[] = [];
  if (c.stopLoss !== null) {
    if (!(last.train.loss < c.stopLoss)) return null;
    parts.push(`train loss ${last.train.loss.toExponential(3)} < ${c.stopLoss.toExponential()}`);
  }
  if (c.stopAccuracy !== null) {
    const recent = evals.slice(-c.stopAccuracyEpochs);
    const mean = recent.reduce((a, e) => a + e.train.accuracy, 0) / recent.length;
    if (!(mean > c.stopAccuracy)) return null;
    parts.push(`mean train accuracy of the last ${recent.length} evaluations ${mean.toFixed(5)} > ${c.stopAccuracy}`);
  }
  return `stop rule met at step ${last.step} (epoch ${last.epoch.toFixed(2)}): ${parts.join(' and ')}`;
}
