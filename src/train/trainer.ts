/**
 * The training loop, for an ensemble of R networks trained in lockstep (R = 1: a single run; every
 * dispatch covers all replicas, src/nn/train-step.ts). Steps are encoded in chunks
 * (TrainConfig.chunkSteps per command buffer); each chunk's per-step, per-replica minibatch
 * loss/accuracy — and, when due, the full train/test evaluation — are copied into a staging
 * buffer in the same command buffer, and chunks are pipelined two deep: chunk i+1 is submitted
 * before chunk i's numbers are read, so the GPU never waits for JavaScript.
 *
 * Divergence (a minibatch loss that is NaN, ±Inf or above divergenceLoss) stops a replica with the
 * step d it happened at. Its last good weights are those after step d − 2 — the last whose
 * minibatch loss (measured at step d − 1) was finite and bounded — recomputed bit for bit from the
 * start of their chunk (chunk-starts.ts); the replica keeps them (lr 0 from then on), so the caller
 * can still save them. A replica that reaches its target stops the same way at its evaluation.
 * The run ends when the stop rule in steps or epochs is reached or no replica is left training.
 * Replica r's weights, history and outcome are bit for bit those of its configuration trained alone.
 *
 * Checkpoints: captureStates() / restoreStates() (trainer-state.ts) give the complete state of
 * every replica between two steps; the snapshotDue/onSnapshot hooks let a caller take one while
 * run() goes on.
 */
import type { GpuContext } from '../gpu/device.ts';
import { GpuBatch } from '../gpu/batch.ts';
import type { Profiler } from '../gpu/profiler.ts';
import { createStorage, readF32, writeBuffer } from '../gpu/buffers.ts';
import { Rng } from '../util/rng.ts';
import type { MlpConfig } from '../nn/config.ts';
import { MlpGpu } from '../nn/mlp-gpu.ts';
import { TrainStepPlan } from '../nn/train-step.ts';
import type { Dataset } from '../data/dataset.ts';
import { checkRunFitsData, totalStepsOf, type TrainConfig } from './config.ts';
import { replicaSettings, stackInitial, summarizeRun, validateEnsemble, type ReplicaOutcome, type RunStatus } from './ensemble.ts';
import { MinibatchSampler } from './sampler.ts';
import { uploadDataset, type GpuDataset } from './gpu-dataset.ts';
import { Evaluator } from './evaluate.ts';
import { ChunkStaging, readChunkMetrics, targetReached, type ChunkRead, type InFlight } from './chunk-metrics.ts';
import { StepEncoder, interleaveIndices } from './step-encoder.ts';
import { ChunkStarts } from './chunk-starts.ts';
import { stackStates, type TrainerState } from './trainer-state.ts';
import { hasStopRule } from './stop-rule.ts';
import { History, type ChunkPlan, type EvalRecord, type RunResult, type TrainHooks } from './run-types.ts';

export { History, type ChunkPlan, type ChunkProgress, type EvalRecord, type ReplicaChunk, type RunResult, type TrainHooks } from './run-types.ts';

export type { RunStatus };

export class Trainer {
  /** One history per replica; `history` is replica 0's (a single run's). */
  readonly histories: History[];
  readonly outcomes: ReplicaOutcome[];
  step = 0;
  readonly replicas: number;
  /** Replica 0's configuration (a single run's); `configs` has every replica's. */
  readonly config: TrainConfig;
  /** The fused step, and (made on first need) the open one that measured steps take. */
  private readonly plan: TrainStepPlan;
  private readonly steps: StepEncoder;
  private readonly samplers: MinibatchSampler[];
  private readonly indices: GPUBuffer;
  private readonly metrics: GPUBuffer;
  private readonly starts: ChunkStarts;
  private readonly staging: ChunkStaging;
  /** Each diverged replica's last good weights (after step d − 2) and that step; good = false when step 1 diverged. */
  private readonly lastGood: ({ params: Float32Array; step: number; good: boolean } | null)[];
  private chunkCounter = 0;
  readonly trainEval: Evaluator;
  readonly testEval: Evaluator | null;
  /** When set, the next chunks' command buffers time every dispatch (GpuBatch with a Profiler). */
  profiler: Profiler | null = null;

