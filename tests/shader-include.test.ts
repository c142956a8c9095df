/**
 * `// @include lib/<name>.wgsl` (src/gpu/template.ts) and the one shared generator it serves,
 * shaders/lib/threefry.wgsl:
 *  - expansion: the library's lines replace the directive, before the template; the line map
 *    carries the file of every line, and template errors after an include still name the
 *    shader's own line;
 *  - errors: unknown file (naming the including shader and line), a second include of the same
 *    file, a malformed path, includes or template syntax inside a library;
 *  - the real library: found through the Vite glob (Vitest runs with it), not a kernel, included
 *    exactly once by dropout, randnet and toy_walkers, which no longer define threefry themselves;
 *  - on the GPU: a compile error inside an included file is reported at shaders/lib/<file>:line,
 *    one in the shader after the include at the shader's line; the library compiles on its own;
 *    and its threefry gives the Random123 known-answer vectors.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { createStorage, readU32 } from '../src/gpu/buffers.ts';
import { checkCompilation } from '../src/gpu/compile-errors.ts';
import { shaderInclude, shaderSource } from '../src/gpu/shader-source.ts';
import { expandIncludes, expandShader, type Expanded } from '../src/gpu/template.ts';
import { threefry2x32 } from '../src/kernels/threefry.ts';

const ctx = useGpu();

const LIB = ['// a library', 'fn twice(x: u32) -> u32 {', '  return 2u * x;', '}', ''].join('\n');
const libs = (files: Record<string, string>) => (path: string) => files[path];
const at = (ex: Expanded, outLine: number) => {
  const s = ex.lineMap[outLine - 1];
  return `${s.file}:${s.line}`;
};

describe('@include expansion', () => {
  it('replaces the directive by the library text and maps every line to its file', () => {
    const src = ['// kernel k', '// @include lib/twice.wgsl   // twice', '', 'fn f() -> u32 { return twice(3u); }'].join('\n');
    const ex = expandIncludes(src, 'shaders/k.wgsl', libs({ 'lib/twice.wgsl': LIB }));
    expect(ex.code).toBe(['// kernel k', '// a library', 'fn twice(x: u32) -> u32 {', '  return 2u * x;', '}', '', 'fn f() -> u32 { return twice(3u); }'].join('\n'));
    expect(ex.lineMap.map((_, i) => at(ex, i + 1))).toEqual([
      'shaders/k.wgsl:1',
      'shaders/lib/twice.wgsl:1', 'shaders/lib/twice.wgsl:2', 'shaders/lib/twice.wgsl:3', 'shaders/lib/twice.wgsl:4',
      'shaders/k.wgsl:3', 'shaders/k.wgsl:4',
    ]);
    expect(ex.sources).toEqual({ 'shaders/k.wgsl': src, 'shaders/lib/twice.wgsl': LIB });
  });

  it('runs before the template; template lines and template errors keep the shader’s own lines', () => {
    const src = ['// @include lib/twice.wgsl', 'fn f() {', '  // @repeat i in 0..{{N}}', '  let a{i} = twice({i}u);', '  // @end', '}'].join('\n');
    const ex = expandShader(src, 'shaders/k.wgsl', { N: 2 }, libs({ 'lib/twice.wgsl': LIB }));
    const lines = ex.code.split('\n');
    expect(lines.slice(4)).toEqual(['fn f() {', '  let a0 = twice(0u);', '  let a1 = twice(1u);', '}']);
    expect([5, 6, 7, 8].map((l) => at(ex, l))).toEqual(['shaders/k.wgsl:2', 'shaders/k.wgsl:4', 'shaders/k.wgsl:4', 'shaders/k.wgsl:6']);
    const bad = ['// @include lib/twice.wgsl', 'fn f() {', '  // @end', '  let n = {{N}}u;', '}'].join('\n');
    expect(() => expandShader(bad, 'shaders/k.wgsl', { N: 1 }, libs({ 'lib/twice.wgsl': LIB }))).toThrow(/^shaders\/k\.wgsl:3: @end without @repeat/);
  });

  it('a shader without includes maps every line to itself', () => {
    const ex = expandShader('a\nb', 'shaders/k.wgsl', undefined, libs({}));
    expect(ex.code).toBe('a\nb');
    expect([1, 2].map((l) => at(ex, l))).toEqual(['shaders/k.wgsl:1', 'shaders/k.wgsl:2']);
  });
});

describe('@include errors', () => {
  const load = libs({ 'lib/twice.wgsl': LIB, 'lib/nested.wgsl': '// @include lib/twice.wgsl\n', 'lib/tmpl.wgsl': 'fn g() {\n  let x = {{N}}u;\n}\n' });
  it('an unknown file names the including shader and line', () => {
    expect(() => expandIncludes('// k\n\n// @include lib/nope.wgsl\n', 'shaders/k.wgsl', load)).toThrow('shaders/k.wgsl:3: @include lib/nope.wgsl: no such file shaders/lib/nope.wgsl');
  });
  it('the same file included twice is an error naming both lines', () => {
    expect(() => expandIncludes('// @include lib/twice.wgsl\n// @include lib/twice.wgsl', 'shaders/k.wgsl', load)).toThrow(
      'shaders/k.wgsl:2: lib/twice.wgsl is already included at line 1',
    );
  });
  it('paths must be lib/<name>.wgsl', () => {
    for (const bad of ['// @include', '// @include twice.wgsl', '// @include lib/../k.wgsl', '// @include lib/twice.wgsl extra']) {
      expect(() => expandIncludes(bad, 'shaders/k.wgsl', load), bad).toThrow(/^shaders\/k\.wgsl:1: cannot read @include/);
    }
  });
  it('a library can neither include nor use template syntax', () => {
    expect(() => expandIncludes('// @include lib/nested.wgsl', 'shaders/k.wgsl', load)).toThrow('shaders/lib/nested.wgsl:1: a library file cannot @include (included from shaders/k.wgsl:1)');
    expect(() => expandIncludes('\n// @include lib/tmpl.wgsl', 'shaders/k.wgsl', load)).toThrow('shaders/lib/tmpl.wgsl:2: a library file cannot use template syntax (included from shaders/k.wgsl:2)');
  });
});

describe('shaders/lib/threefry.wgsl', () => {
  it('is found by the loader, is not a kernel, and is the only threefry in shaders/', () => {
    const lib = shaderInclude('lib/threefry.wgsl');
    expect(lib).toMatch(/^fn threefry\(c: vec2u, key: vec2u\) -> vec2u \{$/m);
    expect(shaderInclude('lib/nope.wgsl')).toBeUndefined();
    expect(shaderInclude('threefry.wgsl')).toBeUndefined();
    expect(() => shaderSource('threefry')).toThrow(/not found/);
    expect(() => shaderSource('lib/threefry')).toThrow(/not found/);
    for (const name of ['dropout', 'randnet', 'toy_walkers']) {
      const src = shaderSource(name);
      expect(src.match(/^\s*\/\/\s*@include lib\/threefry\.wgsl\b/gm), name).toHaveLength(1);
      expect(src, name).not.toMatch(/^fn (rotl|threefry)\(/m);
    }
  });
});

/** Compiles an expanded shader and returns the error text (empty when it compiles). */
async function compileErrors(ex: Expanded, file: string): Promise<string> {
  const { device } = ctx();
  device.pushErrorScope('validation'); // an invalid module is also a validation error: keep it here
  const module = device.createShaderModule({ label: 'include-test', code: ex.code });
  const scope = device.popErrorScope();
  try {
    await checkCompilation(module, file, ex);
    return '';
  } catch (e) {
    return (e as Error).message;
  } finally {
    await scope;
  }
}

