/** A spec that arrives in a job is checked for its parts before anything reads them: a clear error, not a TypeError. */
export function requireFields(kind: string, spec: unknown, fields: string[]): asserts spec is Record<string, unknown> {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new Error(`${kind} spec must be an object, got ${JSON.stringify(spec)}`);
  for (const f of fields) {
    const v = (spec as Record<string, unknown>)[f];
    if (v === undefined || v === null) throw new Error(`${kind} spec: '${f}' is missing`);
  }
}
