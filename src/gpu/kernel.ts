/**
 * A compute kernel built from a .wgsl file in shaders/: its pipeline, its bind-group layout (from
 * reflection), its workgroup size (from the override constants it was built with) and its uniform
 * packing. Adding a kernel is writing the shader plus a thin typed wrapper in src/kernels/.
 *
 * Every kernel's uniform binding is bound with a dynamic offset into the context's uniform arena
 * (src/gpu/uniform-arena.ts), so one bind group serves every dispatch and each dispatch can carry
 * its own uniform values (step index, learning rate) inside one command buffer.
 */
import type { GpuContext } from './device.ts';
import { checkCompilation } from './compile-errors.ts';
import { reflectEntry, type EntryReflection, type OverrideDecl } from './reflect.ts';
import { shaderInclude, shaderSource } from './shader-source.ts';
import { packUniforms, type UniformValues } from './uniforms.ts';
import { uniformArena } from './uniform-arena.ts';
import { evaluate } from './expr.ts';
import { expandShader, hasTemplate, type Expanded, type TemplateKeys } from './template.ts';

export type Constants = Record<string, number | boolean>;

export interface KernelSpec {
  /** File name in shaders/ without .wgsl; with `source`, the name its messages use ('kernel.wgsl'). */
  shader: string;
  /**
   * WGSL text to compile instead of shaders/<shader>.wgsl (a kernel typed into the kernel lab).
   * Includes of shaders/lib/ and the template syntax work as in a shader file.
   */
  source?: string;
  /** @compute entry point (default 'main'). */
  entry?: string;
  /** Values for the shader's `override` declarations. Unknown names and missing required ones are errors. */
  constants?: Constants;
  /** Label prefix for every GPU object (default '<shader>.<entry>'). */
  label?: string;
  /**
   * Values for the shader's {{KEY}} template keys (src/gpu/template.ts): only the unrolled
   * register-tile sizes, which WGSL cannot express efficiently. Required iff the shader has keys.
   */
  template?: TemplateKeys;
}

export type BufferResource = GPUBuffer | GPUBufferBinding;

const moduleCache = new WeakMap<GPUDevice, Map<string, Promise<GPUShaderModule>>>();
const kernelCache = new WeakMap<GPUDevice, Map<string, Promise<Kernel>>>();

export class Kernel {
  readonly workgroupSize: [number, number, number];
  private constructor(
    readonly ctx: GpuContext,
    readonly label: string,
    readonly file: string,
    readonly reflection: EntryReflection,
    readonly pipeline: GPUComputePipeline,
    readonly layout: GPUBindGroupLayout,
    readonly constants: Constants,
  ) {
    this.workgroupSize = evalWorkgroupSize(reflection, constants, file);
  }

  /**
   * The kernel for `spec`, compiled once per device: a second request with the same shader,
   * entry, template, constants and label returns the same (immutable) Kernel. Pipelines cost
   * 0.3–2 s each to compile on SwiftShader, and a deep MLP asks for the same few per layer.
   */
  static create(ctx: GpuContext, spec: KernelSpec): Promise<Kernel> {
    let perDevice = kernelCache.get(ctx.device);
    if (!perDevice) kernelCache.set(ctx.device, (perDevice = new Map()));
    const key = JSON.stringify([spec.shader, spec.source ?? null, spec.entry ?? 'main', spec.label ?? null, spec.template ?? null, Object.entries(spec.constants ?? {}).sort()]);
    let pending = perDevice.get(key);
    if (!pending) {
      pending = Kernel.build(ctx, spec);
      perDevice.set(key, pending);
      pending.catch(() => perDevice!.delete(key));
    }
    return pending;
  }

