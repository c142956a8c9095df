/**
 * The dashboard's experiment forms (issue 6): the Hessian of the network being trained, an
 * (lr, B) sweep, activity–weight duality, the SGD toy landscape and the batch-size increase. One field list per
 * experiment (its key, label, allowed range and default: scaled so that each finishes in seconds
 * to a minute on a CPU-emulated GPU), parsing from the form's strings and validation that names
 * the field and the allowed range, as the CLI's flags do. DOM-free: used by the page
 * (src/ui/experiment-panels.ts), the worker (src/experiments/dashboard-runner.ts) and tests.
 */
import { inRange } from '../train/config.ts';
import { scheduleProblems } from './batch-increase/schedule.ts';

export type ExperimentKind = 'hessian' | 'sweep' | 'awd' | 'toy' | 'batch-increase';
export const EXPERIMENT_KINDS: ExperimentKind[] = ['hessian', 'sweep', 'batch-increase', 'awd', 'toy'];

export interface ExperimentField {
  key: string;
  label: string;
  /** 'numbers'/'ints': a comma-separated list of at most `maxItems` values. */
  type: 'number' | 'int' | 'numbers' | 'ints' | 'bool';
  min: number;
  max: number;
  /** The lower bound itself is not allowed. */
  minExclusive?: boolean;
  maxItems?: number;
  default: number | number[] | boolean;
  hint: string;
}

/** What the allowed ranges depend on: the run's model and training-set size. */
export interface ExperimentContext {
  /** Weight layers of the current model (widths.length − 1). */
  layers: number;
  /** Training samples of the current dataset, when known. */
  trainN: number | null;
}

