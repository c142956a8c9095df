/**
 * How the trainer encodes a chunk's steps: the fused step (src/nn/train-step.ts: no gradient
 * buffer, each layer's weight gradient applies the update) on every step, except the steps an
 * instrument measures (TrainHooks.measures), which take the open form — the minibatch gathered,
 * the gradient in mlp.grads, the update a dispatch of its own — between whose passes the hooks
 * get the step view (src/train/step-view.ts). Both forms give the same weights, bit for bit.
 */
import type { GpuBatch } from '../gpu/batch.ts';
import { TrainStepPlan, type ReplicaSettings } from '../nn/train-step.ts';
import type { MinibatchSampler } from './sampler.ts';
import { StepViews } from './step-view.ts';
import type { TrainHooks } from './run-types.ts';

export class StepEncoder {
  private open: { plan: TrainStepPlan; views: StepViews } | null = null;

  constructor(readonly plan: TrainStepPlan) {}

  /** Whether `hooks` want step views (then prepare() must have built the open form). */
  static viewing(hooks: TrainHooks): boolean {
    return !!(hooks.onStepGradient || hooks.measures);
  }

  /** Builds the open form of the step when `hooks` want step views (its kernels compile once). */
  async prepare(hooks: TrainHooks): Promise<void> {
    if (!StepEncoder.viewing(hooks) || this.open) return;
    const p = this.plan;
    const plan = await TrainStepPlan.create(p.mlp, p.batchSize, p.data, p.indices, p.metrics, {
      settings: p.replicaSettings ?? undefined, dropout: p.hasDropout, gather: 'kernel', update: 'kernel',
    });
    this.open = { plan, views: new StepViews(plan) };
  }

  /** Both forms' replica settings (src/nn/train-step.ts setSettings). */
  setSettings(list: readonly ReplicaSettings[]): void {
    this.plan.setSettings(list);
    this.open?.plan.setSettings(list);
  }

  /** Steps firstStep + 1 … firstStep + steps, whose indices are slots 0 … steps − 1 of the chunk's index buffer. */
  encodeSteps(batch: GpuBatch, firstStep: number, steps: number, hooks: TrainHooks): void {
    const RB = this.plan.replicas * this.plan.batchSize;
    const open = StepEncoder.viewing(hooks) ? this.open : null;
    if (StepEncoder.viewing(hooks) && !open) throw new Error('StepEncoder: call prepare(hooks) before encoding steps with step-view hooks');
    for (let s = 0; s < steps; s++) {
      const step = firstStep + s + 1;
      if (!open || !(hooks.measures ? hooks.measures(step) : true)) {
        this.plan.encodeStep(batch, s * RB, s, step);
        hooks.onStepEncoded?.(batch, step);
        continue;
      }
      open.plan.encodeForwardLoss(batch, s * RB, s, step);
      open.plan.encodeBackward(batch, s * RB);
      hooks.onStepGradient?.(batch, open.views.at(step, s, 'gradient'));
      open.plan.encodeUpdate(batch);
      hooks.onStepEncoded?.(batch, step, open.views.at(step, s, 'update'));
    }
  }
}

/** The next `steps` minibatches of every replica as one (steps, R, B) index array: step s of replica r at (s·R + r)·B. */
export function interleaveIndices(samplers: readonly MinibatchSampler[], steps: number, B: number): Uint32Array {
  const R = samplers.length;
  const perReplica = samplers.map((s) => s.next(steps));
  const idx = new Uint32Array(steps * R * B);
  for (let s = 0; s < steps; s++) for (let r = 0; r < R; r++) idx.set(perReplica[r].subarray(s * B, (s + 1) * B), (s * R + r) * B);
  return idx;
}
