/**
 * The flags of `reproduce signal-propagation`'s two stages at initialisation — Jacobian spectra
 * (--jac-*) and curve lengths (--curve-*) — and their resolution into options. Numbers inside
 * string flags follow the strict flag rules of args.ts: decimal notation only, ranges named.
 */
import { JVP_LIMITS } from '../experiments/propagation/gpu-jvp.ts';
import { DEFAULT_CURVE, DEFAULT_JACOBIAN, type CurveOptions, type JacobianOptions, type JacobianPointOption } from '../experiments/propagation/init-run.ts';
import { DECIMAL, UsageError, type FlagSpec, type FlagValues } from './args.ts';

export const INIT_FLAGS: Record<string, FlagSpec> = {
  'jac-points': { kind: 'string', help: "Jacobian spectra: points as activation:weights:sw2:sb2, comma-separated (activation tanh|relu|linear, weights gaussian|orthogonal, sw2 a number or 'crit' for tanh); default tanh at crit and 3 (σ_b² = 0.05), linear at 1, relu at 2 (σ_b² = 0), each with both weight ensembles" },
  'jac-width': { kind: 'int', help: 'Jacobian spectra: width N (the N × N Jacobian; default 512)', range: [...JVP_LIMITS.width] },
  'jac-depth': { kind: 'int', help: 'Jacobian spectra: layers L (default 16)', range: [...JVP_LIMITS.depth] },
  'jac-nets': { kind: 'int', help: 'Jacobian spectra: random networks per point (default 2)', range: [...JVP_LIMITS.nets] },
  'skip-jacobian': { kind: 'bool', help: 'no Jacobian-spectrum stage' },
  'curve-sw2': { kind: 'string', help: "curve length: tanh σ_w² values, comma-separated; 'crit' = σ_w²* at --curve-sb2 (default 1.3,crit,3)" },
  'curve-sb2': { kind: 'number', help: 'curve length: σ_b² (default 0.05)', range: [0, 100] },
  'curve-width': { kind: 'int', help: 'curve length: width N (default 1024)', range: [...JVP_LIMITS.width] },
  'curve-depth': { kind: 'int', help: 'curve length: layers L (default 30)', range: [...JVP_LIMITS.depth] },
  'curve-points': { kind: 'int', help: 'curve length: points on the circle (default 32)', range: [3, 4096] },
  'curve-nets': { kind: 'int', help: 'curve length: random networks per σ_w² (default 4)', range: [...JVP_LIMITS.nets] },
  'skip-curve': { kind: 'bool', help: 'no curve-length stage' },
};

/** A decimal number in [lo, hi] (lo excluded when open), or NaN. */
function decimalIn(t: string, lo: number, hi: number, open: boolean): number {
  const x = DECIMAL.test(t) ? Number(t) : NaN;
  return Number.isFinite(x) && (open ? x > lo : x >= lo) && x <= hi ? x : NaN;
}

/** A comma-separated σ_w² list where 'crit' (null) stands for the critical σ_w²*. */
export function sw2List(cmd: string, flags: FlagValues, name: string, fallback: (number | null)[]): (number | null)[] {
  if (flags[name] === undefined) return fallback;
  const v = String(flags[name]).split(',').map((s) => {
    const t = s.trim();
    if (t === 'crit') return null;
    const x = decimalIn(t, 0, 10000, true);
    if (Number.isNaN(x)) throw new UsageError(`${cmd}: --${name} entries must be numbers in (0, 10000] or 'crit' (decimal notation), got '${t}'`);
    return x;
  });
  if (v.length > 12) throw new UsageError(`${cmd}: --${name} takes at most 12 points, got ${v.length}`);
  return v;
}

function jacobianPoints(cmd: string, flags: FlagValues): JacobianPointOption[] {
  if (flags['jac-points'] === undefined) return DEFAULT_JACOBIAN.points;
  const pts = String(flags['jac-points']).split(',').map((entry) => {
    const parts = entry.trim().split(':');
    const [activation, weights, w, b] = parts;
    const bad = (why: string): never => {
      throw new UsageError(`${cmd}: --jac-points entries are activation:weights:sw2:sb2 (e.g. tanh:orthogonal:crit:0.05); '${entry.trim()}': ${why}`);
    };
    if (parts.length !== 4) bad('needs 4 fields');
    if (!['tanh', 'relu', 'linear'].includes(activation)) bad(`activation must be tanh, relu or linear, got '${activation}'`);
    if (!['gaussian', 'orthogonal'].includes(weights)) bad(`weights must be gaussian or orthogonal, got '${weights}'`);
    const sw2 = w === 'crit' ? null : decimalIn(w, 0, 10000, true);
    if (sw2 === null && activation !== 'tanh') bad("sw2 'crit' is for tanh");
    if (Number.isNaN(sw2)) bad(`sw2 must be a decimal number in (0, 10000] or 'crit', got '${w}'`);
    const sb2 = decimalIn(b, 0, 100, false);
    if (Number.isNaN(sb2)) bad(`sb2 must be a decimal number in [0, 100], got '${b}'`);
    return { activation, weights, sw2, sb2 } as JacobianPointOption;
  });
  if (pts.length > 16) throw new UsageError(`${cmd}: --jac-points takes at most 16 points, got ${pts.length}`);
  return pts;
}

export function jacobianOptions(cmd: string, flags: FlagValues, paper: boolean, seed: number): JacobianOptions | null {
  if (flags['skip-jacobian']) return null;
  const d = DEFAULT_JACOBIAN;
  return {
    width: (flags['jac-width'] as number | undefined) ?? (paper ? 1024 : d.width),
    depth: (flags['jac-depth'] as number | undefined) ?? (paper ? 64 : d.depth),
    nets: (flags['jac-nets'] as number | undefined) ?? (paper ? 4 : d.nets),
    seed,
    points: jacobianPoints(cmd, flags),
  };
}

export function curveOptions(cmd: string, flags: FlagValues, paper: boolean, seed: number): CurveOptions | null {
  if (flags['skip-curve']) return null;
  const d = DEFAULT_CURVE;
  return {
    sw2: sw2List(cmd, flags, 'curve-sw2', d.sw2),
    sb2: (flags['curve-sb2'] as number | undefined) ?? d.sb2,
    width: (flags['curve-width'] as number | undefined) ?? d.width,
    depth: (flags['curve-depth'] as number | undefined) ?? (paper ? 60 : d.depth),
    points: (flags['curve-points'] as number | undefined) ?? (paper ? 128 : d.points),
    nets: (flags['curve-nets'] as number | undefined) ?? (paper ? 8 : d.nets),
    seed,
  };
}
