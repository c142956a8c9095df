import { expect } from 'vitest';

/**
 * Elementwise comparison with |got − ref| ≤ atol + |ref|·rtol. On failure the message lists the
 * first mismatches (index, got, ref, diff) and the largest difference, so a broken kernel says
 * where it is broken.
 */
export interface CloseOptions {
  atol: number;
  rtol: number;
  label: string;
  /** Optional row width to print indices as (row, col). */
  cols?: number;
}

export function compareClose(got: ArrayLike<number>, ref: ArrayLike<number>, o: CloseOptions): { ok: boolean; message: string; maxDiff: number } {
  if (got.length < ref.length) {
    return { ok: false, message: `${o.label}: got ${got.length} values, expected ${ref.length}`, maxDiff: Infinity };
  }
  const bad: string[] = [];
  let nBad = 0;
  let maxDiff = 0;
  let maxAt = -1;
  const where = (i: number): string => (o.cols ? `(${Math.floor(i / o.cols)}, ${i % o.cols})` : `[${i}]`);
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    const ok = d <= o.atol + Math.abs(ref[i]) * o.rtol;
    if (!(d <= maxDiff) || Number.isNaN(d)) {
      maxDiff = Number.isNaN(d) ? Infinity : d;
      maxAt = i;
    }
    if (!ok) {
      nBad++;
      if (bad.length < 8) bad.push(`  ${where(i)}: got ${got[i]}, ref ${ref[i]}, diff ${d.toExponential(3)}`);
    }
  }
  const summary = `${o.label}: ${nBad}/${ref.length} outside atol ${o.atol} + |ref|·rtol ${o.rtol}; max diff ${maxDiff.toExponential(3)} at ${maxAt >= 0 ? where(maxAt) : '-'}`;
  return { ok: nBad === 0, message: nBad === 0 ? summary : `${summary}\nfirst mismatches:\n${bad.join('\n')}`, maxDiff };
}

export function assertClose(got: ArrayLike<number>, ref: ArrayLike<number>, o: CloseOptions): void {
  const r = compareClose(got, ref, o);
  if (!r.ok) throw new Error(r.message);
}

/** Float32 bit-identity (NaN payloads and ±0 included): counts the values whose bits differ. */
export function expectBitIdentical(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  const x = new Uint32Array(Float32Array.from(a).buffer);
  const y = new Uint32Array(Float32Array.from(b).buffer);
  let diff = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) diff++;
  expect(diff, `${what}: values that differ bit for bit`).toBe(0);
}
