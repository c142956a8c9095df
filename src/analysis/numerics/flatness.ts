/**
 * Flatness F_i of the full training loss along directions p_i through w* (Feng & Tu 2021):
 *   L_i(θ) = L(w* + θ·p_i),  L0 = L(w*),  target = k·L0 (k = e: log L rises by 1, the
 *   authors' code; k = 2: the talk's slides),
 *   θ_r = first θ > 0 with L_i(θ) ≥ target,  θ_l = first θ < 0 (going left) likewise,
 *   F_i = θ_r − θ_l.      Quadratic check: L = L0 + hθ²/2 gives F = 2·sqrt(2(k − 1)·L0/h).
 *
 * The loss is only available through `evalLoss(probes)`, which evaluates a whole list of
 * (direction, θ) points in ONE call (one GPU dispatch over many directions × θ). So all
 * directions and both sides advance in lockstep: each round asks every unfinished side for
 * exactly one point, and the number of rounds — not of points — sets the wall time.
 *
 * Per side, on the magnitude u = |θ| with g(u) = L(sign·u) − target (g(0) = L0 − target < 0):
 *  1. Bracket: probe u = θ0, θ0·growth, θ0·growth², … capped at θmax (the cap itself is
 *     probed last). The first probe with g ≥ 0 closes the bracket [last below, first above].
 *     If even θmax stays below, the side is { reached: false } — no number is invented.
 *  2. Refine: Illinois (regula falsi that halves the weight of an end point kept twice in a
 *     row, superlinear), each step kept at least relTol·lo/2 from both ends so that a secant
 *     converging from one side closes the bracket, and a bisection safeguard: if three steps
 *     pass without the bracket halving, the next one bisects (the bracket shrinks at least
 *     as 2^(−rounds/4)). Stop when hi − lo ≤ max(relTol·lo, absTol); the reported θ is the
 *     secant root of the final bracket (true g values), inside it, so |θ − θ_true| ≤ that.
 *
 * Non-monotone losses: a loss that rises above target and falls again is reported at its
 * FIRST outward crossing as resolved by the outward grid — stepping stops at the first probe
 * above target, whatever lies beyond. A bump narrower than one grid step (u·(growth − 1)) can
 * be stepped over unseen; lower `growth` to resolve finer structure. Inside the final bracket
 * the crossing found is one of those it contains (exactly one when L is monotone there).
 * A non-finite loss (overflowed cross-entropy) counts as above target.
 */

export interface FlatnessProbe {
  /** Direction index, 0 <= dir < nDirs. */
  dir: number;
  /** Signed step along the unit direction p_dir from w*. */
  theta: number;
}

/** Full-loss values L(w* + θ·p_dir), one per probe, in the order given. */
export type LossEvaluator = (probes: FlatnessProbe[]) => Promise<Float64Array>;

export interface FlatnessOptions {
  /** Number of directions (probes use dir = 0..nDirs−1). */
  nDirs: number;
  /** Threshold factor: target = k·L0, k > 1 (default e). */
  k?: number;
  /** L(w*), if already known; otherwise probed as {dir: 0, theta: 0} in the first round. */
  L0?: number;
  /** First outward step (scalar or one per direction), > 0. A sensible scale: 0.01·‖w*‖. */
  theta0: number | ArrayLike<number>;
  /** Cap of the outward search (scalar or per direction), >= theta0. Default 1000·theta0. */
  thetaMax?: number | ArrayLike<number>;
  /** Geometric step factor of the bracketing phase, > 1 (default 2). */
  growth?: number;
  /** Relative tolerance on θ, in (0, 0.5) (default 1e-3). */
  relTol?: number;
  /** Absolute tolerance on θ (default 0): a side stops when its bracket is narrower than
   * max(relTol·|θ|, absTol). The authors' code bisects to an absolute 0.01. */
  absTol?: number;
  /** 'illinois' (default) or plain 'bisection' for the refine phase. */
  method?: 'illinois' | 'bisection';
  /**
   * Outward search: 'geometric' (default) steps θ0·growth^n; 'model' jumps to where a quadratic
   * in θ through ln L0 and the direction's two latest probes below target crosses ln(target)
   * (×1.05, kept within [1.1, 64]× the last step; geometric when the fit is not convex), and
   * refines by the secant in θ² on ln L. ~2.5× fewer probes on the Feng–Tu losses (6 per side
   * instead of 15 for an absolute 0.01); like a coarse grid, a jump can step over a bump
   * narrower than itself.
   */
  bracket?: 'geometric' | 'model';
  /** Round limit (default 200); sides still open then are reported unconverged. */
  maxRounds?: number;
}

