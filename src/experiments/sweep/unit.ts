/**
 * One sweep point, trained and measured: the unit of work that the in-process sweep (run.ts) loops
 * over and that a queue worker (src/queue/) runs as one job. It gives the point's result record
 * (SweepRun: one row of runs.csv) and, when the data carry their split indices, the point's own
 * training run folder (config.json, result.json, metrics.csv, weights, indices) plus record.json,
 * the record itself — what `sweep collect` reads back to write the same sweep files.
 *
 * With ASHA (search.asha) the run stops at each rung, records its test metric on the rung board
 * and either goes on or ends early (no sharpness then: the point of stopping is to save the time).
 */
import { adapterRecord, type AdapterRecord, type GpuContext } from '../../gpu/device.ts';
import type { Dataset } from '../../data/index.ts';
import { Trainer, type RunResult } from '../../train/trainer.ts';
import type { TrainConfig } from '../../train/config.ts';
import { runFiles, type RunFiles } from '../../train/run-files.ts';
import { paramLayout } from '../../nn/params.ts';
import type { TrainControl } from '../train-control.ts';
import { noiseScale, type SweepPoint, type SweepSpec } from './grid.ts';
import type { SharpnessProbe } from './sharpness.ts';
import { classifyRun, type SweepRun } from './result.ts';
import { ashaDecide, ashaRungs, ashaValue, type AshaTrace, type RungBoard } from './asha.ts';
import { encodeRecord } from './record.ts';

/** The data of a sweep; with spec and indices (a loaded dataset), each run gets its run folder. */
export interface SweepData {
  train: Dataset;
  test: Dataset | null;
  spec?: unknown;
  trainIndices?: Uint32Array;
  testIndices?: Uint32Array;
}

export interface SweepUnitEnv {
  ctx: GpuContext;
  data: SweepData;
  /** The shared Hessian probe (null: no sharpness). */
  probe: SharpnessProbe | null;
  control: TrainControl;
  /** ASHA's rung records (needed when the spec's search has asha). */
  board?: RungBoard;
  adapter?: AdapterRecord;
}

function norms(params: Float32Array, spec: SweepSpec): { total: number; layers: number[] } {
  const layout = paramLayout(spec.model);
  let total = 0;
  const layers = layout.layers.map((L) => {
    let s = 0;
    for (let i = L.offset; i < L.offset + L.size; i++) s += params[i] * params[i];
    total += s;
    return Math.sqrt(s);
  });
  return { total: Math.sqrt(total), layers };
}

/** Trains with ASHA's rungs (stopping early when a rung says so), or straight to the end. */
async function trainWithRungs(trainer: Trainer, spec: SweepSpec, p: SweepPoint, env: SweepUnitEnv): Promise<{ result: RunResult; asha: AshaTrace | null }> {
  const a = spec.search?.asha ?? null;
  if (!a) return { result: await env.control.train(trainer, { key: 'train' }), asha: null };
  if (!env.board) throw new Error('sweep: ASHA needs a rung board');
  if (!trainer.testEval) throw new Error('sweep: ASHA ranks runs by their test metric, so the data need a test set');
  const trace: AshaTrace = { rungs: [], stoppedAtEpoch: null };
  let result: RunResult | null = null;
  for (const rung of ashaRungs(a, trainer.stepsPerEpoch, trainer.totalSteps!)) {
    result = await env.control.train(trainer, { key: 'train', until: rung.step });
    if (result.status !== 'stopped' || trainer.step !== rung.step) return { result, asha: trace };
    const ev = trainer.history.evals.find((e) => e.step === rung.step);
    if (!ev?.test) throw new Error(`sweep: no test evaluation at rung ${rung.rung} (step ${rung.step})`);
    const value = ashaValue(a, ev.test);
    const d = ashaDecide(await env.board.record(rung.rung, p.index, value), a.eta);
    trace.rungs.push({ ...rung, ...d, value });
    if (!d.continues) {
      trace.stoppedAtEpoch = rung.epoch;
      const message = `stopped early by ASHA at epoch ${rung.epoch} (rung ${rung.rung}: rank ${d.rank + 1} of ${d.of}, best ${d.keep} go on)`;
      return { result: { ...result, message }, asha: trace };
    }
  }
  return { result: await env.control.train(trainer, { key: 'train' }), asha: trace };
}

/** A point's training settings: the spec's, with the point's lr, batch size, weight decay, dropout and seed. */
export function pointConfig(spec: SweepSpec, p: SweepPoint): Partial<TrainConfig> {
  return { ...spec.train, lr: p.lr, batchSize: p.batchSize, weightDecay: p.weightDecay, dropout: p.dropout, seed: p.seed };
}

