/**
 * The README's Benchmarks tables from a Node result and (optionally) a Chromium result:
 *
 *   node --import tsx bench/summary.ts bench/results/<day>-<adapter>-node.json [bench/results/<day>-<adapter>-chromium.json]
 *
 * Four tables: the fused forward per shape against the peers, the seed experiment's steps/s, the
 * matmul ladder, and the other kernels. Every figure is the median of its run; ratios are paired.
 */
import { readFileSync } from 'node:fs';
import { fmt, type BenchResult, type Row } from './core/report.ts';

const SHAPES = ['50x784x50', '50x50x50', '50x50x10', '512x784x256', '1024x1024x1024'];

function find(res: BenchResult | null, kernel: string, variant: RegExp, shape: string): Row | undefined {
  return res?.rows.find((r) => r.kernel === kernel && variant.test(r.variant) && r.shape === shape);
}

function perf(r: Row | undefined): string {
  if (!r || r.ms === null) return r?.check.startsWith('skipped') ? 'skipped' : '–';
  const p = r.perSecond ? `${fmt(r.perSecond)} steps/s` : r.flops > 0 ? `${fmt(r.gflops)} GF/s` : `${fmt(r.gbs)} GB/s`;
  return `${fmt(r.ms)} ms, ${p}`;
}

function ratio(r: Row | undefined): string {
  return r?.vsPeer ? `${fmt(r.vsPeer.ratio)}×` : '–';
}