  private constructor(
    readonly ctx: GpuContext,
    readonly model: MlpConfig,
    readonly configs: TrainConfig[],
    readonly mlp: MlpGpu,
    readonly trainData: GpuDataset,
    readonly testData: GpuDataset | null,
    initial: Float32Array,
  ) {
    const c = configs[0];
    const R = configs.length;
    this.replicas = R;
    this.config = c;
    this.histories = configs.map(() => new History());
    this.outcomes = configs.map(() => ({ status: 'running', message: '', step: 0 }));
    this.lastGood = configs.map(() => null);
    this.samplers = configs.map((rc) => new MinibatchSampler(trainData.n, c.batchSize, c.sampling, new Rng(rc.seed).fork()));
    this.indices = createStorage(ctx, 'train.indices', c.chunkSteps * R * c.batchSize * 4);
    this.metrics = createStorage(ctx, 'train.metrics', 2 * c.chunkSteps * R * 4);
    this.plan = new TrainStepPlan(mlp, c.batchSize, trainData, this.indices, this.metrics, {
      settings: configs.map((rc) => replicaSettings(rc)),
      dropout: configs.some((rc) => rc.dropout > 0),
    });
    this.steps = new StepEncoder(this.plan);
    this.trainEval = new Evaluator(mlp, trainData);
    this.testEval = testData ? new Evaluator(mlp, testData) : null;
    // Staging layout (floats): [2·chunkSteps·R step metrics | train eval metrics | test eval metrics].
    this.staging = new ChunkStaging(ctx, 2 * c.chunkSteps * R + this.trainEval.metricsFloats + (this.testEval?.metricsFloats ?? 0));
    this.starts = new ChunkStarts(ctx, mlp);
    mlp.uploadParams(initial);
  }

  /**
   * Uploads the data, compiles the kernels, initialises the weights from the seed(s). `train`: one
   * configuration (a single run), or one per replica (an ensemble, src/train/ensemble.ts).
   * `initial` (optional, one per replica): replica r starts from initial[r] instead of
   * initParams(model, seed) — replicas that differ in their initialisation (e.g. σ_w).
   */
  static async create(
    ctx: GpuContext, model: MlpConfig, train: Partial<TrainConfig> | readonly Partial<TrainConfig>[], data: { train: Dataset; test: Dataset | null },
    initial?: readonly Float32Array[],
  ): Promise<Trainer> {
    const list = Array.isArray(train) ? train : [train];
    // Each replica's settings against the model and the data, then what they must share.
    list.forEach((c, r) => checkRunFitsData(model, c, data.train, list.length === 1 ? 'train' : `train[${r}]`));
    const configs = validateEnsemble(list, data.train.n);
    const flat = stackInitial(model, configs, initial);
    const config = configs[0];
    const classes = model.widths[model.widths.length - 1];
    const R = configs.length;
    const mlp = await MlpGpu.create(ctx, model, { momentum: configs.some((c) => c.momentum > 0), dropout: configs.some((c) => c.dropout > 0), replicas: R });
    await TrainStepPlan.prepare(mlp, config.batchSize);
    await mlp.prepare(Evaluator.rowsFor(data.train.n), false);
    if (data.test) await mlp.prepare(Evaluator.rowsFor(data.test.n), false);
    const trainData = uploadDataset(ctx, 'data.train', data.train.x, data.train.y, data.train.d, classes);
    const testData = data.test ? uploadDataset(ctx, 'data.test', data.test.x, data.test.y, data.test.d, classes) : null;
    return new Trainer(ctx, model, configs, mlp, trainData, testData, flat);
  }

  /** Replica 0's history (a single run's). */
  get history(): History {
    return this.histories[0];
  }

