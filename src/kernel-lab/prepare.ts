/**
 * What a run needs on the device: the problem's buffers (inputs written once, outputs reset to NaN
 * before every check so unwritten elements show), and a kernel built from WGSL text — the user's or
 * one of sgdscope's — bound to them by name, with its uniforms and its grid evaluated.
 */
import type { GpuContext } from '../gpu/device.ts';
import { Kernel, type Constants } from '../gpu/kernel.ts';
import { createStorage, readBuffer, stubBuffer, writeBuffer } from '../gpu/buffers.ts';
import { hasTemplate } from '../gpu/template.ts';
import { reflectEntry, type EntryReflection } from '../gpu/reflect.ts';
import type { GpuBatch } from '../gpu/batch.ts';
import { evalExpr, evalGrid, type GridVars } from '../../bench/core/grid.ts';
import type { EncodeCall } from '../../bench/core/timing.ts';
import type { BufferDecl, Params, Problem } from './catalog.ts';
import type { Inputs } from './data.ts';
import { bindingProblems, uniformValues } from './bind.ts';
import { GUARD_BUFFER } from './loop-guard.ts';
import { expand } from './source.ts';

/** A run that cannot go on, with the stage and the messages to show. */
export class LabError extends Error {
  constructor(readonly stage: 'source' | 'bind' | 'pipeline' | 'grid', readonly messages: string[]) {
    super(messages.join('\n'));
  }
}

export class LabBuffers {
  readonly buffers = new Map<string, GPUBuffer>();
  readonly decls: BufferDecl[];
  /** The loop guard's flag (src/kernel-lab/loop-guard.ts). */
  readonly guard: GPUBuffer;

  constructor(readonly ctx: GpuContext, problem: Problem, p: Params, inputs: Inputs) {
    this.decls = problem.buffers(p);
    const limit = ctx.device.limits.maxStorageBufferBindingSize;
    for (const d of this.decls) {
      const bytes = 4 * d.elements;
      if (bytes > limit) throw new LabError('source', [`buffer '${d.name}' ${d.shape} needs ${bytes} bytes; this adapter binds at most ${limit}: choose smaller sizes`]);
    }
    for (const d of this.decls) {
      this.buffers.set(d.name, d.role === 'input' ? createStorage(ctx, `lab.${d.name}`, inputs[d.name]) : createStorage(ctx, `lab.${d.name}`, 4 * d.elements));
    }
    this.guard = createStorage(ctx, 'lab.guard', 16);
  }

  resetOutputs(): void {
    for (const d of this.decls) if (d.role === 'output') writeBuffer(this.ctx, this.buffers.get(d.name)!, new Float32Array(d.elements).fill(NaN));
    writeBuffer(this.ctx, this.guard, new Uint32Array(4));
  }

  async readOutputs(): Promise<Record<string, Float32Array>> {
    const out: Record<string, Float32Array> = {};
    for (const d of this.decls) if (d.role === 'output') out[d.name] = new Float32Array(await readBuffer(this.ctx, this.buffers.get(d.name)!, 0, 4 * d.elements));
    return out;
  }

  async guardTripped(): Promise<boolean> {
    return new Uint32Array(await readBuffer(this.ctx, this.guard, 0, 4))[0] !== 0;
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.guard.destroy();
  }
}

export interface KernelText {
  /** The name messages use: 'kernel.wgsl' or 'shaders/dense_forward.wgsl'. */
  file: string;
  source: string;
  entry: string;
  template: Record<string, number>;
  overrides: Constants;
  grid: readonly string[];
}

export interface BuiltKernel {
  kernel: Kernel;
  reflection: EntryReflection;
  grid: [number, number, number];
  uniforms: Record<string, number>;
  encode: EncodeCall;
}

/** Values of the overrides for grid expressions: given, else their initializers where they evaluate. */
function overrideValues(r: EntryReflection, given: Constants, base: GridVars): GridVars {
  const out: GridVars = { ...base };
  for (const d of r.overrides) {
    if (given[d.name] !== undefined) out[d.name] = given[d.name];
    else if (d.init !== null) {
      try {
        out[d.name] = evalExpr(d.init.replace(/(\d)[uif]\b/g, '$1'), out);
      } catch {
        // An initializer the grid evaluator cannot read: the grid cannot use that name.
      }
    }
  }
  return out;
}

/**
 * `text` compiled for `problem` and bound to `bufs`. `guardedCode` replaces the compiled text (the
 * loop-guarded variant, already expanded) and binds the guard's flag too.
 */
export async function buildKernel(ctx: GpuContext, problem: Problem, p: Params, text: KernelText, bufs: LabBuffers, label: string, guardedCode?: string): Promise<BuiltKernel> {
  let code: string;
  try {
    code = guardedCode ?? expand(text.source, text.template).code;
  } catch (e) {
    throw new LabError('source', [(e as Error).message]);
  }
  let reflection: EntryReflection;
  try {
    reflection = reflectEntry(code, text.entry, text.file);
  } catch (e) {
    throw new LabError('bind', [(e as Error).message]);
  }
  if (!guardedCode) {
    const problems = bindingProblems(reflection, problem, p);
    if (problems.length) throw new LabError('bind', problems);
  }
  const declared = new Set(reflection.overrides.map((d) => d.name));
  const fixed = problem.fixed(p);
  const constants: Constants = { ...text.overrides };
  for (const [k, v] of Object.entries(fixed)) if (declared.has(k)) constants[k] = v;
  let kernel: Kernel;
  try {
    kernel = await Kernel.create(ctx, {
      shader: text.file,
      source: guardedCode ?? text.source,
      entry: text.entry,
      template: !guardedCode && hasTemplate(text.source) ? text.template : undefined,
      constants,
      label,
    });
  } catch (e) {
    throw new LabError('pipeline', [(e as Error).message]);
  }
  let grid: [number, number, number];
  try {
    const [wx, wy, wz] = kernel.workgroupSize;
    const base: GridVars = { ...problem.sizes(p), ...fixed, ...text.template, wg_x: wx, wg_y: wy, wg_z: wz };
    grid = evalGrid(text.grid, overrideValues(reflection, constants, base), ctx.device.limits.maxComputeWorkgroupsPerDimension);
  } catch (e) {
    throw new LabError('grid', [(e as Error).message]);
  }
  const resources: Record<string, GPUBuffer> = {};
  // The problem's unused bindings each get their own stub (some are read_write: no aliasing).
  let stubs = 0;
  for (const name of kernel.bufferNames) resources[name] = name === GUARD_BUFFER ? bufs.guard : (bufs.buffers.get(name) ?? stubBuffer(ctx, stubs++));
  const bindGroup = kernel.bindGroup(resources, `${label}.bindGroup`);
  const uniforms = uniformValues(reflection, problem, p);
  return { kernel, reflection, grid, uniforms, encode: (b: GpuBatch) => b.dispatch(kernel, bindGroup, uniforms, grid) };
}
