/**
 * The run folder of `sgdscope reproduce batch-increase` (and of the dashboard card's export):
 *
 *   config.json                  model, shared training settings, milestones, factor, batch rule,
 *                                data spec, adapter, and every schedule's phases
 *   result.json                  per schedule: status, updates, time, final train/test evaluation,
 *                                phases shared with an earlier schedule; the (a)–(b) comparison
 *   schedule.csv                 schedule, phase, epochs, lr, B, g, lr·N/B, steps/epoch, updates
 *   evals.csv                    per schedule and epoch (0 = initial weights): updates so far,
 *                                phase, lr, B, g, full train and test loss/accuracy
 *   metrics_<schedule>.csv       per update: epoch, phase, lr, B, minibatch loss and accuracy
 *   weights_<schedule>_layer{l}.npy   float32 (fan_in, fan_out), the final weights (z = x @ W)
 *   bias_<schedule>_layer{l}.npy      when the model has biases
 *   train_indices.npy, test_indices.npy   uint32 indices into the dataset's canonical order
 *   charts.json, report.html
 *
 * scripts/check_batch_increase_numpy.py re-evaluates every schedule's weights on the test indices.
 */
import { encodeNpy } from '../../util/npy.ts';
import { toCsv } from '../../util/csv.ts';
import { layerBias, layerWeights, paramLayout } from '../../nn/params.ts';
import type { RunFiles } from '../../train/run-files.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';
import type { ChartData } from '../../analysis/report/chart-data.ts';
import { esc, fmt, reportPage } from '../../analysis/report/html.ts';
import { batchIncreaseFigures } from './charts.ts';
import { compareSchedules, type BatchIncreaseResult } from './run.ts';

export interface BatchIncreaseMeta {
  data: unknown;
  adapter: { name: string; description: string; runtime: string };
  trainIndices?: Uint32Array;
  testIndices?: Uint32Array;
}

const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${(100 * v).toFixed(2)}%`);

export function batchIncreaseSummary(r: BatchIncreaseResult): Record<string, unknown> {
  const c = compareSchedules(r);
  return {
    seconds: r.seconds,
    trainSize: r.trainSize,
    testSize: r.testSize,
    comparison: c,
    schedules: Object.fromEntries(
      r.runs.map((x) => {
        const last = x.evals.at(-1);
        return [x.schedule.name, {
          label: x.schedule.label, status: x.status, message: x.message, updates: x.updates, updatesPlanned: x.schedule.updates,
          seconds: x.seconds, sharedPhases: x.shared, finalEpoch: last?.epoch ?? null, final: last ? { train: last.train, test: last.test } : null,
        }];
      }),
    ),
  };
}

function scheduleRows(r: BatchIncreaseResult): (string | number)[][] {
  return r.runs.flatMap((x) => x.schedule.phases.map((p) => [x.schedule.name, p.index, p.startEpoch, p.endEpoch, p.lr, p.batchSize, p.g, p.gApprox, p.stepsPerEpoch, p.droppedPerEpoch, p.updatesBefore, p.updates]));
}

function report(r: BatchIncreaseResult, charts: ChartData[], assets: ReportAssets, summary: Record<string, unknown>, adapter: string): string {
  const s = r.spec;
  const c = compareSchedules(r);
  const phaseRows = r.runs
    .flatMap((x) => x.schedule.phases.map((p) => `<tr><td>${esc(x.schedule.label)}</td><td>${p.index + 1}${x.shared.includes(p.index) ? ' (shared)' : ''}</td><td>${p.startEpoch}–${p.endEpoch}</td><td class="num">${fmt(p.lr, 4)}</td><td class="num">${p.batchSize}</td><td class="num">${fmt(p.g, 4)}</td><td class="num">${fmt(p.gApprox, 4)}</td><td class="num">${p.stepsPerEpoch}</td><td class="num">${p.droppedPerEpoch}</td><td class="num">${p.updates}</td></tr>`))
    .join('');
  const resultRows = r.runs
    .map((x) => {
      const last = x.evals.at(-1);
      const best = Math.max(...x.evals.map((e) => e.test?.accuracy ?? -Infinity));
      return `<tr><td>${esc(x.schedule.label)}</td><td>${esc(x.message)}</td><td class="num">${x.updates}</td><td class="num">${pct(last?.test?.accuracy)}</td><td class="num">${pct(Number.isFinite(best) ? best : null)}</td><td class="num">${fmt(last?.train.loss, 4)}</td><td class="num">${pct(last?.train.accuracy)}</td><td class="num">${x.seconds.toFixed(1)}</td></tr>`;
    })
    .join('');
  const intro = `Smith, Kindermans, Ying &amp; Le (ICLR 2018): SGD's noise scale is g = ε(N/B − 1) ≈ εN/B, so dividing the learning rate ε by f at a milestone and multiplying the batch size B by f instead give the same g schedule — and, the paper finds, the same test accuracy against epochs, with fewer parameter updates.