  private static async build(ctx: GpuContext, spec: KernelSpec): Promise<Kernel> {
    const entry = spec.entry ?? 'main';
    const file = spec.source !== undefined ? spec.shader : `shaders/${spec.shader}.wgsl`;
    const label = spec.label ?? `${spec.shader}.${entry}`;
    const raw = spec.source ?? shaderSource(spec.shader);
    if (hasTemplate(raw) !== (spec.template !== undefined)) {
      throw new Error(hasTemplate(raw) ? `${file}: the shader has template keys; give them in KernelSpec.template` : `${file}: the shader has no template keys, but template values were given`);
    }
    // Includes, then the template: reflection and compilation both see the expanded text.
    const expanded = expandShader(raw, file, spec.template, shaderInclude);
    const source = expanded.code;
    const reflection = reflectEntry(source, entry, file);
    const constants = checkConstants(reflection.overrides, spec.constants ?? {}, file);
    const { device } = ctx;

    const moduleKey = (spec.template ? `${spec.shader}?${JSON.stringify(spec.template)}` : spec.shader) + (spec.source !== undefined ? `\n${spec.source}` : '');
    const module = await shaderModule(ctx, moduleKey, file, expanded);
    device.pushErrorScope('validation');
    const layout = device.createBindGroupLayout({
      label: `${label}.bindGroupLayout`,
      entries: reflection.bindings.map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: {
          type: b.kind,
          hasDynamicOffset: b.kind === 'uniform',
          minBindingSize: b.kind === 'uniform' ? roundUp(b.minBindingSize, 16) : 0,
        },
      })),
    });
    const pipelineLayout = device.createPipelineLayout({ label: `${label}.pipelineLayout`, bindGroupLayouts: [layout] });
    const layoutError = await device.popErrorScope();
    if (layoutError) throw new Error(`${label}: bind-group layout from reflection rejected: ${layoutError.message}`);

    let pipeline: GPUComputePipeline;
    try {
      pipeline = await device.createComputePipelineAsync({
        label: `${label}.pipeline`,
        layout: pipelineLayout,
        compute: { module, entryPoint: entry, constants: toPipelineConstants(constants) },
      });
    } catch (e) {
      const consts = Object.entries(constants).map(([k, v]) => `${k}=${v}`).join(', ') || 'none';
      throw new Error(`${file}: pipeline for entry '${entry}' (constants: ${consts}) failed: ${(e as Error).message}`);
    }
    return new Kernel(ctx, label, file, reflection, pipeline, layout, constants);
  }

  /** Names of the buffers this entry point binds, in binding order (the uniform struct excluded). */
  get bufferNames(): string[] {
    return this.reflection.bindings.filter((b) => b.kind !== 'uniform').map((b) => b.name);
  }

  /**
   * A bind group from buffers named as in the shader. Missing or unknown names, buffers without
   * the needed usage, too small or misaligned ranges are reported here rather than as a
   * validation error at submit time.
   */
  bindGroup(resources: Record<string, BufferResource>, label = `${this.label}.bindGroup`): GPUBindGroup {
    const { device } = this.ctx;
    const names = new Set(this.bufferNames);
    for (const key of Object.keys(resources)) {
      if (!names.has(key)) {
        throw new Error(`${this.label}: the shader binds no buffer '${key}' (binds: ${this.bufferNames.join(', ')})`);
      }
    }
    const entries: GPUBindGroupEntry[] = [];
    for (const b of this.reflection.bindings) {
      if (b.kind === 'uniform') {
        const arena = uniformArena(this.ctx);
        entries.push({ binding: b.binding, resource: { buffer: arena.buffer, offset: 0, size: roundUp(b.minBindingSize, 16) } });
        continue;
      }
      const r = resources[b.name];
      if (!r) throw new Error(`${this.label}: buffer '${b.name}' (binding ${b.binding}) was not given`);
      // A GPUBufferBinding is a plain record with a `buffer` field; a GPUBuffer has none.
      const binding: GPUBufferBinding = 'buffer' in r ? r : { buffer: r };
      const need = GPUBufferUsage.STORAGE;
      if ((binding.buffer.usage & need) === 0) {
        throw new Error(`${this.label}: buffer '${b.name}' (${binding.buffer.label}) lacks STORAGE usage`);
      }
      const offset = binding.offset ?? 0;
      const align = device.limits.minStorageBufferOffsetAlignment;
      if (offset % align !== 0) throw new Error(`${this.label}: '${b.name}' offset ${offset} is not a multiple of ${align}`);
      const size = binding.size ?? binding.buffer.size - offset;
      if (size < b.minBindingSize || offset + size > binding.buffer.size) {
        throw new Error(
          `${this.label}: '${b.name}' range [${offset}, ${offset + size}) of ${binding.buffer.label} (size ${binding.buffer.size}) is invalid (needs ≥ ${b.minBindingSize} bytes)`,
        );
      }
      entries.push({ binding: b.binding, resource: binding });
    }
    // Reflection caught what it can above; anything else WebGPU rejects is reported with this
    // bind group's label (as an uncaptured error the trainer checks after each chunk), without
    // making bind-group creation async.
    device.pushErrorScope('validation');
    const group = device.createBindGroup({ label, layout: this.layout, entries });
    void device.popErrorScope().then((err) => {
      if (err) this.ctx.uncapturedErrors.push(`${label}: ${err.message}`);
    });
    return group;
  }

  get hasUniforms(): boolean {
    return this.reflection.uniform !== null;
  }

  /** Writes this kernel's uniform struct at `offset` of `view`. */
  packUniforms(values: UniformValues, view: DataView, offset: number): void {
    const u = this.reflection.uniform;
    if (!u) {
      if (Object.keys(values).length > 0) throw new Error(`${this.label}: the shader has no uniform struct, got ${Object.keys(values).join(', ')}`);
      return;
    }
    packUniforms(this.label, u.layout, values, view, offset);
  }

  get uniformSize(): number {
    return this.reflection.uniform ? roundUp(this.reflection.uniform.layout.size, 16) : 0;
  }
}

