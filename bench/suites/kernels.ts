/**
 * The small kernels of an SGD step, at the seed experiment's sizes (784-50-50-10, B 50, the
 * MNIST-10k training split of 8000 rows):
 *
 *   softmax_ce  (B, C) logits → loss, dz, metrics.  FLOP ≈ 8·B·C (max, 2 exp, sum, div, sub, mul:
 *               exp counted as one FLOP)  bytes = 4·(2·B·C + 2·B + 2)   (z, dz, labels, losses, metrics)
 *               also at an evaluation chunk of 1000 rows (writeGrad off: bytes = 4·(B·C + 2·B + 2))
 *   sgd         w ← w − lr·(g + wd·w) over all P parameters.  FLOP = 4·P   bytes = 12·P (w, g read; w written)
 *   gather      B rows of D features by index.  FLOP = 0   bytes = 4·(2·B·D + 3·B) (rows read and
 *               written, indices, labels read and written)
 *   row_sum     y[r] = Σ_c x[r, c] of an (M, N) matrix (shaders/bench_reduce.wgsl, bench only; the
 *               kernel lab's reduction problem).  FLOP = M·N   bytes = 4·(M·N + M)
 */
import { createStorage, readF32, readU32, writeBuffer } from '../../src/gpu/buffers.ts';
import { GpuBatch } from '../../src/gpu/batch.ts';
import { SoftmaxCe } from '../../src/kernels/softmax_ce.ts';
import { softmaxCeRef } from '../../src/kernels/softmax_ce.ref.ts';
import { createReplicaSettings } from '../../src/kernels/replica-settings.ts';
import { Sgd } from '../../src/kernels/sgd.ts';
import { sgdRef } from '../../src/kernels/sgd.ref.ts';
import { Gather } from '../../src/kernels/gather.ts';
import { gatherRef } from '../../src/kernels/gather.ref.ts';
import { paramLayout } from '../../src/nn/params.ts';
import { SEED_MLP } from '../../src/nn/config.ts';
import { runCase, type BenchEnv } from '../core/env.ts';
import { combine, compare, randomArray } from '../core/check.ts';
import { Kernel } from '../../src/gpu/kernel.ts';
import { rowSumRef } from '../../src/kernels/reduce.ref.ts';