Here: ${s.model.widths.join('-')} ${s.model.activation}${s.model.bias ? ' +bias' : ', no biases'}, N = ${r.trainSize} training / ${r.testSize} test samples, ε₀ = ${s.train.lr}, B₀ = ${s.train.batchSize}, momentum 0, ${s.train.epochs} epochs, milestones at epochs ${s.milestones.join(', ')}, factor f = ${s.factor}, batch rule '${s.batchRule}'${s.batchRule === 'factor' ? ' (B_k = B₀·f^k, the paper\'s)' : ' (B_k = N/(1 + (N/B₀ − 1)/f^k), rounded: equal g)'}, seed ${s.train.seed}.
Every schedule starts from the same initial weights, and epoch e of every schedule shuffles the training set with the same permutation (cut into batches of its B, drop-last); each phase is a new trainer started from the previous phase's weights. ${r.seconds.toFixed(0)} s on ${esc(adapter)}.`;
  return reportPage({
    title: 'Increase the batch size instead of decaying the learning rate',
    intro,
    assets,
    summary,
    sections: [
      {
        title: 'Schedules',
        html: `<p class="note">g = ε(N/B − 1) is the noise scale of the SDE that SGD approximates (momentum 0); εN/B its small-batch form. "shared": the phase is identical to an earlier schedule's (same lr, B and epochs from the same start) and was trained once.</p>
<table><tr><th>schedule</th><th>phase</th><th>epochs</th><th>lr</th><th>B</th><th>g</th><th>lr·N/B</th><th>steps/epoch</th><th>samples dropped/epoch</th><th>updates</th></tr>${phaseRows}</table>`,
        charts: charts.filter((x) => x.id === 'noise-scale'),
      },
      {
        title: 'Test accuracy against epochs and against parameter updates',
        html: `<p class="note">(a) vs (b): largest |Δ test accuracy| over epochs 1–${s.train.epochs} ${c.maxGap === null ? '—' : `${(100 * c.maxGap).toFixed(2)} points`}, mean ${c.meanGap === null ? '—' : `${(100 * c.meanGap).toFixed(2)}`}; (a) makes ${c.updateRatio === null ? '—' : c.updateRatio.toFixed(2)}× the updates of (b). Training time counts shared phases in each schedule.</p>
<table><tr><th>schedule</th><th>status</th><th>updates</th><th>final test acc.</th><th>best test acc.</th><th>final train loss</th><th>final train acc.</th><th>train s</th></tr>${resultRows}</table>`,
        charts: charts.filter((x) => x.id !== 'noise-scale'),
      },
    ],
  });
}

export function batchIncreaseFiles(r: BatchIncreaseResult, assets: ReportAssets, meta: BatchIncreaseMeta): RunFiles {
  const files: RunFiles = new Map();
  const charts = batchIncreaseFigures(r);
  const summary = batchIncreaseSummary(r);
  const schedules = r.runs.map((x) => ({ name: x.schedule.name, label: x.schedule.label, updates: x.schedule.updates, phases: x.schedule.phases }));
  files.set('config.json', JSON.stringify({ sgdscope: '0.1.0', created: new Date().toISOString(), kind: 'reproduce-batch-increase', model: r.spec.model, train: r.spec.train, milestones: r.spec.milestones, factor: r.spec.factor, batchRule: r.spec.batchRule, baseline: r.spec.baseline, data: meta.data, adapter: meta.adapter, schedules }, null, 2) + '\n');
  files.set('result.json', JSON.stringify(summary, null, 2) + '\n');
  files.set('schedule.csv', toCsv(['schedule', 'phase', 'start_epoch', 'end_epoch', 'lr', 'batch', 'g', 'lr_n_over_b', 'steps_per_epoch', 'dropped_per_epoch', 'updates_before', 'updates'], scheduleRows(r)));
  const evalRows = r.runs.flatMap((x) => x.evals.map((e) => [x.schedule.name, e.epoch, e.update, e.phase, e.lr, e.batchSize, e.g, e.train.loss, e.train.accuracy, e.test?.loss ?? null, e.test?.accuracy ?? null]));
  files.set('evals.csv', toCsv(['schedule', 'epoch', 'update', 'phase', 'lr', 'batch', 'g', 'train_loss', 'train_accuracy', 'test_loss', 'test_accuracy'], evalRows));
  const layout = paramLayout(r.spec.model);
  for (const x of r.runs) {
    const rows = x.phases.flatMap((o) => o.loss.map((l, i) => {
      const update = o.phase.updatesBefore + i + 1;
      return [update, o.phase.startEpoch + (i + 1) / o.phase.stepsPerEpoch, o.phase.index, o.phase.lr, o.phase.batchSize, l, o.accuracy[i]];
    }));
    files.set(`metrics_${x.schedule.name}.csv`, toCsv(['update', 'epoch', 'phase', 'lr', 'batch', 'batch_loss', 'batch_accuracy'], rows));
    for (const L of layout.layers) {
      files.set(`weights_${x.schedule.name}_layer${L.index}.npy`, encodeNpy(layerWeights(x.params, L), [L.fanIn, L.fanOut]));
      const b = layerBias(x.params, L);
      if (b) files.set(`bias_${x.schedule.name}_layer${L.index}.npy`, encodeNpy(b, [L.fanOut]));
    }
  }
  if (meta.trainIndices) files.set('train_indices.npy', encodeNpy(meta.trainIndices, [meta.trainIndices.length]));
  if (meta.testIndices) files.set('test_indices.npy', encodeNpy(meta.testIndices, [meta.testIndices.length]));
  files.set('charts.json', JSON.stringify(charts) + '\n');
  files.set('report.html', report(r, charts, assets, summary, `${meta.adapter.name} (${meta.adapter.runtime})`));
  return files;
}
