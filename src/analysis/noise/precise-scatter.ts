/**
 * The scatter matrix of a recorded window, precise to its tail: S = Σ_t (x_t − μ)(x_t − μ)ᵀ in
 * float64 (returned as a Float64Array), from the window on the GPU (double-single accumulation,
 * shaders/scatter_ds.wgsl) or on the CPU (float64, window-scatter.ts).
 *
 * Which arithmetic a device gets is decided once per device by scatterArithmetic: the probe entry
 * checks that fma is fused (else Dekker's split is tried) and that TwoSum's error terms are exact,
 * then the accumulation kernel itself must reproduce a float64 scatter of a small window whose
 * mean is 10⁴× its spread to 1e-11 — a float32 accumulation misses by ~1e-6. A device that fails
 * both is given the CPU route, with the reason recorded. Nothing here assumes the adapter is
 * software or hardware; bench/ measures what each route costs where it runs.
 */
import type { GpuContext } from '../../gpu/device.ts';
import { GpuBatch } from '../../gpu/batch.ts';
import { createStorage, readF32 } from '../../gpu/buffers.ts';
import { DurationEstimate, gentleWait } from '../../gpu/sync.ts';
import { ScatterDsKernels } from '../../kernels/scatter_ds.ts';
import { centredScatterRef, probeRef } from '../../kernels/scatter_ds.ref.ts';
import { Rng } from '../../util/rng.ts';
import { scatterF64 } from '../numerics/window-scatter.ts';
import { loadLinalg } from '../numerics/wasm/linalg.ts';

export type ScatterArithmetic = 'ds-fma' | 'ds-dekker' | 'cpu-f64';

export interface ArithmeticCheck {
  arithmetic: ScatterArithmetic;
  /** What was tried and why it was (not) taken. */
  notes: string[];
}

const checks = new WeakMap<GPUDevice, Promise<ArithmeticCheck>>();

/** The arithmetic the precise scatter uses on this device (checked once per device). */
export function scatterArithmetic(ctx: GpuContext): Promise<ArithmeticCheck> {
  let c = checks.get(ctx.device);
  if (!c) {
    c = checkArithmetic(ctx);
    checks.set(ctx.device, c);
  }
  return c;
}

async function checkArithmetic(ctx: GpuContext): Promise<ArithmeticCheck> {
  const notes: string[] = [];
  for (const exactFma of [true, false]) {
    const name = exactFma ? 'ds-fma' : 'ds-dekker';
    const k = await ScatterDsKernels.create(ctx, { exactFma });
    const probe = await probeArithmetic(ctx, k);
    if (probe) {
      notes.push(`${name}: ${probe}`);
      continue;
    }
    const err = await knownWindowError(ctx, k);
    if (!(err <= 1e-11)) {
      notes.push(`${name}: a known window's scatter is off by ${err.toExponential(2)} of its largest entry (allowed 1e-11)`);
      continue;
    }
    notes.push(`${name}: exact products and sums; a known window's scatter within ${err.toExponential(1)} of float64`);
    return { arithmetic: name, notes };
  }
  notes.push('cpu-f64: the GPU arithmetic failed the checks above; S is accumulated in float64 on the CPU');
  return { arithmetic: 'cpu-f64', notes };
}

/** null if every probe pair comes back exact, else what differed. */
async function probeArithmetic(ctx: GpuContext, k: ScatterDsKernels): Promise<string | null> {
  const rng = new Rng(7);
  const pairs: [number, number][] = [
    [1 + 2 ** -12 + 2 ** -20, 1 + 2 ** -12 + 2 ** -21],
    [3.1415927, -2.7182817],
    [1e-3, 1 + 2 ** -23],
    [1, 2 ** -30],
  ];
  while (pairs.length < 64) pairs.push([Math.fround(rng.normal() * 2 ** (rng.uniform() * 20 - 10)), Math.fround(rng.normal())]);
  const input = new Float32Array(pairs.flat());
  const n = pairs.length;
  const inBuf = createStorage(ctx, 'scatter_ds.probe.in', input);
  const outBuf = createStorage(ctx, 'scatter_ds.probe.out', 4 * n * 4);
  const batch = new GpuBatch(ctx, 'scatter_ds.probe');
  k.encodeProbe(batch, k.bindProbe({ probe_in: inBuf, probe_out: outBuf }), n);
  batch.submit();
  const out = await readF32(ctx, outBuf, 0, 4 * n);
  inBuf.destroy();
  outBuf.destroy();
  const what = ['a·b', 'error of a·b', 'a + b', 'error of a + b'];
  for (let i = 0; i < n; i++) {
    const want = probeRef(input[2 * i], input[2 * i + 1]);
    for (let q = 0; q < 4; q++) {
      if (out[4 * i + q] !== Math.fround(want[q])) return `${what[q]} for a = ${input[2 * i]}, b = ${input[2 * i + 1]}: got ${out[4 * i + q]}, exact ${want[q]}`;
    }
  }
  return null;
}

/** max |S_gpu − S_f64| / max |S_f64| on a window whose mean is 10⁴× its spread. */
async function knownWindowError(ctx: GpuContext, k: ScatterDsKernels): Promise<number> {
  const [T, P] = [57, 23];
  const rng = new Rng(11);
  const base = Array.from({ length: P }, () => 1 + rng.uniform());
  const x = new Float32Array(T * P);
  for (let t = 0; t < T; t++) for (let p = 0; p < P; p++) x[t * P + p] = base[p] * (1 + 1e-4 * (rng.normal() + (p % 2 ? t / T : 0)));
  const mean = new Float64Array(P);
  for (let t = 0; t < T; t++) for (let p = 0; p < P; p++) mean[p] += x[t * P + p] / T;
  const S = await dsScatter(ctx, k, createStorage(ctx, 'scatter_ds.check.x', x), T, P, mean, { rowsPerDispatch: 20 });
  const ref = centredScatterRef(x, P, mean, 0, T);
  let maxRef = 0;
  let maxErr = 0;
  for (let i = 0; i < P * P; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
    maxErr = Math.max(maxErr, Math.abs(S[i] - ref[i]));
  }
  return maxErr / maxRef;
}

