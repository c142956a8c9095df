/**
 * The fluctuation–dissipation meter (src/instruments/fdr.ts, shaders/fdr.wgsl):
 *  - the kernel against float64 dot products on blocks of odd sizes, with and without momentum;
 *  - the relation itself, where it holds in closed form: SGD on a quadratic L_B(θ) = ½θᵀHθ − ξ·θ
 *    with Gaussian gradient noise ξ ~ N(0, C) (H, C diagonal), simulated in float64, its steps fed
 *    to the instrument's kernel (one workgroup per step) and its CPU estimator. Started from the
 *    exact stationary law θ_i ~ N(0, s_i), s_i = ηc_i / (h'_i (2 − ηh'_i)), h' = h + λ, both sides
 *    must match their closed forms ⟨θ·u⟩ = Σ h'_i s_i and (η/2)⟨|u|²⟩ = (η/2)(Σ h'_i² s_i + Σ c_i)
 *    and their ratio must be 1 within its standard error; the same estimator must see a hot start
 *    (not yet stationary), a wrong η, and a momentum run read with the momentum-free
 *    relation as clearly different from 1 — the check can fail. With momentum its momentum form
 *    must give 1;
 *  - the instrument in a real training run (bias, momentum, weight decay) against a float64
 *    replica of the same SGD steps.
 */
import { describe, expect, it } from 'vitest';
import { randomArray, useGpu } from './helpers/gpu.ts';
import { checkKernel } from './helpers/kernel-check.ts';
import { Rng } from '../src/util/rng.ts';
import { fdrSides, ratioWithError, FDR_DOTS } from '../src/instruments/fdr-stats.ts';
import { Trainer } from '../src/train/trainer.ts';
import { MinibatchSampler } from '../src/train/sampler.ts';
import { gaussianMixture } from '../src/data/synthetic.ts';
import { mlpGradCpu } from '../src/nn/mlp-cpu.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { InstrumentHost } from '../src/instruments/host.ts';
import '../src/instruments/all.ts'; // fdr uses pca-window: the registry in its order
import { fdr } from '../src/instruments/fdr.ts';
import { resolveValues } from '../src/instruments/values.ts';

const ctx = useGpu();

/** Float64 [θθ, θg, gg, vv, vg, vθ] of each block. */
function dotsRef(ranges: Uint32Array, theta: ArrayLike<number>, grad: ArrayLike<number>, vel: ArrayLike<number> | null): number[] {
  const out: number[] = [];
  for (let l = 0; l < ranges.length / 2; l++) {
    const d = [0, 0, 0, 0, 0, 0];
    for (let i = ranges[2 * l]; i < ranges[2 * l] + ranges[2 * l + 1]; i++) {
      const [t, g] = [theta[i], grad[i]];
      d[0] += t * t;
      d[1] += t * g;
      d[2] += g * g;
      if (vel) {
        d[3] += vel[i] * vel[i];
        d[4] += vel[i] * g;
        d[5] += vel[i] * t;
      }
    }
    out.push(...d);
  }
  return out;
}

async function runDots(theta: Float32Array, grad: Float32Array, vel: Float32Array | null, ranges: Uint32Array, wg = 256): Promise<Float32Array> {
  const L = ranges.length / 2;
  const got = await checkKernel(ctx(), {
    shader: 'fdr',
    entry: 'dots',
    constants: { MOMENTUM: vel !== null, WG: wg },
    inputs: { ranges, theta, grad, vel: vel ?? theta },
    outputs: { out: FDR_DOTS * L },
    uniforms: { layers: L },
    workgroups: [L],
    reference: () => ({ out: dotsRef(ranges, theta, grad, vel) }),
    atol: 1e-5,
    rtol: 2e-4,
  });
  return got.out;
}

