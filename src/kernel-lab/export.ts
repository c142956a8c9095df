/**
 * A lab result as files: JSON in the bench results format (bench/results/*.json: adapter, peaks,
 * rows, notes; the experiment itself under options.lab), CSV of the rows with the benchmark table's
 * columns, and the steps to contribute the kernel to bench/ as a rung of its own.
 */
import type { Row } from '../../bench/core/report.ts';
import { toCsv } from '../util/csv.ts';
import { PROBLEMS } from './catalog.ts';
import type { LabResult, LabSpec } from './protocol.ts';

export function resultJson(r: LabResult): string {
  return `${JSON.stringify(r.bench, null, 1)}\n`;
}

const CSV_COLUMNS: (keyof Row)[] = ['kernel', 'variant', 'shape', 'ms', 'wallMs', 'timer', 'flops', 'bytes', 'gflops', 'gbs', 'peakPct', 'bound', 'check'];

export function resultCsv(r: LabResult): string {
  const rows = r.bench.rows.map((row) => [...CSV_COLUMNS.map((c) => row[c] as string | number | null | undefined), row.vsPeer?.peer, row.vsPeer?.ratio]);
  return toCsv([...CSV_COLUMNS, 'vs_peer', 'vs_peer_ratio'], rows);
}

/** A file name stem: sgdscope-lab-matmul-512x784x256. */
export function resultStem(spec: LabSpec): string {
  return `sgdscope-lab-${spec.problem}-${PROBLEMS[spec.problem].shapeLabel(spec.params)}`;
}

/** How to make the kernel a rung of the benchmark, with the code to paste. */
export function rungInstructions(spec: LabSpec): string {
  const problem = PROBLEMS[spec.problem];
  const name = spec.problem === 'matmul' ? 'bench_matmul_mine' : `bench_${spec.problem}_mine`;
  const template = Object.keys(spec.template).length ? `template: ${JSON.stringify(spec.template)}, ` : '';
  const grid = JSON.stringify(spec.grid).replace(/","/g, '", "');
  const head = [
    `1. Save the kernel as shaders/${name}.wgsl (any name starting with bench_). Head it with the math and`,
    '   the shapes, and comment every binding and uniform field (shaders/README.md says why: the file is',
    '   the spec reviewers read). Loads clamped, stores masked: Node runs Dawn with robustness off.',
  ];
  if (spec.problem === 'matmul') {
    return [
      ...head,
      '2. Add it to the ladder, MATMUL_LADDER in bench/ladder.ts (the bench suite and this lab read that list):',
      '',
      '   {',
      "     name: 'mine',",
      "     idea: 'what it tries, one line',",
      `     shader: '${name}',`,
      `     entry: '${spec.entry}',`,
      `     setup: () => ({ ${template}constants: ${JSON.stringify(spec.overrides)}, label: 'mine' }),`,
      `     grid: ${grid},`,
      '   },',
      '',
      `3. npm run bench -- --only matmul --variant <its index>   validates it at every ladder shape, then times it;`,
      '   npx vitest run tests/bench-validate.test.ts            checks every rung at every shape (CI runs it).',
      '   It then appears in this lab under "start from" and "compare with".',
    ].join('\n');
  }
  return [
    ...head,
    `2. Add a case beside the ${problem.kernelName} rows of bench/suites/${spec.problem.startsWith('grad') ? 'dense' : 'kernels'}.ts, checked against the same`,
    '   reference (src/kernels/*.ref.ts) before it is timed:',
    '',
    `   const k = await Kernel.create(ctx, { shader: '${name}', entry: '${spec.entry}', ${template}constants: ${JSON.stringify(spec.overrides)} });`,
    `   const bg = k.bindGroup({ ${problem.buffers(spec.params).map((b) => `${b.name}: ${b.name}Buffer`).join(', ')} });`,
    `   await runCase(env, { kernel: '${problem.kernelName}', variant: 'mine', shape, flops, bytes, dispatches: 1,`,
    `     encode: (b) => b.dispatch(k, bg, uniforms, grid /* ${grid} */), check: async () => compare(…) });`,
    '',
    '3. npm run bench -- --validate checks it; npm run bench times it beside the production kernel.',
  ].join('\n');
}