export async function runSweepPoint(spec: SweepSpec, p: SweepPoint, env: SweepUnitEnv): Promise<{ run: SweepRun; files: RunFiles | null }> {
  const trainer = await Trainer.create(env.ctx, spec.model, pointConfig(spec, p), env.data);
  try {
    const { result, asha } = await trainWithRungs(trainer, spec, p, env);
    return await measurePoint(spec, p, env, trainer, 0, result, asha);
  } finally {
    freeTrainerData(trainer);
  }
}

/** The per-run dataset copies are the big buffers; the rest goes with the trainer object. */
export function freeTrainerData(trainer: Trainer): void {
  for (const d of [trainer.trainData, trainer.testData]) {
    d?.x.destroy();
    d?.y.destroy();
  }
}

/**
 * After training: replica `r` of `trainer` (0 for a run alone; a packed point's replica in an
 * ensemble, pack.ts) measured — final evaluation, ‖w‖, sharpness — into the point's record and files.
 * `result`: that replica's run result, as its run alone reports it.
 */
export async function measurePoint(
  spec: SweepSpec, p: SweepPoint, env: SweepUnitEnv, trainer: Trainer, r: number, result: RunResult, asha: AshaTrace | null,
): Promise<{ run: SweepRun; files: RunFiles | null }> {
  const { ctx, data, probe } = env;
  const history = trainer.histories[r];
  const config = trainer.configs[r];
  const diverged = result.status === 'diverged';
  const good = diverged ? await trainer.lastGoodParams(r) : null;
  const params = good?.params ?? (await trainer.mlp.readParams(0, r));
  const last = history.evals.at(-1);
  const finalEval = diverged ? null : last && last.step === result.steps ? last : (await trainer.evaluateAll())[r];
  const nrm = norms(params, spec);
  let sharpness: number[] | null = null;
  let rel: number[] | null = null;
  let conv: boolean | null = null;
  let shSeconds = 0;
  const classes = spec.model.widths[spec.model.widths.length - 1];
  const lnC = Math.log(classes);
  const { outcome, spikeStep } = classifyRun(diverged, finalEval?.train ?? null, history.loss, classes);
  const dead = outcome === 'collapsed';
  if (!diverged && !dead && asha?.stoppedAtEpoch == null && probe && spec.sharpness.k > 0) {
    const s = await probe.measure(params, { k: spec.sharpness.k, residualTol: spec.sharpness.residualTol, maxIter: spec.sharpness.maxIter, seed: p.seed });
    sharpness = s.values;
    rel = s.relResiduals;
    conv = s.converged;
    shSeconds = s.seconds;
  }
  const tr = finalEval?.train ?? null;
  const te = finalEval?.test ?? null;
  const message = dead
    ? `${result.message}; collapsed: train loss ${tr!.loss.toFixed(4)} ≈ ln C = ${lnC.toFixed(4)} (train accuracy ${(100 * tr!.accuracy).toFixed(1)}%)${spikeStep !== null ? ` after a loss spike at step ${spikeStep}` : ''}`
    : result.message;
  const run: SweepRun = {
    point: p,
    status: result.status,
    outcome,
    message,
    divergedStep: diverged ? result.steps : null,
    spikeStep: spikeStep ?? (diverged ? result.steps : null),
    steps: result.steps,
    epochs: result.steps / trainer.stepsPerEpoch,
    seconds: result.seconds,
    stepsPerSecond: result.stepsPerSecond,
    trainLoss: tr?.loss ?? null,
    trainAccuracy: tr?.accuracy ?? null,
    testLoss: te?.loss ?? null,
    testAccuracy: te?.accuracy ?? null,
    gapLoss: tr && te ? te.loss - tr.loss : null,
    gapAccuracy: tr && te ? tr.accuracy - te.accuracy : null,
    weightNorm: nrm.total,
    layerNorms: nrm.layers,
    noiseScale: noiseScale(p.lr, data.train.n, p.batchSize, config.momentum),
    sharpness,
    sharpnessRelResiduals: rel,
    sharpnessConverged: conv,
    sharpnessSeconds: shSeconds,
    evals: history.evals,
    ...(asha ? { asha } : {}),
  };
  let files: RunFiles | null = null;
  if (data.trainIndices && data.testIndices) {
    files = runFiles({
      model: spec.model, train: config, data: data.spec ?? null, adapter: env.adapter ?? adapterRecord(ctx),
      result, finalEval, history, stepsPerEpoch: trainer.stepsPerEpoch, params, paramsStep: good?.step ?? result.steps,
      trainIndices: data.trainIndices, testIndices: data.testIndices,
    });
    files.set('record.json', encodeRecord(run));
  }
  return { run, files };
}
