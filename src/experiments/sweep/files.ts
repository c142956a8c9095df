/**
 * The run folder of a sweep (named byte arrays; the CLI writes them, the dashboard can offer
 * them for download):
 *
 *   config.json    the sweep spec (base model/train/data, grid, sharpness settings), adapter
 *   result.json    totals, timings, the divergence boundary, every run's key numbers
 *   runs.csv       one row per run: hyperparameters, status, diverged step, final train/test
 *                  loss and accuracy, gaps, ‖w‖ (total and per layer), g, λ_1..λ_k
 *   sharpness.npy  float64 (runs, k): top Hessian eigenvalues (NaN: diverged / not computed)
 *   curves.csv     evaluations along training: run, step, epoch, train/test loss and accuracy
 *   charts.json    every figure as chart-ready columns (src/analysis/report/chart-data.ts), the
 *                  phase diagram also as a heat map (the dashboard's run-folder viewer draws both)
 *   report.html    the figures and tables, self-contained
 *   runs/NNNN/     each run's own run folder (config.json, result.json, metrics.csv, weights,
 *                  indices) and record.json, its record — written by the caller as runs finish
 *
 * With ASHA, runs.csv also has the epoch a run was stopped at and its metric at every rung, and
 * the report marks the early-stopped runs; units that failed (a queue job that could not run)
 * are listed in result.json and the report.
 */
import { encodeNpy } from '../../util/npy.ts';
import { toCsv } from '../../util/csv.ts';
import type { RunFiles } from '../../train/run-files.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';
import type { ChartData } from '../../analysis/report/chart-data.ts';
import { esc, fmt, reportPage } from '../../analysis/report/html.ts';
import { accuracyVsNoiseScale, modalValue, phaseDiagram, phaseHeatmap, sharpnessVsLr, sizeVs, type PhaseDiagram } from './charts.ts';
import type { SweepResult, SweepRun } from './result.ts';

export interface SweepFigures {
  charts: ChartData[];
  phase: PhaseDiagram;
}

export function sweepFigures(r: SweepResult): SweepFigures {
  const runs = r.runs;
  const charts: ChartData[] = [];
  const wd = modalValue(runs, 'weightDecay');
  const dr = modalValue(runs, 'dropout');
  const batches = [...new Set(runs.map((x) => x.point.batchSize))].sort((a, b) => a - b);
  const lrs = new Set(runs.map((x) => x.point.lr));
  if (lrs.size > 1 && r.spec.sharpness.k > 0) for (const B of batches) charts.push(sharpnessVsLr(runs, { batchSize: B, weightDecay: wd, dropout: dr }));
  charts.push(accuracyVsNoiseScale(runs, { weightDecay: wd, dropout: dr }, 'testAccuracy'));
  charts.push(accuracyVsNoiseScale(runs, { weightDecay: wd, dropout: dr }, 'gapLoss'));
  const phase = phaseDiagram(runs, { weightDecay: wd, dropout: dr });
  if (batches.length > 1) charts.push(phase.chart);
  if (new Set(runs.map((x) => x.point.weightDecay)).size > 1) charts.push(sizeVs(runs, 'weightDecay'));
  if (new Set(runs.map((x) => x.point.dropout)).size > 1) charts.push(sizeVs(runs, 'dropout'));
  return { charts, phase };
}

