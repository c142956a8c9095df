/**
 * A trainer's complete state between two steps — weights, momentum velocity, the sampler's
 * position and generator, the step, and the metrics so far — and its packing into a checkpoint
 * (src/util/checkpoint-file.ts) under a name prefix, so a command can store it beside its own state
 * (a sweep's finished runs, a Feng–Tu window). Restoring it gives a run bit-identical to one that
 * never stopped: the same minibatches, the same velocity, the same history.
 */
import type { CheckpointArray, CheckpointContents } from '../util/checkpoint-file.ts';
import type { SamplerState } from './sampler.ts';
import type { EvalRecord } from './run-types.ts';

export interface TrainerState {
  /** Steps taken (the weights are those after this many updates). */
  step: number;
  params: Float32Array;
  /** Momentum velocity, or null without momentum. */
  velocity: Float32Array | null;
  sampler: SamplerState;
  /** Per-step minibatch loss and accuracy (float32, as measured) and the evaluations so far. */
  history: { loss: Float32Array; accuracy: Float32Array; evals: EvalRecord[] };
}

/** Adds `s` to a checkpoint's arrays and meta under `prefix` (e.g. 'trainer'). */
export function packTrainerState(s: TrainerState, prefix: string, into: { meta: Record<string, unknown>; arrays: Record<string, CheckpointArray> }): void {
  into.arrays[`${prefix}.params`] = s.params;
  if (s.velocity) into.arrays[`${prefix}.velocity`] = s.velocity;
  into.arrays[`${prefix}.sampler.perm`] = s.sampler.perm;
  into.arrays[`${prefix}.history.loss`] = s.history.loss;
  into.arrays[`${prefix}.history.accuracy`] = s.history.accuracy;
  into.meta[prefix] = { step: s.step, sampler: { rng: s.sampler.rng, cursor: s.sampler.cursor }, evals: s.history.evals };
}

/** The trainer state stored under `prefix`; throws naming `where` when a part is missing or inconsistent. */
export function unpackTrainerState(c: CheckpointContents, prefix: string, where: string): TrainerState {
  const fail = (what: string): never => {
    throw new Error(`${where}: trainer state '${prefix}': ${what}`);
  };
  const meta = c.meta[prefix] as { step?: unknown; sampler?: { rng?: unknown; cursor?: unknown }; evals?: unknown } | undefined;
  if (!meta || typeof meta !== 'object') fail('missing');
  const arr = <T extends CheckpointArray>(name: string, ctor: new (...a: never[]) => T, optional = false): T | null => {
    const a = c.arrays[`${prefix}.${name}`];
    if (a === undefined) return optional ? null : fail(`array ${name} is missing`);
    if (!(a instanceof ctor)) fail(`array ${name} has the wrong type`);
    return a as T;
  };
  const step = meta!.step;
  if (!(Number.isSafeInteger(step) && (step as number) >= 0)) fail(`step ${JSON.stringify(step)} is not an integer ≥ 0`);
  const loss = arr('history.loss', Float32Array)!;
  const accuracy = arr('history.accuracy', Float32Array)!;
  if (loss.length !== step || accuracy.length !== step) fail(`history holds ${loss.length} losses and ${accuracy.length} accuracies for ${step} steps`);
  const evals = meta!.evals;
  if (!Array.isArray(evals) || evals.some((e) => !e || typeof e !== 'object' || !Number.isInteger((e as EvalRecord).step) || (e as EvalRecord).step > (step as number))) fail('evaluations are malformed');
  if (!meta!.sampler || typeof meta!.sampler !== 'object') fail('sampler state is missing');
  return {
    step: step as number,
    params: arr('params', Float32Array)!,
    velocity: arr('velocity', Float32Array, true),
    sampler: { rng: meta!.sampler!.rng as SamplerState['rng'], perm: arr('sampler.perm', Uint32Array)!, cursor: meta!.sampler!.cursor as number },
    history: { loss, accuracy, evals: evals as EvalRecord[] },
  };
}
