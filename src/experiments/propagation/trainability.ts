/**
 * Trainability against depth and weight variance (Schoenholz et al. 2017, §5 and Fig. 5): train
 * tanh MLPs 784 → (width × depth) → 10, initialised with W ~ N(0, σ_w²/fan_in), b ~ N(0, σ_b²),
 * on MNIST with plain SGD for a fixed number of steps, over a grid of depth L (hidden layers) and
 * σ_w² at one σ_b², and record the final train and test accuracy of each cell. Mean-field theory
 * says a network trains when L ≲ 6ξ_c(σ_w², σ_b²): the trainable region is a band around the
 * critical line σ_w²*(σ_b²) whose depth reach diverges there.
 *
 * Every cell uses the same seed, so the cells differ only by σ_w and depth (the same Gaussian
 * draws, scaled). A run whose loss becomes NaN/Inf or exceeds the trainer's divergence threshold
 * is recorded as diverged (accuracy null): untrainable at that learning rate. The cells of a depth
 * share the architecture and train as one ensemble (runTrainabilityPack), each bit for bit the
 * cell alone.
 */
import type { GpuContext } from '../../gpu/device.ts';
import type { Dataset } from '../../data/index.ts';
import type { MlpConfig } from '../../nn/config.ts';
import { initParams } from '../../nn/init.ts';
import { paramLayout } from '../../nn/params.ts';
import { Rng } from '../../util/rng.ts';
import { EVAL_CHUNK } from '../../train/evaluate.ts';
import { MAX_REPLICAS } from '../../train/ensemble.ts';
import { Trainer, type EvalRecord, type RunStatus } from '../../train/trainer.ts';
import { localTraining, replicaResult, type TrainControl } from '../train-control.ts';

export interface TrainabilitySpec {
  /** Hidden activation (the dense kernels have tanh and relu). */
  activation: 'tanh' | 'relu';
  sb2: number;
  /** σ_w² values (grid columns), ascending. */
  sw2: number[];
  /** Hidden-layer counts L (grid rows), ascending. */
  depths: number[];
  width: number;
  steps: number;
  lr: number;
  batchSize: number;
  seed: number;
}

/**
 * Default here: sized for ≲ 15 minutes on SwiftShader (2 cores; see the CLI's --paper for a GPU).
 * σ_w² = 0.5·2^{k/2} (k = 0…8, so 0.5 … 8) brackets σ_w²* = 1.761 (σ_b² = 0.05) between 1.41 and
 * 2 and reaches far enough into the chaotic phase (6ξ_c(8) ≈ 28) for the depths 2 … 32 to cross
 * 6ξ_c on both sides.
 */
export const DEFAULT_TRAINABILITY: TrainabilitySpec = {
  activation: 'tanh',
  sb2: 0.05,
  sw2: [0.5, 0.707, 1, 1.414, 2, 2.828, 4, 5.657, 8],
  depths: [2, 4, 8, 16, 32],
  width: 64,
  steps: 300,
  lr: 0.01,
  batchSize: 64,
  seed: 1,
};

/** Schoenholz et al.'s scale (their Fig. 5: σ_b² = 0.05, σ_w² ∈ [1, 4], L up to 300) for a real GPU. */
export const PAPER_TRAINABILITY: TrainabilitySpec = {
  activation: 'tanh',
  sb2: 0.05,
  sw2: Array.from({ length: 13 }, (_, i) => 1 + 0.25 * i),
  depths: [10, 20, 30, 45, 60, 80, 100, 130, 160, 200, 250, 300],
  width: 300,
  steps: 2000,
  lr: 0.001,
  batchSize: 128,
  seed: 1,
};

export interface TrainabilityCell {
  depth: number;
  sw2: number;
  status: RunStatus;
  message: string;
  trainAccuracy: number | null;
  testAccuracy: number | null;
  trainLoss: number | null;
  testLoss: number | null;
  seconds: number;
}

export interface TrainabilityResult {
  spec: TrainabilitySpec;
  /** Row-major: cells[iDepth * sw2.length + iSw2]. */
  cells: TrainabilityCell[];
  seconds: number;
}