export interface PreciseScatterOptions {
  /** Rows added per dispatch (default: about 2²⁸ pair products per dispatch). */
  rowsPerDispatch?: number;
  /** Called after each submitted group of dispatches with the rows done. */
  onProgress?: (rowsDone: number, T: number) => void;
}

/** Double-single S of rows 0 .. T − 1 of x (on the GPU) about the float64 mean μ (not read back with readBack: false). */
async function dsScatter(ctx: GpuContext, k: ScatterDsKernels, x: GPUBuffer, T: number, P: number, mean: Float64Array, o: PreciseScatterOptions & { readBack?: boolean } = {}): Promise<Float64Array> {
  const ref = Float32Array.from(mean);
  const lo = Float32Array.from(mean, (m, p) => m - ref[p]);
  const refBuf = createStorage(ctx, 'scatter_ds.ref', ref);
  const loBuf = createStorage(ctx, 'scatter_ds.mean_lo', lo);
  const sHi = createStorage(ctx, 'scatter_ds.s_hi', P * P * 4);
  const sLo = createStorage(ctx, 'scatter_ds.s_lo', P * P * 4);
  const bg = k.bindAccumulate({ x, ref_row: refBuf, mean_lo: loBuf, s_hi: sHi, s_lo: sLo });
  const R = Math.max(1, Math.min(T, o.rowsPerDispatch ?? Math.round(2 ** 29 / (P * P))));
  const perRow = new DurationEstimate(0.5);
  const perSubmit = 4;
  try {
    for (let row0 = 0; row0 < T; ) {
      const batch = new GpuBatch(ctx, 'scatter_ds');
      const start = row0;
      for (let d = 0; d < perSubmit && row0 < T; d++) {
        const rows = Math.min(R, T - row0);
        k.encodeAccumulate(batch, bg, { rows, cols: P, row0, first: row0 === 0 });
        row0 += rows;
      }
      batch.submit();
      const t0 = performance.now();
      await gentleWait(perRow.ms * (row0 - start), () => ctx.device.queue.onSubmittedWorkDone());
      perRow.update((performance.now() - t0) / (row0 - start));
      o.onProgress?.(row0, T);
    }
    if (o.readBack === false) return new Float64Array(0);
    const hi = await readF32(ctx, sHi, 0, P * P);
    const low = await readF32(ctx, sLo, 0, P * P);
    const S = new Float64Array(P * P);
    for (let i = 0; i < P * P; i++) S[i] = hi[i] + low[i];
    return S;
  } finally {
    for (const b of [refBuf, loBuf, sHi, sLo]) b.destroy();
  }
}

export interface PreciseScatterResult {
  /** S (P, P) row-major, float64. */
  S: Float64Array;
  arithmetic: ScatterArithmetic;
  /** Why this arithmetic: the device check, and with 'auto' the adapter rule. */
  reason: string;
  ms: number;
}

/**
 * S of the window about its float64 mean `mean`: on the GPU from `gpu` (T × P rows) with the
 * arithmetic this device passed, or on the CPU from `cpu` (the same rows) — `arithmetic` forces
 * one ('auto': the checked GPU route on a hardware adapter; the CPU on a software one or when the
 * GPU arithmetic failed its check).
 */
export async function preciseScatter(
  ctx: GpuContext,
  window: { gpu: GPUBuffer; cpu: Float32Array; T: number; P: number; mean: Float64Array },
  o: PreciseScatterOptions & { arithmetic?: 'auto' | ScatterArithmetic } = {},
): Promise<PreciseScatterResult> {
  const t0 = performance.now();
  const { T, P, mean } = window;
  await loadLinalg(); // the CPU route's SIMD kernels (null where unavailable: plain JavaScript)
  let arithmetic = o.arithmetic ?? 'auto';
  let reason = 'as asked';
  if (arithmetic === 'auto') {
    const check = await scatterArithmetic(ctx);
    arithmetic = check.arithmetic;
    reason = check.notes.at(-1) ?? '';
    if (arithmetic !== 'cpu-f64' && ctx.isSoftware) {
      // Both routes are exact enough. A GPU emulated on the CPU runs double-single far slower than
      // the same CPU runs float64 (SwiftShader: 6–15× at P = 625–2500), so take the CPU there. A
      // rule about the adapter, not a timing: a timing could flip with the machine's load and a
      // rerun (or a resumed run, or the same run through the queue) would differ in its last digits.
      arithmetic = 'cpu-f64';
      reason += '; the adapter is a CPU emulation: float64 on the CPU itself is exact and faster';
    }
  }
  if (arithmetic === 'cpu-f64') {
    const S = scatterF64(window.cpu, T, P, mean, { onBlock: (done) => o.onProgress?.(done, T) });
    return { S, arithmetic, reason, ms: performance.now() - t0 };
  }
  const k = await ScatterDsKernels.create(ctx, { exactFma: arithmetic === 'ds-fma' });
  const S = await dsScatter(ctx, k, window.gpu, T, P, mean, o);
  return { S, arithmetic, reason, ms: performance.now() - t0 };
}