describe('@include on the GPU', () => {
  const BROKEN = ['// a broken library', 'fn twice(x: u32) -> u32 {', '  return 2u * undefined_thing;', '}', ''].join('\n');

  it('a compile error inside an included file is reported at that file’s line', async () => {
    const src = ['// kernel k', '', '// @include lib/broken.wgsl', '', 'fn f() -> u32 { return twice(3u); }'].join('\n');
    const msg = await compileErrors(expandIncludes(src, 'shaders/k.wgsl', libs({ 'lib/broken.wgsl': BROKEN })), 'shaders/k.wgsl');
    expect(msg).toMatch(/^shaders\/lib\/broken\.wgsl:3:\d+: error: .*undefined_thing/m);
    expect(msg).toContain('  return 2u * undefined_thing;\n');
    expect(msg).toMatch(/\n {2}\s*\^/); // the line is compiled as written: a caret under the column
    expect(msg).not.toMatch(/shaders\/k\.wgsl:\d/);
  });

  it('an error in the shader after an include is reported at the shader’s own line', async () => {
    const src = ['// kernel k', '// @include lib/twice.wgsl', '', 'fn f() -> u32 { return twice(3u) + nope; }'].join('\n');
    const msg = await compileErrors(expandIncludes(src, 'shaders/k.wgsl', libs({ 'lib/twice.wgsl': LIB })), 'shaders/k.wgsl');
    expect(msg).toMatch(/^shaders\/k\.wgsl:4:\d+: error: .*nope/m);
  });

  it('the library compiles on its own, and its threefry gives the Random123 known answers', async () => {
    const lib = shaderInclude('lib/threefry.wgsl')!;
    expect(await compileErrors(expandIncludes(lib, 'shaders/lib/threefry.wgsl', libs({})), 'shaders/lib/threefry.wgsl')).toBe('');

    // (counter, key) → output, Random123 kat_vectors for threefry2x32_20.
    const cases: [number, number, number, number][] = [
      [0, 0, 0, 0],
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    ];
    const src = [
      '@group(0) @binding(0) var<storage, read_write> io: array<vec4u>;   // in: (c0, c1, k0, k1); out: (x0, x1, 0, 0)',
      '// @include lib/threefry.wgsl',
      '@compute @workgroup_size(1)',
      'fn main(@builtin(global_invocation_id) gid: vec3u) {',
      '  if (gid.x >= arrayLength(&io)) { return; }',
      '  let v = io[gid.x];',
      '  io[gid.x] = vec4u(threefry(v.xy, v.zw), 0u, 0u);',
      '}',
    ].join('\n');
    const ex = expandShader(src, 'shaders/kat.wgsl', undefined, shaderInclude);
    expect(await compileErrors(ex, 'shaders/kat.wgsl')).toBe('');
    const c = ctx();
    const module = c.device.createShaderModule({ label: 'threefry-kat', code: ex.code });
    const pipeline = await c.device.createComputePipelineAsync({ label: 'threefry-kat', layout: 'auto', compute: { module, entryPoint: 'main' } });
    const io = createStorage(c, 'threefry-kat.io', Uint32Array.from(cases.flat()));
    const group = c.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: io } }] });
    const enc = c.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(cases.length);
    pass.end();
    c.device.queue.submit([enc.finish()]);
    const out = await readU32(c, io, 0, 4 * cases.length);
    const hex = (x: number) => x.toString(16).padStart(8, '0');
    const got = cases.map((_, i) => `${hex(out[4 * i])} ${hex(out[4 * i + 1])}`);
    expect(got).toEqual(['6b200159 99ba4efe', '1cb996fc bb002be7', 'c4923a9c 483df7a0']);
    expect(got).toEqual(cases.map((k) => threefry2x32(...k).map(hex).join(' ')));
  });
});
