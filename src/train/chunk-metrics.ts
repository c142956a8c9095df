/**
 * A training chunk's numbers as read back from its staging buffer, split by replica: each step's
 * minibatch loss and accuracy (slot s of replica r at 2·(s·R + r)), the evaluation when one was
 * due, and for each replica whether it diverged (the first minibatch loss that is NaN, ±Inf or
 * above its divergenceLoss) or reached its target at the evaluation.
 */
import type { GpuContext } from '../gpu/device.ts';
import { DurationEstimate, gentleWait } from '../gpu/sync.ts';
import { stopRuleMet } from './stop-rule.ts';
import type { TrainConfig } from './config.ts';
import type { Evaluator } from './evaluate.ts';
import type { ChunkProgress, EvalRecord } from './run-types.ts';

/** A chunk submitted and not yet read. */
export interface InFlight {
  firstStep: number;
  steps: number;
  evalDue: boolean;
  /** Which of the two staging buffers this chunk uses. */
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
  /** Each replica's evaluations so far (the stop rule reads them). */
  histories: readonly { evals: readonly EvalRecord[] }[];
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
      target: evalRecord ? targetReached(c, evalRecord, [...t.histories[r].evals, evalRecord]) : null,
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

/** Why evaluation `e` ends a replica's run (its targets, or the stop rule over `evals`, which end with e), or null. */
export function targetReached(c: TrainConfig, e: EvalRecord, evals: readonly EvalRecord[]): string | null {
  if (c.targetTrainLoss !== null && e.train.loss <= c.targetTrainLoss) {
    return `target reached at step ${e.step}: train loss ${e.train.loss.toPrecision(4)} ≤ ${c.targetTrainLoss}`;
  }
  if (c.targetTrainAccuracy !== null && e.train.accuracy >= c.targetTrainAccuracy) {
    return `target reached at step ${e.step}: train accuracy ${e.train.accuracy.toFixed(4)} ≥ ${c.targetTrainAccuracy}`;
  }
  return stopRuleMet(c, evals);
}

/**
 * The two staging buffers chunks alternate between (chunk i+1 is on the GPU while chunk i is
 * read), and the GPU time per step estimated from the reads, so a read sleeps through most of a
 * chunk's expected time before asking Dawn to poll.
 */
export class ChunkStaging {
  readonly buffers: GPUBuffer[];
  private readonly perStep = new DurationEstimate(0.3);
  private lastReadAt = 0;

  constructor(ctx: GpuContext, floats: number) {
    this.buffers = [0, 1].map((i) => ctx.device.createBuffer({ label: `train.staging${i}`, size: floats * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
  }

  /** Steps per second as last measured (0 before the first read). */
  get stepsPerSecond(): number {
    return this.perStep.ms > 0 ? 1000 / this.perStep.ms : 0;
  }

  /** The chunk's staging buffer, once the GPU has filled it. */
  async read(chunk: InFlight): Promise<Float32Array> {
    const staging = this.buffers[chunk.slot];
    const expected = Math.max(0, this.perStep.ms * chunk.steps - (performance.now() - chunk.submittedAt));
    await gentleWait(expected, () => staging.mapAsync(GPUMapMode.READ));
    const m = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    // GPU time per step: from submit, or from the previous read when this chunk queued behind it.
    this.perStep.update((performance.now() - Math.max(chunk.submittedAt, this.lastReadAt)) / chunk.steps);
    this.lastReadAt = performance.now();
    return m;
  }

  /** Waits for chunks already submitted (their results are discarded). */
  async drain(queue: InFlight[]): Promise<void> {
    for (const chunk of queue.splice(0)) {
      await this.buffers[chunk.slot].mapAsync(GPUMapMode.READ);
      this.buffers[chunk.slot].unmap();
    }
  }
}
