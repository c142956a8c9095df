/**
 * Measured (gpu-propagation.ts) against predicted (theory.ts), layer by layer: means over the S
 * networks with their standard errors, and how far apart they are in units of sampling error.
 *
 * Sampling error. One network gives one trajectory per quantity; S networks give a mean and a
 * standard error SE. S is small (4–8), so SE can come out too small by chance; it is floored by
 * the error of a single layer's average over N units, which the true SE can only exceed:
 *   c: (1 − c²)/√(N S)     q: q √(2/(N S))     ln D^l/D^{L−1}: √(2 (L − l)/(N S))
 * (sample correlation of N Gaussian pairs; sample variance; a sum of L − l independent log
 * ratios of sample variances). A layer agrees when |measured − theory| ≤ 4·SE + bias (|z| ≤ 1),
 * the bias allowance covering the O(1/N) finite-width corrections: 3e-3 (c), 3e-3·q (q), and
 * 4 (L − l)/N (ln D: each layer's χ1 factor is biased by O(1/N)).
 *
 * A set of curves agrees with the theory when ≥ 95% of its (layer, curve) points have |z| ≤ 1 and
 * none has |z| > 2. Not "all within 4 SE": with S ≈ 8 networks the SE is itself uncertain
 * (Student t with S − 1 degrees of freedom: P(|t₇| > 4) ≈ 0.5%, P(|t₃| > 4) ≈ 3%), a figure has
 * hundreds of points, and all curves of one network move together (pairs share the weights; a
 * deviation at layer 0 persists for ~ξ_c layers). A wrong theory (a systematic error) fails many
 * points at once, which the 95% rule catches.
 */
import type { PropagationResult } from './gpu-propagation.ts';
import type { PropagationTheory } from './theory.ts';

export interface Curve {
  /** Mean over networks, per layer. */
  mean: Float64Array;
  /** Standard error of the mean (floored as described above), per layer. */
  se: Float64Array;
  theory: Float64Array;
  /** (mean − theory) / (4·SE + bias allowance): |z| ≤ 1 is agreement. */
  z: Float64Array;
}

export interface CurveSet {
  /** Lengths q^l of each input (index a). */
  q: Curve[];
  /** Correlations c^l of each pair (pairs[i] = [a, b], a < b). */
  c: Curve[];
  pairs: [number, number][];
  /** ln(D^l / D^{L−1}) of each input: the backpropagated gradient, relative to the top. */
  lnGrad: Curve[] | null;
}

export interface AgreementSummary {
  /** max over layers and curves of |z| (≤ 1: every point within 4 SE + bias). */
  maxZ: number;
  /** Fraction of (layer, curve) points with |z| ≤ 1. */
  fractionWithin: number;
  /** Largest |measured − theory| (absolute; relative for q). */
  maxError: number;
  /** fractionWithin ≥ 0.95 and maxZ ≤ 2 (see the header). */
  agrees: boolean;
}

export interface PropagationComparison {
  depth: number;
  nets: number;
  width: number;
  curves: CurveSet;
  agreement: { q: AgreementSummary; c: AgreementSummary; lnGrad: AgreementSummary | null };
  /** Set when S < 4: standard errors from so few networks are unreliable (the verdicts too). */
  warning: string | null;
}

function meanSe(values: number[]): { mean: number; se: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, se: 0 };
  const v = values.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(v / n) };
}

function curve(L: number, sample: (l: number) => number[], theory: (l: number) => number, floor: (l: number, t: number) => number, bias: (l: number, t: number) => number): Curve {
  const out: Curve = { mean: new Float64Array(L), se: new Float64Array(L), theory: new Float64Array(L), z: new Float64Array(L) };
  for (let l = 0; l < L; l++) {
    const t = theory(l);
    const { mean, se } = meanSe(sample(l));
    const s = Math.max(se, floor(l, t));
    out.mean[l] = mean;
    out.se[l] = s;
    out.theory[l] = t;
    out.z[l] = (mean - t) / (4 * s + bias(l, t));
  }
  return out;
}

