/**
 * The WGSL text of a shader in shaders/, by file name without extension ('dense_forward').
 *
 * Browser and Node read the same files: under Vite (dashboard, bench page, Vitest) the files are
 * inlined at build time by import.meta.glob; under plain Node (the CLI, run by tsx) they are read
 * from disk next to this module. No copies of any shader exist anywhere else.
 *
 * shaders/lib/*.wgsl are libraries of shared functions, pulled into kernels by
 * `// @include lib/<name>.wgsl` (src/gpu/template.ts): read with shaderInclude, never kernels
 * themselves (shaderSource only knows the top-level shaders/*.wgsl).
 */
import { detectRuntime } from './device.ts';

let bundled: { kernels: Record<string, string>; libs: Record<string, string> } | null | undefined;

function bundledShaders(): { kernels: Record<string, string>; libs: Record<string, string> } | null {
  if (bundled !== undefined) return bundled;
  // Vite (dev server, build, Vitest) defines import.meta.env and rewrites the glob calls below
  // into the inlined files; plain Node (tsx) has neither and never reaches the calls.
  if (!(import.meta as unknown as { env?: unknown }).env) return (bundled = null);
  const files = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
  const libFiles = import.meta.glob('../../shaders/lib/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
  bundled = { kernels: {}, libs: {} };
  for (const [path, text] of Object.entries(files)) {
    bundled.kernels[path.replace(/^.*\//, '').replace(/\.wgsl$/, '')] = text;
  }
  for (const [path, text] of Object.entries(libFiles)) {
    bundled.libs[`lib/${path.replace(/^.*\//, '')}`] = text;
  }
  return bundled;
}

export function shaderSource(name: string): string {
  const fromBundle = bundledShaders();
  if (fromBundle) {
    const text = fromBundle.kernels[name];
    if (text === undefined) {
      throw new Error(`shader '${name}' not found in shaders/ (have: ${Object.keys(fromBundle.kernels).sort().join(', ')})`);
    }
    return text;
  }
  if (detectRuntime() !== 'node') throw new Error(`shader '${name}': no bundled shaders and not running in Node`);
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  const url = new URL(`../../shaders/${name}.wgsl`, import.meta.url);
  if (!fs.existsSync(url)) {
    const dir = new URL('../../shaders/', import.meta.url);
    const have = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.wgsl')).join(', ') : '(no shaders/ folder)';
    throw new Error(`shader '${name}' not found: expected shaders/${name}.wgsl (have: ${have})`);
  }
  return fs.readFileSync(url, 'utf8');
}

/**
 * The text of a library file by its path relative to shaders/ ('lib/threefry.wgsl'), or
 * undefined if there is none (the include expander reports it with the including line).
 */
export function shaderInclude(path: string): string | undefined {
  if (!/^lib\/[A-Za-z0-9_-]+\.wgsl$/.test(path)) return undefined;
  const fromBundle = bundledShaders();
  if (fromBundle) return fromBundle.libs[path];
  if (detectRuntime() !== 'node') throw new Error(`shaders/${path}: no bundled shaders and not running in Node`);
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  const url = new URL(`../../shaders/${path}`, import.meta.url);
  return fs.existsSync(url) ? fs.readFileSync(url, 'utf8') : undefined;
}

/** Names of the top-level shaders (kernels; shaders/lib/ is not listed), sorted. */
export function shaderNames(): string[] {
  const fromBundle = bundledShaders();
  if (fromBundle) return Object.keys(fromBundle.kernels).sort();
  if (detectRuntime() !== 'node') throw new Error('shaderNames: no bundled shaders and not running in Node');
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  return fs
    .readdirSync(new URL('../../shaders/', import.meta.url))
    .filter((f) => f.endsWith('.wgsl'))
    .map((f) => f.replace(/\.wgsl$/, ''))
    .sort();
}
