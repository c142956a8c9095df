/**
 * A lab experiment in a URL: the kernel text, problem, sizes, entry point, template keys,
 * overrides and grid, as JSON compressed with deflate-raw (CompressionStream, in every browser and
 * in Node) and written in base64url after `#k=`. The fragment never reaches a server, and a link
 * reproduces the experiment on another machine.
 */
import { PROBLEMS, type ProblemId } from './catalog.ts';
import type { LabSpec } from './protocol.ts';

const VERSION = 1;

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Blob([bytes as BlobPart]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('the link is damaged: its #k= part is not base64url');
  const b = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

export async function encodeSpec(spec: LabSpec): Promise<string> {
  const json = JSON.stringify({ v: VERSION, ...spec });
  return toBase64Url(await pipe(new TextEncoder().encode(json), new CompressionStream('deflate-raw')));
}

/** The spec in a `#k=…` fragment, checked field by field (a clear error names what is wrong). */
export async function decodeSpec(text: string): Promise<LabSpec> {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(await pipe(fromBase64Url(text), new DecompressionStream('deflate-raw'))));
  } catch (e) {
    throw new Error(`the link is damaged: ${(e as Error).message}`);
  }
  const o = raw as Record<string, unknown>;
  const bad = (field: string, want: string): never => {
    throw new Error(`the link's ${field} must be ${want}`);
  };
  if (o.v !== VERSION) bad('version', `${VERSION}`);
  if (typeof o.problem !== 'string' || !(o.problem in PROBLEMS)) bad('problem', `one of ${Object.keys(PROBLEMS).join(', ')}`);
  if (typeof o.source !== 'string') bad('source', 'text');
  if (typeof o.entry !== 'string') bad('entry', 'a name');
  const record = (v: unknown, field: string, ok: (x: unknown) => boolean, want: string): Record<string, never> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(field, 'an object');
    for (const [k, x] of Object.entries(v as object)) if (!ok(x)) bad(`${field}.${k}`, want);
    return v as Record<string, never>;
  };
  const isNum = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
  const params = record(o.params, 'params', (x) => isNum(x) || typeof x === 'string' || typeof x === 'boolean', 'a number, text or true/false');
  const template = record(o.template, 'template', isNum, 'a number');
  const overrides = record(o.overrides, 'overrides', (x) => isNum(x) || typeof x === 'boolean', 'a number or true/false');
  if (!Array.isArray(o.grid) || o.grid.length < 1 || o.grid.length > 3 || !o.grid.every((g) => typeof g === 'string')) bad('grid', '1 to 3 expressions');
  return {
    problem: o.problem as ProblemId,
    params,
    source: o.source as string,
    entry: o.entry as string,
    template,
    overrides,
    grid: o.grid as string[],
  };
}

/** The link to `spec` on the page at `base` (the current URL without its fragment). */
export async function shareUrl(base: string, spec: LabSpec): Promise<string> {
  return `${base.replace(/#.*$/, '')}#k=${await encodeSpec(spec)}`;
}
