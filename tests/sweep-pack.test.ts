/**
 * Sweep packing (src/experiments/sweep/pack.ts): grid points that share the batch size train as one
 * ensemble, and every point's record and run folder equal those of the sweep that trains each point
 * alone — a diverging point (lr 60) packed with converging ones included. Only the timings differ.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { useGpu } from './helpers/gpu.ts';
import { gaussianMixture, stratifiedSplit, subset } from '../src/data/index.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { DEFAULT_SHARPNESS, expandGrid, validateSweepSpec, type SweepSpec } from '../src/experiments/sweep/grid.ts';
import { runSweep, type SweepRun } from '../src/experiments/sweep/run.ts';
import { packPoints } from '../src/experiments/sweep/pack.ts';
import type { RunFiles } from '../src/train/run-files.ts';

const ctx = useGpu();
const ROOT = join(import.meta.dirname, '..');
const MODEL: MlpConfig = { widths: [8, 6, 4], activation: 'relu', bias: true, init: { kind: 'pytorch' } };

function spec(pack: number): SweepSpec {
  return {
    model: MODEL,
    train: { epochs: 3, chunkSteps: 20 },
    data: { kind: 'synthetic', generator: 'mixture', classes: 4, d: 8, n: 300, seed: 5 },
    grid: { lr: [0.1, 60], batchSize: [10, 40], weightDecay: [0, 0.01], dropout: [0], seed: [1, 2] },
    sharpness: { ...DEFAULT_SHARPNESS, k: 2, samples: null, residualTol: 1e-6, maxIter: 40 },
    concurrency: 1,
    ...(pack > 1 ? { pack } : {}),
  };
}

describe('sweep packing', () => {
  it('groups by batch size (and dropout or not), at most pack per group, in grid order', () => {
    const points = expandGrid({ lr: [0.1, 0.2, 0.3], batchSize: [10, 20], weightDecay: [0], dropout: [0, 0.5], seed: [1] });
    const packs = packPoints(points, 2);
    for (const g of packs) {
      expect(g.length).toBeLessThanOrEqual(2);
      expect(new Set(g.map((p) => `${p.batchSize}/${p.dropout > 0}`)).size).toBe(1);
    }
    expect(packs.flat().map((p) => p.index).sort((a, b) => a - b)).toEqual(points.map((p) => p.index));
    expect(packPoints(points, 1).every((g) => g.length === 1)).toBe(true);
    expect(() => packPoints(points, 0)).toThrow(/sweep.pack must be an integer in \[1, 64\]/);
    expect(() => validateSweepSpec({ ...spec(1), pack: 65 })).toThrow(/sweep.pack must be an integer in \[1, 64\]/);
  });

  it('a packed sweep (3 points per ensemble, so packs mix diverging and converging points) gives every run the record and run folder of the run alone', async () => {
    const all = gaussianMixture({ classes: 4, d: 8, n: 300, sep: 2, seed: 5 });
    const s = stratifiedSplit(all.y, all.classes, { seed: 0, testFraction: 0.2 });
    const data = { train: subset(all, s.train), test: subset(all, s.test), spec: { kind: 'test' }, trainIndices: s.train, testIndices: s.test };
    const sweep = async (pack: number) => {
      const files = new Map<number, RunFiles>();
      const res = await runSweep(ctx(), spec(pack), data, { onRunEnd: (r, _d, _t, f) => f && files.set(r.point.index, f) });
      return { runs: res.runs, files };
    };
    const alone = await sweep(1);
    const packed = await sweep(3);
    const timeless = (r: SweepRun) => ({ ...r, seconds: 0, stepsPerSecond: 0, sharpnessSeconds: 0 });
    expect(packed.runs.length).toBe(16);
    for (const [i, r] of alone.runs.entries()) {
      expect(timeless(packed.runs[i]), `point ${i}`).toEqual(timeless(r));
      for (const [name, body] of alone.files.get(i)!) {
        if (name === 'result.json' || name === 'record.json') continue;
        const got = packed.files.get(i)!.get(name);
        // A run folder's JSON files carry the time they were made.
        const undated = (t: string) => t.replace(/"created": "[^"]*"/, '');
        if (typeof body === 'string') expect(undated(got as string), `point ${i}: ${name}`).toEqual(undated(body));
        else expect(Buffer.from(got as Uint8Array).equals(Buffer.from(body)), `point ${i}: ${name}`).toBe(true);
      }
    }
    const outcomes = alone.runs.map((r) => r.status);
    expect(outcomes).toContain('diverged');
    expect(outcomes).toContain('completed');
    expect(alone.runs.some((r) => r.sharpness !== null)).toBe(true);
  }, 300_000);

  it('sgdscope sweep --pack: out of range, with ASHA or with --queue is refused (exit 2) before the GPU starts', () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'sweep', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    for (const [args, msg] of [
      [['--pack', '65'], /--pack must be in \[1, 64\]/],
      [['--pack', '2', '--search', 'asha'], /ASHA runs stop at their own rungs/],
      [['--pack', '2', '--queue', 'redis://127.0.0.1:1/0'], /not with --queue/],
    ] as const) {
      const r = cli(...args);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
});
