/**
 * Node-vs-browser switches for the data loaders.
 *
 * Node built-ins are reached through process.getBuiltinModule (Node >= 20.16) instead of
 * `import 'node:fs'`, so these modules have no static Node imports and Vite can bundle
 * them for the browser unchanged; the Node-only functions are simply never called there.
 */
import type * as NodeFs from 'node:fs';
import type * as NodeModule from 'node:module';
import type * as NodePath from 'node:path';
import type * as NodeZlib from 'node:zlib';

export function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

interface Builtins {
  'node:fs': typeof NodeFs;
  'node:module': typeof NodeModule;
  'node:path': typeof NodePath;
  'node:zlib': typeof NodeZlib;
}

function builtin<K extends keyof Builtins>(id: K, why: string): Builtins[K] {
  if (!isNode()) throw new Error(`${why} needs Node (${id}); in the browser pass File/ArrayBuffer data instead`);
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (typeof get !== 'function') {
    throw new Error(`${why}: process.getBuiltinModule is missing; Node >= 20.16 is required, running ${process.version}`);
  }
  return get(id) as Builtins[K];
}

export const nodeFs = (why: string): typeof NodeFs => builtin('node:fs', why);
export const nodeModule = (why: string): typeof NodeModule => builtin('node:module', why);
export const nodePath = (why: string): typeof NodePath => builtin('node:path', why);
export const nodeZlib = (why: string): typeof NodeZlib => builtin('node:zlib', why);
