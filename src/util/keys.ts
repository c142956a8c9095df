/**
 * Strict keys for settings read from JSON (config files, grid files, run folders): a value must be
 * a plain object, every key must be one the reader knows, and a misspelt key is answered with the
 * nearest known one ("did you mean 'widths'?"). Keys are looked up as own properties of a list,
 * never with `in`, so prototype names (__proto__, toString, constructor) are never "known".
 */

/** Levenshtein distance, case-insensitive (a misspelt "Widths" is one edit from "widths", not two). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[t.length];
}

/** The known key nearest to `key` when it is close enough to be a typo (≤ 1/3 of its length, at least 2), else null. */
export function nearestKey(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/**
 * Throws unless `v` is a plain object whose own keys are all in `known`. `where` names the place
 * ("--config run.json: model"); `noun` words the message ("unknown setting 'lr_'"). Returns v typed as
 * a record.
 */
export function checkKeys(v: unknown, known: readonly string[], where: string, noun = 'key'): Record<string, unknown> {
  if (!isPlainObject(v)) throw new Error(`${where} must be an object {…}, got ${describe(v)}`);
  for (const key of Object.keys(v)) {
    if (known.includes(key)) continue;
    const near = nearestKey(key, known);
    throw new Error(`${where}: unknown ${noun} '${key}'${near ? ` — did you mean '${near}'?` : ''} (${noun}s: ${known.join(', ')})`);
  }
  return v;
}

/** A value as an error message shows it: numbers as they print, strings quoted, anything else as JSON ([1], {…}, null). */
export function showValue(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 60)}…` : v}'`;
  const j = JSON.stringify(v);
  return j === undefined ? String(v) : j.length > 80 ? `${j.slice(0, 80)}…` : j;
}
