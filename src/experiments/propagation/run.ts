/**
 * `sgdscope reproduce signal-propagation` end to end (Schoenholz, Gilmer, Ganguli & Sohl-Dickstein,
 * "Deep information propagation", ICLR 2017):
 *
 *   1. theory (CPU, float64): the phase diagram χ1, ξ_c over σ_w² × σ_b², the critical line, the
 *      critical σ_w² at σ_b² ∈ {0, 0.01, 0.05, 0.1, 0.2} and ξ_c at the table points
 *      (meanfield/table-points.ts, cross-checked by meanfield/crosscheck.py);
 *   2. empirical propagation (GPU): random deep networks at a few (σ_w², σ_b²) on both sides of
 *      the critical line, MNIST inputs, q^l, c^l and the backpropagated gradient per layer, against
 *      the mean-field recursion (gpu-propagation.ts, theory.ts, compare.ts);
 *   3. Jacobian spectra (GPU, Pennington et al. 2017): singular values of the input–output Jacobian
 *      of random tanh/ReLU/linear networks, Gaussian and orthogonal weights, against free
 *      probability, and the mean squared singular value against χ1^l (jacobian.ts, init-run.ts);
 *   4. transient chaos (GPU, Poole et al. 2016): the length of a great circle of inputs through deep
 *      tanh networks against χ1^{l/2}, on both sides of the critical line (curve-length.ts);
 *   5. trainability (GPU): a depth × σ_w² grid of MNIST trainings (trainability.ts), compared with
 *      the band L ≤ 6ξ_c.
 * Every stage is timed.
 */
import type { GpuContext } from '../../gpu/device.ts';
import type { Dataset } from '../../data/index.ts';
import { activationByName } from '../../analysis/meanfield/activations.ts';
import { criticalLine, criticalSigmaW2 } from '../../analysis/meanfield/critical-line.ts';
import { meanFieldPoint, type MeanFieldPoint } from '../../analysis/meanfield/depth-scales.ts';
import { phaseDiagram, type PhaseDiagram } from '../../analysis/meanfield/phase-diagram.ts';
import { CRITICAL_SB2, XI_POINTS } from '../../analysis/meanfield/table-points.ts';
import { GpuPropagation, type PropagationResult } from './gpu-propagation.ts';
import { propagationTheory, type PropagationTheory } from './theory.ts';
import { comparePropagation, type PropagationComparison } from './compare.ts';
import { probeInputs, type ProbeInputs } from './inputs.ts';
import { runTrainability, type TrainabilityCell, type TrainabilityResult, type TrainabilitySpec } from './trainability.ts';
import { DEFAULT_CURVE, DEFAULT_JACOBIAN, runCurveStages, runJacobianStages, type CurveOptions, type JacobianOptions } from './init-run.ts';
import type { JacobianMeasurement } from './jacobian.ts';
import type { CurveMeasurement } from './curve-length.ts';

export interface SignalPropagationOptions {
  activation: 'tanh' | 'relu';
  /** Phase-diagram grid (linspace triples [min, max, count]). */
  phaseSw2: [number, number, number];
  phaseSb2: [number, number, number];
  /** σ_b² of the critical-line table. */
  criticalSb2: number[];
  /** (σ_w², σ_b²) points of the ξ_c table. */
  xiPoints: [number, number][];
  propagation: {
    /** σ_w² values; null entries mean the critical σ_w²*(sb2). */
    sw2: (number | null)[];
    sb2: number;
    width: number;
    depth: number;
    nets: number;
    seed: number;
    /** MNIST digits 0 … count − 1 as inputs. */
    inputs: number;
    /** A ρ-twin of the first input (null: none). */
    twin: number | null;
    gradients: boolean;
  } | null;
  /** Jacobian spectra at initialisation (null: skipped). */
  jacobian: JacobianOptions | null;
  /** Curve lengths through deep tanh networks (null: skipped). */
  curve: CurveOptions | null;
  trainability: TrainabilitySpec | null;
  /** Train accuracy from which a cell counts as trainable (chance is 0.1). */
  trainableThreshold: number;
}

export const DEFAULT_SIGNAL_PROPAGATION: Omit<SignalPropagationOptions, 'trainability'> = {
  activation: 'tanh',
  phaseSw2: [0.5, 4.5, 41],
  phaseSb2: [0, 0.3, 31],
  criticalSb2: [...CRITICAL_SB2],
  xiPoints: XI_POINTS.map(([a, b]) => [a, b] as [number, number]),
  propagation: { sw2: [1.3, null, 3.0], sb2: 0.05, width: 768, depth: 40, nets: 8, seed: 1, inputs: 5, twin: 0.95, gradients: true },
  jacobian: DEFAULT_JACOBIAN,
  curve: DEFAULT_CURVE,
  trainableThreshold: 0.5,
};

