/**
 * Seeded synthetic datasets for tests and quick experiments (no files, milliseconds to make).
 * Same options → bit-identical data in Node and the browser (Rng is integer-exact; the
 * float maths is plain IEEE double arithmetic done in a fixed order).
 * Canonical order = generation order.
 */
import { showValue } from '../util/keys.ts';
import { Rng } from '../util/rng.ts';
import { checkDataset, type Dataset } from './dataset.ts';

export interface MixtureOptions {
  classes: number;
  d: number;
  n: number;
  /** Std-dev of the class means around 0 (noise is unit), so larger = easier. */
  sep: number;
  seed: number;
}

/**
 * Gaussian mixture: class means μ_c ~ N(0, sep²·I), samples x = μ_y + N(0, I).
 * Labels are balanced (i mod C, then shuffled), so every class has ⌊n/C⌋ or ⌈n/C⌉ samples.
 */
export function gaussianMixture(o: MixtureOptions): Dataset {
  checkCommon(o, 'mixture');
  if (!(Number.isFinite(o.sep) && o.sep >= 0)) throw new Error(`mixture.sep must be a finite number >= 0, got ${showValue(o.sep)}`);
  const rng = new Rng(o.seed);
  const meanRng = rng.fork();
  const labelRng = rng.fork();
  const noiseRng = rng.fork();

  const means = new Float64Array(o.classes * o.d);
  for (let i = 0; i < means.length; i++) means[i] = o.sep * meanRng.normal();
  const y = new Uint8Array(o.n);
  for (let i = 0; i < o.n; i++) y[i] = i % o.classes;
  labelRng.shuffle(y);
  const x = new Float32Array(o.n * o.d);
  for (let i = 0; i < o.n; i++) {
    const m = y[i] * o.d;
    for (let j = 0; j < o.d; j++) x[i * o.d + j] = means[m + j] + noiseRng.normal();
  }
  const name = `mixture(C=${o.classes},d=${o.d},n=${o.n},sep=${o.sep},seed=${o.seed})`;
  return checkDataset({ name, x, y, n: o.n, d: o.d, classes: o.classes });
}

export interface TeacherOptions {
  classes: number;
  d: number;
  n: number;
  /** Hidden width of the teacher; default 32. */
  hidden?: number;
  seed: number;
}

/** Probe inputs used to centre the teacher's logits (see teacherNetwork). */
const TEACHER_PROBES = 1024;

/**
 * Teacher network: inputs x ~ N(0, I); label = argmax of a random 2-layer ReLU net
 * W2·relu(W1·x + b1) + b2 with W1 ~ N(0, 1/d), b1 ~ N(0, 0.1²), W2 ~ N(0, 1/hidden).
 * ReLU outputs are positive on average, which would hand most samples to the few classes
 * whose W2 row sums (or norms) are largest; so each output is shifted and scaled (b2 and a
 * per-row factor on W2, still a 2-layer ReLU net) to mean 0, std 1 over a fixed set of
 * probe inputs, which keeps every class populated. The labels are an exact function of
 * the stored Float32 inputs, so a big enough student can reach 100% train accuracy.
 */
export function teacherNetwork(o: TeacherOptions): Dataset {
  checkCommon(o, 'teacher');
  const H = o.hidden ?? 32;
  if (!(Number.isInteger(H) && H >= 1 && H <= 4096)) throw new Error(`teacher.hidden must be an integer in [1, 4096], got ${showValue(H)}`);
  const { classes: C, d, n } = o;
  const rng = new Rng(o.seed);
  const weightRng = rng.fork();
  const probeRng = rng.fork();
  const inputRng = rng.fork();

  const w1 = new Float64Array(H * d);
  const s1 = 1 / Math.sqrt(d);
  for (let i = 0; i < w1.length; i++) w1[i] = s1 * weightRng.normal();
  const b1 = new Float64Array(H);
  for (let i = 0; i < H; i++) b1[i] = 0.1 * weightRng.normal();
  const w2 = new Float64Array(C * H);
  const s2 = 1 / Math.sqrt(H);
  for (let i = 0; i < w2.length; i++) w2[i] = s2 * weightRng.normal();

  const net: Teacher = { d, H, C, w1, b1, w2, h: new Float64Array(H), logits: new Float64Array(C) };
  const logits = net.logits;
  const forward = (x: Float32Array, at: number): void => teacherForward(net, x, at);

  // Per-class mean and std-dev of the logits over the probes (Welford would be overkill: 1024 values).
  const sum = new Float64Array(C);
  const sumSq = new Float64Array(C);
  const probe = new Float32Array(d);
  for (let p = 0; p < TEACHER_PROBES; p++) {
    for (let j = 0; j < d; j++) probe[j] = probeRng.normal();
    forward(probe, 0);
    for (let c = 0; c < C; c++) {
      sum[c] += logits[c];
      sumSq[c] += logits[c] * logits[c];
    }
  }
  // Output layer rescaled so each logit has mean 0 and std 1 on the probes: scale[c]·(logit + b2[c]).
  const b2 = new Float64Array(C);
  const scale = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const mean = sum[c] / TEACHER_PROBES;
    const variance = Math.max(sumSq[c] / TEACHER_PROBES - mean * mean, 0);
    b2[c] = -mean;
    scale[c] = variance > 0 ? 1 / Math.sqrt(variance) : 1;
  }

  const x = new Float32Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = inputRng.normal();
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    forward(x, i * d);
    let best = 0;
    let bestLogit = -Infinity;
    for (let c = 0; c < C; c++) {
      const v = scale[c] * (logits[c] + b2[c]);
      if (v > bestLogit) [best, bestLogit] = [c, v];
    }
    y[i] = best;
  }
  const name = `teacher(C=${C},d=${d},n=${n},hidden=${H},seed=${o.seed})`;
  return checkDataset({ name, x, y, n, d, classes: C });
}

interface Teacher {
  d: number;
  H: number;
  C: number;
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  h: Float64Array;
  logits: Float64Array;
}

/** Logits (without b2) of row `at/d` of x into net.logits. A plain function over typed arrays so V8 keeps it monomorphic. */
function teacherForward(net: Teacher, x: Float32Array, at: number): void {
  const { d, H, C, w1, b1, w2, h, logits } = net;
  for (let k = 0; k < H; k++) {
    let s = b1[k];
    const w = k * d;
    for (let j = 0; j < d; j++) s += w1[w + j] * x[at + j];
    h[k] = s > 0 ? s : 0;
  }
  for (let c = 0; c < C; c++) {
    let s = 0;
    const w = c * H;
    for (let k = 0; k < H; k++) s += w2[w + k] * h[k];
    logits[c] = s;
  }
}

function checkCommon(o: { classes: number; d: number; n: number; seed: number }, what: string): void {
  const int = (v: number, lo: number, hi: number, field: string): void => {
    if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new Error(`${what}.${field} must be an integer in [${lo}, ${hi}], got ${showValue(v)}`);
  };
  int(o.classes, 2, 256, 'classes');
  int(o.d, 1, 1 << 16, 'd');
  int(o.n, 1, 1 << 24, 'n');
  int(o.seed, 0, 0xffffffff, 'seed');
  if (o.n * o.d > 1 << 28) throw new Error(`${what}: n*d = ${o.n * o.d} values is too many (max 2^28 = 1 GiB of floats)`);
}
