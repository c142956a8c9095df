/**
 * Shader text as compiled, from the .wgsl file as written. Two things WGSL cannot express, and
 * nothing more:
 *
 * 1. Includes, expanded first, before anything else:
 *      // @include lib/threefry.wgsl      (optionally followed by `// what it provides`)
 *    The line is replaced by the text of shaders/lib/threefry.wgsl. Only for shared pure functions
 *    (the Threefry generator, its Box–Muller helper): a library file holds no bindings, overrides
 *    or entry points, is valid WGSL on its own, and itself contains neither includes nor template
 *    syntax. Paths are relative to shaders/ and must be lib/<name>.wgsl. Each library is inserted
 *    once: including the same file twice in one shader is an error (not silently deduplicated,
 *    so a shader's text stays readable as a list of what it pulls in). An unknown file is an
 *    error naming the including shader and line.
 *
 * 2. A register tile of TM x TN scalar accumulators, unrolled. WGSL has arrays, but on SwiftShader
 *    a loop over a private array runs ~10x slower than the same code on named scalars (measured:
 *    3.3 ms vs 31 ms for 50x784x50), so tile sizes are fixed when the shader text is made.
 *    Everything else stays `override`. Two constructs:
 *      {{KEY}}                         replaced by the value given for KEY
 *      // @repeat i in 0..{{TM}}, j in 0..{{TN}}
 *      ... lines using {i} and {j} ...  emitted once per (i, j), i outer, in order
 *      // @end
 *    Every {{KEY}} in the file must be given and every key given must be used: a missing or stray
 *    key is an error naming the shader.
 *
 * The output keeps a line map (file and line of every output line), so compile errors point at
 * the line of the .wgsl file, included library files included.
 */
export type TemplateKeys = Record<string, number | string | boolean>;

/** A line of a file as written: file is the path from the repository root ('shaders/x.wgsl'). */
export interface SourceLine {
  file: string;
  line: number;
}

export interface Expanded {
  code: string;
  /** lineMap[i] = where output line i + 1 comes from (1-based line of a file in `sources`). */
  lineMap: SourceLine[];
  /** The text as written of every file the output draws on, by path, for quoting in errors. */
  sources: Record<string, string>;
}

/** Reads a library file by its path relative to shaders/ ('lib/threefry.wgsl'); undefined if none. */
export type IncludeLoader = (path: string) => string | undefined;

const INCLUDE = /^\s*\/\/\s*@include\b(.*)$/;
const INCLUDE_PATH = /^\s*(lib\/[A-Za-z0-9_-]+\.wgsl)\s*(?:\/\/.*)?$/;

export function hasTemplate(source: string): boolean {
  return /\{\{\s*[A-Za-z_]\w*\s*\}\}|^\s*\/\/\s*@repeat\b/m.test(source);
}

/** The file as written, unexpanded: every line maps to itself. */
export function identity(source: string, file: string): Expanded {
  return { code: source, lineMap: source.split('\n').map((_, i) => ({ file, line: i + 1 })), sources: { [file]: source } };
}

/** Replaces every `// @include lib/x.wgsl` line of `source` (the shader `file`) by that library's text. */
export function expandIncludes(source: string, file: string, load: IncludeLoader): Expanded {
  const lines = source.split('\n');
  const out: string[] = [];
  const lineMap: SourceLine[] = [];
  const sources: Record<string, string> = { [file]: source };
  const includedAt = new Map<string, number>();
  lines.forEach((text, i) => {
    const head = INCLUDE.exec(text);
    if (!head) {
      out.push(text);
      lineMap.push({ file, line: i + 1 });
      return;
    }
    const where = `${file}:${i + 1}`;
    const m = INCLUDE_PATH.exec(head[1]);
    if (!m) throw new Error(`${where}: cannot read @include '${head[1].trim()}' (form: // @include lib/<name>.wgsl)`);
    const path = m[1];
    const first = includedAt.get(path);
    if (first !== undefined) throw new Error(`${where}: ${path} is already included at line ${first} (each library is included once)`);
    includedAt.set(path, i + 1);
    const lib = load(path);
    if (lib === undefined) throw new Error(`${where}: @include ${path}: no such file shaders/${path}`);
    const libFile = `shaders/${path}`;
    const libLines = lib.split('\n');
    if (libLines.length > 1 && libLines[libLines.length - 1] === '') libLines.pop(); // the file's final newline
    libLines.forEach((l, j) => {
      if (INCLUDE.test(l)) throw new Error(`${libFile}:${j + 1}: a library file cannot @include (included from ${where})`);
      if (hasTemplate(l)) throw new Error(`${libFile}:${j + 1}: a library file cannot use template syntax (included from ${where})`);
      out.push(l);
      lineMap.push({ file: libFile, line: j + 1 });
    });
    sources[libFile] = lib;
  });
  return { code: out.join('\n'), lineMap, sources };
}

