/**
 * An instrument's settings, declared once (name, type, default, allowed range, one-line help),
 * and everything generated from them: the CLI flag and its FlagSpec, the dashboard form field,
 * the URL key, parsing from a string and the validation message in the engine's wording
 * ("lab.k must be an integer in [2, 159], got 400").
 *
 * Names: a setting `every` of instrument `grad-noise-scale` is the flag, form field and URL key
 * `grad-noise-scale-every`, and its messages say `grad-noise-scale.every`; `flag` and `where`
 * override both (the ported noise-lab settings keep their old names: `refresh`, `lab.k`).
 * Ranges may depend on the run (model, batch, dataset size, epochs): `range(context, values)`.
 */
import { describeRange, inRange } from '../train/config.ts';

export type SettingType = 'int' | 'number' | 'bool' | 'choice';
export type SettingValue = number | boolean | string;

export interface Range {
  min: number;
  max: number;
  integer?: boolean;
  minExclusive?: boolean;
}

/** What a range may depend on; null where not known yet (the page before the data is loaded). */
export interface SettingsContext {
  widths: number[];
  bias: boolean;
  batchSize: number;
  epochs: number | null;
  trainSize: number | null;
  stepsPerEpoch: number | null;
}

export interface SettingSpec<V extends SettingValue = SettingValue> {
  type: SettingType;
  default: V;
  help: string;
  /** Form label (default: the key). */
  label?: string;
  /** Flag, form id and URL key (default `<instrument>-<key in kebab-case>`). */
  flag?: string;
  /** Name in messages after `<where>.` (default: the key). */
  field?: string;
  /** Numbers: the allowed range, fixed or computed from the run and the instrument's other values. */
  range?: Range | ((c: SettingsContext, values: Record<string, SettingValue>) => Range);
  /** Choices: the allowed values. */
  choices?: string[];
  /** Numbers: extra spellings accepted in strings, e.g. { e: Math.E }. */
  aliases?: Record<string, number>;
}

export type SettingsSpec = Record<string, SettingSpec>;

/** The typed values of a settings declaration. */
export type SettingsValues<S extends SettingsSpec> = { [K in keyof S]: ValueOf<S[K]['default']> };
type ValueOf<V> = V extends boolean ? boolean : V extends number ? number : V extends string ? string : never;

export const int = (default_: number, range: SettingSpec['range'], help: string, more: Partial<SettingSpec<number>> = {}): SettingSpec<number> => ({ type: 'int', default: default_, range, help, ...more });
export const num = (default_: number, range: SettingSpec['range'], help: string, more: Partial<SettingSpec<number>> = {}): SettingSpec<number> => ({ type: 'number', default: default_, range, help, ...more });
export const bool = (default_: boolean, help: string, more: Partial<SettingSpec<boolean>> = {}): SettingSpec<boolean> => ({ type: 'bool', default: default_, help, ...more });
export const choice = (default_: string, choices: string[], help: string, more: Partial<SettingSpec<string>> = {}): SettingSpec<string> => ({ type: 'choice', default: default_, choices, help, ...more });

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The flag / form id / URL key of setting `key` of instrument `id`. */
export function settingFlag(id: string, key: string, spec: SettingSpec): string {
  return spec.flag ?? `${id}-${kebab(key)}`;
}

/** The fixed range, or the range in this context (for messages and the CLI's static check). */
export function rangeOf(spec: SettingSpec, c: SettingsContext | null, values: Record<string, SettingValue>): Range | null {
  if (!spec.range) return null;
  if (typeof spec.range !== 'function') return spec.range;
  return c ? spec.range(c, values) : null;
}

/** Parses a setting from its string form (flag, URL, form input); throws a message naming it. */
export function parseSetting(name: string, spec: SettingSpec, raw: string): SettingValue {
  const s = raw.trim();
  switch (spec.type) {
    case 'bool':
      if (!['true', 'false', '1', '0', 'on', 'off', ''].includes(s)) throw new Error(`${name} must be true or false, got '${raw}'`);
      return s === 'true' || s === '1' || s === 'on' || (s === '' && spec.default === true);
    case 'choice':
      if (!spec.choices!.includes(s)) throw new Error(`${name} must be one of ${spec.choices!.join(', ')}, got '${raw}'`);
      return s;
    default: {
      if (s === '') throw new Error(`${name}: a number is required`);
      const v = spec.aliases && s in spec.aliases ? spec.aliases[s] : Number(s);
      if (!Number.isFinite(v)) throw new Error(`${name}: '${raw}' is not a number`);
      return v;
    }
  }
}

export function formatSetting(spec: SettingSpec, v: SettingValue): string {
  if (typeof v === 'number' && spec.aliases) for (const [k, a] of Object.entries(spec.aliases)) if (a === v) return k;
  return String(v);
}

/** The message for a value outside its range (or of the wrong kind), or null when it is fine. */
export function checkSetting(where: string, key: string, spec: SettingSpec, v: SettingValue, c: SettingsContext | null, values: Record<string, SettingValue>): string | null {
  const name = `${where}.${spec.field ?? key}`;
  if (spec.type === 'bool') return typeof v === 'boolean' ? null : `${name} must be true or false, got ${JSON.stringify(v)}`;
  if (spec.type === 'choice') return spec.choices!.includes(v as string) ? null : `${name} must be one of ${spec.choices!.join(', ')}, got ${JSON.stringify(v)}`;
  const r = rangeOf(spec, c, values) ?? { min: -Infinity, max: Infinity };
  const range: Range = { ...r, integer: r.integer ?? spec.type === 'int' };
  if (inRange(v, range)) return null;
  return `${name} must be ${describeRange(range)}, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`;
}