export const EXPERIMENT_FIELDS: Record<ExperimentKind, ExperimentField[]> = {
  hessian: [
    { key: 'layers', label: 'layers (block)', type: 'ints', min: 0, max: 64, maxItems: 8, default: [1], hint: 'weight layers of the Hessian block (0-based; 1 = the 50×50 layer of the seed network)' },
    { key: 'k', label: 'top eigenpairs k', type: 'int', min: 1, max: 50, default: 10, hint: 'Lanczos with full re-orthogonalisation' },
    { key: 'samples', label: 'training samples', type: 'int', min: 50, max: 1e7, default: 2000, hint: 'stratified subsample the loss is averaged over' },
    { key: 'probes', label: 'SLQ probes', type: 'int', min: 1, max: 64, default: 4, hint: 'stochastic Lanczos quadrature (density) probes' },
    { key: 'steps', label: 'SLQ steps', type: 'int', min: 5, max: 200, default: 40, hint: 'Lanczos steps per probe' },
    { key: 'noise', label: 'noise vs Hessian', type: 'bool', min: 0, max: 1, default: true, hint: 'gradient-noise covariance C against H (one pass of per-sample gradients)' },
  ],
  sweep: [
    { key: 'lrs', label: 'learning rates', type: 'numbers', min: 0, minExclusive: true, max: 10, maxItems: 10, default: [0.05, 0.1, 0.2, 0.4, 0.8, 1.6], hint: 'the grid is lrs × batch sizes × weight decays × dropouts × seeds; past ~1 the no-bias ReLU net fails' },
    { key: 'batches', label: 'batch sizes', type: 'ints', min: 1, max: 1e7, maxItems: 6, default: [25, 50, 100], hint: 'Smith–Le: g = lr(N/B − 1)' },
    { key: 'weight-decays', label: 'weight decays', type: 'numbers', min: 0, max: 10, maxItems: 4, default: [0], hint: 'L2 decay; ‖w‖ and the gap against it when more than one' },
    { key: 'dropouts', label: 'dropout rates', type: 'numbers', min: 0, max: 0.95, maxItems: 4, default: [0], hint: 'inverted dropout on every hidden activation (counter-based GPU RNG)' },
    { key: 'seeds', label: 'seeds', type: 'ints', min: 0, max: 4294967295, maxItems: 4, default: [1], hint: 'init and minibatch order' },
    { key: 'epochs', label: 'epochs per run', type: 'int', min: 1, max: 1000, default: 10, hint: 'every run trains this long (the CLI sweep: 10 epochs on 2,000 samples)' },
    { key: 'train-size', label: 'training samples', type: 'int', min: 100, max: 1e7, default: 1000, hint: 'stratified subsample of the training set' },
    { key: 'sharpness-k', label: 'top λ per run', type: 'int', min: 0, max: 10, default: 3, hint: 'top Hessian eigenvalues of each trained run (0: skip)' },
  ],
  awd: [
    { key: 'lrs', label: 'learning rates', type: 'numbers', min: 0, minExclusive: true, max: 10, maxItems: 6, default: [0.05, 0.1, 0.2], hint: 'at the base B = 25, no weight decay' },
    { key: 'batches', label: 'batch sizes', type: 'ints', min: 1, max: 1e7, maxItems: 6, default: [25, 50, 100], hint: 'at the base lr = 0.1' },
    { key: 'weight-decays', label: 'weight decays', type: 'numbers', min: 0, max: 10, maxItems: 6, default: [0, 0.003], hint: 'at the base lr and B' },
    { key: 'train-size', label: 'training samples', type: 'int', min: 100, max: 1e7, default: 1000, hint: 'authors: 4,000; test samples: half of this' },
    { key: 'max-epochs', label: 'max epochs', type: 'int', min: 1, max: 10000, default: 150, hint: 'each run stops at training loss 0.01 or here' },
  ],
  toy: [
    { key: 'delta', label: 'noise Δ', type: 'number', min: 0, minExclusive: true, max: 1, default: 0.02, hint: 'minibatch noise strength of the toy SGD' },
    { key: 'kappa', label: 'anisotropy κ', type: 'number', min: 0, minExclusive: true, max: 50, default: 4, hint: 'noise along the valley is Δ/κ of the noise across it (κ = 1: isotropic, Boltzmann)' },
    { key: 'lam-max', label: 'λ_max/λ_min', type: 'number', min: 1, max: 1000, default: 8, hint: 'sharpness ratio between the two ends of the valley' },
    { key: 'lr', label: 'learning rate', type: 'number', min: 0, minExclusive: true, max: 2, default: 0.05, hint: 'stable while lr·λ_max < 2' },
    { key: 'walkers', label: 'walkers', type: 'int', min: 64, max: 1 << 20, default: 2048, hint: 'independent SGD runs on the GPU' },
    { key: 'steps', label: 'steps', type: 'int', min: 200, max: 1e7, default: 6000, hint: 'density run (a quarter is burn-in); drift runs a third of this' },
  ],
  'batch-increase': [
    { key: 'lr', label: 'learning rate ε₀', type: 'number', min: 0, minExclusive: true, max: 10, default: 0.1, hint: '(a) divides it by the factor at each milestone; (b) keeps it' },
    { key: 'batch', label: 'batch size B₀', type: 'int', min: 1, max: 1e7, default: 25, hint: '(b) multiplies it by the factor at each milestone; (a) keeps it' },
    { key: 'factor', label: 'factor f', type: 'number', min: 1, minExclusive: true, max: 100, default: 2, hint: 'per milestone (the paper: 5); B₀·f^k must be whole batches' },
    { key: 'milestones', label: 'milestones (epochs)', type: 'ints', min: 1, max: 10000, maxItems: 6, default: [2, 4], hint: 'epochs at which lr is divided / B multiplied' },
    { key: 'epochs', label: 'epochs', type: 'int', min: 2, max: 1000, default: 6, hint: 'every schedule trains this long (the CLI: 30 on 8,000 samples)' },
    { key: 'train-size', label: 'training samples', type: 'int', min: 100, max: 1e7, default: 1000, hint: 'stratified subsample: N in g = lr·(N/B − 1)' },
    { key: 'equal-g', label: 'equal g exactly', type: 'bool', min: 0, max: 1, default: false, hint: 'B solving lr·(N/B − 1) = (a)\'s g, rounded (off: B₀·f^k, the paper\'s rule, equal lr·N/B)' },
    { key: 'baseline', label: 'constant baseline', type: 'bool', min: 0, max: 1, default: true, hint: '(c): lr and B constant' },
  ],
};

/** Runs of one dashboard sweep (each trains for the chosen epochs, one after the other). */
export const MAX_SWEEP_RUNS = 64;

export type ExperimentValues = Record<string, number | number[] | boolean>;

export interface ExperimentRequest {
  kind: ExperimentKind;
  values: ExperimentValues;
}

export function defaultValues(kind: ExperimentKind): ExperimentValues {
  return Object.fromEntries(EXPERIMENT_FIELDS[kind].map((f) => [f.key, Array.isArray(f.default) ? [...f.default] : f.default]));
}

export function fieldOf(kind: ExperimentKind, key: string): ExperimentField {
  const f = EXPERIMENT_FIELDS[kind].find((x) => x.key === key);
  if (!f) throw new Error(`${kind}: unknown field '${key}' (fields: ${EXPERIMENT_FIELDS[kind].map((x) => x.key).join(', ')})`);
  return f;
}

export function formatValue(v: number | number[] | boolean): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** The allowed range after the context narrows it (layers, training-set size). */
export function rangeOf(kind: ExperimentKind, f: ExperimentField, ctx: ExperimentContext): { min: number; max: number } {
  let max = f.max;
  if (kind === 'hessian' && f.key === 'layers') max = ctx.layers - 1;
  if (ctx.trainN !== null && (f.key === 'samples' || f.key === 'train-size')) max = Math.min(max, ctx.trainN);
  return { min: f.min, max };
}

