/**
 * The few lines `sgdscope reproduce feng-tu` prints at the end: where training stopped and the
 * window, D90/D99 per variant with PC1's share and alignments, the noise floor, ψ with its PC range
 * and over PC ranges, the temperatures, stage times and failures.
 */
import { failedStages, type FengTuResult } from './result.ts';

export function fengTuLines(result: FengTuResult): string[] {
  const s = result.summary;
  const d = (p: NonNullable<typeof s>['all'] | null | undefined): string => (p ? `D90 ${p.d90 ?? `>${p.variances.length}`}, D99 ${p.d99 ?? `>${p.variances.length}`}` : '—');
  const fit = result.fit;
  const fd = result.fitDetail;
  const floor = result.pca?.floor;
  const resumed = Object.entries(result.stages).filter(([, r]) => r.resumed).map(([n]) => n);
  return [
    `${result.run.message}; window steps ${result.window.firstStep}–${result.window.lastStep} (T = ${result.window.T}), layer ${result.layer} (P = ${result.P}), k = ${result.options.k}`,
    s ? `dimensions (of P = ${result.P}): all ${d(s.all)} | PC1 left out ${d(s.pc1Removed)} | detrended ${d(s.detrended)} | PC1 ${(100 * s.all.ratio[0]).toFixed(2)}% | |cos(PC1, w*)| ${result.pc1VsMeanWeight?.toFixed(3)} | |cos(PC1, drift)| ${result.pc1VsDrift?.toFixed(3)}` : 'dimensions: no PCA',
    floor ? `noise floor of σ²: ${floor.variance.toExponential(2)} (${floor.relativeToTop.toExponential(1)}·σ1², scatter ${result.scatter?.arithmetic}): PCs 1–${floor.trustedUpTo} trusted to ${floor.relTol}` : '',
    fit && fd
      ? `variance–flatness: ψ = ${fit.psi.toFixed(3)} ± ${fit.psiSE.toFixed(3)}, r = ${fit.r.toFixed(3)} over PCs ${fd.pcs[0]}–${fd.pcs[fd.pcs.length - 1]} (n = ${fit.n}, PC1 left out); by range: ${fd.ranges.map((f) => `${f.from}–${f.to} ${f.psi.toFixed(2)}`).join(', ')}`
      : `variance–flatness: no fit (${result.fitError ?? result.stages.fit?.error ?? 'skipped'})`,
    result.anisotropy ? `temperature: max/min ${result.anisotropy.maxOverMin.toPrecision(3)}, Spearman(T, F) ${result.anisotropy.spearmanWithFlatness?.toFixed(3)}` : 'temperature: not measured',
    result.temperatureVsLoss.length ? `T(t) vs L(t): Pearson r(ln T, ln L) ${result.tDirs.map((i, j) => `PC${i} ${result.temperatureLossCorrelation[j].toFixed(3)}`).join(', ')}` : '',
    `time: ${Object.entries(result.timings).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(', ')}${resumed.length ? ` (taken from the earlier attempt: ${resumed.join(', ')})` : ''}`,
    ...failedStages(result).map((n) => `FAILED stage ${n}: ${result.stages[n]?.error}`),
  ].filter(Boolean);
}
