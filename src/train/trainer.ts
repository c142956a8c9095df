/**
 * The training loop. Steps are encoded in chunks (TrainConfig.chunkSteps per command buffer); each
 * chunk's per-step minibatch loss/accuracy — and, when due, the full train/test evaluation — are
 * copied into a staging buffer in the same command buffer, and chunks are pipelined two deep: chunk
 * i+1 is submitted before chunk i's numbers are read, so the GPU never waits for JavaScript.
 *
 * Divergence (a minibatch loss that is NaN, ±Inf or above divergenceLoss) ends the run with the
 * step it happened at. The last good weights are those after step d − 2 when step d's loss is the
 * first bad one — the last weights whose minibatch loss (measured at step d − 1) was finite and
 * bounded; lastGoodParams() recomputes them from the start of their chunk (each chunk keeps a
 * copy of its starting weights and velocity, and its minibatch indices), bit for bit.
 *
 * Checkpoints: captureState() / restoreState() (trainer-state.ts) give the complete state between
 * two steps; the snapshotDue/onSnapshot hooks let a caller take one while run() goes on.
 */
import type { GpuContext } from '../gpu/device.ts';
import { GpuBatch } from '../gpu/batch.ts';
import type { Profiler } from '../gpu/profiler.ts';
import { createStorage, readF32, writeBuffer } from '../gpu/buffers.ts';
import { DurationEstimate, gentleWait } from '../gpu/sync.ts';
import { Rng } from '../util/rng.ts';
import type { MlpConfig } from '../nn/config.ts';
import { initParams } from '../nn/init.ts';
import { MlpGpu, TrainStepPlan } from '../nn/mlp-gpu.ts';
import type { Dataset } from '../data/dataset.ts';
import { checkRunFitsData, totalStepsOf, type TrainConfig } from './config.ts';
import { MinibatchSampler } from './sampler.ts';
import { uploadDataset, type GpuDataset } from './gpu-dataset.ts';
import type { TrainerState } from './trainer-state.ts';
import { Evaluator } from './evaluate.ts';
import { StepViews } from './step-view.ts';
import { hasStopRule, stopRuleMet } from './stop-rule.ts';
import { History, type ChunkPlan, type ChunkProgress, type EvalRecord, type RunResult, type RunStatus, type TrainHooks } from './run-types.ts';

export { History, type ChunkPlan, type ChunkProgress, type EvalRecord, type RunResult, type RunStatus, type TrainHooks } from './run-types.ts';

interface InFlight {
  firstStep: number;
  steps: number;
  evalDue: boolean;
  /** Which of the two staging buffers this chunk uses. */
  slot: number;
  /** Which of the three chunk-start copies (weights and velocity) holds this chunk's start. */
  startSlot: number;
  /** The chunk's minibatch indices (to recompute its steps after a divergence). */
  indices: Uint32Array;
  submittedAt: number;
}

/** Chunk-start copies kept: the chunk read, the one before (a divergence on a chunk's first step), the one after. */
const START_SLOTS = 3;

export class Trainer {
  readonly history = new History();
  step = 0;
  private readonly plan: TrainStepPlan;
  private readonly sampler: MinibatchSampler;
  private readonly indices: GPUBuffer;
  private readonly metrics: GPUBuffer;
  private readonly starts: GPUBuffer[];
  private readonly staging: GPUBuffer[];
  private readonly stagingFloats: number;
  private readonly perStep = new DurationEstimate(0.3);
  private readonly views: StepViews;
  /** The last chunks encoded (newest last), for recomputing the last good weights. */
  private recent: InFlight[] = [];
  /** After a divergence: the first step whose minibatch loss was bad. */
  private divergedAt: number | null = null;
  private chunkCounter = 0;
  private lastReadAt = 0;
  readonly trainEval: Evaluator;
  readonly testEval: Evaluator | null;
  /** When set, the next chunks' command buffers time every dispatch (GpuBatch with a Profiler). */
  profiler: Profiler | null = null;

