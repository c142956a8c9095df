/**
 * A kernel typed into the lab, read the way shaders/*.wgsl are (src/gpu/template.ts: includes of
 * shaders/lib/ and the register-tile template), compiled for its messages, and reflected for the
 * page's forms. Messages are located at the line and column of the editor's text.
 */
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import { expandShader, hasTemplate, type Expanded } from '../gpu/template.ts';
import { shaderInclude } from '../gpu/shader-source.ts';
import { formatMessage } from '../gpu/compile-errors.ts';
import { overrideDecls, reflectEntry } from '../gpu/reflect.ts';
import type { Diagnostic, EntryInfo, Inspection } from './protocol.ts';

/** The name the lab's messages give the editor's text. */
export const FILE = 'kernel.wgsl';

export function templateKeys(source: string): string[] {
  return [...new Set([...source.matchAll(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g)].map((m) => m[1]))];
}

/** The text as compiled: includes, then the template when it has keys (values from `template`). */
export function expand(source: string, template: Record<string, number>): Expanded {
  const keys = hasTemplate(source) ? template : undefined;
  return expandShader(source, FILE, keys, shaderInclude);
}

/** Line (1-based) of the `// @include lib/x.wgsl` that brought in `file`, else 1. */
function includeLine(source: string, file: string): number {
  const lib = file.replace(/^shaders\//, '');
  const i = source.split('\n').findIndex((l) => /^\s*\/\/\s*@include\b/.test(l) && l.includes(lib));
  return i >= 0 ? i + 1 : 1;
}

/** Every compiler message, at the editor's line and column. */
export async function compileMessages(device: GPUDevice, source: string, ex: Expanded): Promise<Diagnostic[]> {
  // In an error scope: an invalid module is also a validation error, which would otherwise be
  // reported as uncaptured. The compilation messages say everything it would.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: 'lab.check', code: ex.code });
  const scope = device.popErrorScope();
  const info = await module.getCompilationInfo();
  await scope;
  return info.messages.map((m) => {
    const at = ex.lineMap[m.lineNum - 1] ?? { file: FILE, line: Math.max(1, m.lineNum) };
    const text = formatMessage(m, FILE, ex);
    if (at.file !== FILE) {
      return { line: includeLine(source, at.file), col: 0, length: 0, severity: m.type, message: `${at.file}:${at.line}: ${m.message}`, text };
    }
    // The column is the compiled line's: valid where that line is the written one.
    const same = ex.code.split('\n')[m.lineNum - 1] === source.split('\n')[at.line - 1];
    return { line: at.line, col: same ? m.linePos : 0, length: same ? m.length : 0, severity: m.type, message: m.message, text };
  });
}

/** Entry points, bindings, uniform fields and overrides, for the page's forms. */
export function inspect(source: string): Inspection {
  const keys = templateKeys(source);
  try {
    // Template values do not change what an entry point binds: read it with every key = 1.
    const ex = expand(source, Object.fromEntries(keys.map((k) => [k, 1])));
    const reflect = new WgslReflect(ex.code);
    const overrides = overrideDecls(ex.code).map((d) => ({ name: d.name, type: d.type, init: d.init }));
    const entries: EntryInfo[] = reflect.entry.compute.map((f) => {
      const r = reflectEntry(ex.code, f.name, FILE);
      return {
        name: f.name,
        bindings: r.bindings.map((b) => ({ name: b.name, binding: b.binding, kind: b.kind, type: b.type })),
        uniformFields: r.uniform?.layout.fields.map((x) => x.name) ?? [],
        overrides,
        workgroupSize: r.workgroupSizeExpr,
      };
    });
    return { entries, templateKeys: keys, error: entries.length ? null : 'no @compute entry point' };
  } catch (e) {
    return { entries: [], templateKeys: keys, error: (e as Error).message.split('\n')[0] };
  }
}
