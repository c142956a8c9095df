/**
 * TensorFlow.js's WebGPU backend as the peer of a lab kernel: given the lab's own GPUDevice (as
 * bench/suites/tfjs.ts does), so both run on the same adapter, device and robustness setting. The
 * same problem in tfjs ops, its output checked against the same CPU reference, then timed paired
 * with your kernel (A B A B …, wall time with many calls queued; bench/core/peer.ts).
 */
import type * as TF from '@tensorflow/tfjs-core';
import { loadTf, tfFlush, useBackend, type TfBackends } from '../../bench/suites/tfjs.ts';
import { gpuErrorsSince, type BenchEnv } from '../../bench/core/env.ts';
import { paired, queuedTimer, sgdscopeTimer } from '../../bench/core/peer.ts';
import { fmt, type Row } from '../../bench/core/report.ts';
import type { EncodeCall } from '../../bench/core/timing.ts';
import type { Params, Problem } from './catalog.ts';
import type { Expected, Inputs } from './data.ts';
import { checkOutput, checkSummary } from './compare.ts';

type Tf = typeof TF;

/** The problem in tfjs ops: output names (as the lab's buffers) and a function computing them. */
function tfProblem(tf: Tf, problem: Problem, p: Params, inp: Inputs): { names: string[]; op: () => TF.Tensor[]; what: string; inputs: TF.Tensor[] } {
  const n = (k: string): number => Number(p[k]);
  const t2 = (a: ArrayLike<number>, r: number, c: number): TF.Tensor2D => tf.tensor2d(Float32Array.from(a), [r, c]);
  const deriv = (x: TF.Tensor): TF.Tensor => (p.act === 'relu' ? tf.step(x) : p.act === 'tanh' ? tf.sub(1, tf.square(x)) : tf.onesLike(x));
  switch (problem.id) {
    case 'matmul': {
      const [M, K, N] = [n('M'), n('K'), n('N')];
      const x = t2(inp.x, M, K);
      const w = t2(inp.w.subarray(0, K * N), K, N);
      const bias = p.bias ? tf.tensor1d(inp.w.subarray(K * N, (K + 1) * N) as Float32Array) : undefined;
      // tfjs fuses relu but not tanh (not among its fused activations): tanh is a second op.
      const fused = (): TF.Tensor => tf.fused.matMul({ a: x, b: w, bias, activation: p.act === 'relu' ? 'relu' : 'linear' });
      const op = (): TF.Tensor[] => [p.act === 'tanh' ? tf.tidy(() => tf.tanh(fused())) : fused()];
      return { names: ['y'], what: p.act === 'tanh' ? 'fused.matMul + tanh' : 'fused.matMul', inputs: [x, w, ...(bias ? [bias] : [])], op };
    }
    case 'grad_weight': {
      const [M, K, N] = [n('M'), n('K'), n('N')];
      const x = t2(inp.x, M, K);
      const dz = t2(inp.dz, M, N);
      const op = (): TF.Tensor[] => [tf.tidy(() => {
        const dw = tf.matMul(x, dz, true, false);
        return p.bias ? tf.concat([dw, tf.sum(dz, 0, true)], 0) : dw;
      })];
      return { names: ['dw'], what: 'matMul(xᵀ, dz)', inputs: [x, dz], op };
    }
    case 'grad_input': {
      const [M, K, N] = [n('M'), n('K'), n('N')];
      const x = t2(inp.x, M, K);
      const w = t2(inp.w, K, N);
      const dz = t2(inp.dz, M, N);
      return { names: ['dx'], what: "matMul(dz, wᵀ)·act'", inputs: [x, w, dz], op: () => [tf.tidy(() => tf.mul(tf.matMul(dz, w, false, true), deriv(x)))] };
    }
    case 'softmax_ce': {
      const [B, C] = [n('B'), n('C')];
      const z = t2(inp.z, B, C);
      const onehot = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(inp.y), 'int32'), C), 'float32'));
      const op = (): TF.Tensor[] => tf.tidy(() => {
        const ls = tf.logSoftmax(z);
        return [tf.mul(tf.sub(tf.exp(ls), onehot), 1 / B), tf.neg(tf.sum(tf.mul(onehot, ls), 1))];
      });
      return { names: ['dz', 'losses'], what: 'logSoftmax', inputs: [z, onehot], op };
    }
    case 'psg_project': {
      const [M, K, N, J] = [n('M'), n('K'), n('N'), n('J')];
      const Ka = K + (p.bias ? 1 : 0);
      // V (J, Ka·N) rearranged once to (Ka, J·N): S = Σ_m (a_aug·V')[n, j, m]·δ[n, m].
      const vp = new Float32Array(Ka * J * N);
      for (let j = 0; j < J; j++) for (let k = 0; k < Ka; k++) for (let m = 0; m < N; m++) vp[k * J * N + j * N + m] = inp.v[j * Ka * N + k * N + m];
      const aAug = new Float32Array(M * Ka);
      for (let r = 0; r < M; r++) for (let k = 0; k < Ka; k++) aAug[r * Ka + k] = k < K ? inp.a[r * K + k] : 1;
      const a = t2(aAug, M, Ka);
      const v = t2(vp, Ka, J * N);
      const delta = tf.tensor3d(Float32Array.from(inp.delta), [M, 1, N]);
      const op = (): TF.Tensor[] => [tf.tidy(() => tf.sum(tf.mul(tf.reshape(tf.matMul(a, v), [M, J, N]), delta), 2))];
      return { names: ['s'], what: 'matMul + sum', inputs: [a, v, delta], op };
    }
    case 'row_sum': {
      const x = t2(inp.x, n('M'), n('N'));
      return { names: ['y'], what: 'sum(x, 1)', inputs: [x], op: () => [tf.sum(x, 1)] };
    }
  }
}

