/**
 * The dev server (vite.config.ts) as a client with bad manners sees it: a URL whose %-escapes do
 * not decode gets 400 — not a 500 with a stack trace and server paths — and every error page is
 * plain text with nosniff that echoes nothing of the request. The Fashion-MNIST route serves its
 * four names and nothing else of the disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { join } from 'node:path';
import { createServer, type ViteDevServer } from 'vite';

const ROOT = join(import.meta.dirname, '..');
let server: ViteDevServer;
let port = 0;

/** A raw GET: fetch() would re-encode a malformed escape before sending it. */
function get(path: string): Promise<{ status: number; type: string | undefined; nosniff: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path, method: 'GET' }, (m) => {
      let body = '';
      m.setEncoding('utf8');
      m.on('data', (c: string) => (body += c));
      m.on('end', () => resolve({ status: m.statusCode!, type: m.headers['content-type'], nosniff: m.headers['x-content-type-options'] as string | undefined, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

beforeAll(async () => {
  server = await createServer({ configFile: join(ROOT, 'vite.config.ts'), root: ROOT, logLevel: 'silent', server: { port: 0, host: '127.0.0.1' } });
  await server.listen();
  port = (server.httpServer!.address() as { port: number }).port;
});
afterAll(async () => {
  await server?.close();
});

describe('dev server', () => {
  it('answers malformed %-escapes with a plain-text 400, no stack trace', async () => {
    for (const path of ['/%E0%A4%A', '/src/%', '/src/main.ts%', '/@fs/%E0', '/datasets/fashion-mnist/%E0%A4%A', '/?q=%ZZ']) {
      const r = await get(path);
      expect(r.status, path).toBe(400);
      expect(r.type, path).toMatch(/^text\/plain/);
      expect(r.nosniff, path).toBe('nosniff');
      expect(r.body, path).not.toMatch(/at |node_modules|\/work\/|Error/);
    }
  });

  it('answers unknown dataset names with a plain-text 404 that echoes nothing and leaks no file', async () => {
    for (const path of ['/datasets/fashion-mnist/%3Cscript%3Ealert(1)%3C%2Fscript%3E', '/datasets/fashion-mnist/..%2F..%2Fetc%2Fpasswd', '/datasets/fashion-mnist/%2Fetc%2Fpasswd', '/datasets/fashion-mnist/train-images-idx3-ubyte.gz%00']) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(r.type, path).toMatch(/^text\/plain/);
      expect(r.nosniff, path).toBe('nosniff');
      expect(r.body, path).not.toMatch(/<script|passwd|root:/);
    }
  });

  it('still serves the page, with nosniff', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/<html/);
    expect(r.nosniff).toBe('nosniff');
  });
});
