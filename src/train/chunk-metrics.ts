/**
 * A training chunk's numbers as read back from its staging buffer, split by replica: each step's
 * minibatch loss and accuracy (slot s of replica r at 2·(s·R + r)), the evaluation when one was
 * due, and for each replica whether it diverged (the first minibatch loss that is NaN, ±Inf or
 * above its divergenceLoss) or reached its target at the evaluation.
 */
import type { TrainConfig } from './config.ts';
import type { Evaluator } from './evaluate.ts';
import type { ChunkProgress, EvalRecord } from './history.ts';

/** A chunk submitted and not yet read. */
export interface InFlight {
  firstStep: number;
  steps: number;
  evalDue: boolean;
  /** Which of the two staging/checkpoint pairs this chunk uses. */
  slot: number;
  submittedAt: number;
}

export interface ReplicaRead {
  losses: Float32Array;
  accuracies: Float32Array;
  /** Steps of the chunk to keep in the history (all, or those before a divergence). */
  keep: number;
  diverged: string | null;
  divergedStep: number;
  eval: EvalRecord | null;
  /** The target this replica reached at the chunk's evaluation, if any. */
  target: string | null;
}

export interface ChunkRead {
  info: ChunkProgress;
  replicas: ReplicaRead[];
}

/** What of the trainer the read needs. */
export interface ChunkContext {
  configs: readonly TrainConfig[];
  trainEval: Evaluator;
  testEval: Evaluator | null;
  totalSteps: number | null;
  epochOf(step: number): number;
}

export function readChunkMetrics(t: ChunkContext, m: Float32Array, chunk: InFlight, stepsPerSecond: number): ChunkRead {
  const R = t.configs.length;
  const c0 = t.configs[0];
  const B = c0.batchSize;
  const end = chunk.firstStep + chunk.steps;
  const trainAt = 2 * c0.chunkSteps * R;
  const testAt = trainAt + t.trainEval.metricsFloats;
  const replicas = t.configs.map((c, r): ReplicaRead => {
    const losses = new Float32Array(chunk.steps);
    const accuracies = new Float32Array(chunk.steps);
    let diverged: string | null = null;
    let divergedStep = 0;
    for (let s = 0; s < chunk.steps; s++) {
      const loss = m[2 * (s * R + r)] / B;
      losses[s] = loss;
      accuracies[s] = m[2 * (s * R + r) + 1] / B;
      if (!diverged && !(Number.isFinite(loss) && loss <= c.divergenceLoss)) {
        divergedStep = chunk.firstStep + s + 1;
        const what = Number.isNaN(loss) ? 'NaN' : !Number.isFinite(loss) ? String(loss) : `${loss.toPrecision(4)} > divergenceLoss ${c.divergenceLoss}`;
        diverged = `diverged at step ${divergedStep} (epoch ${t.epochOf(divergedStep - 1).toFixed(2)}): minibatch loss ${what} (lr ${c.lr}, batch ${B})`;
      }
    }
    let evalRecord: EvalRecord | null = null;
    if (chunk.evalDue && !diverged) {
      const train = t.trainEval.reduce(m.subarray(trainAt, testAt), r);
      const test = t.testEval ? t.testEval.reduce(m.subarray(testAt, testAt + t.testEval.metricsFloats), r) : null;
      evalRecord = { step: end, epoch: t.epochOf(end), train, test };
    }
    return {
      losses, accuracies, diverged, divergedStep, eval: evalRecord,
      keep: diverged ? divergedStep - 1 - chunk.firstStep : chunk.steps,
      target: targetReached(c, evalRecord),
    };
  });
  const info: ChunkProgress = {
    step: end,
    epoch: t.epochOf(end),
    totalSteps: t.totalSteps,
    losses: replicas[0].losses,
    accuracies: replicas[0].accuracies,
    firstStep: chunk.firstStep + 1,
    eval: replicas[0].eval,
    stepsPerSecond,
    replicas: replicas.map((x) => ({ losses: x.losses, accuracies: x.accuracies, eval: x.eval })),
  };
  return { info, replicas };
}

function targetReached(c: TrainConfig, e: EvalRecord | null): string | null {
  if (!e) return null;
  if (c.targetTrainLoss !== null && e.train.loss <= c.targetTrainLoss) {
    return `target reached at step ${e.step}: train loss ${e.train.loss.toPrecision(4)} ≤ ${c.targetTrainLoss}`;
  }
  if (c.targetTrainAccuracy !== null && e.train.accuracy >= c.targetTrainAccuracy) {
    return `target reached at step ${e.step}: train accuracy ${e.train.accuracy.toFixed(4)} ≥ ${c.targetTrainAccuracy}`;
  }
  return null;
}
