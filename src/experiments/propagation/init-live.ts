/**
 * The dashboard's Jacobian-spectrum and curve-length measurement at one clicked point of the tanh
 * phase diagram (the worker's side device): the Jacobian's singular values with Gaussian and with
 * orthogonal weights against free probability, the mean squared singular value against χ1^l, and
 * a great circle's length against χ1^{l/2} — the figures of `reproduce signal-propagation`
 * (init-charts.ts) at a size that takes seconds on SwiftShader.
 */
import type { GpuContext } from '../../gpu/device.ts';
import type { ChartData } from '../../analysis/report/chart-data.ts';
import { GpuJvp } from './gpu-jvp.ts';
import { measureJacobian } from './jacobian.ts';
import { measureCurve } from './curve-length.ts';
import { curveLengthChart, jacobianDensityChart, jacobianDepthChart } from './init-charts.ts';

export interface LiveInitSpec {
  sw2: number;
  sb2: number;
  /** Jacobian: width, layers, networks per ensemble. */
  width: number;
  depth: number;
  nets: number;
  /** Curve: width, layers, points on the circle, networks. */
  curveWidth: number;
  curveDepth: number;
  curvePoints: number;
  curveNets: number;
}

/** A few seconds on SwiftShader (2 cores). */
export const LIVE_INIT: Omit<LiveInitSpec, 'sw2' | 'sb2'> = { width: 256, depth: 12, nets: 2, curveWidth: 256, curveDepth: 30, curvePoints: 16, curveNets: 4 };

export interface LiveInitResult {
  /** Density, mean squared singular value vs depth, curve length vs depth. */
  charts: ChartData[];
  /** One line per verdict. */
  verdicts: string[];
  seconds: number;
}

const compiled = new WeakMap<GpuContext, GpuJvp>();

export async function liveInitSpectra(ctx: GpuContext, s: LiveInitSpec): Promise<LiveInitResult> {
  const t0 = performance.now();
  let gpu = compiled.get(ctx);
  if (!gpu) compiled.set(ctx, (gpu = await GpuJvp.create(ctx, 'tanh')));
  const run = { width: s.width, depth: s.depth, nets: s.nets, seed: 1 };
  const ms = [];
  for (const weights of ['gaussian', 'orthogonal'] as const) ms.push(await measureJacobian(gpu, { activation: 'tanh', weights, sw2: s.sw2, sb2: s.sb2 }, run));
  const at = `tanh, σ_w² = ${s.sw2}, σ_b² = ${s.sb2}`;
  const verdicts = ms.map((m) => {
    const v = m.ks
      ? `KS D = ${m.ks.d.toFixed(3)} vs critical ${m.ks.critical.toFixed(3)} (${m.ks.agrees ? 'agrees' : 'disagrees'})`
      : `all s² at ${m.atom!.value.toPrecision(4)}, max deviation ${m.atom!.maxRelDeviation.toExponential(1)} (${m.atom!.agrees ? 'agrees' : 'disagrees'})`;
    return `${m.point.weights}: ${v}; mean s² ${m.moments.meanSq.toPrecision(3)} vs χ1^L ${m.moments.meanSqTheory.toPrecision(3)}`;
  });
  const charts = [
    jacobianDensityChart('live-jacobian-density', `Jacobian singular values — ${at}`, ms),
    jacobianDepthChart('live-jacobian-depth', `mean squared singular value — ${at}`, ms),
  ];
  if (ms[0].theory.qStar > 0) {
    const curve = await measureCurve(gpu, { sw2: s.sw2, sb2: s.sb2, width: s.curveWidth, depth: s.curveDepth, points: s.curvePoints, nets: s.curveNets, seed: 1 });
    verdicts.push(`curve: rate ${curve.rate.measured.toFixed(4)} ± ${curve.rate.se.toFixed(4)} per layer vs ½ ln χ1 = ${curve.rate.theory.toFixed(4)} (${curve.agreement.agrees && curve.rate.agrees ? 'agrees' : 'disagrees'})`);
    charts.push(curveLengthChart('live-curve-length', `curve length — ${at}`, [curve]));
  } else {
    verdicts.push('curve: q* = 0 here (σ_b² = 0, ordered): every input collapses to 0, there is no circle to follow');
  }
  return {
    charts,
    verdicts,
    seconds: (performance.now() - t0) / 1000,
  };
}