  private constructor(
    readonly ctx: GpuContext,
    readonly model: MlpConfig,
    readonly config: TrainConfig,
    readonly mlp: MlpGpu,
    readonly trainData: GpuDataset,
    readonly testData: GpuDataset | null,
    initial: Float32Array,
  ) {
    const c = config;
    this.sampler = new MinibatchSampler(trainData.n, c.batchSize, c.sampling, new Rng(c.seed).fork());
    this.indices = createStorage(ctx, 'train.indices', c.chunkSteps * c.batchSize * 4);
    this.metrics = createStorage(ctx, 'train.metrics', 2 * c.chunkSteps * 4);
    this.plan = new TrainStepPlan(mlp, c.batchSize, trainData, this.indices, this.metrics, { dropout: c.dropout > 0 ? { rate: c.dropout, seed: c.seed } : null });
    this.views = new StepViews(this.plan, { lr: c.lr, weightDecay: c.weightDecay, momentum: c.momentum });
    this.trainEval = new Evaluator(mlp, trainData);
    this.testEval = testData ? new Evaluator(mlp, testData) : null;
    // Staging layout (floats): [2·chunkSteps step metrics | train eval metrics | test eval metrics].
    this.stagingFloats = 2 * c.chunkSteps + this.trainEval.metricsFloats + (this.testEval?.metricsFloats ?? 0);
    this.staging = [0, 1].map((i) =>
      ctx.device.createBuffer({ label: `train.staging${i}`, size: this.stagingFloats * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
    );
    const copyFloats = mlp.layout.total * (mlp.hasMomentum ? 2 : 1);
    this.starts = Array.from({ length: START_SLOTS }, (_, i) => createStorage(ctx, `train.chunkStart${i}`, copyFloats * 4));
    mlp.uploadParams(initial);
  }

  /** Uploads the data, compiles the kernels, initialises the weights from the seed. */
  static async create(ctx: GpuContext, model: MlpConfig, train: Partial<TrainConfig>, data: { train: Dataset; test: Dataset | null }): Promise<Trainer> {
    const config = checkRunFitsData(model, train, data.train);
    const classes = model.widths[model.widths.length - 1];
    const mlp = await MlpGpu.create(ctx, model, { momentum: config.momentum > 0, dropout: config.dropout > 0 });
    await mlp.prepare(config.batchSize, true);
    await mlp.prepare(Evaluator.rowsFor(data.train.n), false);
    if (data.test) await mlp.prepare(Evaluator.rowsFor(data.test.n), false);
    const trainData = uploadDataset(ctx, 'data.train', data.train.x, data.train.y, data.train.d, classes);
    const testData = data.test ? uploadDataset(ctx, 'data.test', data.test.x, data.test.y, data.test.d, classes) : null;
    const initial = initParams(model, new Rng(config.seed));
    return new Trainer(ctx, model, config, mlp, trainData, testData, initial);
  }

  get stepsPerEpoch(): number {
    return this.sampler.stepsPerEpoch;
  }

  get totalSteps(): number | null {
    return totalStepsOf(this.config, this.stepsPerEpoch);
  }

  get evalEvery(): number {
    return this.config.evalEvery > 0 ? this.config.evalEvery : this.stepsPerEpoch;
  }

  epochOf(step: number): number {
    return step / this.stepsPerEpoch;
  }

  /** Evaluates the current weights on the full train and test sets. */
  async evaluate(): Promise<EvalRecord> {
    const batch = new GpuBatch(this.ctx, 'eval');
    this.trainEval.encode(batch);
    this.testEval?.encode(batch);
    batch.submit();
    const train = await this.trainEval.read();
    const test = this.testEval ? await this.testEval.read() : null;
    return { step: this.step, epoch: this.epochOf(this.step), train, test };
  }

  /** Runs until a stop rule fires. Can be called again after 'stopped' to resume. */
  async run(hooks: TrainHooks = {}): Promise<RunResult> {
    const t0 = performance.now();
    const startStep = this.step;
    const total = this.totalSteps;
    let encodedUpTo = this.step;
    const queue: InFlight[] = [];
    let result: { status: RunStatus; message: string } | null = null;
    // Resumed at the evaluation that ended the run (a checkpoint written when training ended): it
    // stays ended, rather than training on to the next evaluation.
    const atStart = this.history.evals.at(-1);
    const endedAt = startStep > 0 && atStart?.step === startStep ? this.targetReached(atStart) : null;
    if (endedAt) return { status: 'target-reached', message: endedAt, steps: startStep, seconds: 0, stepsPerSecond: 0 };

    const encodeNext = (): boolean => {
      if (total !== null && encodedUpTo >= total) return false;
      const nextEval = (Math.floor(encodedUpTo / this.evalEvery) + 1) * this.evalEvery;
      let k = Math.min(this.config.chunkSteps, nextEval - encodedUpTo);
      if (total !== null) k = Math.min(k, total - encodedUpTo);
      const evalDue = encodedUpTo + k === nextEval || (total !== null && encodedUpTo + k === total);
      queue.push(this.encodeChunk(encodedUpTo, k, evalDue, hooks));
      encodedUpTo += k;
      return true;
    };

    // A chunk ending in an evaluation may end the run (target reached): do not run ahead of it,
    // or the weights on the GPU would be a chunk past the step the run reports.
    const hasTarget = this.config.targetTrainLoss !== null || this.config.targetTrainAccuracy !== null || hasStopRule(this.config);
    const mayEnd = (q: InFlight | undefined): boolean => hasTarget && q !== undefined && q.evalDue;
    // A stop or a snapshot wants the GPU idle at a chunk boundary: stop running ahead.
    const holding = (): boolean => (hooks.shouldStop?.() ?? false) || (hooks.snapshotDue?.(this.step) ?? false);
    encodeNext();
    while (queue.length > 0) {
      // Keep the GPU fed: the next chunk goes in before this one's numbers are read.
      if (queue.length < 2 && !mayEnd(queue[queue.length - 1]) && !holding()) encodeNext();
      const chunk = queue.shift()!;
      const errorsBefore = this.ctx.uncapturedErrors.length;
      const progress = await this.readChunk(chunk);
      if (this.ctx.uncapturedErrors.length > errorsBefore) {
        await this.drain(queue);
        throw new Error(`WebGPU error during training (steps ${chunk.firstStep + 1}–${chunk.firstStep + chunk.steps}):\n${this.ctx.uncapturedErrors.slice(errorsBefore).join('\n')}`);
      }
      if (progress.diverged) {
        result = { status: 'diverged', message: progress.diverged };
        await this.drain(queue);
        this.step = progress.divergedStep;
        this.divergedAt = progress.divergedStep;
        break;
      }
      this.step = chunk.firstStep + chunk.steps;
      await hooks.onChunk?.(progress.info);
      const target = this.targetReached(progress.info.eval);
      if (target) {
        result = { status: 'target-reached', message: target };
        await this.drain(queue);
        break;
      }
      if (hooks.shouldStop?.() && queue.length === 0) {
        result = { status: 'stopped', message: `stopped at step ${this.step}` };
        break;
      }
      if (queue.length === 0 && hooks.snapshotDue?.(this.step)) await hooks.onSnapshot?.(this.step);
      // After a chunk whose evaluation could have ended the run, continue.
      if (queue.length === 0) encodeNext();
    }
    if (!result) {
      result = { status: 'completed', message: `completed ${this.step} steps (${this.epochOf(this.step).toFixed(2)} epochs)` };
    }
    const seconds = (performance.now() - t0) / 1000;
    return { ...result, steps: this.step, seconds, stepsPerSecond: (this.step - startStep) / Math.max(seconds, 1e-9) };
  }

  /**
   * Continues from a snapshot (e.g. after the GPU device was lost): the weights after step `step`
   * (the flat layout, as readParams returns them) and the history up to that step. The minibatch
   * sampler is advanced past the first `step` steps, so the run goes on exactly as it would have
   * (momentum's velocity restarts from zero). Call on a fresh Trainer, before run().
   */
  restore(params: Float32Array, step: number, history?: History): void {
    if (!(Number.isInteger(step) && step >= 0)) throw new Error(`restore: step must be an integer >= 0, got ${step}`);
    if (this.step !== 0) throw new Error(`restore: call it on a fresh Trainer (this one is at step ${this.step})`);
    const total = this.totalSteps;
    if (total !== null && step > total) throw new Error(`restore: step ${step} is past the run's ${total} steps`);
    this.mlp.uploadParams(params);
    if (step > 0) this.sampler.next(step);
    this.step = step;
    if (history) {
      this.history.loss = history.loss.slice(0, step);
      this.history.accuracy = history.accuracy.slice(0, step);
      this.history.evals = history.evals.filter((e) => e.step <= step);
    }
  }

  /**
   * The complete state after `step` steps (trainer-state.ts). Call while no chunk is in flight:
   * between run() calls or inside the onSnapshot hook.
   */
  async captureState(): Promise<TrainerState> {
    const total = this.mlp.layout.total;
    const params = await this.mlp.readParams();
    const velocity = this.mlp.hasMomentum ? await readF32(this.ctx, this.mlp.velocity, 0, total) : null;
    return {
      step: this.step,
      params,
      velocity,
      sampler: this.sampler.state(),
      history: { loss: Float32Array.from(this.history.loss), accuracy: Float32Array.from(this.history.accuracy), evals: this.history.evals.map((e) => ({ ...e })) },
    };
  }

  /** Continues from a captured state, bit for bit; call on a fresh Trainer of the same settings, before run(). */
  restoreState(st: TrainerState): void {
    if (this.step !== 0) throw new Error(`restoreState: call it on a fresh Trainer (this one is at step ${this.step})`);
    const total = this.totalSteps;
    if (total !== null && st.step > total) throw new Error(`restoreState: step ${st.step} is past the run's ${total} steps`);
    if (st.params.length !== this.mlp.layout.total) throw new Error(`restoreState: ${st.params.length} parameters, the model has ${this.mlp.layout.total}`);
    if (this.mlp.hasMomentum !== (st.velocity !== null) || (st.velocity && st.velocity.length !== st.params.length)) {
      throw new Error(`restoreState: the state ${st.velocity ? 'has' : 'has no'} momentum velocity, this run ${this.mlp.hasMomentum ? 'uses' : 'does not use'} momentum`);
    }
    this.sampler.restore(st.sampler);
    this.mlp.uploadParams(st.params);
    if (st.velocity) writeBuffer(this.ctx, this.mlp.velocity, st.velocity);
    this.step = st.step;
    this.history.loss = Array.from(st.history.loss);
    this.history.accuracy = Array.from(st.history.accuracy);
    this.history.evals = st.history.evals.map((e) => ({ ...e }));
  }

  /**
   * After a divergence whose first bad minibatch loss was at step d: the weights after step d − 2,
   * the last whose minibatch loss (measured at step d − 1) was finite and at most divergenceLoss,
   * recomputed from the start of their chunk; and that step. When step 1 already diverged there are
   * none: the initial weights are returned with good = false. Null if the run did not diverge.
   */
  async lastGoodParams(): Promise<{ params: Float32Array; step: number; good: boolean } | null> {
    if (this.divergedAt === null) return null;
    const target = Math.max(0, this.divergedAt - 2);
    const chunk = [...this.recent].reverse().find((c) => c.firstStep <= target && target <= c.firstStep + c.steps);
    if (!chunk) throw new Error(`lastGoodParams: the chunk holding step ${target} is no longer kept (internal error)`);
    const total = this.mlp.layout.total;
    const batch = new GpuBatch(this.ctx, 'train.lastGood');
    batch.copy(this.starts[chunk.startSlot], 0, this.mlp.params, 0, total * 4);
    if (this.mlp.hasMomentum) batch.copy(this.starts[chunk.startSlot], total * 4, this.mlp.velocity, 0, total * 4);
    const steps = target - chunk.firstStep;
    if (steps > 0) {
      writeBuffer(this.ctx, this.indices, chunk.indices);
      const c = this.config;
      for (let s = 0; s < steps; s++) this.plan.encodeStep(batch, s * c.batchSize, s, { lr: c.lr, weightDecay: c.weightDecay, momentum: c.momentum }, chunk.firstStep + s + 1);
    }
    batch.submit();
    return { params: await this.mlp.readParams(), step: target, good: this.divergedAt >= 2 };
  }

  private encodeChunk(firstStep: number, steps: number, evalDue: boolean, hooks: TrainHooks): InFlight {
    const { ctx, config: c } = this;
    const slot = this.chunkCounter % 2;
    const startSlot = this.chunkCounter % START_SLOTS;
    this.chunkCounter++;
    const plan: ChunkPlan = { firstStep, steps, evalDue };
    const asked = hooks.onChunkStart?.(plan);
    const indices = this.sampler.next(steps);
    writeBuffer(ctx, this.indices, indices);
    const batch = new GpuBatch(ctx, 'train', (asked && asked.profiler) || this.profiler);
    try {
      const total = this.mlp.layout.total;
      batch.copy(this.mlp.params, 0, this.starts[startSlot], 0, total * 4);
      if (this.mlp.hasMomentum) batch.copy(this.mlp.velocity, 0, this.starts[startSlot], total * 4, total * 4);
      const hyper = { lr: c.lr, weightDecay: c.weightDecay, momentum: c.momentum };
      for (let s = 0; s < steps; s++) {
        const step = firstStep + s + 1;
        this.plan.encodeForwardLoss(batch, s * c.batchSize, s, step);
        this.plan.encodeBackward(batch);
        hooks.onStepGradient?.(batch, this.views.at(step, s, 'gradient'));
        this.plan.encodeUpdate(batch, hyper);
        hooks.onStepEncoded?.(batch, step, this.views.at(step, s, 'update'));
      }
      const staging = this.staging[slot];
      batch.copy(this.metrics, 0, staging, 0, 2 * steps * 4);
      if (evalDue) {
        this.trainEval.encode(batch);
        this.trainEval.encodeCopyOut(batch, staging, 2 * c.chunkSteps * 4);
        if (this.testEval) {
          this.testEval.encode(batch);
          this.testEval.encodeCopyOut(batch, staging, (2 * c.chunkSteps + this.trainEval.metricsFloats) * 4);
        }
      }
      hooks.onChunkEncoded?.(batch, plan);
    } catch (e) {
      // Nothing of this chunk is submitted; the uniform arena is free again for the caller.
      batch.abandon();
      throw e;
    }
    batch.submit();
    const chunk = { firstStep, steps, evalDue, slot, startSlot, indices, submittedAt: performance.now() };
    this.recent = [...this.recent.slice(1 - START_SLOTS), chunk];
    return chunk;
  }

  private async readChunk(chunk: InFlight): Promise<{ info: ChunkProgress; diverged: string | null; divergedStep: number }> {
    const staging = this.staging[chunk.slot];
    const expected = Math.max(0, this.perStep.ms * chunk.steps - (performance.now() - chunk.submittedAt));
    await gentleWait(expected, () => staging.mapAsync(GPUMapMode.READ));
    const m = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    // GPU time per step: from submit, or from the previous read when this chunk queued behind it.
    this.perStep.update((performance.now() - Math.max(chunk.submittedAt, this.lastReadAt)) / chunk.steps);
    this.lastReadAt = performance.now();

    const B = this.config.batchSize;
    const losses = new Float32Array(chunk.steps);
    const accuracies = new Float32Array(chunk.steps);
    let diverged: string | null = null;
    let divergedStep = 0;
    for (let s = 0; s < chunk.steps; s++) {
      const loss = m[2 * s] / B;
      losses[s] = loss;
      accuracies[s] = m[2 * s + 1] / B;
      if (!diverged && !(Number.isFinite(loss) && loss <= this.config.divergenceLoss)) {
        divergedStep = chunk.firstStep + s + 1;
        const what = Number.isNaN(loss) ? 'NaN' : !Number.isFinite(loss) ? String(loss) : `${loss.toPrecision(4)} > divergenceLoss ${this.config.divergenceLoss}`;
        diverged = `diverged at step ${divergedStep} (epoch ${this.epochOf(divergedStep - 1).toFixed(2)}): minibatch loss ${what} (lr ${this.config.lr}, batch ${B})`;
      }
    }
    const keep = diverged ? divergedStep - 1 - chunk.firstStep : chunk.steps;
    for (let s = 0; s < keep; s++) {
      this.history.loss.push(losses[s]);
      this.history.accuracy.push(accuracies[s]);
    }

    let evalRecord: EvalRecord | null = null;
    if (chunk.evalDue && !diverged) {
      const step = chunk.firstStep + chunk.steps;
      const trainAt = 2 * this.config.chunkSteps;
      const testAt = trainAt + this.trainEval.metricsFloats;
      const train = this.trainEval.reduce(m.subarray(trainAt, testAt));
      const test = this.testEval ? this.testEval.reduce(m.subarray(testAt, testAt + this.testEval.metricsFloats)) : null;
      evalRecord = { step, epoch: this.epochOf(step), train, test };
      this.history.evals.push(evalRecord);
    }
    const info: ChunkProgress = {
      step: chunk.firstStep + chunk.steps,
      epoch: this.epochOf(chunk.firstStep + chunk.steps),
      totalSteps: this.totalSteps,
      losses,
      accuracies,
      firstStep: chunk.firstStep + 1,
      eval: evalRecord,
      stepsPerSecond: this.perStep.ms > 0 ? 1000 / this.perStep.ms : 0,
    };
    return { info, diverged, divergedStep };
  }

  /** Waits for chunks already submitted (their results are discarded). */
  private async drain(queue: InFlight[]): Promise<void> {
    for (const chunk of queue.splice(0)) {
      await this.staging[chunk.slot].mapAsync(GPUMapMode.READ);
      this.staging[chunk.slot].unmap();
    }
  }

  private targetReached(e: EvalRecord | null): string | null {
    if (!e) return null;
    const c = this.config;
    if (c.targetTrainLoss !== null && e.train.loss <= c.targetTrainLoss) {
      return `target reached at step ${e.step}: train loss ${e.train.loss.toPrecision(4)} ≤ ${c.targetTrainLoss}`;
    }
    if (c.targetTrainAccuracy !== null && e.train.accuracy >= c.targetTrainAccuracy) {
      return `target reached at step ${e.step}: train accuracy ${e.train.accuracy.toFixed(4)} ≥ ${c.targetTrainAccuracy}`;
    }
    return stopRuleMet(c, this.history.evals);
  }
}
