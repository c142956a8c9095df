/**
 * The WGSL text of a shader in shaders/, by file name without extension ('dense_forward').
 *
 * Browser and Node read the same files: under Vite (dashboard, bench page, Vitest) the files are
 * inlined at build time by import.meta.glob; under plain Node (the CLI, run by tsx) they are read
 * from disk next to this module. No copies of any shader exist anywhere else.
 */
import { detectRuntime } from './device.ts';

let bundled: Record<string, string> | null | undefined;

function bundledShaders(): Record<string, string> | null {
  if (bundled !== undefined) return bundled;
  // Vite (dev server, build, Vitest) defines import.meta.env and rewrites the glob call below
  // into the inlined files; plain Node (tsx) has neither and never reaches the call.
  if (!(import.meta as unknown as { env?: unknown }).env) return (bundled = null);
  const files = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
  bundled = {};
  for (const [path, text] of Object.entries(files)) {
    bundled[path.replace(/^.*\//, '').replace(/\.wgsl$/, '')] = text;
  }
  return bundled;
}

export function shaderSource(name: string): string {
  const fromBundle = bundledShaders();
  if (fromBundle) {
    const text = fromBundle[name];
    if (text === undefined) {
      throw new Error(`shader '${name}' not found in shaders/ (have: ${Object.keys(fromBundle).sort().join(', ')})`);
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
