/**
 * WGSL compile errors as `shaders/<file>.wgsl:<line>:<col>: error: <message>` with the offending
 * line quoted, the form editors and terminals turn into links.
 */
import { identity, type Expanded } from './template.ts';

/**
 * `expanded` is the compiled text with its line map (src/gpu/template.ts): every message is
 * located at the line of the file it comes from, the shader itself or an included
 * shaders/lib/*.wgsl file. A plain string is a shader compiled as written.
 */
export async function checkCompilation(module: GPUShaderModule, file: string, expanded: Expanded | string): Promise<void> {
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  for (const m of info.messages) {
    if (m.type === 'warning') console.warn(formatMessage(m, file, expanded));
  }
  if (errors.length > 0) {
    throw new Error(`WGSL compilation failed:\n${errors.map((m) => formatMessage(m, file, expanded)).join('\n')}`);
  }
}

export function formatMessage(m: Pick<GPUCompilationMessage, 'lineNum' | 'linePos' | 'type' | 'message'>, file: string, expanded: Expanded | string): string {
  const ex = typeof expanded === 'string' ? identity(expanded, file) : expanded;
  const at = ex.lineMap[m.lineNum - 1] ?? { file, line: m.lineNum };
  const line = ex.sources[at.file]?.split('\n')[at.line - 1] ?? '';
  // The column is one of the compiled line: a caret only where that line is the written one
  // (not for template-expanded lines).
  const compiled = ex.code.split('\n')[m.lineNum - 1];
  const caret = m.linePos > 0 && compiled === line ? `${' '.repeat(m.linePos - 1)}^` : '';
  return `${at.file}:${at.line}:${m.linePos}: ${m.type}: ${m.message}\n  ${line}${caret ? `\n  ${caret}` : ''}`;
}