describe('shaders/fdr.wgsl', () => {
  for (const momentum of [false, true]) {
    it(`the six dot products per block${momentum ? ' with a velocity' : ''}, blocks of odd sizes`, async () => {
      // Blocks as the parameter layout has them: not contiguous, sizes not multiples of the workgroup.
      const ranges = Uint32Array.from([0, 301, 320, 7, 384, 1000]);
      const n = 1400;
      await runDots(randomArray(n, 1), randomArray(n, 2, 0.1), momentum ? randomArray(n, 3, 0.5) : null, ranges);
    });
  }
});

interface Process {
  theta: Float32Array;
  grad: Float32Array;
  vel: Float32Array | null;
}

/**
 * T steps of SGD on ½Σ h_i θ_i² − ξ·θ with ξ_i ~ N(0, c_i), weight decay lam and momentum mu: row t
 * holds θ_{t−1}, g_t = Hθ_{t−1} − ξ_t and v_{t−1}, the kernel's view at the gradient moment.
 */
function simulate(o: { h: number[]; c: number[]; eta: number; lam: number; mu: number; T: number; burn: number; theta0: number[]; seed: number }): Process {
  const P = o.h.length;
  const rng = new Rng(o.seed);
  const th = Float64Array.from(o.theta0);
  const v = new Float64Array(P);
  const out: Process = { theta: new Float32Array(o.T * P), grad: new Float32Array(o.T * P), vel: o.mu > 0 ? new Float32Array(o.T * P) : null };
  for (let t = -o.burn; t < o.T; t++) {
    for (let i = 0; i < P; i++) {
      const g = o.h[i] * th[i] - Math.sqrt(o.c[i]) * rng.normal();
      if (t >= 0) {
        out.theta[t * P + i] = th[i];
        out.grad[t * P + i] = g;
        if (out.vel) out.vel[t * P + i] = v[i];
      }
      const u = g + o.lam * th[i];
      v[i] = o.mu * v[i] + u;
      th[i] -= o.eta * (o.mu > 0 ? v[i] : u);
    }
  }
  return out;
}

/** Block means of both sides over the steps (blocks of `block`) and R ± SE. */
function estimate(dots: Float32Array, T: number, block: number, h: { lr: number; weightDecay: number; momentum: number }) {
  const a: number[] = [];
  const b: number[] = [];
  for (let k = 0; k + block <= T; k += block) {
    let sa = 0;
    let sb = 0;
    for (let t = k; t < k + block; t++) {
      const s = fdrSides(dots, FDR_DOTS * t, h);
      sa += s.lhs;
      sb += s.rhs;
    }
    a.push(sa / block);
    b.push(sb / block);
  }
  const mean = (v: number[]) => v.reduce((p, q) => p + q, 0) / v.length;
  const se = (v: number[]) => Math.sqrt(v.reduce((p, q) => p + (q - mean(v)) ** 2, 0) / (v.length * (v.length - 1)));
  return { ...ratioWithError(a, b), lhs: mean(a), rhs: mean(b), lhsSE: se(a), rhsSE: se(b) };
}

