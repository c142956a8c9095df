import { defineConfig, type Plugin } from 'vite';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ServerResponse } from 'node:http';

/**
 * Fashion-MNIST for the dashboard: Debian's dataset-fashion-mnist package puts the four IDX files
 * in /usr/share/datasets/fashion-mnist, which a page cannot read. When that folder exists, the dev
 * and preview servers serve its four files at /datasets/fashion-mnist/<name>.gz (nothing else);
 * otherwise the page asks the user to pick the files. Static hosting has no such route.
 */
const FASHION_DIR = process.env.SGDSCOPE_FASHION_DIR ?? '/usr/share/datasets/fashion-mnist';
const FASHION_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

type Middleware = (req: { url?: string }, res: ServerResponse, next: () => void) => void;

/** An error page: plain text that a browser will not sniff into HTML, no request text echoed, no stack. */
function plainError(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('x-content-type-options', 'nosniff');
  res.end(`${status} ${text}\n`);
}

/**
 * Runs before Vite's own middleware: every response says nosniff, and a URL whose %-escapes do not
 * decode (e.g. /%E0%A4%A) gets 400 here instead of a 500 with a stack trace and server paths.
 */
function strictUrls(): Plugin {
  /** Null when some %-escape of `url` does not decode (the decoded text is returned, not dropped, so no bundler removes the call). */
  const decoded = (url: string): string | null => {
    try {
      return decodeURI(url) + url.split(/[/?&=#]/).map(decodeURIComponent).join('');
    } catch {
      return null;
    }
  };
  const guard: Middleware = (req, res, next) => {
    res.setHeader('x-content-type-options', 'nosniff');
    if (decoded(req.url ?? '/') === null) return plainError(res, 400, 'bad request: the URL has a malformed %-escape');
    next();
  };
  return {
    name: 'sgdscope-strict-urls',
    configureServer: (server) => void server.middlewares.use(guard),
    configurePreviewServer: (server) => void server.middlewares.use(guard),
  };
}

function fashionDataset(): Plugin {
  const handler: Middleware = (req, res, next) => {
    const m = /^\/datasets\/fashion-mnist\/([^/?#]+)/.exec(req.url ?? '');
    if (!m) return next();
    const name = decodeURIComponent(m[1]);
    const file = join(FASHION_DIR, name);
    if (!FASHION_FILES.includes(name) || !existsSync(file)) {
      return plainError(res, 404, `not found (served here: ${FASHION_FILES.join(', ')}, from ${FASHION_DIR} when Debian's dataset-fashion-mnist is installed)`);
    }
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-length', String(statSync(file).size));
    createReadStream(file).pipe(res);
  };
  return {
    name: 'sgdscope-fashion-mnist',
    configureServer: (server) => void server.middlewares.use(handler),
    configurePreviewServer: (server) => void server.middlewares.use(handler),
  };
}

// The dashboard (index.html), the in-browser benchmark page (bench/index.html) and the kernel lab
// (lab.html: edit a WGSL kernel, validate and time it beside sgdscope's own and TensorFlow.js).
// The engine runs unchanged in the browser: shaders/ is read through import.meta.glob
// (src/gpu/shader-source.ts), so browser and Node share the same .wgsl files.
export default defineConfig({
  plugins: [strictUrls(), fashionDataset()],
  build: {
    target: 'es2022',
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        bench: resolve(import.meta.dirname, 'bench/index.html'),
        lab: resolve(import.meta.dirname, 'lab.html'),
      },
    },
  },
  worker: { format: 'es' },
  server: { port: 5173 },
});