/**
 * Expands the template constructs of `source`. `origin` (default: `source` is the file as written)
 * says where each input line comes from, for error messages and the output line map.
 */
export function expandTemplate(source: string, keys: TemplateKeys, file: string, origin: Expanded = identity(source, file)): Expanded {
  const at = (i: number): string => {
    const o = origin.lineMap[i];
    return o ? `${o.file}:${o.line}` : `${file}:${i + 1}`;
  };
  const used = new Set<string>();
  const substituted = source.replace(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g, (_, name: string) => {
    const v = keys[name];
    if (v === undefined) throw new Error(`${file}: template key {{${name}}} was not given (given: ${Object.keys(keys).join(', ') || 'none'})`);
    used.add(name);
    return String(v);
  });
  for (const k of Object.keys(keys)) {
    if (!used.has(k)) throw new Error(`${file}: template key '${k}' is not used by the shader`);
  }
  const lines = substituted.split('\n');
  const out: string[] = [];
  const lineMap: SourceLine[] = [];
  const from = (i: number): SourceLine => origin.lineMap[i] ?? { file, line: i + 1 };
  for (let i = 0; i < lines.length; i++) {
    const head = /^\s*\/\/\s*@repeat\s+(.*)$/.exec(lines[i]);
    if (!head) {
      if (/^\s*\/\/\s*@end\b/.test(lines[i])) throw new Error(`${at(i)}: @end without @repeat`);
      out.push(lines[i]);
      lineMap.push(from(i));
      continue;
    }
    const ranges = head[1].split(',').map((part) => {
      const m = /^\s*([A-Za-z_]\w*)\s+in\s+(\d+)\s*\.\.\s*(\d+)\s*$/.exec(part);
      if (!m) throw new Error(`${at(i)}: cannot read @repeat range '${part.trim()}' (form: i in 0..8)`);
      return { name: m[1], from: Number(m[2]), to: Number(m[3]) };
    });
    const end = lines.findIndex((l, j) => j > i && /^\s*\/\/\s*@end\b/.test(l));
    if (end < 0) throw new Error(`${at(i)}: @repeat without @end`);
    if (lines.slice(i + 1, end).some((l) => /^\s*\/\/\s*@repeat\b/.test(l))) throw new Error(`${at(i)}: nested @repeat is not supported`);
    const body = lines.slice(i + 1, end);
    const emit = (r: number, env: Record<string, number>): void => {
      if (r === ranges.length) {
        body.forEach((l, b) => {
          out.push(l.replace(/\{([A-Za-z_]\w*)\}/g, (whole, v: string) => (v in env ? String(env[v]) : whole)));
          lineMap.push(from(i + 1 + b));
        });
        return;
      }
      for (let x = ranges[r].from; x < ranges[r].to; x++) emit(r + 1, { ...env, [ranges[r].name]: x });
    };
    emit(0, {});
    i = end;
  }
  return { code: out.join('\n'), lineMap, sources: origin.sources };
}

/**
 * The shader `file` ready to compile: includes first, then the template if `keys` are given. The
 * template check (keys given iff the shader has template syntax) is the caller's.
 */
export function expandShader(source: string, file: string, keys: TemplateKeys | undefined, load: IncludeLoader): Expanded {
  const included = expandIncludes(source, file, load);
  return keys ? expandTemplate(included.code, keys, file, included) : included;
}
