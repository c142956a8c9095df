/**
 * `sgdscope train --instrument …`: the instruments beside the trainer in Node. The side device is
 * a second Dawn device, acquired when an instrument first asks for it. After training, a last
 * refresh brings the window instruments up to the end of the run; the run folder then gets each
 * instrument's files, instruments.json, charts.json and report.html (training curves first, then
 * one section per instrument).
 */
import { acquireGpu, type GpuContext } from '../gpu/device.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Trainer, TrainHooks } from '../train/trainer.ts';
import type { RunFiles } from '../train/run-files.ts';
import { loadReportAssets } from '../analysis/report/assets.ts';
import { InstrumentHost, mergeHooks } from '../instruments/host.ts';
import { instrumentFiles, instrumentReportFiles, type InstrumentRecord } from '../instruments/outputs.ts';
import { trainingCharts } from '../instruments/training-charts.ts';
import type { ActiveInstrument } from './instrument-flags.ts';

export interface TrainInstruments {
  hooks(base: TrainHooks): TrainHooks;
  /** Waits for the last refresh and returns the run-folder files; frees the side device. */
  finish(summary: unknown, title: string): Promise<RunFiles>;
  /** One line per instrument with its headline numbers. */
  lines(): string[];
}

export async function startTrainInstruments(trainer: Trainer, trainSet: Dataset, active: ActiveInstrument[], warn: (s: string) => void): Promise<TrainInstruments | null> {
  if (!active.length) return null;
  let side: Promise<GpuContext> | null = null;
  const host = await InstrumentHost.create({
    trainer,
    trainSet,
    active,
    side: () => (side ??= acquireGpu()),
    onWarning: (id, m) => warn(`instrument ${id}: ${m}`),
  });
  const records = (): InstrumentRecord[] => host.live.map((l) => ({ def: l.def, values: l.values, store: l.store }));
  return {
    hooks: (base) => mergeHooks(host.hooks(), base),
    async finish(summary, title) {
      await host.finish(trainer.step, true);
      const files = instrumentFiles(records(), host.run);
      const lead = [{ title: 'Training', html: `<p class="note">${trainer.model.widths.join('-')}, lr ${trainer.config.lr}, batch ${trainer.config.batchSize}, ${trainer.step} steps.</p>`, charts: trainingCharts(trainer.history) }];
      const report = instrumentReportFiles({ title, intro: 'Training run with live instruments (sgdscope train --instrument …).', lead, records: records(), run: host.run, summary, assets: await loadReportAssets() });
      for (const [k, v] of report) files.set(k, v);
      host.dispose();
      if (side) (await side).destroy();
      return files;
    },
    lines: () => host.live.map((l) => `${l.def.id}: ${Object.entries(l.store.headline).map(([k, v]) => `${k} ${v}`).join(', ') || `${l.store.updates} updates`}`),
  };
}