export function readmeTables(node: BenchResult, chrome: BenchResult | null): string {
  const runs: [string, BenchResult][] = chrome ? [['Node', node], ['Chromium', chrome]] : [['Node', node]];
  const out: string[] = [];

  out.push('**Fused dense forward Y = act(X·W)** (production kernel, rung 5) against the peers on the same adapter. sgdscope: GPU time per call (timestamps); tfjs-webgpu: wall time per call with many queued; × = sgdscope / peer by paired wall time per call:', '');
  out.push(`| shape | ${runs.map(([n]) => `${n}: sgdscope (% of peak, bound) | ${n}: tfjs-webgpu | ${n}: × tfjs | ${n}: × jax-js`).join(' | ')} |`);
  out.push(`|---|${runs.map(() => '---|---|---|---').join('|')}|`);
  for (const s of SHAPES) {
    const cells = runs.map(([, res]) => {
      const mine = find(res, 'dense_forward', /^5: auto/, s);
      const tf = find(res, 'dense_forward', /^tfjs-webgpu/, s);
      const jx = find(res, 'dense_forward', /^jax-js/, s);
      const mineText = mine && mine.ms !== null ? `${perf(mine)} (${mine.peakPct?.toFixed(0) ?? '-'}%, ${mine.bound})` : '–';
      return `${mineText} | ${perf(tf)} | ${ratio(tf)} | ${ratio(jx)}`;
    });
    out.push(`| ${s} | ${cells.join(' | ')} |`);
  }

  out.push('', '**Seed experiment** (784-50-50-10 ReLU, B 50, lr 0.1, same MNIST-10k minibatches and initial weights everywhere), steps/s:', '');
  out.push(`| implementation | ${runs.map(([n]) => n).join(' | ')} |`);
  out.push(`|---|${runs.map(() => '---').join('|')}|`);
  const stepRows: [string, RegExp][] = [
    ['sgdscope TrainStepPlan, one pass', /^one pass$/],
    ['sgdscope, pass per dispatch', /^pass per dispatch$/],
    ['sgdscope + 50×50 snapshot per step', /^\+ snapshot 50x50$/],
    ['sgdscope + snapshot + projection on 16 directions', /^\+ snapshot \+ projection/],
    ['sgdscope Trainer.run (800 steps, pipelined, 1 evaluation)', /^Trainer\.run$/],
    ['sgdscope Trainer.run + snapshot hook', /^Trainer\.run \+ snapshot$/],
    ['sgdscope Trainer.run, Dawn busy-polling (no gentle wait)', /busy-poll/],
    ['tfjs-webgpu (optimizer.minimize), × = sgdscope / tfjs, paired', /^tfjs-webgpu/],
    ['jax-js jit(grad), × paired', /^jax-js/],
    ['tfjs-wasm (CPU, XNNPACK)', /^tfjs-wasm/],
    ['tfjs-cpu (plain JS)', /^tfjs-cpu/],
  ];
  for (const [label, re] of stepRows) {
    const cells = runs.map(([, res]) => {
      const r = find(res, 'sgd_step', re, '784-50-50-10 B50');
      if (!r || !r.perSecond) return r?.check.startsWith('FAIL') ? 'FAIL' : '–';
      return `${fmt(r.perSecond)}${r.vsPeer && /tfjs-webgpu|jax/.test(r.variant) ? ` (**${fmt(r.vsPeer.ratio)}×**)` : ''}`;
    });
    if (cells.every((c) => c === '–')) continue;
    out.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  const shares = runs.map(([n, res]) => {
    const s = res.steps.find((x) => x.variant === 'one pass');
    return s && s.kernelShare !== null ? `${n}: Σ of the 11 kernels' GPU times ${fmt(s.kernelMsPerStep)} ms/step = ${(100 * s.kernelShare).toFixed(0)}% of the wall time per step (best of interleaved rounds; median wall ${fmt(s.wallMsPerStep)} ms/step, GPU ${fmt(s.gpuMsPerStep)} ms/step), encoding ${fmt(s.encodeMsPerStep)} ms/step` : null;
  }).filter(Boolean);
  if (shares.length) out.push('', `Kernel-time share (one pass): ${shares.join('; ')}.`);

  out.push('', '**Matmul ladder** (`npm run bench -- --only matmul --variant N`), GFLOP/s:', '');
  const ladder = ['0: naive', '1: smem tiled', '2: reg 4x4', '3: reg 8x8', '4: reg 16x8', '5: auto', '6: k-unroll'];
  out.push(`| rung | ${runs.map(([n]) => SHAPES.map((s) => `${n} ${s}`).join(' | ')).join(' | ')} |`);
  out.push(`|---|${runs.map(() => SHAPES.map(() => '---').join('|')).join('|')}|`);
  for (const rung of ladder) {
    const re = new RegExp(`^${rung.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
    const cells = runs.map(([, res]) => SHAPES.map((s) => {
      const r = find(res, 'dense_forward', re, s);
      return r && r.ms !== null ? fmt(r.gflops) : r?.check.startsWith('skipped') ? 'skip' : '–';
    }).join(' | '));
    out.push(`| ${rung} | ${cells.join(' | ')} |`);
  }

  out.push('', '**Other kernels** (ms per call; % of peak, bound):', '');
  out.push(`| kernel | variant | shape | ${runs.map(([n]) => n).join(' | ')} |`);
  out.push(`|---|---|---|${runs.map(() => '---').join('|')}|`);
  const others = node.rows.filter((r) => /^(dense_grad|softmax|sgd$|gather|per_sample|scatter|probe|peak|dispatch)/.test(r.kernel));
  for (const r0 of others) {
    const cells = runs.map(([, res]) => {
      const r = res.rows.find((x) => x.kernel === r0.kernel && x.variant === r0.variant && x.shape === r0.shape);
      if (!r || r.ms === null) return '–';
      const p = r.kernel.startsWith('peak') ? (r.flops > 0 ? `${fmt(r.gflops)} GF/s` : `${fmt(r.gbs)} GB/s`) : `${r.peakPct?.toFixed(0) ?? '-'}%, ${r.bound}`;
      return `${fmt(r.ms)} (${p})`;
    });
    out.push(`| ${r0.kernel} | ${r0.variant} | ${r0.shape} | ${cells.join(' | ')} |`);
  }
  return out.join('\n');
}

if (process.argv[1]?.endsWith('summary.ts')) {
  const [fa, fb] = process.argv.slice(2);
  if (!fa) {
    console.error('usage: node --import tsx bench/summary.ts node.json [chromium.json]');
    process.exit(2);
  }
  const a = JSON.parse(readFileSync(fa, 'utf8')) as BenchResult;
  const b = fb ? (JSON.parse(readFileSync(fb, 'utf8')) as BenchResult) : null;
  console.log(readmeTables(a, b));
}
