/**
 * WGSL compile errors as `shaders/<file>.wgsl:<line>:<col>: error: <message>` with the offending
 * line quoted, the form editors and terminals turn into links.
 */
export async function checkCompilation(module: GPUShaderModule, file: string, source: string): Promise<void> {
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  for (const m of info.messages) {
    if (m.type === 'warning') console.warn(formatMessage(m, file, source));
  }
  if (errors.length > 0) {
    throw new Error(`WGSL compilation failed:\n${errors.map((m) => formatMessage(m, file, source)).join('\n')}`);
  }
}

export function formatMessage(m: GPUCompilationMessage, file: string, source: string): string {
  const line = source.split('\n')[m.lineNum - 1] ?? '';
  const caret = m.linePos > 0 ? `${' '.repeat(m.linePos - 1)}^` : '';
  return `${file}:${m.lineNum}:${m.linePos}: ${m.type}: ${m.message}\n  ${line}\n  ${caret}`;
}