describe('the fluctuation–dissipation relation on a quadratic with Gaussian noise', () => {
  const P = 32;
  const h = Array.from({ length: P }, (_, i) => 0.05 * 80 ** (i / (P - 1))); // 0.05 … 4: slow and fast modes
  const c = Array.from({ length: P }, (_, i) => 0.5 + (i % 5) / 4);
  const eta = 0.2;
  const lam = 0.02;
  const hp = h.map((v) => v + lam);
  const s = hp.map((v, i) => (eta * c[i]) / (v * (2 - eta * v)));
  const T = 8000;
  const ranges = Uint32Array.from({ length: 2 * T }, (_, j) => (j % 2 === 0 ? (j / 2) * P : P));
  const hyper = { lr: eta, weightDecay: lam, momentum: 0 };

  it('holds at stationarity: both sides match their closed forms and the ratio is 1', async () => {
    const rng = new Rng(11);
    const p = simulate({ h, c, eta, lam, mu: 0, T, burn: 0, theta0: s.map((v) => Math.sqrt(v) * rng.normal()), seed: 12 });
    const dots = await runDots(p.theta, p.grad, null, ranges, 32);
    const r = estimate(dots, T, 100, hyper);
    const lhsTheory = hp.reduce((acc, v, i) => acc + v * s[i], 0);
    const rhsTheory = (eta / 2) * (hp.reduce((acc, v, i) => acc + v * v * s[i], 0) + c.reduce((x, y) => x + y, 0));
    console.log(`quadratic, stationary: ratio ${r.ratio.toFixed(4)} ± ${r.se.toFixed(4)}; ⟨θ·u⟩ ${r.lhs.toFixed(4)} ± ${r.lhsSE.toFixed(4)} (closed form ${lhsTheory.toFixed(4)}), (η/2)⟨|u|²⟩ ${r.rhs.toFixed(4)} ± ${r.rhsSE.toFixed(4)} (closed form ${rhsTheory.toFixed(4)})`);
    expect(lhsTheory).toBeCloseTo(rhsTheory, 10);
    expect(r.se).toBeLessThan(0.03);
    expect(Math.abs(r.ratio - 1)).toBeLessThan(4 * r.se);
    expect(Math.abs(r.lhs - lhsTheory)).toBeLessThan(4 * r.lhsSE);
    expect(Math.abs(r.rhs - rhsTheory)).toBeLessThan(4 * r.rhsSE);
    // A wrong learning rate in the estimator is seen at once.
    const wrong = estimate(dots, T, 100, { ...hyper, lr: 1.25 * eta });
    expect(Math.abs(wrong.ratio - 1)).toBeGreaterThan(10 * wrong.se);
  });

  it('is far from 1 while the weights relax from a hot start, and returns to 1', async () => {
    // θ_0 at 10× the stationary spread: the slow modes (ηh' ≈ 0.014) shed it in ~40 steps (variance).
    const T0 = 1000;
    const rng = new Rng(13);
    const p = simulate({ h, c, eta, lam, mu: 0, T: T0, burn: 0, theta0: s.map((v) => 10 * Math.sqrt(v) * rng.normal()), seed: 13 });
    const dots = await runDots(p.theta, p.grad, null, ranges.subarray(0, 2 * T0), 32);
    const early = estimate(dots.subarray(0, FDR_DOTS * 200), 200, 20, hyper);
    const late = estimate(dots.subarray(FDR_DOTS * 600), 400, 20, hyper);
    // What the meter reports over 200 steps of a stationary run: the scale a departure is judged on.
    const q = simulate({ h, c, eta, lam, mu: 0, T: 200, burn: 0, theta0: s.map((v) => Math.sqrt(v) * rng.normal()), seed: 15 });
    const still = estimate(await runDots(q.theta, q.grad, null, ranges.subarray(0, 400), 32), 200, 20, hyper);
    console.log(`quadratic, hot start: steps 1–200 ratio ${early.ratio.toFixed(3)}, steps 601–1000 ${late.ratio.toFixed(3)} ± ${late.se.toFixed(3)}; a stationary run's 200 steps ${still.ratio.toFixed(3)} ± ${still.se.toFixed(3)}`);
    expect(Math.abs(still.ratio - 1)).toBeLessThan(4 * still.se);
    expect(early.ratio - 1).toBeGreaterThan(10 * still.se);
    expect(Math.abs(late.ratio - 1)).toBeLessThan(4 * late.se);
  });

  it('with momentum holds in its momentum form, not in the momentum-free one', async () => {
    const mu = 0.5;
    const p = simulate({ h, c, eta, lam, mu, T, burn: 3000, theta0: h.map(() => 0), seed: 14 });
    const dots = await runDots(p.theta, p.grad, p.vel, ranges, 32);
    const right = estimate(dots, T, 100, { ...hyper, momentum: mu });
    // The momentum-free relation read on the same run (the velocity ignored).
    const plain = estimate(dots, T, 100, hyper);
    console.log(`quadratic, momentum ${mu}: momentum form ${right.ratio.toFixed(4)} ± ${right.se.toFixed(4)}, momentum-free form ${plain.ratio.toFixed(3)} ± ${plain.se.toFixed(3)}`);
    expect(Math.abs(right.ratio - 1)).toBeLessThan(4 * right.se);
    expect(Math.abs(plain.ratio - 1)).toBeGreaterThan(10 * plain.se);
  });
});

