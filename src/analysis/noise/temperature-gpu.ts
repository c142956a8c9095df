/**
 * Per-direction SGD noise temperature on the GPU (Feng & Tu 2021):
 *   T_i = (α/2)·Var_μ[(∇L_μ − ∇L)·p_i] = (α/2)·S_i²·(1/B − 1/M)
 * from the per-sample gradient projections s_{n,i} = ∇l_n·p_i over the WHOLE training set
 * (PerSampleProjector: one forward/backward pass over the M samples and the projection kernel,
 * G never materialised), reduced on the CPU in float64 by temperatureFromPerSample (the
 * finite-population factor for minibatches drawn without replacement).
 *
 * temperatureAlongTraining repeats this at checkpoints w(t) for fixed directions (the window's
 * principal directions), giving T_i(t) against the full loss L(t): the self-tuned annealing.
 */
import { GpuBatch } from '../../gpu/batch.ts';
import { temperatureFromPerSample, type Temperatures } from '../numerics/temperature.ts';
import type { PerSampleProjector } from './full-pass.ts';
import type { WindowRecorder } from './recorder.ts';

export interface TemperatureAt {
  temperatures: Temperatures;
  /** Full training loss at the weights used. */
  loss: number;
  ms: number;
}

export interface TemperatureOptions {
  lr: number;
  batchSize: number;
  /** Minibatches of B independent uniform draws (the 'replacement' sampler): Var = v/B, no
   * finite-population factor. Default false (each epoch a permutation: without replacement). */
  withReplacement?: boolean;
}

/** T_i at the weights currently in the model's parameter buffer. */
export async function temperatureAt(projector: PerSampleProjector, o: TemperatureOptions): Promise<TemperatureAt> {
  const t0 = performance.now();
  const { s, loss } = await projector.run();
  const M = projector.pass.rows;
  const temperatures = temperatureFromPerSample(s, projector.J, { lr: o.lr, batchSize: o.batchSize, populationSize: M });
  if (o.withReplacement) {
    // Var_μ = v/B with v the population variance of the per-sample projections.
    const v = temperatures.perSampleVariance as Float64Array;
    for (let i = 0; i < v.length; i++) {
      temperatures.minibatchVariance[i] = v[i] / o.batchSize;
      temperatures.T[i] = 0.5 * o.lr * temperatures.minibatchVariance[i];
    }
  }
  return { temperatures, loss, ms: performance.now() - t0 };
}

export interface TemperatureRow {
  step: number;
  loss: number;
  T: Float64Array;
}

/**
 * T_i(t) and L(t) at every recorded checkpoint, for the directions set in `projector`: each
 * checkpoint is loaded into the parameter buffer of the projector's model (an analysis copy, not
 * the trainer's), which is left holding the last one (reload w* there afterwards).
 */
export async function temperatureAlongTraining(
  recorder: WindowRecorder,
  projector: PerSampleProjector,
  o: TemperatureOptions & { onCheckpoint?: (done: number, total: number) => void },
): Promise<TemperatureRow[]> {
  const rows: TemperatureRow[] = [];
  const steps = recorder.checkpointSteps;
  for (let slot = 0; slot < steps.length; slot++) {
    const batch = new GpuBatch(recorder.ctx, 'lab.loadCheckpoint');
    recorder.encodeLoadCheckpoint(batch, slot, projector.pass.mlp.params);
    batch.submit();
    const r = await temperatureAt(projector, o);
    rows.push({ step: steps[slot], loss: r.loss, T: r.temperatures.T });
    o.onCheckpoint?.(slot + 1, steps.length);
  }
  return rows;
}
