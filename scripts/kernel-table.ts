/** Rewrites the kernel table of shaders/README.md from the shaders (src/gpu/kernel-table.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { withKernelTable } from '../src/gpu/kernel-table.ts';

const path = new URL('../shaders/README.md', import.meta.url);
writeFileSync(path, withKernelTable(readFileSync(path, 'utf8')));
process.stdout.write('shaders/README.md: kernel table written\n');
