/**
 * The Feng–Tu lab's final analysis (analyseFengTu: every step of the window, all training
 * samples) as the plain numbers the window instruments show in place of their live refreshes.
 */
import type { FengTuWithPca } from '../feng-tu/run.ts';
import type { FinalWindow } from '../../instruments/final-window.ts';
import { instrumentById } from '../../instruments/all.ts';
import { defaultValues, type InstrumentValues } from '../../instruments/values.ts';

export function finalWindowOf(r: FengTuWithPca): FinalWindow {
  const s = r.summary;
  const dirs = r.flatness?.directions;
  const nan = (v: number | null | undefined): number => v ?? NaN;
  return {
    windowFirst: r.window.firstStep,
    windowLast: r.window.lastStep,
    steps: r.window.T,
    samples: r.trainSize,
    P: r.P,
    k: r.pca.k,
    variances: Float64Array.from(r.pca.variances),
    components: Float64Array.from(r.pca.components),
    cumulative: Float64Array.from(s.all.cumulative),
    total: r.pca.total,
    d90: s.all.d90,
    d99: s.all.d99,
    d90NoPc1: s.pc1Removed?.d90 ?? null,
    d99NoPc1: s.pc1Removed?.d99 ?? null,
    pc1VsMeanWeight: r.pc1VsMeanWeight,
    wStar: Float64Array.from(r.wStar),
    wStarParams: Float32Array.from(r.wStarParams),
    dirs: [...r.dirs],
    F: Float64Array.from(r.dirs, (_, j) => nan(dirs?.[j].F)),
    thetaL: Float64Array.from(r.dirs, (_, j) => nan(dirs?.[j].thetaL)),
    thetaR: Float64Array.from(r.dirs, (_, j) => nan(dirs?.[j].thetaR)),
    T: r.temperatures ? Float64Array.from(r.temperatures.T) : Float64Array.from(r.dirs, () => NaN),
    L0: r.L0,
    fit: r.fit ? { psi: r.fit.psi, psiSE: r.fit.psiSE, r: r.fit.r, n: r.fit.n, intercept: r.fit.intercept } : null,
    fitError: r.fitError,
    tFit: r.tempVsFlatness ? { exponent: r.tempVsFlatness.psi, r: r.tempVsFlatness.r, intercept: r.tempVsFlatness.intercept } : null,
    anisotropy: r.anisotropy ? { maxOverMin: r.anisotropy.maxOverMin, spearman: r.anisotropy.spearmanWithFlatness } : null,
    tCurve: r.temperatureVsLoss.length
      ? {
          pcs: [...r.tDirs],
          steps: Float64Array.from(r.temperatureVsLoss, (row) => row.step),
          loss: Float64Array.from(r.temperatureVsLoss, (row) => row.loss),
          T: r.tDirs.map((_, j) => Float64Array.from(r.temperatureVsLoss, (row) => row.T[j])),
        }
      : null,
    mlf: r.mlf.map((e) => ({ pc: e.dir + 1, theta: Float64Array.from(e.theta), full: Float64Array.from(e.full), mini: e.mini.map((m) => Float64Array.from(m)) })),
    ms: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, v * 1000])),
  };
}

/**
 * The Feng–Tu settings of the final analysis: the window instruments' (pca-window: layer, window,
 * k; flatness: the threshold factor), so the live panels and the final one analyse the same thing.
 */
export function labSettingsOf(values: Record<string, InstrumentValues>): { layer: number; windowEpochs: number; k: number; flatK: number } {
  const w = { ...defaultValues(instrumentById('pca-window')), ...values['pca-window'] };
  const f = { ...defaultValues(instrumentById('flatness')), ...values.flatness };
  return { layer: w.layer as number, windowEpochs: w.windowEpochs as number, k: w.k as number, flatK: f.flatK as number };
}
