/**
 * The contents of a training run folder, as named byte arrays — the same for the CLI (written to
 * disk by src/cli/run-folder.ts) and the dashboard (offered as a download).
 *
 *   config.json          model, training and data settings (with defaults filled in), adapter, versions
 *   result.json          status ("completed", "diverged at step N: …"), steps, time, final evaluation
 *   metrics.csv          per step: minibatch loss/accuracy; at evaluation steps: full train/test loss/accuracy
 *   weights_layer{l}.npy float32 (fan_in, fan_out), z = x · W  (numpy: x @ W)
 *   bias_layer{l}.npy    float32 (fan_out,), when the model has biases
 *   train_indices.npy, test_indices.npy   uint32 indices into the dataset's canonical order
 */
import { encodeNpy } from '../util/npy.ts';
import { toCsv, type CsvCell } from '../util/csv.ts';
import type { MlpConfig } from '../nn/config.ts';
import { layerBias, layerWeights, paramLayout } from '../nn/params.ts';
import type { TrainConfig } from './config.ts';
import type { EvalRecord, History, RunResult } from './trainer.ts';

export type RunFiles = Map<string, Uint8Array | string>;

export interface RunRecord {
  model: MlpConfig;
  train: TrainConfig;
  data: unknown;
  adapter: { name: string; description: string; runtime: string };
  result: RunResult;
  finalEval: EvalRecord | null;
  history: History;
  stepsPerEpoch: number;
  params: Float32Array;
  /** When the run diverged: the weights saved are from this step (the last known good). */
  paramsStep: number;
  trainIndices: Uint32Array;
  testIndices: Uint32Array;
}

/** config.json: every setting with its defaults filled in, and the adapter. */
export function runConfigJson(r: Pick<RunRecord, 'model' | 'train' | 'data' | 'adapter'>): string {
  return JSON.stringify({ sgdscope: '0.1.0', created: new Date().toISOString(), model: r.model, train: r.train, data: r.data, adapter: r.adapter }, null, 2) + '\n';
}

export function runFiles(r: RunRecord): RunFiles {
  const files: RunFiles = new Map();
  files.set('config.json', runConfigJson(r));
  files.set(
    'result.json',
    JSON.stringify(
      {
        status: r.result.status,
        message: r.result.message,
        steps: r.result.steps,
        epochs: r.result.steps / r.stepsPerEpoch,
        seconds: r.result.seconds,
        stepsPerSecond: r.result.stepsPerSecond,
        weightsFromStep: r.paramsStep,
        final: r.finalEval,
      },
      null,
      2,
    ) + '\n',
  );
  files.set('metrics.csv', metricsCsv(r.history, r.stepsPerEpoch));
  for (const [name, content] of [...weightFiles(r.model, r.params), ...indexFiles(r)]) files.set(name, content);
  return files;
}

/** weights_layer{l}.npy (fan_in, fan_out) and bias_layer{l}.npy (fan_out,) of one set of weights (flat layout). */
export function weightFiles(model: MlpConfig, params: Float32Array): RunFiles {
  const files: RunFiles = new Map();
  for (const L of paramLayout(model).layers) {
    files.set(`weights_layer${L.index}.npy`, encodeNpy(layerWeights(params, L), [L.fanIn, L.fanOut]));
    const b = layerBias(params, L);
    if (b) files.set(`bias_layer${L.index}.npy`, encodeNpy(b, [L.fanOut]));
  }
  return files;
}

export const METRICS_HEADER = ['step', 'epoch', 'batch_loss', 'batch_accuracy', 'train_loss', 'train_accuracy', 'test_loss', 'test_accuracy'];

/** metrics.csv's row of `step` (1-based): the step's minibatch numbers and, at an evaluation, the full-set ones. */
export function metricsRow(h: History, step: number, stepsPerEpoch: number, e: EvalRecord | undefined): CsvCell[] {
  return [
    step,
    step / stepsPerEpoch,
    h.loss[step - 1] ?? null,
    h.accuracy[step - 1] ?? null,
    e ? e.train.loss : null,
    e ? e.train.accuracy : null,
    e?.test ? e.test.loss : null,
    e?.test ? e.test.accuracy : null,
  ];
}

/** The last step metrics.csv has a row for. */
export function metricsLastStep(h: History): number {
  return Math.max(h.loss.length, ...h.evals.map((e) => e.step));
}

export function metricsCsv(h: History, stepsPerEpoch: number): string {
  const evals = new Map(h.evals.map((e) => [e.step, e]));
  const rows: CsvCell[][] = [];
  const last = metricsLastStep(h);
  for (let step = 1; step <= last; step++) rows.push(metricsRow(h, step, stepsPerEpoch, evals.get(step)));
  return toCsv(METRICS_HEADER, rows);
}

/**
 * The weights of several runs of one model, stacked: weights_layer{l}.npy (runs, fan_in, fan_out)
 * and bias_layer{l}.npy (runs, fan_out) — what numpy needs to recompute a sweep's per-run numbers.
 */
export function stackedWeightFiles(model: MlpConfig, params: Float32Array[]): RunFiles {
  const files: RunFiles = new Map();
  const R = params.length;
  for (const L of paramLayout(model).layers) {
    const w = new Float32Array(R * L.fanIn * L.fanOut);
    params.forEach((p, r) => w.set(layerWeights(p, L), r * L.fanIn * L.fanOut));
    files.set(`weights_layer${L.index}.npy`, encodeNpy(w, [R, L.fanIn, L.fanOut]));
    if (L.biasOffset === null) continue;
    const b = new Float32Array(R * L.fanOut);
    params.forEach((p, r) => b.set(layerBias(p, L)!, r * L.fanOut));
    files.set(`bias_layer${L.index}.npy`, encodeNpy(b, [R, L.fanOut]));
  }
  return files;
}

/** train_indices.npy and test_indices.npy: the samples, in the dataset's canonical order. */
export function indexFiles(d: { trainIndices: Uint32Array; testIndices: Uint32Array }): RunFiles {
  return new Map([
    ['train_indices.npy', encodeNpy(d.trainIndices, [d.trainIndices.length])],
    ['test_indices.npy', encodeNpy(d.testIndices, [d.testIndices.length])],
  ]);
}