function ascending(name: string, v: number[], check: (x: number) => boolean, what: string): void {
  if (!Array.isArray(v) || v.length === 0) throw new Error(`trainability: ${name} must list at least one value`);
  v.forEach((x, i) => {
    if (!check(x)) throw new Error(`trainability: ${name}[${i}] must be ${what}, got ${x}`);
    if (i > 0 && !(x > v[i - 1])) throw new Error(`trainability: ${name} must be strictly ascending, got ${v.join(', ')}`);
  });
}

export function validateTrainabilitySpec(s: TrainabilitySpec): TrainabilitySpec {
  if (s.activation !== 'tanh' && s.activation !== 'relu') throw new Error(`trainability: activation must be tanh or relu, got '${s.activation}'`);
  if (!(Number.isFinite(s.sb2) && s.sb2 >= 0 && s.sb2 <= 100)) throw new Error(`trainability: σ_b² must be in [0, 100], got ${s.sb2}`);
  ascending('σ_w²', s.sw2, (x) => Number.isFinite(x) && x > 0 && x <= 10000, 'in (0, 10000]');
  ascending('depths', s.depths, (x) => Number.isInteger(x) && x >= 1 && x <= 2000, 'an integer in [1, 2000]');
  const int = (name: string, v: number, lo: number, hi: number): void => {
    if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new Error(`trainability: ${name} must be an integer in [${lo}, ${hi}], got ${v}`);
  };
  int('width', s.width, 1, 65536);
  int('steps', s.steps, 1, 1e7);
  int('batchSize', s.batchSize, 1, 65536);
  int('seed', s.seed, 0, 0xffffffff);
  if (!(Number.isFinite(s.lr) && s.lr > 0 && s.lr <= 100)) throw new Error(`trainability: lr must be in (0, 100], got ${s.lr}`);
  return s;
}

export function trainabilityModel(s: TrainabilitySpec, depth: number, sw2: number, inputs: number, classes: number): MlpConfig {
  return {
    widths: [inputs, ...Array.from({ length: depth }, () => s.width), classes],
    activation: s.activation,
    bias: true,
    init: { kind: 'normal', sigmaW: Math.sqrt(sw2), sigmaB: Math.sqrt(s.sb2) },
  };
}

export interface TrainabilityHooks {
  onCellStart?(depth: number, sw2: number, index: number, total: number): void;
  onCellEnd?(cell: TrainabilityCell, done: number, total: number): void;
  /** Cells finished earlier, in grid order (a resumed run): they are kept, not trained again. */
  done?: TrainabilityCell[];
  /**
   * At most this many cells of a depth train as one ensemble (default: the whole row, as far as
   * trainabilityPackSize allows; 1: one Trainer per cell). The cells are the same either way.
   */
  pack?: number;
}

/** The grid's cells in row-major order (depth outer, σ_w² inner): cells[iDepth · sw2.length + iSw2]. */
export function trainabilityCells(spec: TrainabilitySpec): { index: number; depth: number; sw2: number }[] {
  return spec.depths.flatMap((depth, i) => spec.sw2.map((sw2, j) => ({ index: i * spec.sw2.length + j, depth, sw2 })));
}

/**
 * Cells per ensemble for a row of depth `depth`: every buffer stacked per replica (the parameters,
 * gradients, and one layer's activations for an evaluation chunk or a minibatch) must fit the
 * device's largest storage binding; at most a row.
 */
export function trainabilityPackSize(ctx: GpuContext, spec: TrainabilitySpec, depth: number, inputs: number, classes: number): number {
  const limit = Math.min(ctx.device.limits.maxStorageBufferBindingSize, ctx.device.limits.maxBufferSize);
  const perReplica = 4 * Math.max(paramLayout(trainabilityModel(spec, depth, spec.sw2[0], inputs, classes)).total, Math.max(EVAL_CHUNK, spec.batchSize) * Math.max(spec.width, classes));
  return Math.max(1, Math.min(spec.sw2.length, MAX_REPLICAS, Math.floor(limit / perReplica)));
}

/** One cell: the unit of work of a queue worker (src/queue/); the cell as the in-process grid trains it. */
export async function runTrainabilityCell(
  ctx: GpuContext, spec: TrainabilitySpec, depth: number, sw2: number, data: { train: Dataset; test: Dataset | null }, control: TrainControl = localTraining(),
): Promise<TrainabilityCell> {
  return (await runTrainabilityPack(ctx, spec, depth, [sw2], data, control))[0];
}

