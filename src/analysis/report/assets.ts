/**
 * What a self-contained report.html inlines: uPlot's JS and CSS, so the file works offline and can
 * be mailed as is. In Node they are read from node_modules; the page passes its own copies.
 */
export interface ReportAssets {
  uplotJs: string;
  uplotCss: string;
}

/** Reads uPlot's dist files from node_modules (Node only). */
export async function loadReportAssets(): Promise<ReportAssets> {
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  const dir = new URL('../../../node_modules/uplot/dist/', import.meta.url);
  const js = new URL('uPlot.iife.min.js', dir);
  const css = new URL('uPlot.min.css', dir);
  if (!fs.existsSync(js)) throw new Error(`report: uPlot not found at ${js.pathname} (npm install first)`);
  return { uplotJs: fs.readFileSync(js, 'utf8'), uplotCss: fs.readFileSync(css, 'utf8') };
}
