/**
 * Probe inputs for the propagation experiment, from a dataset of images (MNIST by default): the
 * first image of each of the classes 0, 1, …, count − 1, each standardised to zero mean and
 * |x|²/d = 1 (so every input enters with the same length q^0 = σ_w² + σ_b² and the q^l curves
 * of all inputs coincide in theory), and optionally a near-duplicate of the first one,
 *   x' = ρ x_0 + √(1 − ρ²) u,   u = the standardised part of x_1 orthogonal to x_0,
 * whose input correlation is exactly ρ: in the chaotic phase such a pair decorrelates towards c*.
 */
import type { Dataset } from '../../data/index.ts';

export interface ProbeInputs {
  /** (M, d) row-major. */
  x: Float32Array;
  d: number;
  /** What each row is, e.g. "digit 3 (test #12)" or "ρ = 0.99 twin of digit 0". */
  labels: string[];
}

function standardise(v: Float64Array): Float64Array {
  const d = v.length;
  const mean = v.reduce((s, x) => s + x, 0) / d;
  for (let i = 0; i < d; i++) v[i] -= mean;
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / d);
  if (!(norm > 0)) throw new Error('probeInputs: a constant image cannot be standardised');
  for (let i = 0; i < d; i++) v[i] /= norm;
  return v;
}

export function probeInputs(ds: Dataset, opts: { count: number; nearDuplicate?: number | null }): ProbeInputs {
  const { count } = opts;
  const rho = opts.nearDuplicate ?? null;
  if (!(Number.isInteger(count) && count >= 1 && count <= ds.classes)) {
    throw new Error(`probeInputs: count must be an integer in [1, ${ds.classes}] (one image per class), got ${count}`);
  }
  if (rho !== null && !(rho > -1 && rho < 1)) throw new Error(`probeInputs: nearDuplicate (ρ) must be in (−1, 1), got ${rho}`);
  if (rho !== null && count < 2) throw new Error('probeInputs: a near-duplicate needs count ≥ 2 (it is built from images 0 and 1)');
  const d = ds.d;
  const rows: Float64Array[] = [];
  const labels: string[] = [];
  for (let k = 0; k < count; k++) {
    let i = 0;
    while (i < ds.n && ds.y[i] !== k) i++;
    if (i === ds.n) throw new Error(`probeInputs: ${ds.name} has no sample of class ${k}`);
    rows.push(standardise(Float64Array.from(ds.x.subarray(i * d, (i + 1) * d))));
    labels.push(`class ${k} (${ds.name} #${i})`);
  }
  if (rho !== null) {
    const x0 = rows[0];
    const u = Float64Array.from(rows[1]);
    const dot = u.reduce((s, v, i) => s + v * x0[i], 0) / d;
    for (let i = 0; i < d; i++) u[i] -= dot * x0[i];
    const un = Math.sqrt(u.reduce((s, v) => s + v * v, 0) / d);
    const twin = new Float64Array(d);
    for (let i = 0; i < d; i++) twin[i] = rho * x0[i] + (Math.sqrt(1 - rho * rho) * u[i]) / un;
    rows.push(twin);
    labels.push(`ρ = ${rho} twin of class 0`);
  }
  const x = new Float32Array(rows.length * d);
  rows.forEach((r, a) => x.set(r, a * d));
  return { x, d, labels };
}