describe('the fdr instrument', () => {
  it('measures both sides of every layer as a float64 replica of the same SGD steps (momentum, weight decay, biases)', async () => {
    const model: MlpConfig = { widths: [6, 5, 4, 3], activation: 'tanh', bias: true, init: { kind: 'pytorch' } };
    const data = gaussianMixture({ classes: 3, d: 6, n: 90, sep: 1, seed: 4 });
    const train = { lr: 0.1, batchSize: 9, steps: 3, epochs: null, seed: 7, chunkSteps: 2, momentum: 0.6, weightDecay: 0.05 };
    const trainer = await Trainer.create(ctx(), model, train, { train: data, test: null });
    const theta = Float64Array.from(await trainer.mlp.readParams());
    const values = resolveValues(fdr, { every: 1, block: 1, span: 2, layer: 1 }, null);
    const host = await InstrumentHost.create({ trainer, trainSet: data, active: [{ def: fdr, values }], side: () => Promise.reject(new Error('no side device here')) });
    await trainer.run(host.hooks());
    await host.finish(trainer.step, false);
    const t = host.store('fdr')!.data.blocks;
    expect(t.step).toEqual([1, 2, 3]);

    // The same minibatches, the same SGD with momentum and weight decay, in float64.
    const B = train.batchSize;
    const idx = new MinibatchSampler(data.n, B, 'shuffle', new Rng(train.seed).fork()).next(3);
    const layers = trainer.mlp.layout.layers;
    const vel = new Float64Array(theta.length);
    const { lr, momentum: mu, weightDecay: lam } = train;
    for (let step = 1; step <= 3; step++) {
      const rows = idx.subarray((step - 1) * B, step * B);
      const x = new Float64Array(B * 6);
      rows.forEach((i, r) => x.set(data.x.subarray(i * 6, i * 6 + 6), r * 6));
      const g = mlpGradCpu(model, theta, x, Array.from(rows, (i) => data.y[i]), B).grad;
      const u = theta.map((th, i) => g[i] + lam * th);
      const vNew = vel.map((v, i) => mu * v + u[i]);
      let netL = 0;
      let netR = 0;
      layers.forEach((L, l) => {
        let lhs = 0;
        let v2 = 0;
        for (let i = L.offset; i < L.offset + L.size; i++) {
          lhs += theta[i] * u[i];
          v2 += vNew[i] ** 2;
        }
        const rhs = (lr / 2) * (1 + mu) * v2;
        netL += lhs;
        netR += rhs;
        expect(t[`lhs_l${l}`][step - 1]).toBeCloseTo(lhs, 5);
        expect(Math.abs(t[`rhs_l${l}`][step - 1] - rhs)).toBeLessThanOrEqual(1e-4 * rhs + 1e-7);
      });
      expect(t.lhs_net[step - 1]).toBeCloseTo(netL, 5);
      expect(Math.abs(t.rhs_net[step - 1] - netR)).toBeLessThanOrEqual(1e-4 * netR + 1e-7);
      vel.set(vNew);
      for (let i = 0; i < theta.length; i++) theta[i] -= lr * vNew[i];
    }
    // The running ratio over the last two blocks and its error, from the block means.
    const r = ratioWithError(t.lhs_net, t.rhs_net, 1, 3);
    expect(t.ratio_net[2]).toBeCloseTo(r.ratio, 10);
    expect(t.se_net[2]).toBeCloseTo(r.se, 10);
    host.dispose();
  });
});
