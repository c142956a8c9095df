/**
 * A trainer's complete state between two steps — weights, momentum velocity, the sampler's
 * position and generator, the step, and the metrics so far — and its packing into a checkpoint
 * (src/util/checkpoint-file.ts) under a name prefix, so a command can store it beside its own state
 * (a sweep's finished runs, a Feng–Tu window). Restoring it gives a run bit-identical to one that
 * never stopped: the same minibatches, the same velocity, the same history.
 *
 * An ensemble's state is one TrainerState per replica (the same step), each with its outcome (a
 * replica that diverged or reached its target stays stopped, with the weights it stopped with).
 * packTrainer stores a single run exactly as packTrainerState does; R > 1 replicas go under
 * `<prefix>.<r>` with meta[prefix] = { replicas: R }.
 */
import type { CheckpointArray, CheckpointContents } from '../util/checkpoint-file.ts';
import type { SamplerState } from './sampler.ts';
import type { EvalRecord, ReplicaOutcome } from './run-types.ts';

export interface TrainerState {
  /** Steps taken (the weights are those after this many updates). */
  step: number;
  params: Float32Array;
  /** Momentum velocity, or null without momentum. */
  velocity: Float32Array | null;
  sampler: SamplerState;
  /** Per-step minibatch loss and accuracy (float32, as measured) and the evaluations so far. */
  history: { loss: Float32Array; accuracy: Float32Array; evals: EvalRecord[] };
  /** In an ensemble: whether this replica is still training (absent: it is). */
  outcome?: ReplicaOutcome;
}

/** Adds `s` to a checkpoint's arrays and meta under `prefix` (e.g. 'trainer'). */
export function packTrainerState(s: TrainerState, prefix: string, into: { meta: Record<string, unknown>; arrays: Record<string, CheckpointArray> }): void {
  into.arrays[`${prefix}.params`] = s.params;
  if (s.velocity) into.arrays[`${prefix}.velocity`] = s.velocity;
  into.arrays[`${prefix}.sampler.perm`] = s.sampler.perm;
  into.arrays[`${prefix}.history.loss`] = s.history.loss;
  into.arrays[`${prefix}.history.accuracy`] = s.history.accuracy;
  into.meta[prefix] = { step: s.step, sampler: { rng: s.sampler.rng, cursor: s.sampler.cursor }, evals: s.history.evals, ...(s.outcome ? { outcome: s.outcome } : {}) };
}

/** Every replica's state under `prefix` (a single run: as packTrainerState). */
export function packTrainer(states: readonly TrainerState[], prefix: string, into: { meta: Record<string, unknown>; arrays: Record<string, CheckpointArray> }): void {
  if (states.length === 1) return packTrainerState(states[0], prefix, into);
  states.forEach((s, r) => packTrainerState(s, `${prefix}.${r}`, into));
  into.meta[prefix] = { replicas: states.length };
}

/** The states packTrainer stored (one for a single run). */
export function unpackTrainer(c: CheckpointContents, prefix: string, where: string): TrainerState[] {
  const R = (c.meta[prefix] as { replicas?: unknown } | undefined)?.replicas;
  if (R === undefined) return [unpackTrainerState(c, prefix, where)];
  if (!(Number.isInteger(R) && (R as number) >= 2 && (R as number) <= 1024)) throw new Error(`${where}: trainer state '${prefix}': replicas ${JSON.stringify(R)} is not an integer in [2, 1024]`);
  const states = Array.from({ length: R as number }, (_, r) => unpackTrainerState(c, `${prefix}.${r}`, where));
  if (states.some((s) => s.step !== states[0].step)) throw new Error(`${where}: trainer state '${prefix}': the replicas are at different steps`);
  return states;
}

/** The step a stored trainer state is at. */
export function trainerStep(c: CheckpointContents, prefix: string, where: string): number {
  return unpackTrainer(c, prefix, where)[0].step;
}

