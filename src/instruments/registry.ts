/**
 * The registry of instruments, in registration order (src/instruments/all.ts: one line each).
 * Everything generated from instruments — CLI flags, dashboard fields and panels, files, report
 * sections — walks this list, so registering is the whole of "adding it everywhere".
 */
import type { Instrument } from './types.ts';
import type { SettingsSpec } from './settings.ts';
import { settingFlag } from './settings.ts';

const registered: Instrument[] = [];

const ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Adds an instrument; its id, flags, chart ids and headline ids must be new. */
export function registerInstrument<S extends SettingsSpec>(def: Instrument<S>): Instrument<S> {
  const where = `registerInstrument(${JSON.stringify(def.id)})`;
  if (!ID.test(def.id)) throw new Error(`${where}: the id must be kebab-case (lower-case words joined by '-')`);
  if (registered.some((d) => d.id === def.id)) throw new Error(`${where}: an instrument with this id is already registered`);
  const taken = new Map<string, string>();
  for (const d of registered) {
    taken.set(d.id, `instrument ${d.id}`);
    for (const [k, s] of Object.entries(d.settings)) taken.set(settingFlag(d.id, k, s), `setting ${k} of ${d.id}`);
    for (const p of d.panels) taken.set(`chart:${p.chart}`, `a chart of ${d.id}`);
    for (const h of d.headline ?? []) taken.set(`headline:${h.id}`, `a headline of ${d.id}`);
  }
  const mine = [
    def.id,
    ...Object.entries(def.settings).map(([k, s]) => settingFlag(def.id, k, s)),
    ...def.panels.map((p) => `chart:${p.chart}`),
    ...(def.headline ?? []).map((h) => `headline:${h.id}`),
  ];
  for (const name of mine) {
    const owner = taken.get(name);
    if (owner) throw new Error(`${where}: '${name}' is already ${owner}`);
  }
  for (const [what, ids] of [['needs', def.needs], ['uses', def.uses]] as const) {
    for (const n of ids ?? []) {
      if (!registered.some((d) => d.id === n)) throw new Error(`${where}: ${what} '${n}', which is not registered (register it first)`);
    }
  }
  registered.push(def as unknown as Instrument);
  return def;
}

/** Removes an instrument (tests that register a throw-away one). */
export function unregisterInstrument(id: string): void {
  const i = registered.findIndex((d) => d.id === id);
  if (i >= 0) registered.splice(i, 1);
}

export function instruments(): readonly Instrument[] {
  return registered;
}

export function instrumentById(id: string): Instrument {
  const d = registered.find((x) => x.id === id);
  if (!d) throw new Error(`unknown instrument '${id}' (instruments: ${registered.map((x) => x.id).join(', ') || 'none'})`);
  return d;
}

/** These instruments and everything they need, in registration order (needs come first). */
export function withNeeds(ids: Iterable<string>): Instrument[] {
  const want = new Set<string>();
  const add = (id: string): void => {
    if (want.has(id)) return;
    want.add(id);
    for (const n of instrumentById(id).needs ?? []) add(n);
  };
  for (const id of ids) add(id);
  return registered.filter((d) => want.has(d.id));
}