export function linspace([lo, hi, n]: [number, number, number]): number[] {
  if (n === 1) return [lo];
  return Array.from({ length: n }, (_, i) => Number((lo + ((hi - lo) * i) / (n - 1)).toPrecision(12)));
}

export interface PropagationPoint {
  sw2: number;
  sb2: number;
  label: string;
  meanField: MeanFieldPoint;
  result: PropagationResult;
  theory: PropagationTheory;
  comparison: PropagationComparison;
  theorySeconds: number;
}

export interface TrainabilityBand {
  threshold: number;
  /** Cells where (trainable) == (L ≤ 6ξ_c), over all cells. */
  agreement: number;
  /** Trainable cells with L > 6ξ_c (theory too pessimistic) and untrainable ones with L ≤ 6ξ_c. */
  trainableBeyond: number;
  untrainableWithin: number;
  /** Per depth: the σ_w² of the best accuracy, and the trainable σ_w² range (null: none). */
  rows: { depth: number; bestSw2: number | null; bestAccuracy: number | null; trainableSw2: [number, number] | null; predictedSw2: [number, number] | null }[];
}

export interface SignalPropagationResult {
  options: SignalPropagationOptions;
  phase: PhaseDiagram;
  /** Critical line along the phase diagram's σ_b² axis. */
  line: { sb2: number; sw2: number }[];
  critical: { sb2: number; sw2: number }[];
  xiTable: MeanFieldPoint[];
  inputs: ProbeInputs | null;
  propagation: PropagationPoint[];
  jacobian: JacobianMeasurement[];
  curves: CurveMeasurement[];
  trainability: TrainabilityResult | null;
  /** 6ξ_c along a fine σ_w² grid at the trainability σ_b², the critical σ_w² there, 6ξ_c at the grid's σ_w². */
  sixXi: { sw2: number[]; depth: number[]; criticalSw2: number; atGrid: number[] } | null;
  band: TrainabilityBand | null;
  timings: Record<string, number>;
}

export interface SignalPropagationHooks {
  onStage?(stage: string, detail: string): void;
  onStageEnd?(stage: string, seconds: number): void;
  onPropagationProgress?(index: number, total: number, fraction: number): void;
  /** Progress of a Jacobian or curve stage ('jacobian 2', 'curve 1'). */
  onStageProgress?(stage: string, fraction: number): void;
  onCellStart?(depth: number, sw2: number, index: number, total: number): void;
  onCellEnd?(cell: TrainabilityCell, done: number, total: number): void;
  /** Trainability cells finished earlier (a resumed run). */
  doneCells?: TrainabilityCell[];
}

/** Where the trainability heat map and the 6ξ_c prediction agree (see TrainabilityBand). */
export function trainabilityBand(r: TrainabilityResult, xiC: (sw2: number) => number, threshold: number): TrainabilityBand {
  const { sw2, depths } = r.spec;
  let agree = 0;
  let beyond = 0;
  let within = 0;
  const rows = depths.map((depth, iy) => {
    let best: number | null = null;
    let bestSw2: number | null = null;
    const trainable: number[] = [];
    const predicted: number[] = [];
    sw2.forEach((w, ix) => {
      const acc = r.cells[iy * sw2.length + ix].trainAccuracy;
      const ok = acc !== null && acc >= threshold;
      const pred = depth <= 6 * xiC(w);
      if (ok === pred) agree++;
      else if (ok) beyond++;
      else within++;
      if (ok) trainable.push(w);
      if (pred) predicted.push(w);
      if (acc !== null && (best === null || acc > best)) {
        best = acc;
        bestSw2 = w;
      }
    });
    const range = (v: number[]): [number, number] | null => (v.length ? [v[0], v[v.length - 1]] : null);
    return { depth, bestSw2, bestAccuracy: best, trainableSw2: range(trainable), predictedSw2: range(predicted) };
  });
  const n = sw2.length * depths.length;
  return { threshold, agreement: agree / n, trainableBeyond: beyond, untrainableWithin: within, rows };
}

/**
 * `trained`: the trainability grid's result when its cells were trained elsewhere (by queue
 * workers, src/queue/): then only the theory, the propagation stage and the band are computed here.
 */
