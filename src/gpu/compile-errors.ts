/**
 * WGSL compile errors as `shaders/<file>.wgsl:<line>:<col>: error: <message>` with the offending
 * line quoted, the form editors and terminals turn into links.
 */
/**
 * `source` is the .wgsl file as written; `lineMap` (from template expansion) maps lines of the
 * compiled text back to it, so the location printed is always a line of the file.
 */
export async function checkCompilation(module: GPUShaderModule, file: string, source: string, lineMap: number[] = []): Promise<void> {
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  for (const m of info.messages) {
    if (m.type === 'warning') console.warn(formatMessage(m, file, source, lineMap));
  }
  if (errors.length > 0) {
    throw new Error(`WGSL compilation failed:\n${errors.map((m) => formatMessage(m, file, source, lineMap)).join('\n')}`);
  }
}

export function formatMessage(m: GPUCompilationMessage, file: string, source: string, lineMap: number[] = []): string {
  const lineNum = lineMap.length ? lineMap[m.lineNum - 1] ?? m.lineNum : m.lineNum;
  const line = source.split('\n')[lineNum - 1] ?? '';
  const caret = m.linePos > 0 && !lineMap.length ? `${' '.repeat(m.linePos - 1)}^` : '';
  return `${file}:${lineNum}:${m.linePos}: ${m.type}: ${m.message}\n  ${line}${caret ? `\n  ${caret}` : ''}`;
}
