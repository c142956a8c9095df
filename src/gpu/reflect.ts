/**
 * What a compute entry point needs, read from its WGSL with wgsl_reflect: the bindings it uses
 * (name, kind, size), its uniform struct's layout, and its override constants. The bind-group
 * layout and the uniform packing are derived from this, so a kernel's TS wrapper never repeats
 * what the shader already says.
 */
// The package's "main" is a CommonJS build under "type": "module", which plain Node cannot load;
// the ES module build works in Node, Vite and Vitest alike.
import { WgslReflect, ResourceType, type VariableInfo, type TypeInfo } from 'wgsl_reflect/wgsl_reflect.module.js';

export type BindingKind = 'uniform' | 'read-only-storage' | 'storage';

export interface BindingInfo {
  name: string;
  group: number;
  binding: number;
  kind: BindingKind;
  /** Bytes of one element for runtime-sized arrays, or the whole size for fixed-size types. */
  minBindingSize: number;
  /** The WGSL type as wgsl_reflect names it, e.g. 'array<f32, 0>' (0: runtime-sized), 'array<vec4f, 0>'. */
  type: string;
}

export type ScalarType = 'f32' | 'u32' | 'i32';

export interface UniformField {
  name: string;
  offset: number;
  scalar: ScalarType;
  /** Number of scalars (1 for a scalar, 4 for vec4, count·lanes for arrays). */
  count: number;
  /** Byte distance between consecutive scalars' groups (array stride for arrays of vectors). */
  lanes: number;
  stride: number;
}

export interface UniformLayout {
  structName: string;
  size: number;
  fields: UniformField[];
}

export interface OverrideDecl {
  name: string;
  type: string;
  hasDefault: boolean;
  /** The initializer's text, e.g. '32' or 'BN / 4u' (used to size workgroups when not overridden). */
  init: string | null;
}

export interface EntryReflection {
  entry: string;
  bindings: BindingInfo[];
  uniform: { binding: BindingInfo; layout: UniformLayout } | null;
  overrides: OverrideDecl[];
  /** workgroup_size with the overrides' defaults; the kernel recomputes it from its constants. */
  workgroupSizeExpr: string[];
}

export function reflectEntry(source: string, entry: string, file: string): EntryReflection {
  let reflect: WgslReflect;
  try {
    reflect = new WgslReflect(source);
  } catch (e) {
    throw new Error(`${file}: wgsl_reflect could not parse the shader: ${(e as Error).message}`);
  }
  const fn = reflect.entry.compute.find((f) => f.name === entry);
  if (!fn) {
    const names = reflect.entry.compute.map((f) => f.name).join(', ') || '(none)';
    throw new Error(`${file}: no @compute entry point '${entry}' (compute entry points: ${names})`);
  }
  const bindings: BindingInfo[] = [];
  let uniform: EntryReflection['uniform'] = null;
  for (const v of fn.resources) {
    if (v.group !== 0) throw new Error(`${file}: ${v.name} uses @group(${v.group}); sgdscope kernels use group 0 only`);
    const kind = bindingKind(v, file);
    const type = (v.type as unknown as { getTypeName?: () => string }).getTypeName?.() ?? v.type.name;
    const info: BindingInfo = { name: v.name, group: v.group, binding: v.binding, kind, minBindingSize: minSize(v), type };
    bindings.push(info);
    if (kind === 'uniform') {
      if (uniform) throw new Error(`${file}:${entry}: more than one uniform binding (${uniform.binding.name}, ${v.name}); use one struct`);
      uniform = { binding: info, layout: uniformLayout(v, file) };
    }
  }
  bindings.sort((a, b) => a.binding - b.binding);
  return {
    entry,
    bindings,
    uniform,
    overrides: overrideDecls(source),
    workgroupSizeExpr: workgroupSizeExpr(source, entry, file),
  };
}

