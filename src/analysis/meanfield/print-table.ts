/**
 * Prints the tanh critical line and depth scales at a few points.
 *   npx tsx src/analysis/meanfield/print-table.ts          # human-readable table
 *   npx tsx src/analysis/meanfield/print-table.ts --json   # machine-readable (crosscheck.py)
 * Cross-check: python3 src/analysis/meanfield/crosscheck.py (independent scipy computation).
 */
import { tanh } from './activations.ts';
import { criticalSigmaW2 } from './critical-line.ts';
import { meanFieldPoint } from './depth-scales.ts';
import { CRITICAL_SB2, XI_POINTS } from './table-points.ts';

const critical = CRITICAL_SB2.map((sb2) => ({ sb2, sw2: criticalSigmaW2(tanh, sb2) }));
const points = XI_POINTS.map(([sw2, sb2]) => meanFieldPoint(tanh, sw2, sb2));

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ critical, points }));
} else {
  const f = (x: number): string => (Number.isFinite(x) ? x.toPrecision(12) : String(x));
  console.log('tanh critical line (χ1 = 1)');
  console.log('  σ_b²      σ_w²*');
  for (const { sb2, sw2 } of critical) console.log(`  ${sb2.toFixed(2).padEnd(8)}  ${f(sw2)}`);
  console.log('\ntanh fixed points and depth scales');
  console.log('  σ_w²  σ_b²  phase     q*              χ1              c*              ξ_c');
  for (const p of points) {
    console.log(
      `  ${p.sw2.toFixed(2)}  ${p.sb2.toFixed(2)}  ${p.phase.padEnd(8)}  ${f(p.qStar).padEnd(14)}  ` +
        `${f(p.chi1).padEnd(14)}  ${f(p.cStar).padEnd(14)}  ${f(p.xiC)}`,
    );
  }
}
