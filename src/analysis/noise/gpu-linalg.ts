/**
 * Block products on the GPU for the noise-lab eigensolvers, as the callbacks the CPU drivers take:
 *
 *  - scatterOperator:    V ↦ c·S·V for a symmetric (P, P) matrix S on the GPU (the scatter matrix;
 *                        c = 1/(T − 1) turns it into the covariance) — a BlockOperator for
 *                        subspace-iteration.ts / block-lanczos.ts.
 *  - trajectoryOperator: X·V and Xᵀ·U for a (T, P) trajectory X on the GPU, ALREADY centred (or
 *                        detrended) on the GPU (gpu-scatter.ts encodeCenteredWindow), so float32
 *                        products never see the large mean — a TrajectoryOperator for
 *                        trajectory-svd.ts's randomised route.
 *
 * Both reuse the dense kernels as generic matmuls: dense_forward with identity activation and no
 * bias computes x·W (x = S or X, W = V as a (P, b) row-major block) and dense_backward's
 * grad_weight computes xᵀ·dz (x = X, dz = U). The CPU side exchanges column-major float64 blocks
 * (column j contiguous); they are transposed to/from row-major float32 here.
 */
import type { GpuContext } from '../../gpu/device.ts';
import { GpuBatch } from '../../gpu/batch.ts';
import { createStorage, readF32 } from '../../gpu/buffers.ts';
import { DenseForward } from '../../kernels/dense_forward.ts';
import { DenseGradWeight } from '../../kernels/dense_backward.ts';
import type { BlockOperator } from '../numerics/ritz.ts';
import type { TrajectoryOperator } from '../numerics/trajectory-svd.ts';

/** Column-major float64 (n×b) → row-major float32 (n, b). */
export function toRowMajorF32(V: Float64Array, n: number, b: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n * b);
  for (let j = 0; j < b; j++) for (let i = 0; i < n; i++) out[i * b + j] = V[j * n + i];
  return out;
}

/** Row-major float32 (n, b) → column-major float64 (n×b), times `scale`. */
export function toColMajorF64(Y: Float32Array, n: number, b: number, scale = 1): Float64Array {
  const out = new Float64Array(n * b);
  for (let i = 0; i < n; i++) for (let j = 0; j < b; j++) out[j * n + i] = Y[i * b + j] * scale;
  return out;
}

export interface OperatorStats {
  calls: number;
  columns: number;
  ms: number;
}

export async function scatterOperator(ctx: GpuContext, S: GPUBuffer, P: number, maxCols: number, scale: number): Promise<{ op: BlockOperator; stats: OperatorStats }> {
  const fwd = await DenseForward.create(ctx, { act: 'identity', bias: false, shape: { m: P, k: P, n: maxCols }, label: 'lab.SV' });
  const v = createStorage(ctx, 'lab.SV.v', P * maxCols * 4);
  const y = createStorage(ctx, 'lab.SV.y', P * maxCols * 4);
  const bg = fwd.bind({ x: S, w: v, y });
  const stats: OperatorStats = { calls: 0, columns: 0, ms: 0 };
  const op: BlockOperator = async (V, b) => {
    if (b > maxCols) throw new Error(`scatterOperator: ${b} columns exceed the ${maxCols} allocated`);
    const t0 = performance.now();
    ctx.device.queue.writeBuffer(v, 0, toRowMajorF32(V, P, b));
    const batch = new GpuBatch(ctx, 'lab.SV');
    fwd.encode(batch, bg, { m: P, k: P, n: b });
    batch.submit();
    const out = toColMajorF64(await readF32(ctx, y, 0, P * b), P, b, scale);
    stats.calls++;
    stats.columns += b;
    stats.ms += performance.now() - t0;
    return out;
  };
  return { op, stats };
}

export async function trajectoryOperator(
  ctx: GpuContext,
  X: GPUBuffer,
  T: number,
  P: number,
  maxCols: number,
  sumOfSquares: number,
): Promise<{ op: TrajectoryOperator; stats: OperatorStats }> {
  const [fwd, gw] = await Promise.all([
    DenseForward.create(ctx, { act: 'identity', bias: false, shape: { m: T, k: P, n: maxCols }, label: 'lab.XV' }),
    DenseGradWeight.create(ctx, { bias: false, shape: { m: T, k: P, n: maxCols }, label: 'lab.XtU' }),
  ]);
  const v = createStorage(ctx, 'lab.XV.v', P * maxCols * 4);
  const xv = createStorage(ctx, 'lab.XV.y', T * maxCols * 4);
  const u = createStorage(ctx, 'lab.XtU.u', T * maxCols * 4);
  const xtu = createStorage(ctx, 'lab.XtU.y', P * maxCols * 4);
  const bgF = fwd.bind({ x: X, w: v, y: xv });
  const bgW = gw.bind({ x: X, dz: u, dw: xtu });
  const stats: OperatorStats = { calls: 0, columns: 0, ms: 0 };
  const check = (b: number): void => {
    if (b > maxCols) throw new Error(`trajectoryOperator: ${b} columns exceed the ${maxCols} allocated`);
  };
  // One product: upload the CPU block (rows × b, column-major) as row-major f32, run one kernel,
  // read the (outRows × b) result back as column-major f64, and count it.
  const product = async (label: string, input: GPUBuffer, block: Float64Array, rows: number, b: number, encode: (batch: GpuBatch) => void, output: GPUBuffer, outRows: number): Promise<Float64Array> => {
    check(b);
    const t0 = performance.now();
    ctx.device.queue.writeBuffer(input, 0, toRowMajorF32(block, rows, b));
    const batch = new GpuBatch(ctx, label);
    encode(batch);
    batch.submit();
    const out = toColMajorF64(await readF32(ctx, output, 0, outRows * b), outRows, b);
    stats.calls++;
    stats.columns += b;
    stats.ms += performance.now() - t0;
    return out;
  };
  const op: TrajectoryOperator = {
    T,
    P,
    centred: true,
    sumOfSquares,
    mulX: (V, b) => product('lab.XV', v, V, P, b, (batch) => fwd.encode(batch, bgF, { m: T, k: P, n: b }), xv, T),
    mulXt: (U, b) => product('lab.XtU', u, U, T, b, (batch) => gw.encode(batch, bgW, { m: T, k: P, n: b }), xtu, P),
  };
  return { op, stats };
}
