/**
 * The two experiments at initialisation that `reproduce signal-propagation` runs after the
 * propagation stage: Jacobian spectra (jacobian.ts) at a list of points, and curve lengths
 * (curve-length.ts) on both sides of the critical line. Options, defaults, and the stage loop.
 */
import type { GpuContext } from '../../gpu/device.ts';
import { criticalSigmaW2 } from '../../analysis/meanfield/critical-line.ts';
import { tanh } from '../../analysis/meanfield/activations.ts';
import type { JacobianActivation } from '../../analysis/meanfield/d2-law.ts';
import type { WeightEnsemble } from '../../analysis/meanfield/jacobian-spectrum.ts';
import { GpuJvp } from './gpu-jvp.ts';
import { jacobianLabel, measureJacobian, type JacobianMeasurement, type JacobianPoint } from './jacobian.ts';
import { measureCurve, type CurveMeasurement, type CurveSpec } from './curve-length.ts';

/** A Jacobian point; sw2 null = the tanh critical σ_w²*(σ_b²). */
export interface JacobianPointOption {
  activation: JacobianActivation;
  weights: WeightEnsemble;
  sw2: number | null;
  sb2: number;
}

export interface JacobianOptions {
  width: number;
  depth: number;
  nets: number;
  seed: number;
  points: JacobianPointOption[];
}

/** The curve experiment at several σ_w²; null = the critical σ_w²*(sb2). */
export type CurveOptions = Omit<CurveSpec, 'sw2'> & { sw2: (number | null)[] };

const both = (p: Omit<JacobianPointOption, 'weights'>): JacobianPointOption[] => [{ ...p, weights: 'gaussian' }, { ...p, weights: 'orthogonal' }];

/**
 * tanh at the critical point σ_b² = 0.05 and a chaotic one (σ_w² = 3), linear at σ_w² = 1 (the
 * Fuss–Catalan law; orthogonal: all s = 1), ReLU at its critical σ_w² = 2, σ_b² = 0; each with
 * Gaussian and orthogonal weights.
 */
export const DEFAULT_JACOBIAN: JacobianOptions = {
  width: 512,
  depth: 16,
  nets: 2,
  seed: 1,
  points: [
    ...both({ activation: 'tanh', sw2: null, sb2: 0.05 }),
    ...both({ activation: 'tanh', sw2: 3, sb2: 0.05 }),
    ...both({ activation: 'linear', sw2: 1, sb2: 0 }),
    ...both({ activation: 'relu', sw2: 2, sb2: 0 }),
  ],
};

export const DEFAULT_CURVE: CurveOptions = { sw2: [1.3, null, 3.0], sb2: 0.05, width: 1024, depth: 30, points: 32, nets: 4, seed: 1 };

export function resolveJacobianPoint(p: JacobianPointOption): JacobianPoint {
  if (p.sw2 !== null) return { ...p, sw2: p.sw2 };
  if (p.activation !== 'tanh') throw new Error(`jacobian point: σ_w² 'crit' is for tanh (ReLU: 2 with σ_b² = 0; linear: 1), got ${p.activation}`);
  return { ...p, sw2: criticalSigmaW2(tanh, p.sb2) };
}

export interface InitStages {
  stage<T>(name: string, detail: string, f: () => Promise<T>): Promise<T>;
  onProgress?(name: string, fraction: number): void;
}

export async function runJacobianStages(ctx: GpuContext, o: JacobianOptions, s: InitStages): Promise<JacobianMeasurement[]> {
  const out: JacobianMeasurement[] = [];
  const compiled = new Map<JacobianActivation, GpuJvp>();
  for (const [i, opt] of o.points.entries()) {
    const point = resolveJacobianPoint(opt);
    let gpu = compiled.get(point.activation);
    if (!gpu) compiled.set(point.activation, (gpu = await GpuJvp.create(ctx, point.activation)));
    const name = `jacobian ${i + 1}`;
    out.push(await s.stage(name, `${jacobianLabel(point)}: ${o.nets} networks × ${o.depth} layers × width ${o.width}, the ${o.width} × ${o.width} Jacobian by JVPs, singular values in float64`, () =>
      measureJacobian(gpu!, point, o, s.onProgress ? (f) => s.onProgress!(name, f) : undefined),
    ));
  }
  return out;
}

export async function runCurveStages(ctx: GpuContext, o: CurveOptions, s: InitStages): Promise<CurveMeasurement[]> {
  const gpu = await GpuJvp.create(ctx, 'tanh');
  const crit = criticalSigmaW2(tanh, o.sb2);
  const out: CurveMeasurement[] = [];
  for (const [i, w] of o.sw2.entries()) {
    const sw2 = w ?? crit;
    const name = `curve ${i + 1}`;
    out.push(await s.stage(name, `great circle of ${o.points} inputs, tanh σ_w² = ${Number(sw2.toPrecision(6))}, σ_b² = ${o.sb2}: ${o.nets} networks × ${o.depth} layers × width ${o.width}`, () =>
      measureCurve(gpu, { sw2, sb2: o.sb2, width: o.width, depth: o.depth, points: o.points, nets: o.nets, seed: o.seed }, s.onProgress ? (f) => s.onProgress!(name, f) : undefined),
    ));
  }
  return out;
}
