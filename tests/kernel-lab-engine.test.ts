/**
 * The kernel lab's engine without the page, in Node on Dawn: every problem's production kernel and
 * every rung of the bench's ladder validate through the lab's own path (bind by name, grid
 * expressions, CPU reference) at odd sizes; a wrong binding, a wrong store and a loop that never
 * ends are reported as such; the loop guard keeps every shader in shaders/ valid WGSL (barrier
 * loops included); grids, links and exports read and write what they should. (Node runs Dawn with
 * robustness off: only kernels that clamp their loads, as these do, run here; the browser test
 * covers the page.)
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { useGpu } from './helpers/gpu.ts';
import { LabEngine, startSpec } from '../src/kernel-lab/engine.ts';
import { PROBLEMS, PROBLEM_IDS, checkParams, defaultParams, type Params } from '../src/kernel-lab/catalog.ts';
import { decodeSpec, encodeSpec } from '../src/kernel-lab/share.ts';
import { guardLoops } from '../src/kernel-lab/loop-guard.ts';
import { expand, templateKeys } from '../src/kernel-lab/source.ts';
import { resultCsv, rungInstructions } from '../src/kernel-lab/export.ts';
import { evalExpr, evalGrid } from '../bench/core/grid.ts';
import { MATMUL_LADDER } from '../bench/ladder.ts';
import type { FromWorker, LabSpec, RunOptions } from '../src/kernel-lab/protocol.ts';

const ctx = useGpu();
const VALIDATE: RunOptions = { validateOnly: true, quick: true, compare: [], tfjs: false };

/** Runs `spec` through the engine and returns how it ended and everything it said. */
async function runLab(spec: LabSpec): Promise<{ end: FromWorker; all: FromWorker[] }> {
  const all: FromWorker[] = [];
  await new LabEngine(ctx(), (m) => all.push(m)).run(1, spec, VALIDATE);
  const end = all.find((m) => m.type === 'done' || m.type === 'invalid' || m.type === 'failed');
  if (!end) throw new Error(`the engine ended without a verdict: ${JSON.stringify(all)}`);
  return { end, all };
}

const ODD: Record<string, Params> = {
  matmul: { M: 37, K: 61, N: 29, act: 'relu', bias: true },
  grad_weight: { M: 23, K: 41, N: 17, bias: true },
  grad_input: { M: 23, K: 41, N: 17, act: 'tanh' },
  softmax_ce: { B: 77, C: 13 },
  psg_project: { M: 19, K: 11, N: 7, J: 5, bias: true },
  row_sum: { M: 9, N: 1001 },
};