export async function runSignalPropagation(
  ctx: GpuContext | null, o: SignalPropagationOptions, data: { train: Dataset; test: Dataset } | null, hooks: SignalPropagationHooks = {}, trained: TrainabilityResult | null = null,
): Promise<SignalPropagationResult> {
  const act = activationByName(o.activation);
  const timings: Record<string, number> = {};
  const stage = async <T>(name: string, detail: string, f: () => Promise<T> | T): Promise<T> => {
    hooks.onStage?.(name, detail);
    const t0 = performance.now();
    const v = await f();
    timings[name] = (performance.now() - t0) / 1000;
    hooks.onStageEnd?.(name, timings[name]);
    return v;
  };

  const sw2Grid = linspace(o.phaseSw2);
  const sb2Grid = linspace(o.phaseSb2);
  const phase = await stage('phase diagram', `χ1, ξ_c on ${sw2Grid.length} × ${sb2Grid.length} (σ_w², σ_b²)`, () => phaseDiagram(act, sw2Grid, sb2Grid));
  const { line, critical, xiTable } = await stage('critical line and tables', `σ_w²* at ${sb2Grid.length} σ_b²; table at σ_b² ∈ {${o.criticalSb2.join(', ')}}`, () => ({
    line: criticalLine(act, sb2Grid),
    critical: criticalLine(act, o.criticalSb2),
    xiTable: o.xiPoints.map(([w, b]) => meanFieldPoint(act, w, b)),
  }));

  let inputs: ProbeInputs | null = null;
  const propagation: PropagationPoint[] = [];
  const p = o.propagation;
  if (p) {
    if (!ctx || !data) throw new Error('runSignalPropagation: the propagation stage needs a GPU context and the data');
    const probe = probeInputs(data.test, { count: p.inputs, nearDuplicate: p.twin });
    inputs = probe;
    const m = probe.x.length / probe.d;
    const gpu = await GpuPropagation.create(ctx, { activation: o.activation, inputs: m });
    const crit = criticalSigmaW2(act, p.sb2);
    const points = p.sw2.map((w) => w ?? crit);
    for (const [i, sw2] of points.entries()) {
      const mf = meanFieldPoint(act, sw2, p.sb2);
      const label = `σ_w² = ${Number(sw2.toPrecision(6))}, σ_b² = ${p.sb2} (${mf.phase}${p.sw2[i] === null ? ', on the critical line' : ''})`;
      const name = `propagation ${i + 1}`;
      const result = await stage(name, `${label}: ${p.nets} networks × ${p.depth} layers × width ${p.width}, ${m} MNIST inputs${p.gradients ? ', with gradients' : ''}`, () =>
        gpu.run(
          { activation: o.activation, sw2, sb2: p.sb2, width: p.width, depth: p.depth, nets: p.nets, seed: p.seed, inputs: probe.x, inputDim: probe.d, gradients: p.gradients },
          hooks.onPropagationProgress ? (f) => hooks.onPropagationProgress!(i, points.length, f) : undefined,
        ),
      );
      const t0 = performance.now();
      const theory = propagationTheory(act, sw2, p.sb2, probe.x, probe.d, p.depth);
      const theorySeconds = (performance.now() - t0) / 1000;
      timings[`${name} theory`] = theorySeconds;
      propagation.push({ sw2, sb2: p.sb2, label, meanField: mf, result, theory, comparison: comparePropagation(result, theory), theorySeconds });
    }
  }

  const needGpu = (what: string): GpuContext => {
    if (!ctx) throw new Error(`runSignalPropagation: the ${what} stage needs a GPU context`);
    return ctx;
  };
  const init = { stage, onProgress: hooks.onStageProgress };
  const jacobian = o.jacobian ? await runJacobianStages(needGpu('Jacobian'), o.jacobian, init) : [];
  const curves = o.curve ? await runCurveStages(needGpu('curve-length'), o.curve, init) : [];

  let trainability: TrainabilityResult | null = null;
  let sixXi: SignalPropagationResult['sixXi'] = null;
  let band: TrainabilityBand | null = null;
  if (o.trainability) {
    const t = o.trainability;
    if (trained) timings.trainability = trained.seconds;
    else if (!ctx || !data) throw new Error('runSignalPropagation: the trainability stage needs a GPU context and the data');
    const cells = t.depths.length * t.sw2.length;
    trainability = trained ?? await stage('trainability', `${cells} MNIST trainings: depth ∈ {${t.depths.join(', ')}} × σ_w² ∈ {${t.sw2.join(', ')}}, σ_b² = ${t.sb2}, width ${t.width}, ${t.steps} SGD steps (lr ${t.lr}, B ${t.batchSize})`, () =>
      runTrainability(ctx!, t, data!, { onCellStart: hooks.onCellStart, onCellEnd: hooks.onCellEnd, done: hooks.doneCells }),
    );
    const xiAt = (w: number): number => meanFieldPoint(act, w, t.sb2).xiC;
    const lo = t.sw2[0] / 1.5;
    const hi = t.sw2[t.sw2.length - 1] * 1.5;
    const crit = criticalSigmaW2(act, t.sb2);
    // geometric grid (the heat map's σ_w² axis may be logarithmic), plus σ_w²* itself
    const fine = [...new Set([...linspace([Math.log(lo), Math.log(hi), 240]).map(Math.exp), crit])].sort((a, b) => a - b);
    sixXi = { sw2: fine, depth: fine.map((w) => 6 * xiAt(w)), criticalSw2: crit, atGrid: t.sw2.map((w) => 6 * xiAt(w)) };
    band = trainabilityBand(trainability, xiAt, o.trainableThreshold);
  }
  return { options: o, phase, line, critical, xiTable, inputs, propagation, jacobian, curves, trainability, sixXi, band, timings };
}
