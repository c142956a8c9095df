import { defineConfig, type Plugin } from 'vite';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Fashion-MNIST for the dashboard: Debian's dataset-fashion-mnist package puts the four IDX files
 * in /usr/share/datasets/fashion-mnist, which a page cannot read. When that folder exists, the dev
 * and preview servers serve its four files at /datasets/fashion-mnist/<name>.gz (nothing else);
 * otherwise the page asks the user to pick the files. Static hosting has no such route.
 */
const FASHION_DIR = process.env.SGDSCOPE_FASHION_DIR ?? '/usr/share/datasets/fashion-mnist';
const FASHION_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

function fashionDataset(): Plugin {
  const handler = (req: { url?: string }, res: import('node:http').ServerResponse, next: () => void): void => {
    const m = /^\/datasets\/fashion-mnist\/([^/?#]+)/.exec(req.url ?? '');
    if (!m) return next();
    const name = decodeURIComponent(m[1]);
    const file = join(FASHION_DIR, name);
    if (!FASHION_FILES.includes(name) || !existsSync(file)) {
      res.statusCode = 404;
      res.end(`not found: ${name} (Fashion-MNIST is served from ${FASHION_DIR} when Debian's dataset-fashion-mnist is installed)`);
      return;
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
  plugins: [fashionDataset()],
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
