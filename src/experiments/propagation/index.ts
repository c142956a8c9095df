/**
 * Signal propagation in random deep networks, measured on the GPU and compared with the
 * mean-field theory of ../meanfield (Schoenholz et al. 2017), plus the trainability experiment
 * and the `reproduce signal-propagation` pipeline. One re-export per module of this folder.
 *
 *   gpu-propagation   S random networks × M inputs on the GPU (weights regenerated on the fly):
 *                     per-layer Gram matrices, φ², backpropagated gradient lengths
 *   propagation.ref   the same networks in float64 on the CPU (the spec of the GPU pipeline)
 *   theory            q^l, c^l (NNGP recursion from the inputs) and χ1 gradient ratios per layer
 *   compare           measured vs predicted with sampling errors; agreement criteria
 *   inputs            MNIST probe inputs (standardised digits, a ρ-twin)
 *   trainability      depth × σ_w² grid of MNIST trainings
 *   experiment        the whole pipeline with stage timings; the trainable band vs 6ξ_c
 *   charts            chart-ready data (ChartData line charts, HeatmapData), no DOM
 *   heatmap-plot.js   browser drawing of HeatmapData with uPlot (dashboard and report.html)
 *   signal-files      the run folder: npy, CSV, summary.json, report.html
 */
export { GpuPropagation, validatePropagationSpec, PROPAGATION_LIMITS, type PropagationSpec, type PropagationResult } from './gpu-propagation.ts';
export { propagationRef } from './propagation.ref.ts';
export { propagationTheory, inputRows, type PropagationTheory } from './theory.ts';
export { comparePropagation, agreementOf, representativePairs, type Curve, type CurveSet, type AgreementSummary, type PropagationComparison } from './compare.ts';
export { probeInputs, type ProbeInputs } from './inputs.ts';
export {
  runTrainability, validateTrainabilitySpec, trainabilityModel, DEFAULT_TRAINABILITY, PAPER_TRAINABILITY,
  type TrainabilitySpec, type TrainabilityCell, type TrainabilityResult, type TrainabilityHooks,
} from './trainability.ts';
export {
  runSignalPropagation, trainabilityBand, linspace, DEFAULT_SIGNAL_PROPAGATION,
  type SignalPropagationOptions, type SignalPropagationResult, type SignalPropagationHooks, type PropagationPoint, type TrainabilityBand,
} from './run.ts';
export { phaseDiagramHeatmaps, trainabilityHeatmap, sixXiCurve, propagationCharts, type HeatmapData, type HeatmapOverlay } from './charts.ts';
export { signalPropagationFiles, signalPropagationSummary, signalPropagationReport, readHeatmapScript, type ReportContext } from './files.ts';
