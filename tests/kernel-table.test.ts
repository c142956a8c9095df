/**
 * shaders/README.md's kernel table is the one generated from the shaders (entry points by
 * wgsl_reflect, the first sentence of each header): a new or renamed kernel, entry point or
 * description shows here until `npm run kernel-table` is run.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { headerSentence, kernelEntries, withKernelTable } from '../src/gpu/kernel-table.ts';

describe('the kernel table of shaders/README.md', () => {
  it('reads entry points and descriptions from the shaders', () => {
    expect(kernelEntries('per_sample_grad')).toEqual(['materialize', 'project']);
    expect(kernelEntries('scatter')).toContain('accumulate');
    expect(headerSentence('// One thing, e.g. x. More here.\n// Not this.\n')).toBe('One thing, e.g. x');
    expect(headerSentence('// Gradient noise scale (McCandlish et al. 2018): two sums.\n//\n// Rest.')).toBe('Gradient noise scale (McCandlish et al. 2018): two sums');
  });

  it('is current (else: npm run kernel-table)', () => {
    const readme = readFileSync(new URL('../shaders/README.md', import.meta.url), 'utf8');
    expect(readme).toBe(withKernelTable(readme));
  });
});
