/**
 * The dashboard's ensemble option, declared once (src/instruments/settings.ts: the form field, the
 * URL key and the message all come from it): `replicas` R networks of the same settings, seeds
 * seed, seed + 1, …, trained in lockstep by one Trainer (src/train/ensemble.ts), as
 * `sgdscope train --replicas R`. R = 1 is the ordinary single run.
 *
 * The Feng–Tu window: with pca-window on (and flatness, which needs it), each replica's window is
 * recorded and analysed after training, and the page draws the figures across seeds with error
 * bars (ensemble-window.ts: the window within a memory budget; ensemble-figures.ts). No live
 * refreshes: the instruments measure one network's steps while it trains, so every other one is
 * refused in the form instead of doing something wrong; the session also takes no weight snapshots
 * for an ensemble, so a lost device cannot be resumed and the Hessian card has no network.
 * The settings of the instruments switched off do not apply to an ensemble (run-settings.ts skips them).
 */
import { MAX_REPLICAS } from '../../train/ensemble.ts';
import { instruments } from '../../instruments/all.ts';
import { checkSetting, int, type SettingsContext, type SettingSpec, type SettingValue } from '../../instruments/settings.ts';
import { ensembleWindowErrors, ensembleWindowPlan } from './ensemble-window.ts';

/** The instruments an ensemble takes: the Feng–Tu window's, analysed per replica after training (no live refreshes). */
export const ENSEMBLE_WINDOW_INSTRUMENTS = ['pca-window', 'flatness'];

export const ENSEMBLE_SETTINGS: Record<'replicas', SettingSpec> = {
  replicas: int(1, { min: 1, max: MAX_REPLICAS }, 'networks trained at once (seeds seed, seed + 1, …); R > 1: the loss and accuracy panels draw their mean and min–max band; with pca-window on, each replica\'s Feng–Tu window (within a 256 MiB budget) is analysed after training and drawn with error bars across seeds; no other instruments, no resume after a lost device', {
    label: 'replicas R',
  }),
};

export interface EnsembleSettings {
  replicas: number;
}

export const ENSEMBLE_DEFAULTS: EnsembleSettings = { replicas: 1 };

/** The problems of the ensemble fields and of what an ensemble cannot be combined with, by field. */
export function ensembleErrors(s: EnsembleSettings & Record<string, unknown>, c: SettingsContext | null = null): Record<string, string> {
  const e: Record<string, string> = {};
  for (const [key, spec] of Object.entries(ENSEMBLE_SETTINGS)) {
    const m = checkSetting('train', key, spec, s[key as keyof EnsembleSettings] as SettingValue, null, {});
    if (m) e[key] = m;
  }
  const R = s.replicas;
  if (e.replicas || R === 1) return e;
  const on = instruments().filter((d) => s[d.id] === true && !ENSEMBLE_WINDOW_INSTRUMENTS.includes(d.id));
  if (on.length) {
    e.replicas = `train.replicas: an ensemble (R = ${R}) trains without live instruments (they analyse one network while it trains; only the Feng–Tu window, ${ENSEMBLE_WINDOW_INSTRUMENTS.join(' and ')}, is analysed per replica after training): switch off ${on.map((d) => d.id).join(', ')}, or set replicas to 1`;
    for (const d of on) e[d.id] = `${d.id} analyses one network: switch it off for an ensemble (replicas ${R}), or set replicas to 1`;
  }
  // The window each replica records within the ensemble's memory budget.
  const layer = s.layer as number;
  const windowEpochs = s['window-epochs'] as number;
  if (s['pca-window'] === true && c?.stepsPerEpoch && Number.isInteger(layer) && layer >= 0 && layer < c.widths.length - 1 && Number.isInteger(windowEpochs)) {
    const P = (c.widths[layer] + (c.bias ? 1 : 0)) * c.widths[layer + 1];
    Object.assign(e, ensembleWindowErrors(ensembleWindowPlan(R, P, windowEpochs * c.stepsPerEpoch), s.k as number));
  }
  return e;
}