  get stepsPerEpoch(): number {
    return this.samplers[0].stepsPerEpoch;
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

  private get running(): number[] {
    return this.outcomes.flatMap((o, r) => (o.status === 'running' ? [r] : []));
  }

  /** Evaluates the current weights of replica 0 on the full train and test sets. */
  async evaluate(): Promise<EvalRecord> {
    return (await this.evaluateAll())[0];
  }

  /** Evaluates every replica's current weights. */
  async evaluateAll(): Promise<EvalRecord[]> {
    const batch = new GpuBatch(this.ctx, 'eval');
    this.trainEval.encode(batch);
    this.testEval?.encode(batch);
    batch.submit();
    const train = await this.trainEval.readAll();
    const test = this.testEval ? await this.testEval.readAll() : null;
    return train.map((t, r) => ({ step: this.step, epoch: this.epochOf(this.step), train: t, test: test ? test[r] : null }));
  }

  /** Runs until a stop rule fires. Can be called again after 'stopped' to resume. */
  async run(hooks: TrainHooks = {}): Promise<RunResult & { replicas: ReplicaOutcome[] }> {
    await this.steps.prepare(hooks);
    const t0 = performance.now();
    const startStep = this.step;
    const total = this.totalSteps;
    let encodedUpTo = this.step;
    const queue: InFlight[] = [];
    let stopped = false;
    // A single run resumed at the evaluation that ended it (a checkpoint written when training
    // ended): it stays ended, rather than training on to the next evaluation.
    const atStart = this.history.evals.at(-1);
    const endedAt = this.replicas === 1 && startStep > 0 && atStart?.step === startStep ? targetReached(this.config, atStart, this.history.evals) : null;
    if (endedAt) {
      this.outcomes[0] = { status: 'target-reached', message: endedAt, step: startStep };
      return { status: 'target-reached', message: endedAt, steps: startStep, seconds: 0, stepsPerSecond: 0, replicas: [{ ...this.outcomes[0] }] };
    }

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

    // A chunk ending in an evaluation may stop a replica (target reached, the stop rule): do not run
    // ahead of it, or that replica's weights on the GPU would be a chunk past the step it reports.
    const hasTarget = this.configs.some((c) => c.targetTrainLoss !== null || c.targetTrainAccuracy !== null || hasStopRule(c));
    const mayEnd = (q: InFlight | undefined): boolean => hasTarget && q !== undefined && q.evalDue;
    // A stop or a snapshot wants the GPU idle at a chunk boundary: stop running ahead.
    const holding = (): boolean => (hooks.shouldStop?.() ?? false) || (hooks.snapshotDue?.(this.step) ?? false);
    if (this.running.length > 0) encodeNext();
    while (queue.length > 0) {
      // Keep the GPU fed: the next chunk goes in before this one's numbers are read.
      if (queue.length < 2 && !mayEnd(queue[queue.length - 1]) && !holding()) encodeNext();
      const chunk = queue.shift()!;
      const errorsBefore = this.ctx.uncapturedErrors.length;
      const read = await this.readChunk(chunk);
      if (this.ctx.uncapturedErrors.length > errorsBefore) {
        await this.staging.drain(queue);
        throw new Error(`WebGPU error during training (steps ${chunk.firstStep + 1}–${chunk.firstStep + chunk.steps}):\n${this.ctx.uncapturedErrors.slice(errorsBefore).join('\n')}`);
      }
      const { stopped: stoppedNow, allDiverged } = await this.settle(chunk, read);
      if (this.running.length === 0) {
        // Nothing left to train: the run ends at the step of its last replica's stop. A chunk in
        // which every replica still training diverged reports nothing (its numbers are not kept).
        await this.staging.drain(queue);
        if (stoppedNow) this.freeze();
        this.step = Math.max(...this.outcomes.map((o) => o.step));
        // A single run that diverged at step d reports d (its weights are those after d − 2).
        if (!allDiverged) await hooks.onChunk?.(read.info);
        break;
      }
      this.step = chunk.firstStep + chunk.steps;
      if (stoppedNow) this.freeze();
      await hooks.onChunk?.(read.info);
      if (hooks.shouldStop?.() && queue.length === 0) {
        stopped = true;
        break;
      }
      if (queue.length === 0 && hooks.snapshotDue?.(this.step)) await hooks.onSnapshot?.(this.step);
      // After a chunk whose evaluation could have ended the run, continue.
      if (queue.length === 0) encodeNext();
    }
    for (const r of this.running) this.outcomes[r].step = this.step;
    const seconds = (performance.now() - t0) / 1000;
    const summary = summarizeRun(this.outcomes, stopped, this.step, this.epochOf(this.step));
    return { ...summary, steps: this.step, seconds, stepsPerSecond: (this.step - startStep) / Math.max(seconds, 1e-9), replicas: this.outcomes.map((o) => ({ ...o })) };
  }

  /**
   * Continues from a snapshot (e.g. after the GPU device was lost): the weights after step `step`
   * (the flat layout of every replica, as readParams returns them) and the history up to that
   * step (replica 0's, or one per replica). The minibatch samplers are advanced past the first
   * `step` steps, so the run goes on exactly as it would have (momentum's velocity restarts from
   * zero). Call on a fresh Trainer, before run().
   */
  restore(params: Float32Array, step: number, history?: History | readonly History[]): void {
    if (!(Number.isInteger(step) && step >= 0)) throw new Error(`restore: step must be an integer >= 0, got ${step}`);
    if (this.step !== 0) throw new Error(`restore: call it on a fresh Trainer (this one is at step ${this.step})`);
    const total = this.totalSteps;
    if (total !== null && step > total) throw new Error(`restore: step ${step} is past the run's ${total} steps`);
    this.mlp.uploadParams(params);
    if (step > 0) for (const s of this.samplers) s.next(step);
    this.step = step;
    // Not instanceof: a history may come through postMessage as a plain object.
    const list: readonly History[] = history === undefined ? [] : Array.isArray(history) ? (history as readonly History[]) : [history as History];
    list.forEach((h, r) => {
      const mine = this.histories[r];
      mine.loss = h.loss.slice(0, step);
      mine.accuracy = h.accuracy.slice(0, step);
      mine.evals = h.evals.filter((e: EvalRecord) => e.step <= step);
    });
  }

  /**
   * After a divergence of replica `replica` whose first bad minibatch loss was at step d: its
   * weights after step d − 2 (the last whose minibatch loss, measured at step d − 1, was finite
   * and at most divergenceLoss) and that step. When step 1 already diverged there are none: the
   * initial weights, with good = false. Null if the replica did not diverge.
   */
  async lastGoodParams(replica = 0): Promise<{ params: Float32Array; step: number; good: boolean } | null> {
    return this.lastGood[replica];
  }

  /**
   * The complete state of every replica after `step` steps (trainer-state.ts). Call while no chunk
   * is in flight: between run() calls or inside the onSnapshot hook.
   */
  async captureStates(): Promise<TrainerState[]> {
    const T = this.mlp.layout.total;
    const params = await this.mlp.readParams();
    const velocity = this.mlp.hasMomentum ? await readF32(this.ctx, this.mlp.velocity, 0, this.replicas * T) : null;
    return this.histories.map((h, r) => ({
      step: this.step,
      params: params.slice(r * T, (r + 1) * T),
      velocity: velocity ? velocity.slice(r * T, (r + 1) * T) : null,
      sampler: this.samplers[r].state(),
      history: { loss: Float32Array.from(h.loss), accuracy: Float32Array.from(h.accuracy), evals: h.evals.map((e) => ({ ...e })) },
      ...(this.replicas > 1 ? { outcome: { ...this.outcomes[r] } } : {}),
    }));
  }

  /** A single run's state (captureStates()[0]; an ensemble has one per replica). */
  async captureState(): Promise<TrainerState> {
    if (this.replicas !== 1) throw new Error(`captureState: this trainer has ${this.replicas} replicas; use captureStates()`);
    return (await this.captureStates())[0];
  }

  /** Continues from captured states, bit for bit; call on a fresh Trainer of the same settings, before run(). */
  restoreStates(states: readonly TrainerState[]): void {
    if (this.step !== 0) throw new Error(`restoreState: call it on a fresh Trainer (this one is at step ${this.step})`);
    const { step, params, velocity } = stackStates(states, this.replicas, this.mlp.layout.total, this.mlp.hasMomentum);
    const total = this.totalSteps;
    if (total !== null && step > total) throw new Error(`restoreState: step ${step} is past the run's ${total} steps`);
    states.forEach((st, r) => this.samplers[r].restore(st.sampler));
    this.mlp.uploadParams(params);
    if (velocity) writeBuffer(this.ctx, this.mlp.velocity, velocity);
    this.step = step;
    states.forEach((st, r) => {
      const h = this.histories[r];
      h.loss = Array.from(st.history.loss);
      h.accuracy = Array.from(st.history.accuracy);
      h.evals = st.history.evals.map((e) => ({ ...e }));
      const o = st.outcome ?? { status: 'running', message: '', step };
      this.outcomes[r] = { ...o };
      if (o.status === 'diverged') this.lastGood[r] = { params: st.params.slice(), step: Math.max(0, o.step - 2), good: o.step >= 2 };
    });
    if (this.outcomes.some((o) => o.status !== 'running')) this.applySettings();
  }

  /** A single run's restoreStates. */
  restoreState(st: TrainerState): void {
    this.restoreStates([st]);
  }

  private encodeChunk(firstStep: number, steps: number, evalDue: boolean, hooks: TrainHooks): InFlight {
    const { ctx, config: c } = this;
    const R = this.replicas;
    const B = c.batchSize;
    const slot = this.chunkCounter++ % 2;
    const chunkPlan: ChunkPlan = { firstStep, steps, evalDue };
    const asked = hooks.onChunkStart?.(chunkPlan);
    const idx = interleaveIndices(this.samplers, steps, B);
    writeBuffer(ctx, this.indices, idx);
    const batch = new GpuBatch(ctx, 'train', (asked && asked.profiler) || this.profiler);
    let startSlot = 0;
    try {
      startSlot = this.starts.encodeSave(batch);
      this.steps.encodeSteps(batch, firstStep, steps, hooks);
      const staging = this.staging.buffers[slot];
      batch.copy(this.metrics, 0, staging, 0, 2 * steps * R * 4);
      if (evalDue) {
        const at = 2 * c.chunkSteps * R;
        this.trainEval.encode(batch);
        this.trainEval.encodeCopyOut(batch, staging, at * 4);
        if (this.testEval) {
          this.testEval.encode(batch);
          this.testEval.encodeCopyOut(batch, staging, (at + this.trainEval.metricsFloats) * 4);
        }
      }
      hooks.onChunkEncoded?.(batch, chunkPlan);
    } catch (e) {
      // Nothing of this chunk is submitted; the uniform arena is free again for the caller.
      batch.abandon();
      throw e;
    }
    batch.submit();
    this.starts.remember({ firstStep, steps, startSlot, indices: idx });
    return { firstStep, steps, evalDue, slot, submittedAt: performance.now() };
  }

  private async readChunk(chunk: InFlight): Promise<ChunkRead> {
    const m = await this.staging.read(chunk);
    return readChunkMetrics(this, m, chunk, this.staging.stepsPerSecond);
  }

  /**
   * Books a chunk's numbers into the running replicas' histories and outcomes; true when a
   * replica stopped in it (diverged, or reached its target). A diverged replica's last good
   * weights are recomputed now (chunk-starts.ts), while the chunk starts they need are kept.
   */
  private async settle(chunk: InFlight, read: ChunkRead): Promise<{ stopped: boolean; allDiverged: boolean }> {
    let stopped = false;
    const running = this.running;
    for (const r of running) {
      const rep = read.replicas[r];
      const h = this.histories[r];
      for (let s = 0; s < rep.keep; s++) {
        h.loss.push(rep.losses[s]);
        h.accuracy.push(rep.accuracies[s]);
      }
      if (rep.diverged) {
        const d = rep.divergedStep;
        const target = Math.max(0, d - 2);
        const params = await this.starts.replay(this.plan, this.indices, target, r);
        this.lastGood[r] = { params, step: target, good: d >= 2 };
        this.outcomes[r] = { status: 'diverged', message: rep.diverged, step: d };
        stopped = true;
        continue;
      }
      if (rep.eval) h.evals.push(rep.eval);
      if (rep.target) {
        this.outcomes[r] = { status: 'target-reached', message: rep.target, step: chunk.firstStep + chunk.steps };
        stopped = true;
      }
    }
    return { stopped, allDiverged: running.every((r) => this.outcomes[r].status === 'diverged') };
  }

  /**
   * Stops the replicas that stopped from training on: one that diverged gets its last good
   * weights back (the chunk in flight may have trained it on), and every stopped replica gets
   * lr 0 from the next command buffer on (a frozen replica is left alone by the update).
   */
  private freeze(): void {
    this.lastGood.forEach((g, r) => g && this.mlp.uploadParams(g.params, r));
    this.applySettings();
  }

  private applySettings(): void {
    this.steps.setSettings(this.configs.map((c, r) => replicaSettings(c, this.outcomes[r].status !== 'running')));
  }
}
