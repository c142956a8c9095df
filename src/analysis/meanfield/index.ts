/**
 * Mean-field signal propagation in wide random MLPs (Poole et al. 2016; Schoenholz et al.
 * 2017) and the NNGP kernel (Lee et al. 2018): one re-export per module of this folder.
 */
export type { Activation, ClosedForms } from './activation.ts';
export { tanh, relu, erf, linear, ACTIVATIONS, activationByName, withoutClosedForms } from './activations.ts';
export { gaussHermite, expect1, expect2, type GaussRule } from './gauss-hermite.ts';
export { gaussTrapezoid, trapezoidRuleFor } from './gauss-trapezoid.ts';
export { meanPhiPhi, meanDphiDphi, meanPhiSq, meanDphiSq, meanPhiD2phi, type QuadratureOptions } from './gaussian-expectations.ts';
export {
  lengthMap, iterateLengthMap, qStar, correlationMap, iterateCorrelationMap, cStar, CRITICAL_TOL, type FixedPointOptions,
} from './fixed-points.ts';
export { chi1, chiC, depthScale, meanFieldPoint, type MeanFieldPoint, type Phase } from './depth-scales.ts';
export { criticalSigmaW2, criticalLine, type CriticalLineOptions } from './critical-line.ts';
export { phaseDiagram, type PhaseDiagram } from './phase-diagram.ts';
export { inputGram, nngpStep, nngpKernels, gramToCorrelation, type Gram } from './nngp.ts';
export { propagateCpu, propagatePair, type PropagateOptions, type PairPropagation } from './propagate-cpu.ts';
