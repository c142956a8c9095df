/**
 * A run folder (the CLI's files) as the page's download: zipped into a folder named
 * <time>-<kind>, as an 'export' message for the worker to post. Used for the training run, the
 * Feng–Tu analysis and each experiment, so every download is named and packed the same way.
 */
import { zipFiles } from '../../util/zip.ts';
import type { ReportAssets } from '../../analysis/report/assets.ts';
import type { RunFiles } from '../../train/run-files.ts';
import type { FromWorker } from './protocol.ts';

/** uPlot's script and style for report.html, bundled by Vite (the CLI reads them from node_modules). */
export async function browserReportAssets(): Promise<ReportAssets> {
  const [js, css] = await Promise.all([import('uplot/dist/uPlot.iife.min.js?raw'), import('uplot/dist/uPlot.min.css?raw')]);
  return { uplotJs: js.default, uplotCss: css.default };
}

export function exportMessage(files: RunFiles, kind: string): Extract<FromWorker, { type: 'export' }> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const name = `${stamp}-${kind}`;
  return { type: 'export', name: `${name}.zip`, zip: zipFiles(files, name), files: [...files.keys()] };
}