export function sweepSummary(r: SweepResult, fig: SweepFigures): Record<string, unknown> {
  const diverged = r.runs.filter((x) => x.outcome === 'diverged');
  const asha = r.spec.search?.asha ?? null;
  return {
    runs: r.runs.length,
    search: r.spec.search ?? { sampler: 'grid', asha: null },
    ...(asha ? { earlyStopped: r.runs.filter((x) => x.asha?.stoppedAtEpoch != null).length } : {}),
    ...(r.failed?.length ? { failed: r.failed } : {}),
    diverged: diverged.length,
    collapsed: r.runs.filter((x) => x.outcome === 'collapsed').length,
    trainSize: r.trainSize,
    testSize: r.testSize,
    hessianSamples: r.hessianSamples,
    concurrency: r.spec.concurrency,
    seconds: r.seconds,
    trainingSeconds: r.runs.reduce((s, x) => s + x.seconds, 0),
    sharpnessSeconds: r.runs.reduce((s, x) => s + x.sharpnessSeconds, 0),
    divergenceBoundary: fig.phase.boundary,
    results: r.runs.map((x) => ({
      ...x.point,
      status: x.status,
      outcome: x.outcome,
      message: x.message,
      divergedStep: x.divergedStep,
      spikeStep: x.spikeStep,
      testAccuracy: x.testAccuracy,
      trainLoss: x.trainLoss,
      testLoss: x.testLoss,
      gapLoss: x.gapLoss,
      weightNorm: x.weightNorm,
      noiseScale: x.noiseScale,
      sharpness: x.sharpness,
      sharpnessConverged: x.sharpnessConverged,
      ...(x.asha ? { asha: x.asha } : {}),
    })),
  };
}

/** runs.csv: one row per run (also written run by run while a sweep goes on). */
export function runsCsv(r: Pick<SweepResult, 'spec' | 'runs'>): string {
  const k = r.spec.sharpness.k;
  const layers = r.spec.model.widths.length - 1;
  const header = [
    'run', 'lr', 'batch_size', 'weight_decay', 'dropout', 'seed', 'status', 'outcome', 'diverged_step', 'spike_step', 'steps', 'epochs', 'seconds',
    'train_loss', 'train_accuracy', 'test_loss', 'test_accuracy', 'gap_loss', 'gap_accuracy', 'weight_norm',
    ...Array.from({ length: layers }, (_, l) => `norm_layer${l}`), 'noise_scale',
    ...Array.from({ length: k }, (_, i) => `lambda_${i + 1}`), 'sharpness_converged', 'sharpness_seconds',
  ];
  // ASHA: where each run stopped and its metric at every rung it reached.
  const rungs = r.spec.search?.asha ? Math.max(0, ...r.runs.map((x) => x.asha?.rungs.length ?? 0)) : -1;
  if (rungs >= 0) header.push('asha_stopped_epoch', ...Array.from({ length: rungs }, (_, i) => `asha_rung${i}_value`));
  const rows = r.runs.map((x) => [
    x.point.index, x.point.lr, x.point.batchSize, x.point.weightDecay, x.point.dropout, x.point.seed, x.status, x.outcome, x.divergedStep, x.spikeStep, x.steps, x.epochs, x.seconds,
    x.trainLoss, x.trainAccuracy, x.testLoss, x.testAccuracy, x.gapLoss, x.gapAccuracy, x.weightNorm,
    ...x.layerNorms, x.noiseScale,
    ...Array.from({ length: k }, (_, i) => x.sharpness?.[i] ?? null), x.sharpnessConverged === null ? null : String(x.sharpnessConverged), x.sharpnessSeconds,
    ...(rungs >= 0 ? [x.asha?.stoppedAtEpoch ?? null, ...Array.from({ length: rungs }, (_, i) => x.asha?.rungs[i]?.value ?? null)] : []),
  ]);
  return toCsv(header, rows);
}

function curvesCsv(runs: SweepRun[]): string {
  const rows: (number | null)[][] = [];
  for (const x of runs) {
    for (const e of x.evals) rows.push([x.point.index, e.step, e.epoch, e.train.loss, e.train.accuracy, e.test?.loss ?? null, e.test?.accuracy ?? null]);
  }
  return toCsv(['run', 'step', 'epoch', 'train_loss', 'train_accuracy', 'test_loss', 'test_accuracy'], rows);
}

