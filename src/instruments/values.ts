/**
 * An instrument's setting values: defaults, and every problem with the allowed range, keyed by the
 * flag (the form field's id). Used alike by the CLI (first problem → exit 2), the dashboard form
 * (each message under its field) and the engine (resolveValues before start).
 */
import type { Instrument } from './types.ts';
import { checkSetting, settingFlag, type SettingValue, type SettingsContext } from './settings.ts';

export type InstrumentValues = Record<string, SettingValue>;

export function defaultValues(def: Instrument): InstrumentValues {
  return Object.fromEntries(Object.entries(def.settings).map(([k, s]) => [k, s.default]));
}

/** Problems of `values` (complete), by flag; `c` null where the run is not known yet. */
export function valueErrors(def: Instrument, values: InstrumentValues, c: SettingsContext | null): Record<string, string> {
  const out: Record<string, string> = {};
  const where = def.where ?? def.id;
  for (const [k, spec] of Object.entries(def.settings)) {
    const m = checkSetting(where, k, spec, values[k], c, values);
    if (m) out[settingFlag(def.id, k, spec)] = m;
  }
  const extra = def.check?.(values as never, c) ?? {};
  for (const [k, m] of Object.entries(extra)) {
    const spec = def.settings[k];
    const flag = spec ? settingFlag(def.id, k, spec) : k;
    if (m && !out[flag]) out[flag] = m;
  }
  return out;
}

/** Defaults overridden by `given` (keys are setting keys); throws the first problem. */
export function resolveValues(def: Instrument, given: Partial<InstrumentValues>, c: SettingsContext | null): InstrumentValues {
  for (const k of Object.keys(given)) {
    if (!(k in def.settings)) throw new Error(`instrument ${def.id}: unknown setting '${k}' (settings: ${Object.keys(def.settings).join(', ') || 'none'})`);
  }
  const values = { ...defaultValues(def), ...given } as InstrumentValues;
  const errors = Object.values(valueErrors(def, values, c));
  if (errors.length) throw new Error(errors[0]);
  return values;
}