let loaded: Promise<TfBackends> | null = null;

/** The tfjs-webgpu row (checked, then timed paired with `yours`), or a row saying why not. */
export async function tfjsPeer(env: BenchEnv, problem: Problem, p: Params, inp: Inputs, expected: Expected[], yours: EncodeCall, base: Omit<Row, 'variant' | 'check'>): Promise<Row> {
  loaded ??= loadTf(env);
  const t = await loaded;
  const why = await useBackend(t, t.webgpuName);
  if (why) return { ...base, variant: 'tfjs-webgpu', check: `skipped: ${why}` };
  const { tf } = t;
  const errorsBefore = env.ctx.uncapturedErrors.length;
  const prob = tfProblem(tf, problem, p, inp);
  const variant = `tfjs-webgpu ${prob.what}`;
  try {
    const outs = prob.op();
    const checks = [];
    for (const [i, name] of prob.names.entries()) {
      const e = expected.find((x) => x.output === name)!;
      checks.push(checkOutput(await outs[i].data() as Float32Array, e, problem.tolerance.atol, problem.tolerance.rtol));
    }
    tf.dispose(outs);
    const chk = checkSummary(checks, problem.tolerance.atol, problem.tolerance.rtol);
    if (!chk.ok) return { ...base, variant, check: chk.message };
    let last: TF.Tensor[] = [];
    const peer = queuedTimer(
      (calls) => {
        for (let i = 0; i < calls; i++) {
          tf.dispose(last);
          last = prob.op();
        }
      },
      () => tfFlush(tf),
      () => env.ctx.device.queue.onSubmittedWorkDone(),
    );
    const pr = await paired(sgdscopeTimer(env.ctx, yours), peer, { targetMs: env.opts.targetMs, repeats: env.opts.repeats, maxCallsA: 2000, maxCallsB: 1000 });
    tf.dispose(last);
    const { peakPct, bound } = env.roofline(base.flops, base.bytes, 1, pr.bMs);
    return {
      ...base,
      variant,
      ms: pr.bMs,
      wallMs: pr.bMs,
      timer: 'wall',
      gflops: base.flops > 0 ? base.flops / (pr.bMs * 1e6) : null,
      gbs: base.bytes > 0 ? base.bytes / (pr.bMs * 1e6) : null,
      peakPct,
      bound,
      check: gpuErrorsSince(env, errorsBefore) ?? chk.message,
      vsPeer: { peer: 'tfjs-webgpu', ratio: pr.ratio, basis: 'wall' },
      note: `your kernel ${fmt(pr.aMs)} ms wall/call vs tfjs ${fmt(pr.bMs)} (paired, ${pr.aCalls} and ${pr.bCalls} calls per repeat)`,
      samples: { gpu: [], wall: pr.bSamples, calls: pr.bCalls },
    };
  } finally {
    tf.dispose(prob.inputs);
  }
}
