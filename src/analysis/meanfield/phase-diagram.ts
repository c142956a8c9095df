/**
 * χ1 and ξ_c (and q*, c*) over a σ_w² × σ_b² grid — the phase diagram of Schoenholz et al.
 * 2017, Fig. 1. Rows follow σ_b², columns σ_w² (grid[ib][iw]), the natural (y, x) layout.
 * Cells where the length map diverges hold NaN (and phase 'divergent').
 */
import type { Activation } from './activation.ts';
import { meanFieldPoint, type Phase } from './depth-scales.ts';
import type { FixedPointOptions } from './fixed-points.ts';

export interface PhaseDiagram {
  sw2: number[];
  sb2: number[];
  qStar: number[][];
  chi1: number[][];
  cStar: number[][];
  xiC: number[][];
  phase: Phase[][];
}

export function phaseDiagram(
  act: Activation, sw2Values: readonly number[], sb2Values: readonly number[], opts: FixedPointOptions = {},
): PhaseDiagram {
  if (sw2Values.length === 0 || sb2Values.length === 0) {
    throw new Error(`phaseDiagram: sw2Values and sb2Values must be non-empty (got ${sw2Values.length} × ${sb2Values.length})`);
  }
  const out: PhaseDiagram = { sw2: [...sw2Values], sb2: [...sb2Values], qStar: [], chi1: [], cStar: [], xiC: [], phase: [] };
  for (const sb2 of sb2Values) {
    const row = sw2Values.map((sw2) => meanFieldPoint(act, sw2, sb2, opts));
    out.qStar.push(row.map((p) => p.qStar));
    out.chi1.push(row.map((p) => p.chi1));
    out.cStar.push(row.map((p) => p.cStar));
    out.xiC.push(row.map((p) => p.xiC));
    out.phase.push(row.map((p) => p.phase));
  }
  return out;
}
