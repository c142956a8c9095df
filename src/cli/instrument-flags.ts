/**
 * The registry's instruments as `sgdscope train` flags: `--instrument a,b` chooses them (what they
 * need comes along) and every setting is a flag of its own (`--grad-noise-scale-every 10`) with
 * the range it declares; ranges that depend on the run are checked once the run is known, with the
 * engine's message. Nothing here names an instrument.
 */
import { instruments, withNeeds, instrumentById } from '../instruments/all.ts';
import { formatSetting, parseSetting, settingFlag, type SettingsContext, type SettingSpec } from '../instruments/settings.ts';
import { defaultValues, valueErrors, type InstrumentValues } from '../instruments/values.ts';
import type { Instrument } from '../instruments/types.ts';
import { UsageError, type FlagSpec, type FlagValues } from './args.ts';

function flagSpec(def: Instrument, spec: SettingSpec): FlagSpec {
  const help = `${def.id}: ${spec.help} (default ${formatSetting(spec, spec.default)})`;
  if (spec.type === 'bool') return { kind: 'bool', help };
  if (spec.type === 'choice') return { kind: 'string', help, choices: spec.choices };
  // Aliases ('e') are parsed here, run-dependent ranges checked here once the run is known.
  if (spec.aliases) return { kind: 'string', help: `${help}; a number or ${Object.keys(spec.aliases).join(', ')}` };
  const kind = spec.type === 'int' ? 'int' : 'number';
  if (typeof spec.range === 'function' || !spec.range) return { kind, help: `${help}${spec.range ? ' (range depends on the run)' : ''}` };
  return { kind, help, range: [spec.range.min, spec.range.max, spec.range.minExclusive] };
}

export function instrumentFlagSpecs(): Record<string, FlagSpec> {
  const ids = instruments().map((d) => d.id);
  const out: Record<string, FlagSpec> = {
    instrument: { kind: 'string', help: `instruments to run while training, comma-separated (${ids.join(', ') || 'none registered'}); their files go into the run folder with report.html and charts.json` },
  };
  for (const def of instruments()) for (const [k, s] of Object.entries(def.settings)) out[settingFlag(def.id, k, s)] = flagSpec(def, s);
  return out;
}

export interface ActiveInstrument {
  def: Instrument;
  values: InstrumentValues;
}

/**
 * The instruments asked for and their values from the flags; `c`: the run (null before it is
 * known: run-dependent ranges are then checked at the second call). Usage errors exit with 2.
 */
export function instrumentsFromFlags(flags: FlagValues, c: SettingsContext | null): ActiveInstrument[] {
  const asked = typeof flags.instrument === 'string' ? flags.instrument.split(',').map((s) => s.trim()).filter(Boolean) : [];
  for (const id of asked) {
    if (!instruments().some((d) => d.id === id)) throw new UsageError(`sgdscope train: --instrument ${id}: unknown instrument (instruments: ${instruments().map((d) => d.id).join(', ')})`);
  }
  const active = withNeeds(asked);
  for (const def of instruments()) {
    if (active.includes(def)) continue;
    for (const [k, s] of Object.entries(def.settings)) {
      const flag = settingFlag(def.id, k, s);
      if (flags[flag] !== undefined) throw new UsageError(`sgdscope train: --${flag} applies to --instrument ${def.id}, which is not asked for`);
    }
  }
  return active.map((def) => {
    const values = defaultValues(def);
    for (const [k, s] of Object.entries(def.settings)) {
      const flag = settingFlag(def.id, k, s);
      const v = flags[flag];
      if (v === undefined) continue;
      try {
        values[k] = typeof v === 'string' && s.type !== 'choice' ? parseSetting(`--${flag}`, s, v) : (v as InstrumentValues[string]);
      } catch (e) {
        throw new UsageError(`sgdscope train: ${(e as Error).message}`);
      }
    }
    const errors = valueErrors(instrumentById(def.id), values, c);
    const first = Object.entries(errors)[0];
    if (first) throw new UsageError(`sgdscope train: --${first[0]}: ${first[1]}`);
    return { def, values };
  });
}
