/**
 * The run folder of an ensemble (`sgdscope train --replicas R`): the files of a single run
 * (src/train/run-files.ts) with a replica axis.
 *
 *   config.json          model, data, adapter; `train` = replica 0's settings, `replicas` = every replica's
 *   result.json          the ensemble's status and time; per replica: seed, status, message, weightsFromStep, final evaluation
 *   metrics.csv          long format: replica, step, epoch, batch_loss, batch_accuracy, train_loss, … (one row per replica and step)
 *   weights_layer{l}.npy float32 (R, fan_in, fan_out): weights_layer{l}[r] is replica r's W (numpy: x @ W[r])
 *   bias_layer{l}.npy    float32 (R, fan_out), when the model has biases
 *   train_indices.npy, test_indices.npy   as for a single run (all replicas share the data)
 */
import { encodeNpy } from '../util/npy.ts';
import type { MlpConfig } from '../nn/config.ts';
import { layerBias, layerWeights, paramLayout } from '../nn/params.ts';
import type { TrainConfig } from './config.ts';
import type { ReplicaOutcome } from './ensemble.ts';
import type { EvalRecord, History } from './run-types.ts';
import { metricsCsv, type RunFiles } from './run-files.ts';

export interface EnsembleRecord {
  model: MlpConfig;
  configs: TrainConfig[];
  data: unknown;
  adapter: { name: string; description: string; runtime: string };
  result: { status: string; message: string; steps: number; seconds: number; stepsPerSecond: number };
  outcomes: ReplicaOutcome[];
  /** Per replica: its final evaluation (null when it diverged), its history, the step its weights are from. */
  finalEvals: (EvalRecord | null)[];
  histories: History[];
  paramsSteps: number[];
  stepsPerEpoch: number;
  /** Every replica's flat parameters, replica-major (R·layout.total). */
  params: Float32Array;
  trainIndices: Uint32Array;
  testIndices: Uint32Array;
}

export function ensembleRunFiles(r: EnsembleRecord): RunFiles {
  const R = r.configs.length;
  const files: RunFiles = new Map();
  files.set(
    'config.json',
    JSON.stringify({ sgdscope: '0.1.0', created: new Date().toISOString(), model: r.model, train: r.configs[0], replicas: r.configs, data: r.data, adapter: r.adapter }, null, 2) + '\n',
  );
  files.set(
    'result.json',
    JSON.stringify(
      {
        ...r.result,
        epochs: r.result.steps / r.stepsPerEpoch,
        replicaStepsPerSecond: R * r.result.stepsPerSecond,
        replicas: r.configs.map((c, i) => ({
          seed: c.seed,
          status: r.outcomes[i].status === 'running' ? 'completed' : r.outcomes[i].status,
          message: r.outcomes[i].message,
          weightsFromStep: r.paramsSteps[i],
          final: r.finalEvals[i],
        })),
      },
      null,
      2,
    ) + '\n',
  );
  files.set('metrics.csv', ensembleMetricsCsv(r.histories, r.stepsPerEpoch));
  const layout = paramLayout(r.model);
  const T = layout.total;
  for (const L of layout.layers) {
    const w = new Float32Array(R * L.fanIn * L.fanOut);
    const hasBias = L.biasOffset !== null;
    const b = new Float32Array(hasBias ? R * L.fanOut : 0);
    for (let i = 0; i < R; i++) {
      const flat = r.params.subarray(i * T, (i + 1) * T);
      w.set(layerWeights(flat, L), i * L.fanIn * L.fanOut);
      const bi = layerBias(flat, L);
      if (bi) b.set(bi, i * L.fanOut);
    }
    files.set(`weights_layer${L.index}.npy`, encodeNpy(w, [R, L.fanIn, L.fanOut]));
    if (hasBias) files.set(`bias_layer${L.index}.npy`, encodeNpy(b, [R, L.fanOut]));
  }
  files.set('train_indices.npy', encodeNpy(r.trainIndices, [r.trainIndices.length]));
  files.set('test_indices.npy', encodeNpy(r.testIndices, [r.testIndices.length]));
  return files;
}

/** metrics.csv of every replica stacked, with a leading replica column. */
export function ensembleMetricsCsv(histories: History[], stepsPerEpoch: number): string {
  const parts = histories.map((h, r) => {
    const lines = metricsCsv(h, stepsPerEpoch).trimEnd().split('\n');
    return { header: lines[0], rows: lines.slice(1).map((l) => `${r},${l}`) };
  });
  return [`replica,${parts[0].header}`, ...parts.flatMap((p) => p.rows)].join('\n') + '\n';
}
