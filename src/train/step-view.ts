/**
 * The step view: what one SGD step of one network leaves on the GPU for an instrument to read,
 * valid while that step is being encoded, so an instrument's kernels go into the same command
 * buffer right after the step's own dispatches (TrainHooks.onStepGradient / onStepEncoded).
 *
 * Step t (1-based) starts from the weights θ_{t−1}, draws the minibatch, runs forward and backward,
 * and updates to θ_t. Two moments are offered:
 *   'gradient'  after the backward pass, before the update: params hold θ_{t−1}, the weights this
 *               step's activations and gradients were computed at;
 *   'update'    after the update: params hold θ_t (activations and gradients are still those of step t).
 * Every buffer below is overwritten by step t + 1: copy or reduce what you need before that.
 *
 * Scales, stated (the minibatch loss is the MEAN L_B = (1/B)·Σ_n l_n over the B samples):
 *   outputGrad  dz[n, :] = ∂L_B/∂z_n = (1/B)·∂l_n/∂z_n, i.e. the per-sample gradient times 1/B
 *               (softmax_ce's grad_scale); multiply by B (1/outputGradScale) for ∂l_n/∂z_n.
 *   grads       ∇L_B(θ_{t−1}) of the data loss only: weight decay (wd·θ) and momentum are applied
 *               inside the SGD kernel and never appear in this buffer.
 *   velocity    momentum's v (shaders/sgd.wgsl: v ← μ·v + g + wd·θ, θ ← θ − lr·v): v_{t−1} at
 *               'gradient', v_t at 'update'; null when the run has no momentum.
 *   losses      l_n, the per-sample loss, not divided by B.
 * The per-sample gradient of a dense layer's block is the outer product [x_n, 1?] ⊗ (B·dz_n), so
 * |g_n|² = (|x_n|² + bias)·B²·|dz_n|², with no P-sized buffer per sample.
 *
 * With dropout, `input` is what the layer actually multiplied (act(z)⊙mask/(1−p) of the layer
 * below) and outputGrad already carries the mask; `output` is act(z) before the mask.
 *
 * Alignment: the layers' parameter blocks start on 256-byte boundaries (src/nn/params.ts), so
 * `weights` and `grad` can be bound as they are. The minibatch indices of step t sit inside the
 * chunk's index buffer at element `indexFirst` — not 256-byte aligned in general: bind the whole
 * buffer and pass indexFirst as a uniform.
 *
 * Replicas (R networks in lockstep): a view describes replica 0, whose blocks come first in every
 * buffer (params, grads, activations: (R, B, ·); the step's indices: replica 0's B first) — so a
 * consumer that reads the first B rows, the first layout.total parameters, reads replica 0.
 * lr, weight decay and momentum are replica 0's, read from the plan's settings.
 */
import type { ParamLayout } from '../nn/params.ts';
import type { TrainStepPlan } from '../nn/train-step.ts';

export interface LayerStepView {
  index: number;
  /** K, N and whether the block has a bias row (rows = K + bias). */
  fanIn: number;
  fanOut: number;
  bias: boolean;
  /** x (B, K) row-major: the layer's input in this step's forward pass. */
  input: GPUBuffer;
  /** act(z) (B, N) before dropout; for the last layer the logits z. */
  output: GPUBuffer;
  /** dz (B, N) = ∂L_B/∂z = outputGradScale · ∂l_n/∂z_n (valid at both moments). */
  outputGrad: GPUBuffer;
  /** 1/B: the factor between outputGrad and the per-sample output gradient. */
  outputGradScale: number;
  /** The layer's (K + bias, N) block of params and of grads, bindable as is (256-byte aligned). */
  weights: GPUBufferBinding;
  grad: GPUBufferBinding;
  /** Offset (floats) and size (floats) of the block in the flat layout. */
  offset: number;
  size: number;
}

export interface StepView {
  /** 1-based step number t. */
  step: number;
  moment: 'gradient' | 'update';
  batchSize: number;
  lr: number;
  weightDecay: number;
  momentum: number;
  /** u32 indices into the training set of this step's B samples: elements indexFirst … + B − 1. */
  indices: GPUBuffer;
  indexFirst: number;
  /** The gathered minibatch: x (B, d) and labels (B,) u32. */
  batchX: GPUBuffer;
  labels: GPUBuffer;
  /** Per-sample losses l_n (B,). */
  losses: GPUBuffer;
  /** The flat parameter and gradient buffers (src/nn/params.ts layout). */
  params: GPUBuffer;
  grads: GPUBuffer;
  /** The flat momentum buffer v in the same layout (null without momentum). */
  velocity: GPUBuffer | null;
  layout: ParamLayout;
  layers: LayerStepView[];
}

/** Builds the views of a TrainStepPlan: the buffers are fixed, only the step fields change. */
export class StepViews {
  private readonly layers: LayerStepView[];

  /** `plan`: an open plan ({ gather: 'kernel', update: 'kernel' }): its minibatch and gradient buffers exist. */
  constructor(private readonly plan: TrainStepPlan) {
    if (!plan.xb || !plan.yb || plan.fusedUpdate) throw new Error('StepViews: the plan must gather its minibatch and write mlp.grads (build it with { gather: \'kernel\', update: \'kernel\' })');
    const mlp = plan.mlp;
    const B = plan.batchSize;
    this.layers = mlp.layout.layers.map((L, l) => ({
      index: l,
      fanIn: L.fanIn,
      fanOut: L.fanOut,
      bias: mlp.config.bias,
      input: l === 0 ? plan.xb! : plan.hasDropout ? plan.dropped[l - 1] : plan.acts.outs[l - 1],
      output: plan.acts.outs[l],
      outputGrad: plan.acts.dz[l],
      outputGradScale: 1 / B,
      weights: mlp.layerRange(mlp.params, L),
      grad: mlp.layerRange(mlp.grads, L),
      offset: L.offset,
      size: L.size,
    }));
  }

  /** The view of step `step`, the `slot`-th step of its chunk. */
  at(step: number, slot: number, moment: StepView['moment']): StepView {
    const { plan } = this;
    const mlp = plan.mlp;
    const h = plan.replicaSettings?.[0];
    return {
      step,
      moment,
      batchSize: plan.batchSize,
      lr: h?.lr ?? 0,
      weightDecay: h?.weightDecay ?? 0,
      momentum: h?.momentum ?? 0,
      indices: plan.indices,
      indexFirst: slot * plan.replicas * plan.batchSize,
      batchX: plan.xb!,
      labels: plan.yb!,
      losses: plan.acts.losses,
      params: mlp.params,
      grads: mlp.grads,
      velocity: mlp.hasMomentum ? mlp.velocity : null,
      layout: mlp.layout,
      layers: this.layers,
    };
  }
}