export type FlatnessSide =
  | {
      reached: true;
      /** Signed crossing θ (negative on the left side). */
      theta: number;
      /** Final bracket [inner, outer] in signed θ. */
      bracket: [number, number];
      /** False only if maxRounds ended the refinement early (θ still inside the bracket). */
      converged: boolean;
      evaluations: number;
    }
  | {
      reached: false;
      /** 'thetaMax': L < target all the way to ±thetaMax; 'maxRounds': search cut short. */
      reason: 'thetaMax' | 'maxRounds';
      /** Farthest |θ| probed. */
      searchedTo: number;
      /** Largest L/L0 seen on this side. */
      maxLossRatio: number;
      evaluations: number;
    };

export interface DirectionFlatness {
  dir: number;
  left: FlatnessSide;
  right: FlatnessSide;
  /** θ_l < 0 and θ_r > 0, or null when that side was not reached. */
  thetaL: number | null;
  thetaR: number | null;
  /** θ_r − θ_l, null if either side was not reached. */
  F: number | null;
  /** Loss evaluations spent on this direction (both sides; L0 not included). */
  evaluations: number;
  /** Rounds in which this direction had at least one probe. */
  rounds: number;
}

export interface FlatnessResult {
  k: number;
  L0: number;
  target: number;
  directions: DirectionFlatness[];
  /** evalLoss calls. */
  rounds: number;
  /** All probes, including the L0 probe if L0 was not given. */
  evaluations: number;
}

interface Side {
  dir: number;
  sign: 1 | -1;
  /** Refine by the secant in θ² (the 'model' search) instead of in θ. */
  squared: boolean;
  phase: 'bracket' | 'refine' | 'done';
  thetaMax: number;
  lo: number; // largest |θ| known below target
  hi: number; // smallest |θ| known at/above target (refine phase)
  gLo: number; // true g values at lo / hi
  gHi: number;
  wLo: number; // Illinois weights (g values, halved when an end is kept twice)
  wHi: number;
  kept: 'lo' | 'hi' | null;
  refWidth: number;
  stepsSinceHalving: number;
  next: number; // |θ| to probe this round
  evaluations: number;
  maxLoss: number;
  result: FlatnessSide | null;
}

function perDirection(name: string, v: number | ArrayLike<number>, nDirs: number): Float64Array {
  if (typeof v === 'number') return new Float64Array(nDirs).fill(v);
  if (v.length !== nDirs) throw new Error(`measureFlatness: ${name} must be a number or have nDirs = ${nDirs} entries, got ${v.length}`);
  return Float64Array.from(v);
}

/** Secant root between (lo, gLo) and (hi, gHi), in θ or in θ² (`squared`). */
function secant(lo: number, hi: number, gLo: number, gHi: number, squared: boolean): number {
  if (!squared) return lo + ((hi - lo) * -gLo) / (gHi - gLo);
  return Math.sqrt(lo * lo + ((hi * hi - lo * lo) * -gLo) / (gHi - gLo));
}

/** Secant root of the bracket with the true g values (midpoint if g(hi) is not finite). */
function estimate(s: Side): number {
  if (!Number.isFinite(s.gHi)) return 0.5 * (s.lo + s.hi);
  const x = secant(s.lo, s.hi, s.gLo, s.gHi, s.squared);
  return Math.min(s.hi, Math.max(s.lo, x));
}

/**
 * The 'model' search's next outward probe of a side below target at lo: where the quadratic
 * ln L0 + a·θ + b·θ² through the direction's two latest probes below target crosses ln(target)
 * on this side (exact when L = L0·e^(quadratic)), 5% beyond so that it usually brackets (the fit
 * tends to fall short where ln L grows faster than θ²).
 */
function predictNext(s: Side, pts: { theta: number; L: number }[], L0: number, target: number, growth: number): number {
  const lo = s.lo;
  let next = lo * growth;
  // The two latest probes below target, this side's first (a local fit), then the other side's.
  const ok = (p: { theta: number; L: number }): boolean => p.theta !== 0 && p.L > 0 && p.L < target;
  const below = [...pts.filter((p) => ok(p) && p.theta * s.sign < 0), ...pts.filter((p) => ok(p) && p.theta * s.sign > 0)];
  const n = below.length;
  if (n >= 2) {
    const [p, q] = [below[n - 2], below[n - 1]];
    const det = p.theta * q.theta * q.theta - q.theta * p.theta * p.theta;
    if (Math.abs(det) > 0) {
      const dp = Math.log(p.L / L0);
      const dq = Math.log(q.L / L0);
      const a = (dp * q.theta * q.theta - dq * p.theta * p.theta) / det;
      const b = (p.theta * dq - q.theta * dp) / det;
      const D = Math.log(target / L0);
      if (b > 0) next = 1.05 * ((-s.sign * a + Math.sqrt(a * a + 4 * b * D)) / (2 * b));
    }
  }
  return Math.min(Math.max(next, 1.1 * lo), 64 * lo, s.thetaMax);
}

