/**
 * The run folder of a dashboard ensemble: `sgdscope train --replicas R`'s (src/train/ensemble-files.ts:
 * stacked weights (R, fan_in, fan_out), per-replica metrics and results) from the trainer as it
 * stands (paused or done). A diverged replica's weights are its last good ones, as the CLI writes.
 */
import type { Trainer, RunResult } from '../../train/trainer.ts';
import type { LoadedData } from '../../data/index.ts';
import type { RunFiles } from '../../train/run-files.ts';
import { ensembleRunFiles } from '../../train/ensemble-files.ts';

export async function ensembleExportFiles(t: Trainer, data: LoadedData, adapter: { name: string; description: string; runtime: string }, result: RunResult): Promise<RunFiles> {
  const T = t.mlp.layout.total;
  const params = await t.mlp.readParams();
  const paramsSteps: number[] = [];
  for (const [r, o] of t.outcomes.entries()) {
    const good = o.status === 'diverged' ? await t.lastGoodParams(r) : null;
    if (good) params.set(good.params, r * T);
    paramsSteps.push(good ? good.step : o.status === 'running' ? t.step : o.step);
  }
  return ensembleRunFiles({
    model: t.model,
    configs: t.configs,
    data: data.spec,
    adapter,
    result: { status: result.status, message: result.message, steps: result.steps, seconds: result.seconds, stepsPerSecond: result.stepsPerSecond },
    outcomes: t.outcomes.map((o) => (o.status === 'running' ? { ...o, step: t.step } : o)),
    // Each replica's last evaluation (none for a diverged one: its weights are from before it).
    finalEvals: t.outcomes.map((o, r) => (o.status === 'diverged' ? null : (t.histories[r].evals.at(-1) ?? null))),
    histories: t.histories,
    paramsSteps,
    stepsPerEpoch: t.stepsPerEpoch,
    params,
    trainIndices: data.trainIndices,
    testIndices: data.testIndices,
  });
}