function describe(kind: ExperimentKind, f: ExperimentField, r: { min: number; max: number }): string {
  const integer = f.type === 'int' || f.type === 'ints';
  const lo = f.minExclusive ? `(${r.min}` : `[${r.min}`;
  const what = integer ? 'an integer' : 'a number';
  const each = f.type === 'numbers' || f.type === 'ints' ? `a list (at most ${f.maxItems}) of ${integer ? 'integers' : 'numbers'}, each` : what;
  return `${kind}.${f.key} must be ${each} in ${lo}, ${r.max}]`;
}

/** One field from its form string: the value, or throws a message naming the field and the allowed range. */
export function parseExperimentField(kind: ExperimentKind, key: string, raw: string, ctx: ExperimentContext): number | number[] | boolean {
  const f = fieldOf(kind, key);
  if (f.type === 'bool') return raw === 'true' || raw === 'on' || raw === '1';
  const r = rangeOf(kind, f, ctx);
  const integer = f.type === 'int' || f.type === 'ints';
  const ok = (v: number): boolean => inRange(v, { ...r, minExclusive: f.minExclusive, integer });
  const parts = raw.split(/[\s,]+/).filter((p) => p !== '');
  const list = f.type === 'numbers' || f.type === 'ints';
  const bad = (why: string): Error => new Error(`${describe(kind, f, r)}, ${why}`);
  if (parts.length === 0) throw bad('got nothing');
  if (!list && parts.length > 1) throw bad(`got '${raw.trim()}'`);
  if (list && parts.length > (f.maxItems ?? Infinity)) throw bad(`got ${parts.length} values`);
  const vs = parts.map(Number);
  const wrong = parts.find((p, i) => !ok(vs[i]));
  if (wrong !== undefined) throw bad(`got ${wrong}`);
  if (list && new Set(vs).size !== vs.length) throw bad('got a repeated value');
  return list ? vs.sort((a, b) => a - b) : vs[0];
}

/** Every field of a request checked against the context: field → message (empty when valid). */
export function validateExperiment(req: ExperimentRequest, ctx: ExperimentContext): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const f of EXPERIMENT_FIELDS[req.kind]) {
    const v = req.values[f.key];
    if (v === undefined) {
      errors[f.key] = `${req.kind}.${f.key} is missing`;
      continue;
    }
    try {
      parseExperimentField(req.kind, f.key, formatValue(v), ctx);
    } catch (e) {
      errors[f.key] = (e as Error).message;
    }
  }
  const unknown = Object.keys(req.values).filter((k) => !EXPERIMENT_FIELDS[req.kind].some((f) => f.key === k));
  for (const k of unknown) errors[k] = `${req.kind}: unknown field '${k}'`;
  if (req.kind === 'toy' && !errors.lr && !errors['lam-max']) {
    // The valley is λ(x) ∈ [1, λ_max/λ_min]; SGD on it is stable only while lr·λ < 2 everywhere.
    const lr = req.values.lr as number;
    const lamMax = req.values['lam-max'] as number;
    if (lr * lamMax >= 2) errors.lr = `toy.lr must be below 2/λ_max = ${(2 / lamMax).toPrecision(3)} (the sharp end of the valley is unstable otherwise), got ${lr}`;
  }
  if (req.kind === 'batch-increase' && Object.keys(errors).length === 0) {
    const v = req.values;
    const problems = scheduleProblems({ lr: v.lr as number, batchSize: v.batch as number, epochs: v.epochs as number, milestones: v.milestones as number[], factor: v.factor as number, batchRule: v['equal-g'] ? 'equal-g' : 'factor' }, v['train-size'] as number);
    for (const [k, msg] of Object.entries(problems)) errors[k] = `batch-increase.${msg}`;
  }
  if (req.kind === 'sweep' && Object.keys(errors).length === 0) {
    const runs = ['lrs', 'batches', 'weight-decays', 'dropouts', 'seeds'].reduce((n, k) => n * (req.values[k] as number[]).length, 1);
    if (runs > MAX_SWEEP_RUNS) errors.lrs = `sweep: the grid has ${runs} runs (lrs × batches × weight decays × dropouts × seeds); at most ${MAX_SWEEP_RUNS} here — run bigger grids with \`sgdscope sweep\` and open its charts.json`;
  }
  if ((req.kind === 'sweep' || req.kind === 'awd') && !errors.batches && !errors['train-size']) {
    const n = req.values['train-size'] as number;
    const big = (req.values.batches as number[]).find((b) => b > n);
    if (big !== undefined) errors.batches = `${req.kind}.batches must each be at most train-size = ${n}, got ${big}`;
  }
  return errors;
}

/** Throws the first problem (for the worker and the CLI-like paths). */
export function checkExperiment(req: ExperimentRequest, ctx: ExperimentContext): ExperimentRequest {
  const errors = Object.values(validateExperiment(req, ctx));
  if (errors.length) throw new Error(errors.join('; '));
  return req;
}