function bindingKind(v: VariableInfo, file: string): BindingKind {
  if (v.resourceType === ResourceType.Uniform) return 'uniform';
  if (v.resourceType === ResourceType.Storage) return v.access === 'read' ? 'read-only-storage' : 'storage';
  throw new Error(`${file}: binding ${v.name} is a ${ResourceType[v.resourceType]}; compute kernels here use buffers only`);
}

function minSize(v: VariableInfo): number {
  // Runtime-sized array: the smallest valid binding holds one element.
  if (v.type.isArray && (v.type as unknown as { count: number }).count === 0) {
    return Math.max(4, (v.type as unknown as { stride: number }).stride || 4);
  }
  return v.size;
}

function uniformLayout(v: VariableInfo, file: string): UniformLayout {
  if (!v.type.isStruct || !v.members) throw new Error(`${file}: uniform ${v.name} must be a struct`);
  const fields: UniformField[] = [];
  for (const m of v.members) {
    fields.push(fieldOf(m.name, m.offset, m.type, m.count, m.stride, file));
  }
  return { structName: v.type.name, size: v.size, fields };
}

function fieldOf(name: string, offset: number, type: TypeInfo, count: number, stride: number, file: string): UniformField {
  const scalarOf = (t: TypeInfo | null | undefined): ScalarType => {
    const n = t?.name ?? '';
    if (n === 'f32' || n === 'u32' || n === 'i32') return n;
    throw new Error(`${file}: uniform field ${name} has type ${n || '?'}; use f32, u32, i32, their vectors or arrays`);
  };
  const vecLanes = (t: TypeInfo): number => {
    const m = /^vec([234])/.exec(t.name);
    if (m) return Number(m[1]);
    const alias = /^vec([234])[fiu]$/.exec(t.name);
    return alias ? Number(alias[1]) : 1;
  };
  const formatOf = (t: TypeInfo): TypeInfo | null => (t as unknown as { format?: TypeInfo | null }).format ?? null;
  const shorthand = (t: TypeInfo): ScalarType | null =>
    /^vec[234]f$/.test(t.name) ? 'f32' : /^vec[234]u$/.test(t.name) ? 'u32' : /^vec[234]i$/.test(t.name) ? 'i32' : null;

  if (type.isArray) {
    const el = formatOf(type);
    if (!el) throw new Error(`${file}: uniform array ${name} has no element type`);
    const lanes = vecLanes(el);
    const scalar = lanes > 1 ? shorthand(el) ?? scalarOf(formatOf(el)) : scalarOf(el);
    return { name, offset, scalar, count: count * lanes, lanes, stride };
  }
  const lanes = vecLanes(type);
  if (lanes > 1) {
    const scalar = shorthand(type) ?? scalarOf(formatOf(type));
    return { name, offset, scalar, count: lanes, lanes, stride: lanes * 4 };
  }
  return { name, offset, scalar: scalarOf(type), count: 1, lanes: 1, stride: 4 };
}

/** Override declarations straight from the source: wgsl_reflect does not say which have defaults. */
export function overrideDecls(source: string): OverrideDecl[] {
  const out: OverrideDecl[] = [];
  const re = /^\s*(?:@id\(\s*\d+\s*\)\s*)?override\s+([A-Za-z_]\w*)\s*(?::\s*([A-Za-z_][\w<>]*))?\s*(?:=\s*([^;]*))?;/gm;
  for (const m of stripComments(source).matchAll(re)) {
    const init = m[3]?.trim() ?? null;
    out.push({ name: m[1], type: m[2] ?? 'inferred', hasDefault: init !== null, init });
  }
  return out;
}

function workgroupSizeExpr(source: string, entry: string, file: string): string[] {
  const re = new RegExp(`@workgroup_size\\(([^)]*)\\)\\s*fn\\s+${entry}\\b`);
  const m = re.exec(stripComments(source));
  if (!m) throw new Error(`${file}: could not find @workgroup_size(...) on fn ${entry}`);
  return m[1].split(',').map((s) => s.trim()).filter(Boolean);
}

export function stripComments(source: string): string {
  // Keep line structure so offsets in messages still point at the right lines.
  return source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, '');
}
