/**
 * Every benchmark's own correctness check (bench/, llm.c style: validate against the CPU reference
 * before timing), without the timing: the adapter-limit kernels, the whole matmul ladder at every
 * shape, the backward matmuls, softmax-CE, SGD, gather, the noise-lab kernels, the whole SGD step
 * against the float64 CPU network, and the peers (TensorFlow.js webgpu/wasm/cpu, jax-js) on the same
 * adapter. No timing thresholds: a number measured here is never asserted.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { runSuite, failedChecks } from '../bench/suite.ts';
import { parseArgs } from '../bench/core/args.ts';
import type { Row } from '../bench/core/report.ts';
import { MATMUL_LADDER } from '../bench/ladder.ts';

const ctx = useGpu();

describe('bench: correctness checks of every benchmark', () => {
  it('all checks pass (validate only, no timing)', async () => {
    const lines: string[] = [];
    const rows: Row[] = [];
    const res = await runSuite(ctx(), { validateOnly: true }, { line: (s) => lines.push(s), row: (r) => rows.push(r) });
    const failed = failedChecks(res);
    expect(failed, failed.join('\n')).toEqual([]);
    // Every ladder rung at every shape was checked, and the step and both peers were reached.
    const rungs = MATMUL_LADDER.length;
    const ladder = rows.filter((r) => r.kernel === 'dense_forward' && /^\d+:/.test(r.variant));
    expect(ladder.length).toBe(rungs * 5);
    // All but the naive and smem rungs at 1024³ (seconds per call on a software adapter; the same
    // kernels are checked at the four other shapes).
    const slow = ctx().isSoftware ? 2 : 0;
    expect(ladder.filter((r) => r.check.startsWith('ok')).length).toBe(rungs * 5 - slow);
    for (const k of ['dense_grad_weight', 'dense_grad_input', 'softmax_ce', 'sgd', 'gather', 'row_sum', 'sgd_step', 'ensemble_step', 'peak_fma', 'peak_bandwidth']) {
      expect(rows.some((r) => r.kernel === k && r.check.startsWith('ok')), k).toBe(true);
    }
    expect(rows.some((r) => r.variant.startsWith('tfjs-webgpu') && r.check.startsWith('ok')), lines.join('\n')).toBe(true);
    expect(rows.some((r) => r.kernel === 'sgd_step' && r.variant.startsWith('tfjs-webgpu') && r.check.startsWith('ok'))).toBe(true);
    expect(rows.some((r) => r.variant.startsWith('jax-js') && r.check.startsWith('ok')), lines.join('\n')).toBe(true);
    // Nothing was timed.
    expect(rows.every((r) => r.ms === null)).toBe(true);
    expect(ctx().uncapturedErrors).toEqual([]);
  }, 300_000);

  it('the command line rejects unknown suites, rungs and flags', () => {
    expect(() => parseArgs(['--only', 'matmul,nope'])).toThrow(/unknown suite 'nope'/);
    expect(() => parseArgs(['--variant', '99'])).toThrow(new RegExp(`--variant must be a number in \\[0, ${MATMUL_LADDER.length - 1}\\]`));
    expect(() => parseArgs(['--frobnicate'])).toThrow(/unknown option --frobnicate/);
    expect(parseArgs(['--only', 'matmul', '--variant', '0,3', '--validate']).opts).toMatchObject({ suites: ['matmul'], variants: [0, 3], validateOnly: true });
  });
});
