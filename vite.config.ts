import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// The dashboard (index.html) and the in-browser benchmark page (bench/index.html).
// The engine runs unchanged in the browser: shaders/ is read through import.meta.glob
// (src/gpu/shader-source.ts), so browser and Node share the same .wgsl files.
export default defineConfig({
  build: {
    target: 'es2022',
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
      },
    },
  },
  worker: { format: 'es' },
  server: { port: 5173 },
});
