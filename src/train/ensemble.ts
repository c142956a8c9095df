/**
 * The settings of an ensemble: R training configurations, one per replica, trained in lockstep by
 * one Trainer (src/train/trainer.ts). What the dispatches share must be equal across replicas —
 * the batch size, the sampling scheme, the stop rules in steps/epochs, the evaluation cadence and
 * the chunking; what each replica owns may differ — its seed (initial weights, minibatch order,
 * dropout masks), learning rate, weight decay, momentum, dropout rate, divergence threshold and
 * targets. A single run is the ensemble of one.
 */
import type { ReplicaSettings } from '../kernels/replica-settings.ts';
import { validateTrainConfig, type TrainConfig } from './config.ts';
import type { MlpConfig } from '../nn/config.ts';
import { initParams } from '../nn/init.ts';
import { paramLayout } from '../nn/params.ts';
import { Rng } from '../util/rng.ts';
import type { ReplicaOutcome, ReplicaStatus, RunStatus } from './run-types.ts';

export type { ReplicaOutcome, ReplicaStatus, RunStatus };

/** Fields every replica of an ensemble must share (the dispatches and the chunk loop depend on them). */
export const SHARED_FIELDS = ['batchSize', 'sampling', 'epochs', 'steps', 'evalEvery', 'chunkSteps'] as const satisfies readonly (keyof TrainConfig)[];

/** Largest ensemble a Trainer accepts (buffers grow as R; the dispatch grid's z allows 65535). */
export const MAX_REPLICAS = 1024;

/**
 * Validates R partial configurations (each against the defaults, as a single run's) and checks
 * that the shared fields agree. Errors name the replica and the field.
 */
export function validateEnsemble(partials: readonly Partial<TrainConfig>[], trainSize: number | null = null): TrainConfig[] {
  if (!(partials.length >= 1 && partials.length <= MAX_REPLICAS)) {
    throw new Error(`an ensemble needs 1 to ${MAX_REPLICAS} replica configurations, got ${partials.length}`);
  }
  const configs = partials.map((p, r) => validateTrainConfig(p, trainSize, partials.length === 1 ? 'train' : `train[${r}]`));
  for (const f of SHARED_FIELDS) {
    const r = configs.findIndex((c) => c[f] !== configs[0][f]);
    if (r > 0) {
      throw new Error(`train[${r}].${f} is ${JSON.stringify(configs[r][f])} but train[0].${f} is ${JSON.stringify(configs[0][f])}: replicas of an ensemble share ${SHARED_FIELDS.join(', ')}`);
    }
  }
  return configs;
}

/**
 * R configurations from one: the same settings with seeds `seeds` (default seed, seed + 1, …).
 * What `sgdscope train --replicas R` and `--seeds` build.
 */
export function seedEnsemble(base: Partial<TrainConfig>, replicas: number, seeds?: readonly number[]): Partial<TrainConfig>[] {
  const first = base.seed ?? 1;
  const list = seeds ?? Array.from({ length: replicas }, (_, r) => first + r);
  if (list.length !== replicas) throw new Error(`--seeds lists ${list.length} seeds but --replicas is ${replicas}`);
  return list.map((seed) => ({ ...base, seed }));
}

/** Checks Trainer.create's optional per-replica initial parameters: one flat vector of `floats` per replica. */
export function checkInitial(initial: readonly Float32Array[] | undefined, replicas: number, floats: number): void {
  if (initial === undefined) return;
  if (initial.length !== replicas) throw new Error(`initial parameters: expected one vector per replica (${replicas}), got ${initial.length}`);
  initial.forEach((p, r) => {
    if (!(p instanceof Float32Array) || p.length !== floats) throw new Error(`initial parameters[${r}]: expected a Float32Array of the model's ${floats} parameters, got ${p?.length ?? typeof p}`);
  });
}

/** The kernel-side record of a replica (src/kernels/replica-settings.ts); lr 0 freezes it (shaders/sgd.wgsl). */
export function replicaSettings(c: TrainConfig, frozen = false): ReplicaSettings {
  return { lr: frozen ? 0 : c.lr, weightDecay: c.weightDecay, momentum: c.momentum, dropout: c.dropout, seed: c.seed };
}

/**
 * A run's status and message from its replicas' outcomes: a single run's is its replica's own;
 * an ensemble is 'diverged' when every replica diverged, 'target-reached' when none is left
 * training, else 'completed' (naming the replicas that stopped early).
 */
export function summarizeRun(o: readonly ReplicaOutcome[], stopped: boolean, step: number, epochs: number): { status: RunStatus; message: string } {
  const done = `completed ${step} steps (${epochs.toFixed(2)} epochs)`;
  if (stopped) return { status: 'stopped', message: `stopped at step ${step}` };
  if (o.length === 1) return o[0].status === 'running' ? { status: 'completed', message: done } : { status: o[0].status, message: o[0].message };
  const of = (s: ReplicaStatus): number[] => o.flatMap((x, r) => (x.status === s ? [r] : []));
  const [div, hit] = [of('diverged'), of('target-reached')];
  const names = (rs: number[], what: string): string => (rs.length ? `replica${rs.length > 1 ? 's' : ''} ${rs.join(', ')} ${what}` : '');
  const notes = [names(div, 'diverged'), names(hit, 'reached the target')].filter(Boolean).join('; ');
  if (div.length === o.length) return { status: 'diverged', message: `every replica diverged (first: ${o[0].message})` };
  if (of('running').length === 0) return { status: 'target-reached', message: `no replica left training: ${notes}` };
  return { status: 'completed', message: notes ? `${done}; ${notes}` : done };
}

/**
 * The R replicas' starting weights stacked (R·P floats, replica r at r·P): initial[r] when given
 * (checked first: Trainer.create calls this before any GPU work), else initParams(model, seed_r).
 */
export function stackInitial(model: MlpConfig, configs: readonly TrainConfig[], initial?: readonly Float32Array[]): Float32Array {
  const P = paramLayout(model).total;
  checkInitial(initial, configs.length, P);
  const flat = new Float32Array(configs.length * P);
  configs.forEach((c, r) => flat.set(initial?.[r] ?? initParams(model, new Rng(c.seed)), r * P));
  return flat;
}