function finishReached(s: Side, converged: boolean): void {
  s.phase = 'done';
  s.result = {
    reached: true,
    theta: s.sign * estimate(s),
    bracket: [s.sign * s.lo, s.sign * s.hi],
    converged,
    evaluations: s.evaluations,
  };
}

function finishUnreached(s: Side, reason: 'thetaMax' | 'maxRounds', L0: number): void {
  s.phase = 'done';
  s.result = { reached: false, reason, searchedTo: s.lo, maxLossRatio: s.maxLoss / L0, evaluations: s.evaluations };
}

/** Refine phase: stop if the bracket is tight, else choose the next point. */
function planRefine(s: Side, relTol: number, absTol: number, method: 'illinois' | 'bisection'): void {
  const width = s.hi - s.lo;
  const tol = Math.max(relTol * s.lo, absTol);
  if ((s.lo > 0 || absTol > 0) && width <= tol) {
    finishReached(s, true);
    return;
  }
  const mid = 0.5 * (s.lo + s.hi);
  if (method === 'bisection' || !Number.isFinite(s.gHi) || s.stepsSinceHalving >= 3) {
    s.next = mid;
    return;
  }
  let x = secant(s.lo, s.hi, s.wLo, s.wHi, s.squared);
  // Keep a step of at least half the tolerance from either end: when the secant has
  // (nearly) found the root from one side, the nudge lands just past it and closes the
  // bracket, instead of creeping up on the root from that side forever.
  const delta = 0.5 * tol;
  if (!Number.isFinite(x) || (delta === 0 && !(x > s.lo && x < s.hi))) x = mid;
  else x = Math.min(Math.max(x, s.lo + delta), s.hi - delta);
  s.next = x;
}

