/**
 * The dashboard's ensemble option, declared once (src/instruments/settings.ts: the form field, the
 * URL key and the message all come from it): `replicas` R networks of the same settings, seeds
 * seed, seed + 1, …, trained in lockstep by one Trainer (src/train/ensemble.ts), as
 * `sgdscope train --replicas R`. R = 1 is the ordinary single run.
 *
 * What analyses one network cannot take an ensemble yet, and the form says so instead of doing
 * something wrong: the instruments (each measures one network's steps) and with them the Feng–Tu
 * window (its final analysis is the window instruments'); the session also takes no weight
 * snapshots for an ensemble, so a lost device cannot be resumed and the Hessian card has no network.
 * The settings of the instruments switched off do not apply to an ensemble (run-settings.ts skips them).
 */
import { MAX_REPLICAS } from '../../train/ensemble.ts';
import { instruments } from '../../instruments/all.ts';
import { checkSetting, int, type SettingSpec, type SettingValue } from '../../instruments/settings.ts';

export const ENSEMBLE_SETTINGS: Record<'replicas', SettingSpec> = {
  replicas: int(1, { min: 1, max: MAX_REPLICAS }, 'networks trained at once (seeds seed, seed + 1, …); R > 1: the loss and accuracy panels draw their mean and min–max band; no instruments, no final analysis, no resume after a lost device', {
    label: 'replicas R',
  }),
};

export interface EnsembleSettings {
  replicas: number;
}

export const ENSEMBLE_DEFAULTS: EnsembleSettings = { replicas: 1 };

/** The problems of the ensemble fields and of what an ensemble cannot be combined with, by field. */
export function ensembleErrors(s: EnsembleSettings & Record<string, unknown>): Record<string, string> {
  const e: Record<string, string> = {};
  for (const [key, spec] of Object.entries(ENSEMBLE_SETTINGS)) {
    const m = checkSetting('train', key, spec, s[key as keyof EnsembleSettings] as SettingValue, null, {});
    if (m) e[key] = m;
  }
  const R = s.replicas;
  if (e.replicas || R === 1) return e;
  const on = instruments().filter((d) => s[d.id] === true);
  if (on.length) {
    e.replicas = `train.replicas: an ensemble (R = ${R}) trains without instruments and without the Feng–Tu window's final analysis (they analyse one network): switch off ${on.map((d) => d.id).join(', ')}, or set replicas to 1`;
    for (const d of on) e[d.id] = `${d.id} analyses one network: switch it off for an ensemble (replicas ${R}), or set replicas to 1`;
  }
  return e;
}