export function agreementOf(curves: Curve[], relative: boolean): AgreementSummary {
  let maxZ = 0;
  let within = 0;
  let count = 0;
  let maxError = 0;
  for (const c of curves) {
    for (let l = 0; l < c.mean.length; l++) {
      const z = Math.abs(c.z[l]);
      maxZ = Number.isNaN(z) ? Infinity : Math.max(maxZ, z);
      if (z <= 1) within++;
      count++;
      const e = Math.abs(c.mean[l] - c.theory[l]) / (relative ? Math.abs(c.theory[l]) : 1);
      maxError = Number.isNaN(e) ? Infinity : Math.max(maxError, e);
    }
  }
  const fractionWithin = count ? within / count : 0;
  return { maxZ, fractionWithin, maxError, agrees: fractionWithin >= 0.95 && maxZ <= 2 };
}

export function comparePropagation(r: PropagationResult, t: PropagationTheory): PropagationComparison {
  const { m } = r;
  const { depth: L, nets: S, width: N } = r.spec;
  if (t.depth !== L || t.m !== m) throw new Error(`comparePropagation: theory is for ${t.depth} layers × ${t.m} inputs, the measurement ${L} × ${m}`);
  const G = (l: number, s: number, a: number, b: number): number => r.gram[((l * S + s) * m + a) * m + b];
  const nets = Array.from({ length: S }, (_, s) => s);
  const NS = N * S;
  const q = Array.from({ length: m }, (_, a) =>
    curve(L, (l) => nets.map((s) => G(l, s, a, a)), (l) => t.q[l * m + a], (_l, th) => th * Math.sqrt(2 / NS), (_l, th) => 3e-3 * th),
  );
  const pairs: [number, number][] = [];
  for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) pairs.push([a, b]);
  const c = pairs.map(([a, b]) =>
    curve(
      L,
      (l) => nets.map((s) => G(l, s, a, b) / Math.sqrt(G(l, s, a, a) * G(l, s, b, b))),
      (l) => t.c[(l * m + a) * m + b],
      (_l, th) => Math.max(1 - th * th, 1e-6) / Math.sqrt(NS),
      () => 3e-3,
    ),
  );
  let lnGrad: Curve[] | null = null;
  if (!Number.isNaN(r.delta2[0])) {
    // ln of the ratio of means over networks, ln(mean_s D^l_s / mean_s D^{L−1}_s): the mean-field
    // D^l is an expectation over weights, and the mean of logs would be biased low by Jensen's
    // inequality (per-network gradient growth is close to log-normal, noticeably so when chaotic).
    // SE by the delta method: sd_s(D^l_s / mean D^{L−1}) / (√S · mean).
    const D = (l: number, s: number, a: number): number => r.delta2[(l * S + s) * m + a];
    lnGrad = Array.from({ length: m }, (_, a) => {
      const top = nets.reduce((acc, s) => acc + D(L - 1, s, a), 0) / S;
      const out: Curve = { mean: new Float64Array(L), se: new Float64Array(L), theory: new Float64Array(L), z: new Float64Array(L) };
      for (let l = 0; l < L; l++) {
        const { mean, se } = meanSe(nets.map((s) => D(l, s, a) / top));
        const th = Math.log(t.gradRatio[l * m + a]);
        const sd = Math.max(se / mean, Math.sqrt((2 * Math.max(L - 1 - l, 1)) / NS));
        out.mean[l] = Math.log(mean);
        out.se[l] = sd;
        out.theory[l] = th;
        out.z[l] = (out.mean[l] - th) / (4 * sd + (4 * (L - 1 - l)) / N);
      }
      return out;
    });
  }
  return {
    depth: L,
    nets: S,
    width: N,
    curves: { q, c, pairs, lnGrad },
    agreement: { q: agreementOf(q, true), c: agreementOf(c, false), lnGrad: lnGrad ? agreementOf(lnGrad, false) : null },
    warning: S < 4 ? `only ${S} network${S === 1 ? '' : 's'}: standard errors from fewer than 4 samples are unreliable, and so are the verdicts (use ≥ 8)` : null,
  };
}

/**
 * Three representative pairs for plots: the most, the least and the median correlated at the
 * input (so an input near-duplicate, if present, is among them).
 */
export function representativePairs(cmp: PropagationComparison): number[] {
  const order = cmp.curves.c.map((cv, i) => ({ i, c0: cv.theory[0] })).sort((x, y) => y.c0 - x.c0);
  const pick = [order[0], order[Math.floor(order.length / 2)], order[order.length - 1]].map((o) => o.i);
  return [...new Set(pick)];
}
