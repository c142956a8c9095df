/**
 * Headless Debian Chromium (playwright-core, never a downloaded browser) against the built page
 * served on localhost. WebGPU runs on Chromium's bundled SwiftShader when there is no GPU.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const CHROMIUM = process.env.SGDSCOPE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-vulkan-surface',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export interface ServedPage {
  url: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Builds the site into a temporary folder, serves it, and starts Chromium. */
export async function serveBuiltSite(): Promise<ServedPage> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium package (apt-get install chromium)`);
  const outDir = mkdtempSync(join(tmpdir(), 'sgdscope-site-'));
  await build({ logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const server: PreviewServer = await preview({ logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('preview server has no port');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return {
    url: `http://127.0.0.1:${address.port}/`,
    browser,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** For a test file: the built site served and Chromium started before its tests (test-results/ made), closed after them. */
export function useBuiltSite(): () => ServedPage {
  let site: ServedPage | undefined;
  beforeAll(async () => {
    site = await serveBuiltSite();
    mkdirSync('test-results', { recursive: true });
  }, 120_000);
  afterAll(async () => {
    await site?.close();
  });
  return () => site!;
}

/** The page's console errors and warnings and its uncaught errors, as lines (a test expects none). */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return problems;
}