export async function runSmallKernels(env: BenchEnv): Promise<void> {
  const { ctx } = env;
  env.log('\n## the other kernels of an SGD step (seed sizes)');

  // --- softmax cross-entropy
  for (const [B, C, writeGrad] of [[50, 10, true], [1000, 10, false]] as const) {
    const ce = await SoftmaxCe.create(ctx, { writeGrad });
    const z = randomArray(B * C, 31 + B, 4);
    const y = Uint32Array.from({ length: B }, (_, i) => (i * 7 + 3) % C);
    const zb = createStorage(ctx, 'bench.ce.z', z);
    const yb = createStorage(ctx, 'bench.ce.y', y);
    const dzb = createStorage(ctx, 'bench.ce.dz', B * C * 4);
    const lb = createStorage(ctx, 'bench.ce.losses', B * 4);
    const mb = createStorage(ctx, 'bench.ce.metrics', 64);
    const bg = ce.bind({ z: zb, y: yb, dz: dzb, losses: lb, metrics: mb });
    const u = { rows: B, classes: C, gradScale: 1 / B, slot: 0 };
    await runCase(env, {
      kernel: 'softmax_ce',
      variant: writeGrad ? 'train (loss + dz)' : 'eval (loss only)',
      shape: `${B}x${C}`,
      flops: 8 * B * C,
      bytes: 4 * ((writeGrad ? 2 : 1) * B * C + 2 * B + 2),
      dispatches: 1,
      encode: (b) => ce.encode(b, bg, u),
      check: async () => {
        const b = new GpuBatch(ctx, 'check');
        ce.encode(b, bg, u);
        b.submit();
        const ref = softmaxCeRef(z, y, B, C, 1 / B);
        const m = await readF32(ctx, mb, 0, 2);
        const checks = [
          compare(await readF32(ctx, lb, 0, B), ref.losses, 1e-5, 1e-5, 'losses'),
          compare(m, [ref.lossSum, ref.correct], 1e-4, 1e-5, 'metrics'),
        ];
        if (writeGrad) checks.push(compare(await readF32(ctx, dzb, 0, B * C), ref.dz, 1e-6, 1e-5, 'dz'));
        return combine(checks);
      },
    });
  }

  // --- SGD over all parameters of the seed network
  {
    const P = paramLayout(SEED_MLP).total;
    const sgd = await Sgd.create(ctx, { momentum: false });
    const w0 = randomArray(P, 41, 0.1);
    const g = randomArray(P, 43, 1);
    const wb = createStorage(ctx, 'bench.sgd.w', w0);
    const gb = createStorage(ctx, 'bench.sgd.g', g);
    const vb = createStorage(ctx, 'bench.sgd.v', 16);
    const hyper = createReplicaSettings(ctx, 'bench.sgd.settings', [{ lr: 0.1, weightDecay: 0, momentum: 0, dropout: 0, seed: 1 }]);
    const bg = sgd.bind({ w: wb, g: gb, v: vb, hyper });
    const u = { count: P };
    await runCase(env, {
      kernel: 'sgd',
      variant: 'plain (lr 0.1)',
      shape: `P=${P}`,
      flops: 4 * P,
      bytes: 12 * P,
      dispatches: 1,
      encode: (b) => sgd.encode(b, bg, u),
      check: async () => {
        writeBuffer(ctx, wb, w0);
        const b = new GpuBatch(ctx, 'check');
        sgd.encode(b, bg, u);
        b.submit();
        const ref = new Float64Array(w0);
        sgdRef(ref, g, 0.1, 0, 0);
        return compare(await readF32(ctx, wb, 0, P), ref, 1e-7, 1e-6, 'w');
      },
    });
  }

  // --- gather of one minibatch from the training split on the GPU
  {
    const N = 8000;
    const D = 784;
    const B = 50;
    const gather = await Gather.create(ctx);
    const data = randomArray(N * D, 47, 1);
    const labels = Uint32Array.from({ length: N }, (_, i) => i % 10);
    const idx = Uint32Array.from({ length: B }, (_, i) => (i * 2654435761) % N);
    const db = createStorage(ctx, 'bench.gather.data', data);
    const lb = createStorage(ctx, 'bench.gather.labels', labels);
    const ib = createStorage(ctx, 'bench.gather.idx', idx);
    const xb = createStorage(ctx, 'bench.gather.xb', B * D * 4);
    const yb = createStorage(ctx, 'bench.gather.yb', B * 4);
    const bg = gather.bind({ data: db, labels: lb, idx: ib, xb, yb });
    const u = { rows: B, dim: D, offset: 0, n: N };
    await runCase(env, {
      kernel: 'gather',
      variant: 'row per workgroup',
      shape: `${B}x${D} of ${N}`,
      flops: 0,
      bytes: 4 * (2 * B * D + 3 * B),
      dispatches: 1,
      encode: (b) => gather.encode(b, bg, u),
      check: async () => {
        const b = new GpuBatch(ctx, 'check');
        gather.encode(b, bg, u);
        b.submit();
        const ref = gatherRef(data, labels, idx, 0, B, D);
        return combine([
          compare(await readF32(ctx, xb, 0, B * D), ref.xb, 0, 0, 'xb'),
          compare(await readU32(ctx, yb, 0, B), ref.yb, 0, 0, 'yb'),
        ]);
      },
    });
    for (const b of [db, lb, ib, xb, yb]) b.destroy();
  }

  // --- a reduction: row sums, one workgroup per row
  {
    const M = 1024;
    const N = 4096;
    const sum = await Kernel.create(ctx, { shader: 'bench_reduce', entry: 'row_sum', constants: { WG: 256 } });
    const x = randomArray(M * N, 53, 1);
    const xb = createStorage(ctx, 'bench.reduce.x', x);
    const yb = createStorage(ctx, 'bench.reduce.y', M * 4);
    const bg = sum.bindGroup({ x: xb, y: yb });
    const u = { m: M, n: N };
    await runCase(env, {
      kernel: 'row_sum',
      variant: 'workgroup per row, tree',
      shape: `${M}x${N}`,
      flops: M * N,
      bytes: 4 * (M * N + M),
      dispatches: 1,
      encode: (b) => b.dispatch(sum, bg, u, [M]),
      check: async () => {
        writeBuffer(ctx, yb, new Float32Array(M).fill(NaN));
        const b = new GpuBatch(ctx, 'check');
        b.dispatch(sum, bg, u, [M]);
        b.submit();
        return compare(await readF32(ctx, yb, 0, M), rowSumRef(x, M, N), 1e-4, 1e-5, 'y');
      },
    });
    xb.destroy();
    yb.destroy();
  }
}
