/**
 * The fluctuation–dissipation meter and the per-sample gauges from `sgdscope train --instrument`
 * on the seed network (in-process, a real run folder), beside the PCA window: their CSV/NPY files,
 * the FDR ratio over the PCA window (pca-window's last refresh), α of every measured pair, the
 * charts and report sections, the README's tables recomputed by numpy (scripts/fdr_gauges_tables.py);
 * and the momentum caveats on their panels.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainCommand } from '../src/cli/train.ts';
import '../src/instruments/all.ts';
import { fdr } from '../src/instruments/fdr.ts';
import { gauges } from '../src/instruments/gauges.ts';
import { resolveValues } from '../src/instruments/values.ts';
import { pythonWithNumpy } from './helpers/python.ts';

const csv = (path: string): Record<string, number>[] => {
  const [head, ...rows] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = head.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i], v === '' ? NaN : Number(v)])));
};

describe('sgdscope train --instrument pca-window,fdr,gauges', () => {
  it('writes the meters’ files, the window ratio and their report sections for the seed network', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sgdscope-fdr-')), 'run');
    const code = await trainCommand(['--steps', '80', '--chunk', '40', '--refresh', '40', '--train-size', '2000', '--test-size', '500', '--instrument', 'pca-window,fdr,gauges', '--out', out, '--quiet']);
    expect(code).toBe(0);
    const files = readdirSync(out);
    for (const f of ['fdr.csv', 'fdr.npy', 'fdr_window.csv', 'gauges.csv', 'gauges.npy', 'gauges_alpha.csv', 'gauges_alpha.npy', 'pca_window.csv', 'report.html', 'charts.json']) expect(files).toContain(f);
    const blocks = csv(join(out, 'fdr.csv'));
    expect(blocks.map((b) => b.step)).toEqual([40, 80]);
    for (const b of blocks) for (const g of ['l0', 'l1', 'l2', 'net']) expect(Number.isFinite(b[`lhs_${g}`]) && b[`rhs_${g}`] > 0).toBe(true);
    // Without biases every layer's θ·∇L_B is the same number (each layer is a degree-1 factor of the logits).
    for (const b of blocks) expect(Math.abs(b.lhs_l0 - b.lhs_l2)).toBeLessThan(1e-3 * Math.abs(b.lhs_l0) + 1e-6);
    const win = csv(join(out, 'fdr_window.csv'))[0];
    expect(win.last_step).toBe(80);
    expect(win.final).toBe(0);
    const gauges = csv(join(out, 'gauges.csv'));
    expect(gauges.map((r) => r.step)).toEqual([1, ...Array.from({ length: 7 }, (_, i) => [10 * (i + 1), 10 * (i + 1) + 1]).flat(), 80]);
    for (const r of gauges) expect(r.norm_test > 0 && r.inner_test > 0 && r.ortho_test > 0 && r.gsnr_mean > 0).toBe(true);
    const alpha = csv(join(out, 'gauges_alpha.csv'));
    expect(alpha.map((r) => r.step)).toEqual(Array.from({ length: 7 }, (_, i) => 10 * (i + 1)));
    expect(alpha.filter((r) => Number.isFinite(r.alpha)).length).toBeGreaterThan(4);
    const charts = JSON.parse(readFileSync(join(out, 'charts.json'), 'utf8')) as { id: string; marks?: { x: number }[] }[];
    for (const id of ['fdr-ratio', 'fdr-layer', 'gauges-tests', 'gauges-gsnr', 'gauges-gsnr-hist', 'gauges-alpha']) expect(charts.map((c) => c.id)).toContain(id);
    expect(charts.find((c) => c.id === 'fdr-ratio')?.marks?.map((m) => m.x)).toEqual([win.first_step, 80]);
    const report = readFileSync(join(out, 'report.html'), 'utf8');
    expect(report).toContain('<h2>Fluctuation–dissipation meter</h2>');
    expect(report).toContain('<h2>Per-sample gauges (GSNR, batch-size tests, α)</h2>');
    // The README's tables, recomputed with numpy from the CSVs: its window ratio is the instrument's.
    const py = pythonWithNumpy();
    if (!py) throw new Error('no python3 with numpy: apt-get install python3-numpy (scripts/ensure-deps.sh does this)');
    const tables = spawnSync(py, [join(import.meta.dirname, '../scripts/fdr_gauges_tables.py'), out], { encoding: 'utf8' });
    expect(tables.status, tables.stderr).toBe(0);
    expect(tables.stdout).toContain(`PCA window ${win.first_step}–80: numpy agrees with fdr_window.csv: True`);
    expect(tables.stdout).toMatch(/\| \d+–80 \| \d+\.\d\d \| \d+ \|/);
  }, 180_000);

  it('says on the panels when momentum makes the relation and α differ (charts are pure functions of the tables)', () => {
    const run = { lr: 0.1, batchSize: 50, stepsPerEpoch: 160, trainSize: 8000, totalSteps: null };
    const blocks = { step: [40], first_step: [1], measurements: [40], loss: [1], lr: [0.1], momentum: [0.9], weight_decay: [0], lhs_net: [0.1], rhs_net: [0.1], ratio_net: [1], se_net: [0.1] };
    const fdrNote = (mu: number) => fdr.charts({ blocks: { ...blocks, momentum: [mu] }, window: {} }, resolveValues(fdr, {}, null) as never, run, 'live')[0].note;
    expect(fdrNote(0.9)).toContain('Momentum μ = 0.9 > 0: Yaida');
    expect(fdrNote(0)).not.toContain('Momentum');
    const steps = Object.fromEntries(gauges.tables.steps.columns!.map((c) => [c, [] as number[]]));
    const alphaNote = (mu: number) => gauges.charts({ steps, alpha: { step: [10], alpha: [0.1], concave: [0], tau: [0.01], f0: [1], var_f0: [1], df0: [-1], var_df0: [1], f1: [1], var_f1: [1], df1: [0], var_df1: [1], momentum: [mu] } }, resolveValues(gauges, {}, null) as never, run, 'live')[3].note;
    expect(alphaNote(0.9)).toContain('α is valid for momentum 0 only');
    expect(alphaNote(0)).not.toContain('momentum 0 only');
  });
});