function phaseTable(p: PhaseDiagram): string {
  const color = (acc: number | null): string => {
    if (acc === null) return '#eee';
    const t = Math.max(0, Math.min(1, (acc - 0.5) / 0.5));
    return `hsl(${Math.round(120 * t)}, 60%, 80%)`;
  };
  const head = `<tr><th>B \\ lr</th>${p.lrs.map((lr) => `<th>${fmt(lr)}</th>`).join('')}</tr>`;
  const rows = p.batches
    .map(
      (B, b) =>
        `<tr><th>${B}</th>${p.cells[b]
          .map((c) =>
            c === null
              ? '<td></td>'
              : c.diverged > 0
                ? `<td style="background:#444;color:#fff" title="g = ${fmt(c.noiseScale)}">✕ diverged at step ${c.divergedStep}${c.diverged < c.runs ? ` (${c.diverged}/${c.runs})` : ''}</td>`
                : c.collapsed > 0
                  ? `<td style="background:#777;color:#fff" title="g = ${fmt(c.noiseScale)}">collapsed${c.spikeStep !== null ? `, spike at step ${c.spikeStep}` : ''}${c.collapsed < c.runs ? ` (${c.collapsed}/${c.runs})` : ''}</td>`
                  : `<td class="num" style="background:${color(c.testAccuracy)}" title="g = ${fmt(c.noiseScale)}">${c.testAccuracy === null ? '—' : (100 * c.testAccuracy).toFixed(1) + '%'}</td>`,
          )
          .join('')}</tr>`,
    )
    .join('');
  return `<table>${head}${rows}</table>`;
}

function searchNote(r: SweepResult): string {
  const q = r.spec.search;
  if (!q) return '';
  const what = q.sampler === 'random' ? `Random search: ${q.trials} points (seed ${q.seed}${q.lrRange ? `, lr log-uniform in [${q.lrRange.join(', ')}]` : ''}${q.weightDecayRange ? `, weight decay uniform in [${q.weightDecayRange.join(', ')}]` : ''}${q.dropoutRange ? `, dropout uniform in [${q.dropoutRange.join(', ')}]` : ''}; other axes drawn from their lists). ` : '';
  const a = q.asha;
  const stopped = r.runs.filter((x) => x.asha?.stoppedAtEpoch != null).length;
  return what + (a ? `ASHA (stopping form): rungs at epoch ${a.minEpochs}·${a.eta}^k, ranked by ${a.metric}; at each rung a run goes on only if it is among the best max(1, ⌊n/${a.eta}⌋) of the n runs that reached it so far — ${stopped} of ${r.runs.length} runs were stopped early (marked below; they have no sharpness). ` : '');
}