/** The trainer state stored under `prefix`; throws naming `where` when a part is missing or inconsistent. */
export function unpackTrainerState(c: CheckpointContents, prefix: string, where: string): TrainerState {
  const fail = (what: string): never => {
    throw new Error(`${where}: trainer state '${prefix}': ${what}`);
  };
  const meta = c.meta[prefix] as { step?: unknown; sampler?: { rng?: unknown; cursor?: unknown }; evals?: unknown; outcome?: unknown } | undefined;
  if (!meta || typeof meta !== 'object') fail('missing');
  const arr = <T extends CheckpointArray>(name: string, ctor: new (...a: never[]) => T, optional = false): T | null => {
    const a = c.arrays[`${prefix}.${name}`];
    if (a === undefined) return optional ? null : fail(`array ${name} is missing`);
    if (!(a instanceof ctor)) fail(`array ${name} has the wrong type`);
    return a as T;
  };
  const step = meta!.step;
  if (!(Number.isSafeInteger(step) && (step as number) >= 0)) fail(`step ${JSON.stringify(step)} is not an integer ≥ 0`);
  const outcome = meta!.outcome === undefined ? null : (checkOutcome(meta!.outcome, step as number) ?? fail('outcome is malformed'));
  // A replica that stopped has the history up to its stop (before the step that diverged).
  const steps = !outcome || outcome.status === 'running' ? (step as number) : outcome.status === 'diverged' ? outcome.step - 1 : outcome.step;
  const loss = arr('history.loss', Float32Array)!;
  const accuracy = arr('history.accuracy', Float32Array)!;
  if (loss.length !== steps || accuracy.length !== steps) fail(`history holds ${loss.length} losses and ${accuracy.length} accuracies for ${steps} steps`);
  const evals = meta!.evals;
  if (!Array.isArray(evals) || evals.some((e) => !e || typeof e !== 'object' || !Number.isInteger((e as EvalRecord).step) || (e as EvalRecord).step > (step as number))) fail('evaluations are malformed');
  if (!meta!.sampler || typeof meta!.sampler !== 'object') fail('sampler state is missing');
  return {
    step: step as number,
    params: arr('params', Float32Array)!,
    velocity: arr('velocity', Float32Array, true),
    sampler: { rng: meta!.sampler!.rng as SamplerState['rng'], perm: arr('sampler.perm', Uint32Array)!, cursor: meta!.sampler!.cursor as number },
    history: { loss, accuracy, evals: evals as EvalRecord[] },
    ...(outcome ? { outcome } : {}),
  };
}

function checkOutcome(o: unknown, step: number): ReplicaOutcome | null {
  const x = o as ReplicaOutcome;
  if (!x || typeof x !== 'object' || !['running', 'diverged', 'target-reached'].includes(x.status) || typeof x.message !== 'string') return null;
  if (!(Number.isSafeInteger(x.step) && x.step >= (x.status === 'diverged' ? 1 : 0) && x.step <= step)) return null;
  return { status: x.status, message: x.message, step: x.step };
}

/**
 * The replicas' states as the trainer's buffers hold them: every replica's weights (and velocity)
 * stacked replica-major, after checking that they fit a trainer of R replicas (`momentum`: it
 * keeps a velocity buffer; an ensemble mixing momentum and plain SGD keeps one for every replica).
 */
export function stackStates(states: readonly TrainerState[], R: number, T: number, momentum: boolean): { step: number; params: Float32Array; velocity: Float32Array | null } {
  if (states.length !== R) throw new Error(`restoreState: ${states.length} replica state(s) for a trainer of ${R} replica(s)`);
  const step = states[0].step;
  const params = new Float32Array(R * T);
  const velocity = momentum ? new Float32Array(R * T) : null;
  states.forEach((st, r) => {
    if (st.step !== step) throw new Error(`restoreState: replica ${r} is at step ${st.step}, replica 0 at ${step}`);
    if (st.params.length !== T) throw new Error(`restoreState: ${st.params.length} parameters, the model has ${T}`);
    const has = st.velocity !== null;
    if ((R === 1 && momentum !== has) || (has && !momentum) || (st.velocity && st.velocity.length !== T)) {
      throw new Error(`restoreState: the state ${has ? 'has' : 'has no'} momentum velocity, this run ${momentum ? 'uses' : 'does not use'} momentum`);
    }
    params.set(st.params, r * T);
    if (velocity && st.velocity) velocity.set(st.velocity, r * T);
  });
  return { step, params, velocity };
}
