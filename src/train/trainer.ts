/**
 * The training loop, for an ensemble of R networks trained in lockstep (R = 1: a single run; every
 * dispatch covers all replicas, src/nn/train-step.ts). Steps are encoded in chunks
 * (TrainConfig.chunkSteps per command buffer); each chunk's per-step, per-replica minibatch
 * loss/accuracy — and, when due, the full train/test evaluation — are copied into a staging
 * buffer in the same command buffer, and chunks are pipelined two deep: chunk i+1 is submitted
 * before chunk i's numbers are read, so the GPU never waits for JavaScript.
 *
 * Divergence (a minibatch loss that is NaN, ±Inf or above divergenceLoss) stops a replica with the
 * step it happened at; its weights from the start of that chunk (the last ones known good) are put
 * back and kept (lr 0 from then on), so the caller can still save them. A replica that reaches
 * its target stops the same way at its evaluation. The run ends when the stop rule in steps or
 * epochs is reached or no replica is left training. Replica r's weights, history and outcome are
 * bit for bit those of the same configuration trained alone.
 */
import type { GpuContext } from '../gpu/device.ts';
import { GpuBatch } from '../gpu/batch.ts';
import type { Profiler } from '../gpu/profiler.ts';
import { createStorage, readF32, writeBuffer } from '../gpu/buffers.ts';
import { DurationEstimate, gentleWait } from '../gpu/sync.ts';
import { Rng } from '../util/rng.ts';
import { validateMlpConfig, type MlpConfig } from '../nn/config.ts';
import { initParams } from '../nn/init.ts';
import { MlpGpu } from '../nn/mlp-gpu.ts';
import { TrainStepPlan } from '../nn/train-step.ts';
import type { Dataset } from '../data/dataset.ts';
import type { TrainConfig } from './config.ts';
import { replicaSettings, summarizeRun, validateEnsemble, type ReplicaOutcome, type RunStatus } from './ensemble.ts';
import { MinibatchSampler } from './sampler.ts';
import { uploadDataset, type GpuDataset } from './gpu-dataset.ts';
import { Evaluator } from './evaluate.ts';
import { readChunkMetrics, type ChunkRead, type InFlight } from './chunk-metrics.ts';
import { StepViews } from './step-view.ts';
import { History, type ChunkPlan, type EvalRecord, type RunResult, type TrainHooks } from './history.ts';

export { History, type ChunkPlan, type ChunkProgress, type EvalRecord, type ReplicaChunk, type RunResult, type TrainHooks } from './history.ts';

export type { RunStatus };