export function sweepReport(r: SweepResult, fig: SweepFigures, assets: ReportAssets, summary: Record<string, unknown>, adapter: string): string {
  const s = r.spec;
  const k = s.sharpness.k;
  const runRows = r.runs
    .map(
      (x) =>
        `<tr><td>${x.point.index}</td><td>${fmt(x.point.lr)}</td><td>${x.point.batchSize}</td><td>${fmt(x.point.weightDecay)}</td><td>${fmt(x.point.dropout)}</td><td>${x.point.seed}</td>` +
        `<td>${x.outcome === 'diverged' ? `<b>diverged at step ${x.divergedStep}</b>` : x.outcome === 'collapsed' ? `<b>collapsed</b>${x.spikeStep !== null ? ` (loss spike at step ${x.spikeStep})` : ''}` : x.asha?.stoppedAtEpoch != null ? `<b>stopped early</b> at epoch ${x.asha.stoppedAtEpoch} (ASHA)` : esc(x.status)}</td><td class="num">${fmt(x.trainLoss, 4)}</td><td class="num">${x.testAccuracy === null ? '—' : (100 * x.testAccuracy).toFixed(2) + '%'}</td>` +
        `<td class="num">${fmt(x.gapLoss)}</td><td class="num">${fmt(x.weightNorm, 4)}</td><td class="num">${fmt(x.noiseScale)}</td><td class="num">${x.sharpness ? x.sharpness.map((v) => fmt(v)).join(', ') : '—'}</td><td class="num">${x.seconds.toFixed(1)} s</td></tr>`,
    )
    .join('');
  const boundary = fig.phase.boundary.map((b) => `B ${b.batchSize}: trained up to lr ${fmt(b.maxStableLr)}, failed from ${fmt(b.minDivergedLr)}`).join('; ');
  const intro = `${esc(s.model.widths.join('-'))} ${esc(s.model.activation)}${s.model.bias ? ' with biases' : ', no biases'}, ${r.trainSize} training / ${r.testSize} test samples,
${r.runs.length} runs (grid: lr ${s.grid.lr.join(', ')}; B ${s.grid.batchSize.join(', ')}; weight decay ${s.grid.weightDecay.join(', ')}; dropout ${s.grid.dropout.join(', ')}; seeds ${s.grid.seed.join(', ')}),
${s.train.epochs ? `${s.train.epochs} epochs each` : `${s.train.steps} steps each`}. ${k > 0 ? `Sharpness: top ${k} eigenvalues of the Hessian of the mean training loss (${s.sharpness.layers ? `layers ${s.sharpness.layers.join(', ')}` : 'whole network'}) over ${r.hessianSamples} training samples, exact GPU Hessian–vector products + Lanczos.` : 'No sharpness.'}
${searchNote(r)}Adapter ${esc(adapter)}; ${r.seconds.toFixed(0)} s in total with ${s.concurrency} run${s.concurrency > 1 ? 's' : ''} at a time.`;
  const failed = r.failed?.length
    ? [{ title: 'Failed runs', html: `<p class="note">These grid points could not be run (their jobs failed); they are not in the tables or figures.</p><table><tr><th>#</th><th>lr</th><th>B</th><th>reason</th></tr>${r.failed.map((f) => `<tr><td>${f.point.index}</td><td>${fmt(f.point.lr)}</td><td>${f.point.batchSize}</td><td>${esc(f.reason)}</td></tr>`).join('')}</table>` }]
    : [];
  return reportPage({
    title: 'Sweep: sharpness, noise scale and divergence',
    intro,
    assets,
    summary,
    sections: [
      {
        title: '(lr, B) phase diagram',
        html: `<p class="note">Test accuracy per cell (mean over seeds); ✕ = diverged (minibatch loss NaN or above the divergence threshold; earliest step among seeds); collapsed = finished with a training loss within 10% of ln C at chance accuracy (the hidden ReLUs killed by a loss burst — how this network fails past the stability edge). ${esc(boundary)}.</p>${phaseTable(fig.phase)}`,
      },
      { title: 'Figures', html: '', charts: fig.charts },
      {
        title: 'Runs',
        html: `<table><tr><th>#</th><th>lr</th><th>B</th><th>wd</th><th>dropout</th><th>seed</th><th>status</th><th>train loss</th><th>test acc</th><th>gap (loss)</th><th>‖w‖</th><th>g</th><th>λ_1..λ_${k}</th><th>time</th></tr>${runRows}</table>`,
      },
      ...failed,
    ],
  });
}

export function sweepFiles(r: SweepResult, assets: ReportAssets, meta: { data: unknown; adapter: { name: string; description: string; runtime: string } }): RunFiles {
  const files: RunFiles = new Map();
  const fig = sweepFigures(r);
  const summary = sweepSummary(r, fig);
  files.set('config.json', JSON.stringify({ sgdscope: '0.1.0', created: new Date().toISOString(), kind: 'sweep', spec: { ...r.spec, data: meta.data }, adapter: meta.adapter }, null, 2) + '\n');
  files.set('result.json', JSON.stringify(summary, null, 2) + '\n');
  files.set('runs.csv', runsCsv(r));
  const k = r.spec.sharpness.k;
  if (k > 0) {
    const sh = new Float64Array(r.runs.length * k).fill(NaN);
    r.runs.forEach((x, i) => x.sharpness?.forEach((v, j) => (sh[i * k + j] = v)));
    files.set('sharpness.npy', encodeNpy(sh, [r.runs.length, k]));
  }
  files.set('curves.csv', curvesCsv(r.runs));
  files.set('charts.json', JSON.stringify([...fig.charts, phaseHeatmap(fig.phase)]) + '\n');
  files.set('report.html', sweepReport(r, fig, assets, summary, `${meta.adapter.name} (${meta.adapter.runtime})`));
  return files;
}
