/**
 * The one thing WGSL cannot express that the kernels need: a register tile of TM x TN scalar
 * accumulators, unrolled. WGSL has arrays, but on SwiftShader a loop over a private array runs
 * ~10x slower than the same code on named scalars (measured: 3.3 ms vs 31 ms for 50x784x50), so
 * tile sizes are fixed when the shader text is made. Everything else stays `override`.
 *
 * Two constructs, nothing more:
 *   {{KEY}}                         replaced by the value given for KEY
 *   // @repeat i in 0..{{TM}}, j in 0..{{TN}}
 *   ... lines using {i} and {j} ...  emitted once per (i, j), i outer, in order
 *   // @end
 * Every {{KEY}} in the file must be given and every key given must be used: a missing or stray
 * key is an error naming the shader. The output keeps a line map so compile errors still point
 * at the line of the .wgsl file.
 */
export type TemplateKeys = Record<string, number | string | boolean>;

export interface Expanded {
  code: string;
  /** lineMap[i] = 1-based line in the source file of output line i + 1. */
  lineMap: number[];
}

export function hasTemplate(source: string): boolean {
  return /\{\{\s*[A-Za-z_]\w*\s*\}\}|^\s*\/\/\s*@repeat\b/m.test(source);
}

export function expandTemplate(source: string, keys: TemplateKeys, file: string): Expanded {
  const used = new Set<string>();
  const substituted = source.replace(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g, (_, name: string) => {
    const v = keys[name];
    if (v === undefined) throw new Error(`${file}: template key {{${name}}} was not given (given: ${Object.keys(keys).join(', ') || 'none'})`);
    used.add(name);
    return typeof v === 'boolean' ? String(v) : String(v);
  });
  for (const k of Object.keys(keys)) {
    if (!used.has(k)) throw new Error(`${file}: template key '${k}' is not used by the shader`);
  }
  const lines = substituted.split('\n');
  const out: string[] = [];
  const lineMap: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const head = /^\s*\/\/\s*@repeat\s+(.*)$/.exec(lines[i]);
    if (!head) {
      if (/^\s*\/\/\s*@end\b/.test(lines[i])) throw new Error(`${file}:${i + 1}: @end without @repeat`);
      out.push(lines[i]);
      lineMap.push(i + 1);
      continue;
    }
    const ranges = head[1].split(',').map((part) => {
      const m = /^\s*([A-Za-z_]\w*)\s+in\s+(\d+)\s*\.\.\s*(\d+)\s*$/.exec(part);
      if (!m) throw new Error(`${file}:${i + 1}: cannot read @repeat range '${part.trim()}' (form: i in 0..8)`);
      return { name: m[1], from: Number(m[2]), to: Number(m[3]) };
    });
    const end = lines.findIndex((l, j) => j > i && /^\s*\/\/\s*@end\b/.test(l));
    if (end < 0) throw new Error(`${file}:${i + 1}: @repeat without @end`);
    if (lines.slice(i + 1, end).some((l) => /^\s*\/\/\s*@repeat\b/.test(l))) throw new Error(`${file}:${i + 1}: nested @repeat is not supported`);
    const body = lines.slice(i + 1, end);
    const emit = (r: number, env: Record<string, number>): void => {
      if (r === ranges.length) {
        body.forEach((l, b) => {
          out.push(l.replace(/\{([A-Za-z_]\w*)\}/g, (whole, v: string) => (v in env ? String(env[v]) : whole)));
          lineMap.push(i + 2 + b);
        });
        return;
      }
      for (let x = ranges[r].from; x < ranges[r].to; x++) emit(r + 1, { ...env, [ranges[r].name]: x });
    };
    emit(0, {});
    i = end;
  }
  return { code: out.join('\n'), lineMap };
}