export class Trainer {
  /** One history per replica; `history` is replica 0's (a single run's). */
  readonly histories: History[];
  readonly outcomes: ReplicaOutcome[];
  step = 0;
  readonly replicas: number;
  /** Replica 0's configuration (a single run's); `configs` has every replica's. */
  readonly config: TrainConfig;
  /** The fused step, and (made on first need) the open one that per-step hooks get. */
  private readonly plan: TrainStepPlan;
  private open: { plan: TrainStepPlan; views: StepViews } | null = null;
  private readonly samplers: MinibatchSampler[];
  private readonly indices: GPUBuffer;
  private readonly metrics: GPUBuffer;
  private readonly checkpoints: GPUBuffer[];
  private readonly staging: GPUBuffer[];
  private readonly stagingFloats: number;
  private readonly perStep = new DurationEstimate(0.3);
  /** Weights of each replica that diverged, from the start of the chunk it diverged in. */
  private readonly lastGood: ({ params: Float32Array; step: number } | null)[];
  private chunkCounter = 0;
  private lastReadAt = 0;
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
    this.trainEval = new Evaluator(mlp, trainData);
    this.testEval = testData ? new Evaluator(mlp, testData) : null;
    // Staging layout (floats): [2·chunkSteps·R step metrics | train eval metrics | test eval metrics].
    this.stagingFloats = 2 * c.chunkSteps * R + this.trainEval.metricsFloats + (this.testEval?.metricsFloats ?? 0);
    this.staging = [0, 1].map((i) =>
      ctx.device.createBuffer({ label: `train.staging${i}`, size: this.stagingFloats * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
    );
    this.checkpoints = [0, 1].map((i) => createStorage(ctx, `train.checkpoint${i}`, R * mlp.layout.total * 4));
    mlp.uploadParams(initial);
  }

  /**
   * Uploads the data, compiles the kernels, initialises the weights from the seed(s). `train`: one
   * configuration (a single run), or one per replica (an ensemble, src/train/ensemble.ts).
   */
  static async create(ctx: GpuContext, model: MlpConfig, train: Partial<TrainConfig> | readonly Partial<TrainConfig>[], data: { train: Dataset; test: Dataset | null }): Promise<Trainer> {
    // The model first: the checks below index model.widths.
    validateMlpConfig(model);
    const configs = validateEnsemble(Array.isArray(train) ? train : [train], data.train.n);
    const config = configs[0];
    if (data.train.d !== model.widths[0]) {
      throw new Error(`model.widths[0] is ${model.widths[0]} but the dataset has ${data.train.d} features per sample`);
    }
    const classes = model.widths[model.widths.length - 1];
    if (data.train.classes > classes) {
      throw new Error(`model output width ${classes} is smaller than the dataset's ${data.train.classes} classes`);
    }
    const R = configs.length;
    const mlp = await MlpGpu.create(ctx, model, { momentum: configs.some((c) => c.momentum > 0), dropout: configs.some((c) => c.dropout > 0), replicas: R });
    await mlp.prepare(config.batchSize, true, { indexed: true, update: true });
    await mlp.prepare(Evaluator.rowsFor(data.train.n), false);
    if (data.test) await mlp.prepare(Evaluator.rowsFor(data.test.n), false);
    const trainData = uploadDataset(ctx, 'data.train', data.train.x, data.train.y, data.train.d, classes);
    const testData = data.test ? uploadDataset(ctx, 'data.test', data.test.x, data.test.y, data.test.d, classes) : null;
    const T = mlp.layout.total;
    const initial = new Float32Array(R * T);
    configs.forEach((c, r) => initial.set(initParams(model, new Rng(c.seed)), r * T));
    return new Trainer(ctx, model, configs, mlp, trainData, testData, initial);
  }

  /** Replica 0's history (a single run's). */
  get history(): History {
    return this.histories[0];
  }

  get stepsPerEpoch(): number {
    return this.samplers[0].stepsPerEpoch;
  }

  get totalSteps(): number | null {
    const c = this.config;
    const fromEpochs = c.epochs === null ? Infinity : c.epochs * this.stepsPerEpoch;
    const t = Math.min(fromEpochs, c.steps ?? Infinity);
    return Number.isFinite(t) ? t : null;
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
  async run(hooks: TrainHooks = {}): Promise<RunResult> {
    if ((hooks.onStepGradient || hooks.measures) && !this.open) {
      const plan = await TrainStepPlan.create(this.mlp, this.config.batchSize, this.trainData, this.indices, this.metrics, {
        settings: this.plan.replicaSettings ?? undefined, dropout: this.plan.hasDropout, gather: 'kernel', update: 'kernel',
      });
      this.open = { plan, views: new StepViews(plan) };
    }
    const t0 = performance.now();
    const startStep = this.step;
    const total = this.totalSteps;
    let encodedUpTo = this.step;
    const queue: InFlight[] = [];
    let stopped = false;

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

    // A chunk ending in an evaluation may stop a replica (target reached): do not run ahead of
    // it, or that replica's weights on the GPU would be a chunk past the step it reports.
    const hasTarget = this.configs.some((c) => c.targetTrainLoss !== null || c.targetTrainAccuracy !== null);
    const mayEnd = (q: InFlight | undefined): boolean => hasTarget && q !== undefined && q.evalDue;
    if (this.running.length > 0) encodeNext();
    while (queue.length > 0) {
      // Keep the GPU fed: the next chunk goes in before this one's numbers are read.
      if (queue.length < 2 && !mayEnd(queue[queue.length - 1]) && !(hooks.shouldStop?.() ?? false)) encodeNext();
      const chunk = queue.shift()!;
      const errorsBefore = this.ctx.uncapturedErrors.length;
      const read = await this.readChunk(chunk);
      if (this.ctx.uncapturedErrors.length > errorsBefore) {
        await this.drain(queue);
        throw new Error(`WebGPU error during training (steps ${chunk.firstStep + 1}–${chunk.firstStep + chunk.steps}):\n${this.ctx.uncapturedErrors.slice(errorsBefore).join('\n')}`);
      }
      const { stopped: stoppedNow, diverged, allDiverged } = await this.settle(chunk, read);
      if (this.running.length === 0) {
        // Nothing left to train: the run ends at the step of its last replica's stop. A chunk in
        // which every replica still training diverged reports nothing (its numbers are not kept).
        await this.drain(queue);
        this.step = Math.max(...this.outcomes.map((o) => o.step));
        if (!allDiverged) await hooks.onChunk?.(read.info);
        break;
      }
      this.step = chunk.firstStep + chunk.steps;
      if (stoppedNow) this.freeze(chunk, diverged);
      await hooks.onChunk?.(read.info);
      if (hooks.shouldStop?.() && queue.length === 0) {
        stopped = true;
        break;
      }
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
   * After a divergence of replica `replica`: its weights at the start of the chunk that diverged
   * (every step before it had a finite, bounded loss), and that step. Null if it did not diverge.
   */
  async lastGoodParams(replica = 0): Promise<{ params: Float32Array; step: number } | null> {
    return this.lastGood[replica];
  }

  private encodeChunk(firstStep: number, steps: number, evalDue: boolean, hooks: TrainHooks): InFlight {
    const { ctx, config: c } = this;
    const R = this.replicas;
    const B = c.batchSize;
    const slot = this.chunkCounter++ % 2;
    const chunkPlan: ChunkPlan = { firstStep, steps, evalDue };
    const asked = hooks.onChunkStart?.(chunkPlan);
    // Indices (steps, R, B): step s of replica r at (s·R + r)·B.
    const perReplica = this.samplers.map((s) => s.next(steps));
    const idx = new Uint32Array(steps * R * B);
    for (let s = 0; s < steps; s++) for (let r = 0; r < R; r++) idx.set(perReplica[r].subarray(s * B, (s + 1) * B), (s * R + r) * B);
    writeBuffer(ctx, this.indices, idx);
    const batch = new GpuBatch(ctx, 'train', (asked && asked.profiler) || this.profiler);
    const open = hooks.onStepGradient || hooks.measures ? this.open : null;
    try {
      batch.copy(this.mlp.params, 0, this.checkpoints[slot], 0, R * this.mlp.layout.total * 4);
      for (let s = 0; s < steps; s++) {
        const step = firstStep + s + 1;
        // Only a measured step takes the open form (gradient buffer, separate update): the fused
        // one gives the same weights, bit for bit, in fewer dispatches.
        if (!open || !(hooks.measures ? hooks.measures(step) : true)) {
          this.plan.encodeStep(batch, s * R * B, s, step);
          hooks.onStepEncoded?.(batch, step);
          continue;
        }
        open.plan.encodeForwardLoss(batch, s * R * B, s, step);
        open.plan.encodeBackward(batch, s * R * B);
        hooks.onStepGradient?.(batch, open.views.at(step, s, 'gradient'));
        open.plan.encodeUpdate(batch);
        hooks.onStepEncoded?.(batch, step, open.views.at(step, s, 'update'));
      }
      const staging = this.staging[slot];
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
    return { firstStep, steps, evalDue, slot, submittedAt: performance.now() };
  }

  private async readChunk(chunk: InFlight): Promise<ChunkRead> {
    const staging = this.staging[chunk.slot];
    const expected = Math.max(0, this.perStep.ms * chunk.steps - (performance.now() - chunk.submittedAt));
    await gentleWait(expected, () => staging.mapAsync(GPUMapMode.READ));
    const m = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    // GPU time per step: from submit, or from the previous read when this chunk queued behind it.
    this.perStep.update((performance.now() - Math.max(chunk.submittedAt, this.lastReadAt)) / chunk.steps);
    this.lastReadAt = performance.now();
    return readChunkMetrics(this, m, chunk, this.perStep.ms > 0 ? 1000 / this.perStep.ms : 0);
  }

  /**
   * Books a chunk's numbers into the running replicas' histories and outcomes; true when a
   * replica stopped in it (diverged, or reached its target). A diverged replica's last good
   * weights are read from the chunk's checkpoint now, before a later chunk reuses it.
   */
  private async settle(chunk: InFlight, read: ChunkRead): Promise<{ stopped: boolean; diverged: number[]; allDiverged: boolean }> {
    let stopped = false;
    const diverged: number[] = [];
    const running = this.running;
    for (const r of running) {
      const rep = read.replicas[r];
      const h = this.histories[r];
      for (let s = 0; s < rep.keep; s++) {
        h.loss.push(rep.losses[s]);
        h.accuracy.push(rep.accuracies[s]);
      }
      if (rep.diverged) {
        const T = this.mlp.layout.total;
        const params = await readF32(this.ctx, this.checkpoints[chunk.slot], r * T * 4, T);
        this.lastGood[r] = { params, step: chunk.firstStep };
        this.outcomes[r] = { status: 'diverged', message: rep.diverged, step: rep.divergedStep };
        stopped = true;
        diverged.push(r);
        continue;
      }
      if (rep.eval) h.evals.push(rep.eval);
      if (rep.target) {
        this.outcomes[r] = { status: 'target-reached', message: rep.target, step: chunk.firstStep + chunk.steps };
        stopped = true;
      }
    }
    return { stopped, diverged, allDiverged: running.every((r) => this.outcomes[r].status === 'diverged') };
  }

  /**
   * Stops the replicas that stopped in `chunk` from training on: one that diverged in it gets its
   * last good weights back (from this chunk's checkpoint: a later chunk's may hold its NaNs), and
   * every stopped replica gets lr 0 from the next command buffer on (sgd.wgsl leaves it alone).
   */
  private freeze(chunk: InFlight, diverged: readonly number[]): void {
    const T = this.mlp.layout.total;
    const batch = new GpuBatch(this.ctx, 'train.freeze');
    for (const r of diverged) batch.copy(this.checkpoints[chunk.slot], r * T * 4, this.mlp.params, r * T * 4, T * 4);
    batch.submit();
    const settings = this.configs.map((c, r) => replicaSettings(c, this.outcomes[r].status !== 'running'));
    this.plan.setSettings(settings);
    this.open?.plan.setSettings(settings);
  }

  /** Waits for chunks already submitted (their results are discarded). */
  private async drain(queue: InFlight[]): Promise<void> {
    for (const chunk of queue.splice(0)) {
      await this.staging[chunk.slot].mapAsync(GPUMapMode.READ);
      this.staging[chunk.slot].unmap();
    }
  }
}
