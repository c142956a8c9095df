/**
 * A kernel test in one call (tinygrad's helper_test_op in spirit): the shader and entry point, the
 * input arrays by binding name, the outputs' lengths, the uniforms, the grid, a plain-loop CPU
 * reference and the tolerance. The kernel runs on the GPU, every output is compared with
 * |gpu − ref| ≤ atol + |ref|·rtol, and the worst element is named in the failure.
 *
 *   await checkKernel(ctx(), { shader: 'foo', inputs: { x }, outputs: { y: n }, uniforms: { n },
 *     workgroups: [groups(n, 64)], reference: ({ x }) => ({ y: x.map((v) => 2 * v) }) });
 */
import { expect } from 'vitest';
import type { GpuContext } from '../../src/gpu/device.ts';
import { GpuBatch } from '../../src/gpu/batch.ts';
import { createStorage, readF32 } from '../../src/gpu/buffers.ts';
import { Kernel, type Constants } from '../../src/gpu/kernel.ts';
import type { UniformValues } from '../../src/gpu/uniforms.ts';
import type { TemplateKeys } from '../../src/gpu/template.ts';

export interface KernelCheck<I extends Record<string, Float32Array | Uint32Array>> {
  shader: string;
  entry?: string;
  constants?: Constants;
  template?: TemplateKeys;
  inputs: I;
  /** Output bindings and their lengths in floats (zero-filled before the run). */
  outputs: Record<string, number>;
  uniforms?: UniformValues;
  workgroups: [number, number?, number?];
  /** The spec: float64 plain loops over the same inputs. */
  reference: (inputs: I) => Record<string, ArrayLike<number>>;
  atol?: number;
  rtol?: number;
}

export async function checkKernel<I extends Record<string, Float32Array | Uint32Array>>(ctx: GpuContext, c: KernelCheck<I>): Promise<Record<string, Float32Array>> {
  const kernel = await Kernel.create(ctx, { shader: c.shader, entry: c.entry, constants: c.constants, template: c.template });
  const buffers: Record<string, GPUBuffer> = {};
  for (const [name, data] of Object.entries(c.inputs)) buffers[name] = createStorage(ctx, `check.${name}`, data);
  for (const [name, n] of Object.entries(c.outputs)) buffers[name] = createStorage(ctx, `check.${name}`, n * 4);
  const batch = new GpuBatch(ctx, `check.${c.shader}`);
  batch.dispatch(kernel, kernel.bindGroup(buffers), c.uniforms ?? {}, c.workgroups);
  batch.submit();
  const got: Record<string, Float32Array> = {};
  for (const [name, n] of Object.entries(c.outputs)) got[name] = await readF32(ctx, buffers[name], 0, n);
  const want = c.reference(c.inputs);
  const atol = c.atol ?? 1e-5;
  const rtol = c.rtol ?? 1e-4;
  for (const [name, ref] of Object.entries(want)) {
    const g = got[name];
    expect(g, `${c.shader}: no output '${name}'`).toBeDefined();
    expect(g.length, `${c.shader}.${name}: length`).toBe(ref.length);
    let worst = -1;
    let excess = 0;
    for (let i = 0; i < ref.length; i++) {
      const over = Math.abs(g[i] - ref[i]) - (atol + Math.abs(ref[i]) * rtol);
      if (!(over <= excess)) {
        excess = Number.isNaN(over) ? Infinity : over;
        worst = i;
      }
    }
    if (worst >= 0) expect.fail(`${c.shader}${c.entry ? `.${c.entry}` : ''}: ${name}[${worst}] = ${g[worst]}, reference ${ref[worst]} (atol ${atol}, rtol ${rtol})`);
  }
  for (const b of Object.values(buffers)) b.destroy();
  return got;
}