export async function measureFlatness(evalLoss: LossEvaluator, options: FlatnessOptions): Promise<FlatnessResult> {
  const name = 'measureFlatness';
  const { nDirs } = options;
  const k = options.k ?? Math.E;
  const growth = options.growth ?? 2;
  const relTol = options.relTol ?? 1e-3;
  const absTol = options.absTol ?? 0;
  const method = options.method ?? 'illinois';
  const maxRounds = options.maxRounds ?? 200;
  const model = (options.bracket ?? 'geometric') === 'model';
  if (!(Number.isInteger(nDirs) && nDirs >= 1)) throw new Error(`${name}: nDirs must be an integer >= 1, got ${nDirs}`);
  if (!(k > 1 && Number.isFinite(k))) throw new Error(`${name}: k must be finite and > 1, got ${k}`);
  if (!(growth > 1 && Number.isFinite(growth))) throw new Error(`${name}: growth must be finite and > 1, got ${growth}`);
  if (!(relTol > 0 && relTol < 0.5)) throw new Error(`${name}: relTol must be in (0, 0.5), got ${relTol}`);
  if (!(absTol >= 0 && Number.isFinite(absTol))) throw new Error(`${name}: absTol must be finite and >= 0, got ${absTol}`);
  if (method !== 'illinois' && method !== 'bisection') throw new Error(`${name}: method must be 'illinois' or 'bisection', got ${String(method)}`);
  if (!(Number.isInteger(maxRounds) && maxRounds >= 1)) throw new Error(`${name}: maxRounds must be an integer >= 1, got ${maxRounds}`);
  const theta0 = perDirection('theta0', options.theta0, nDirs);
  const thetaMax = options.thetaMax === undefined ? theta0.map((t) => 1000 * t) : perDirection('thetaMax', options.thetaMax, nDirs);
  for (let d = 0; d < nDirs; d++) {
    if (!(theta0[d] > 0 && Number.isFinite(theta0[d]))) throw new Error(`${name}: theta0[${d}] must be finite and > 0, got ${theta0[d]}`);
    if (!(thetaMax[d] >= theta0[d] && Number.isFinite(thetaMax[d]))) {
      throw new Error(`${name}: thetaMax[${d}] must be finite and >= theta0[${d}] = ${theta0[d]}, got ${thetaMax[d]}`);
    }
  }
  let L0 = options.L0 ?? NaN;
  if (options.L0 !== undefined && !(L0 > 0 && Number.isFinite(L0))) throw new Error(`${name}: L0 must be finite and > 0, got ${L0}`);

  const sides: Side[] = [];
  for (let d = 0; d < nDirs; d++) {
    for (const sign of [-1, 1] as const) {
      sides.push({
        dir: d,
        sign,
        squared: model,
        phase: 'bracket',
        thetaMax: thetaMax[d],
        lo: 0,
        hi: Infinity,
        gLo: NaN, // set once L0 is known
        gHi: NaN,
        wLo: NaN,
        wHi: NaN,
        kept: null,
        refWidth: Infinity,
        stepsSinceHalving: 0,
        next: Math.min(theta0[d], thetaMax[d]),
        evaluations: 0,
        maxLoss: -Infinity,
        result: null,
      });
    }
  }
  const dirRounds = new Int32Array(nDirs);
  // Every probe of each direction (signed θ, L), for the 'model' search.
  const dirPts: { theta: number; L: number }[][] = Array.from({ length: nDirs }, () => []);

  let rounds = 0;
  let evaluations = 0;
  let target = NaN;
  while (sides.some((s) => s.phase !== 'done')) {
    if (rounds >= maxRounds) {
      for (const s of sides) {
        if (s.phase === 'refine') finishReached(s, false);
        else if (s.phase === 'bracket') finishUnreached(s, 'maxRounds', L0);
      }
      break;
    }
    const active = sides.filter((s) => s.phase !== 'done');
    const probes: FlatnessProbe[] = [];
    const needL0 = Number.isNaN(L0);
    if (needL0) probes.push({ dir: 0, theta: 0 });
    for (const s of active) probes.push({ dir: s.dir, theta: s.sign * s.next });

    const values = await evalLoss(probes);
    rounds++;
    evaluations += probes.length;
    if (!values || values.length !== probes.length) {
      throw new Error(`${name}: evalLoss must return one value per probe (${probes.length}), got ${values?.length}`);
    }
    let offset = 0;
    if (needL0) {
      L0 = values[0];
      offset = 1;
      if (!(L0 > 0 && Number.isFinite(L0))) throw new Error(`${name}: L(w*) from the theta = 0 probe must be finite and > 0, got ${L0}`);
    }
    if (Number.isNaN(target)) {
      target = k * L0;
      for (const s of sides) s.gLo = s.wLo = model ? -Math.log(k) : L0 - target;
    }
    const seen = new Uint8Array(nDirs);
    for (let i = 0; i < active.length; i++) dirPts[active[i].dir].push({ theta: active[i].sign * active[i].next, L: values[offset + i] });
    for (let i = 0; i < active.length; i++) {
      const s = active[i];
      const L = values[offset + i];
      const x = s.next;
      s.evaluations++;
      seen[s.dir] = 1;
      if (Number.isFinite(L)) s.maxLoss = Math.max(s.maxLoss, L);
      else s.maxLoss = Infinity;
      // The 'model' search works on ln L (the authors' criterion is ln L − ln L0 = ln k).
      const g = !(Number.isFinite(L) && L > 0) ? Infinity : model ? Math.log(L / target) : L - target;
      const above = !(g < 0);

      if (s.phase === 'bracket') {
        if (above) {
          s.hi = x;
          s.gHi = s.wHi = g;
          s.wLo = s.gLo;
          s.phase = 'refine';
          s.refWidth = s.hi - s.lo;
          s.stepsSinceHalving = 0;
          planRefine(s, relTol, absTol, method);
        } else {
          s.lo = x;
          s.gLo = s.wLo = g;
          if (x >= s.thetaMax) finishUnreached(s, 'thetaMax', L0);
          else s.next = model ? predictNext(s, dirPts[s.dir], L0, target, growth) : Math.min(x * growth, s.thetaMax);
        }
        continue;
      }

      // Refine phase: replace the end point on the same side of the target as x.
      if (above) {
        s.hi = x;
        s.gHi = s.wHi = g;
        if (s.kept === 'lo') s.wLo *= 0.5; // lo kept twice in a row: Illinois halving
        s.kept = 'lo';
      } else {
        s.lo = x;
        s.gLo = s.wLo = g;
        if (s.kept === 'hi') s.wHi *= 0.5;
        s.kept = 'hi';
      }
      const width = s.hi - s.lo;
      if (width <= 0.5 * s.refWidth) {
        s.refWidth = width;
        s.stepsSinceHalving = 0;
      } else {
        s.stepsSinceHalving++;
      }
      planRefine(s, relTol, absTol, method);
    }
    for (let d = 0; d < nDirs; d++) dirRounds[d] += seen[d];
  }

  const directions: DirectionFlatness[] = [];
  for (let d = 0; d < nDirs; d++) {
    const left = sides[2 * d].result as FlatnessSide;
    const right = sides[2 * d + 1].result as FlatnessSide;
    const thetaL = left.reached ? left.theta : null;
    const thetaR = right.reached ? right.theta : null;
    directions.push({
      dir: d,
      left,
      right,
      thetaL,
      thetaR,
      F: thetaL !== null && thetaR !== null ? thetaR - thetaL : null,
      evaluations: left.evaluations + right.evaluations,
      rounds: dirRounds[d],
    });
  }
  return { k, L0, target, directions, rounds, evaluations };
}