async function shaderModule(ctx: GpuContext, name: string, file: string, expanded: Expanded): Promise<GPUShaderModule> {
  let perDevice = moduleCache.get(ctx.device);
  if (!perDevice) moduleCache.set(ctx.device, (perDevice = new Map()));
  let pending = perDevice.get(name);
  if (!pending) {
    pending = (async () => {
      ctx.device.pushErrorScope('validation');
      const module = ctx.device.createShaderModule({ label: `${name}.module`, code: expanded.code });
      const scopeError = ctx.device.popErrorScope();
      await checkCompilation(module, file, expanded);
      const err = await scopeError;
      if (err) throw new Error(`${file}: shader module rejected: ${err.message}`);
      return module;
    })();
    perDevice.set(name, pending);
    pending.catch(() => perDevice!.delete(name));
  }
  return pending;
}

function checkConstants(decls: OverrideDecl[], given: Constants, file: string): Constants {
  const known = new Map(decls.map((d) => [d.name, d]));
  for (const key of Object.keys(given)) {
    if (!known.has(key)) {
      throw new Error(`${file}: no override '${key}' (overrides: ${decls.map((d) => d.name).join(', ') || 'none'})`);
    }
  }
  for (const d of decls) {
    if (!d.hasDefault && given[d.name] === undefined) {
      throw new Error(`${file}: override '${d.name}' has no default and was not given`);
    }
  }
  return { ...given };
}

function toPipelineConstants(c: Constants): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(c)) out[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
  return out;
}

function evalWorkgroupSize(r: EntryReflection, constants: Constants, file: string): [number, number, number] {
  // wgsl_reflect cannot parse expressions inside @workgroup_size, so shaders name an override there
  // (override WG_X: u32 = BN / 4u;). Its value: the pipeline constant if given, else its
  // initializer, evaluated here with literals, other overrides, true/false, and * / + -.
  const decls = new Map(r.overrides.map((d) => [d.name, d]));
  const value = (name: string, depth = 0): number => {
    if (depth > 16) throw new Error(`${file}: override '${name}' is defined in a cycle`);
    const c = constants[name];
    if (c !== undefined) return Number(c);
    const init = decls.get(name)?.init;
    if (init === undefined || init === null) throw new Error(`${file}: workgroup_size uses '${name}', which has no value`);
    return evalExpr(init, (n) => value(n, depth + 1), file);
  };
  const dims = r.workgroupSizeExpr.map((e) => evalExpr(e, value, file));
  return [dims[0] ?? 1, dims[1] ?? 1, dims[2] ?? 1];
}

/** Integer arithmetic on literals and names (WGSL u32 semantics: integer division), src/gpu/expr.ts. */
function evalExpr(expr: string, lookup: (name: string) => number, file: string): number {
  try {
    return evaluate(expr, lookup, { intDiv: true });
  } catch (e) {
    const m = (e as Error).message;
    throw new Error(m.startsWith(file) ? m : `${file}: cannot evaluate ${m}`);
  }
}

export function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/** Workgroup count covering n items with groups of size g. */
export function groups(n: number, g: number): number {
  return Math.max(1, Math.ceil(n / g));
}
