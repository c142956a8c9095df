/**
 * A user's bindings matched to the problem's buffers by name (as every sgdscope kernel binds), and
 * its uniform struct's fields to the values the problem supplies. Each mismatch is one message that
 * names the binding or field and says what the problem expects.
 */
import type { EntryReflection } from '../gpu/reflect.ts';
import type { BufferDecl, Params, Problem } from './catalog.ts';

/** The scalar type a binding's WGSL type holds: array<vec4f> → f32, array<atomic<u32>> → u32. */
export function scalarOf(type: string): string | null {
  const m = /\b(f32|u32|i32|f16)\b/.exec(type) ?? /\bvec[234]([fuih])\b/.exec(type);
  if (!m) return null;
  return m[1].length === 1 ? { f: 'f32', u: 'u32', i: 'i32', h: 'f16' }[m[1]]! : m[1];
}

function describe(b: BufferDecl): string {
  return `${b.name} ${b.shape} ${b.scalar} ${b.role}`;
}

/** Why the entry point cannot run on this problem's buffers (empty: it can). */
export function bindingProblems(r: EntryReflection, problem: Problem, p: Params): string[] {
  const buffers = problem.buffers(p);
  const byName = new Map(buffers.map((b) => [b.name, b]));
  const out: string[] = [];
  const list = buffers.map(describe).join('; ');
  for (const b of r.bindings) {
    if (b.kind === 'uniform') continue;
    const want = byName.get(b.name);
    if (!want && problem.unused?.includes(b.name)) continue;
    if (!want) {
      out.push(`binding '${b.name}' (@binding(${b.binding})) is not a buffer of this problem; its buffers are: ${list}`);
      continue;
    }
    if (want.role === 'output' && b.kind !== 'storage') {
      out.push(`'${b.name}' is an output: declare it var<storage, read_write> (it is read-only)`);
    }
    const scalar = scalarOf(b.type);
    if (scalar !== want.scalar) {
      out.push(`'${b.name}' holds ${want.scalar} values: declare it array<${want.scalar}> or an array of vectors of ${want.scalar} (it is ${b.type.replace(/, 0>$/, '>')})`);
    }
  }
  const bound = new Set(r.bindings.map((b) => b.name));
  for (const b of buffers) {
    if (b.role === 'output' && !bound.has(b.name)) {
      out.push(`the entry point '${r.entry}' never uses output '${b.name}' ${b.shape}: bind it as var<storage, read_write> ${b.name}: array<${b.scalar}> and write it`);
    }
  }
  if (r.uniform) {
    const offered = problem.uniforms(p);
    for (const f of r.uniform.layout.fields) {
      if (!(f.name in offered)) {
        out.push(`uniform field '${f.name}' of ${r.uniform.layout.structName} is not a value of this problem (values: ${Object.keys(offered).join(', ')})`);
      } else if (f.count !== 1) {
        out.push(`uniform field '${f.name}' must be a scalar (it holds ${f.count} values)`);
      }
    }
  }
  return out;
}

/** The problem's uniform values that the struct declares (all of them: bindingProblems checked). */
export function uniformValues(r: EntryReflection, problem: Problem, p: Params): Record<string, number> {
  const offered = problem.uniforms(p);
  return Object.fromEntries((r.uniform?.layout.fields ?? []).map((f) => [f.name, offered[f.name]]));
}