describe('kernel lab engine (Node, Dawn)', () => {
  it("validates every problem's production kernel and every ladder rung through the lab's path", async () => {
    for (const id of PROBLEM_IDS) {
      const problem = PROBLEMS[id];
      for (const s of problem.starts) {
        // Rungs without a bias row are validated without one.
        const declared = readFileSync(`shaders/${s.shader}.wgsl`, 'utf8').includes('HAS_BIAS');
        const p = checkParams(problem, { ...ODD[id], ...(declared ? {} : { bias: false }) });
        const { end } = await runLab(startSpec(problem, p, s));
        expect(end.type, `${id} ${s.label}: ${JSON.stringify(end)}`).toBe('done');
        if (end.type === 'done') expect(end.result.bench.rows[0].check).toMatch(/^ok/);
      }
    }
    expect(PROBLEMS.matmul.starts.length).toBe(MATMUL_LADDER.length);
  }, 240_000);

  it('reports a binding the problem lacks, a wrong store and a loop that never ends', async () => {
    const p = checkParams(PROBLEMS.matmul, ODD.matmul);
    const naive = startSpec(PROBLEMS.matmul, { ...p, bias: false }, PROBLEMS.matmul.starts[0]);
    const renamed = await runLab({ ...naive, source: naive.source.replace('read_write> y:', 'read_write> out:').replace('y[r * N + c]', 'out[r * N + c]') });
    expect(renamed.end.type).toBe('invalid');
    if (renamed.end.type === 'invalid') {
      expect(renamed.end.stage).toBe('bind');
      expect(renamed.end.messages.join('\n')).toMatch(/binding 'out' \(@binding\(3\)\) is not a buffer of this problem/);
      expect(renamed.end.messages.join('\n')).toMatch(/never uses output 'y'/);
    }
    const typed = await runLab({ ...naive, source: naive.source.replace('var<storage, read> w: array<f32>', 'var<storage, read> w: array<u32>').replace('w[k * N + c]', 'bitcast<f32>(w[k * N + c])') });
    expect(typed.end.type === 'invalid' && typed.end.messages.join('\n')).toMatch(/'w' holds f32 values/);
    // A store one column to the right (the last one lands past y, which the masked index skips).
    const shifted = await runLab({ ...naive, source: naive.source.replace('y[r * N + c] =', 'if (r * N + c + 1u < M * N) { y[r * N + c + 1u] = activate(acc); }\n  let unused =') });
    expect(shifted.end.type).toBe('invalid');
    if (shifted.end.type === 'invalid') {
      expect(shifted.end.stage).toBe('validate');
      expect(shifted.end.checks?.[0].first[0]).toMatchObject({ at: 'y[0, 0]' });
      expect(Number.isNaN(shifted.end.checks![0].first[0].got)).toBe(true);
    }
    const endless = await runLab({ ...naive, source: naive.source.replace('k < K; k++', 'k < K; k = k * 2u') });
    expect(endless.end.type === 'invalid' && endless.end.messages[0]).toMatch(/a loop ran past its guard/);
    const grid = await runLab({ ...naive, grid: ['N / WG_X', 'ceil(M / WG_Y)'] });
    expect(grid.end.type === 'invalid' && grid.end.messages[0]).toMatch(/grid x = 'N \/ WG_X' = 1\.8125 is not a whole number/);
  }, 120_000);

  it('keeps every shader valid WGSL when its loops are guarded', async () => {
    const files = readdirSync('shaders').filter((f) => f.endsWith('.wgsl'));
    let guarded = 0;
    for (const f of files) {
      const source = readFileSync(`shaders/${f}`, 'utf8');
      const code = expand(source, Object.fromEntries(templateKeys(source).map((k) => [k, 2]))).code;
      const g = guardLoops(code, 1000, 100);
      if (!g) continue;
      guarded++;
      const info = await ctx().device.createShaderModule({ code: g.code }).getCompilationInfo();
      expect(info.messages.filter((m) => m.type === 'error').map((m) => `${f}:${m.lineNum}: ${m.message}`)).toEqual([]);
      expect(g.code.split('\n').length).toBe(code.split('\n').length + 1);
    }
    expect(guarded).toBeGreaterThan(10);
  }, 120_000);

  it('reads grid expressions, round-trips links and writes bench-format exports', async () => {
    expect(evalExpr('ceil(N / (TN * WG_X))', { N: 29, TN: 8, WG_X: 4 })).toBe(1);
    expect(evalExpr('max(1, K + HAS_BIAS) - 2u * 3', { K: 10, HAS_BIAS: true })).toBe(5);
    expect(evalGrid(['ceil(M / 16)'], { M: 33 })).toEqual([3, 1, 1]);
    expect(() => evalExpr('ceil(Q)', { M: 1 })).toThrow(/unknown name 'Q' \(known: M\)/);
    expect(() => evalGrid(['0'], {})).toThrow(/outside \[1, 65535\]/);
    expect(() => evalExpr('M +', { M: 1 })).toThrow(/ends too early/);

    const spec: LabSpec = { problem: 'softmax_ce', params: defaultParams(PROBLEMS.softmax_ce), source: '// ünïcode ✓\n'.repeat(50), entry: 'main', template: { TM: 4 }, overrides: { WG: 64, WRITE_GRAD: true }, grid: ['1', 'ceil(B / 2)'] };
    const text = await encodeSpec(spec);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(text.length).toBeLessThan(JSON.stringify(spec).length / 2);
    expect(await decodeSpec(text)).toEqual(spec);
    await expect(decodeSpec('not*base64')).rejects.toThrow(/damaged/);
    await expect(decodeSpec(await encodeSpec({ ...spec, problem: 'nope' as never }))).rejects.toThrow(/problem must be one of/);
    expect(() => checkParams(PROBLEMS.matmul, { M: 0 })).toThrow('matmul.M must be an integer in [1, 4096], got 0');

    const naive = startSpec(PROBLEMS.matmul, checkParams(PROBLEMS.matmul, ODD.matmul), PROBLEMS.matmul.starts[0]);
    expect(rungInstructions(naive)).toContain("grid: [\"ceil(N / WG_X)\", \"ceil(M / WG_Y)\"]");
    const { end } = await runLab({ ...naive, params: { ...naive.params, bias: false } });
    if (end.type !== 'done') throw new Error(JSON.stringify(end));
    const csv = resultCsv(end.result).trim().split('\n');
    expect(csv).toHaveLength(2);
    expect(csv[1]).toMatch(/^dense_forward,lab: your kernel \(main\),37x61x29,/);
    expect(end.result.bench.options.lab).toMatchObject({ problem: 'matmul', entry: 'main' });
  }, 60_000);
});
