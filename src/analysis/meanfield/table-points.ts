/**
 * The parameter points of the printed table (shared by print-table.ts and, through its
 * --json output, by the independent crosscheck.py).
 */
export const CRITICAL_SB2 = [0, 0.01, 0.05, 0.1, 0.2] as const;

/** (σ_w², σ_b²) points for ξ_c: both phases, including two within ~2% of the critical line. */
export const XI_POINTS: readonly (readonly [number, number])[] = [
  [0.5, 0.05],
  [1.0, 0.2],
  [1.5, 0.05],
  [1.72, 0.05],
  [1.8, 0.05],
  [2.5, 0.1],
  [3.0, 0.2],
  [4.0, 0.05],
];