/**
 * Cells of one depth (any σ_w² of the spec) as one ensemble (src/train/trainer.ts): replica r
 * starts from σ_w²[r]'s initial weights and is bit for bit that cell trained alone, so each cell
 * is the one runTrainabilityCell returns (its seconds: the ensemble's wall time).
 */
export async function runTrainabilityPack(
  ctx: GpuContext, spec: TrainabilitySpec, depth: number, sw2s: readonly number[], data: { train: Dataset; test: Dataset | null }, control: TrainControl = localTraining(),
): Promise<TrainabilityCell[]> {
  const c0 = performance.now();
  const models = sw2s.map((sw2) => trainabilityModel(spec, depth, sw2, data.train.d, Math.max(2, data.train.classes)));
  const config = {
    lr: spec.lr, batchSize: spec.batchSize, seed: spec.seed, steps: spec.steps, epochs: null,
    evalEvery: spec.steps, chunkSteps: Math.min(spec.steps, 200),
  };
  const initial = models.map((m) => initParams(m, new Rng(spec.seed)));
  const trainer = await Trainer.create(ctx, models[0], models.map(() => config), data, initial);
  try {
    const all = await control.train(trainer, { key: 'train' });
    let now: EvalRecord[] | null = null;
    const cells: TrainabilityCell[] = [];
    for (const [r, sw2] of sw2s.entries()) {
      const result = replicaResult(trainer, all, r);
      const last = trainer.histories[r].evals.at(-1);
      const ev = result.status === 'diverged' ? null : last && last.step === result.steps ? last : (now ??= await trainer.evaluateAll())[r];
      cells.push({
        depth, sw2, status: result.status, message: result.message,
        trainAccuracy: ev?.train.accuracy ?? null, testAccuracy: ev?.test?.accuracy ?? null,
        trainLoss: ev?.train.loss ?? null, testLoss: ev?.test?.loss ?? null,
        seconds: (performance.now() - c0) / 1000,
      });
    }
    return cells;
  } finally {
    for (const d of [trainer.trainData, trainer.testData]) {
      d?.x.destroy();
      d?.y.destroy();
    }
  }
}

/**
 * The grid, row by row: the cells of a depth not finished earlier train as one ensemble (split
 * when the device's buffers cannot hold a row; trainabilityPackSize). Hooks see every cell in
 * grid order, as a cell-by-cell run reports them.
 */
export async function runTrainability(
  ctx: GpuContext, spec: TrainabilitySpec, data: { train: Dataset; test: Dataset | null }, hooks: TrainabilityHooks = {},
): Promise<TrainabilityResult> {
  validateTrainabilitySpec(spec);
  if (hooks.pack !== undefined && !(Number.isInteger(hooks.pack) && hooks.pack >= 1)) throw new Error(`trainability: pack must be an integer >= 1, got ${hooks.pack}`);
  const t0 = performance.now();
  const all = trainabilityCells(spec);
  const cells: TrainabilityCell[] = [];
  for (const [i, depth] of spec.depths.entries()) {
    const row = all.slice(i * spec.sw2.length, (i + 1) * spec.sw2.length);
    const todo = row.filter(({ index, sw2 }) => !keepEarlier(hooks.done?.[index], index, depth, sw2, cells));
    const size = Math.min(hooks.pack ?? Infinity, trainabilityPackSize(ctx, spec, depth, data.train.d, Math.max(2, data.train.classes)));
    for (let k = 0; k < todo.length; k += size) {
      const pack = todo.slice(k, k + size);
      for (const c of pack) hooks.onCellStart?.(depth, c.sw2, c.index, all.length);
      for (const cell of await runTrainabilityPack(ctx, spec, depth, pack.map((c) => c.sw2), data)) {
        cells.push(cell);
        hooks.onCellEnd?.(cell, cells.length, all.length);
      }
    }
  }
  return { spec, cells, seconds: (performance.now() - t0) / 1000 };
}

/** Keeps a cell finished earlier (a resumed run) when there is one: it must belong at its grid position. */
function keepEarlier(earlier: TrainabilityCell | undefined, index: number, depth: number, sw2: number, cells: TrainabilityCell[]): boolean {
  if (!earlier) return false;
  if (earlier.depth !== depth || earlier.sw2 !== sw2) throw new Error(`trainability: a finished cell (depth ${earlier.depth}, σ_w² ${earlier.sw2}) does not belong at grid position ${index}`);
  cells.push(earlier);
  return true;
}
