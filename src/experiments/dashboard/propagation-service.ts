/**
 * Signal propagation at initialisation on the dashboard (issue 7): the mean-field phase diagram
 * (χ1 and ξ_c maps with the critical line), and q^l, c^l of random networks measured on the GPU at
 * a clicked point against the mean-field recursion; at the same click, the input–output Jacobian's
 * singular values against free probability and a great circle's length against χ1^{l/2} (issue 12,
 * propagation/init-live.ts). On the side device (never the training one), so a measurement neither
 * waits for a chunk nor slows one; requests of each kind arriving while one runs are coalesced
 * (only the latest runs next). Also the side device itself, shared with the experiment cards:
 * created on first use, replaced after a loss.
 */
import { acquireGpu, type GpuContext } from '../../gpu/device.ts';
import { activationByName } from '../../analysis/meanfield/activations.ts';
import { phaseDiagram } from '../../analysis/meanfield/phase-diagram.ts';
import { criticalLine } from '../../analysis/meanfield/critical-line.ts';
import { GpuPropagation } from '../propagation/gpu-propagation.ts';
import { propagationTheory } from '../propagation/theory.ts';
import { comparePropagation } from '../propagation/compare.ts';
import { phaseDiagramHeatmaps, propagationCharts } from '../propagation/charts.ts';
import { LIVE_INIT, liveInitSpectra } from '../propagation/init-live.ts';
import { LatestOnly } from './latest-only.ts';
import type { FromWorker, InitSpectraRequest, PropagationRequest } from './protocol.ts';

/** The side device: created on first use, replaced after a loss. */
export class SideDevice {
  private ctx: GpuContext | null = null;
  private pending: Promise<GpuContext> | null = null;

  get(): Promise<GpuContext> {
    if (this.ctx) return Promise.resolve(this.ctx);
    this.pending ??= acquireGpu().then((ctx) => {
      this.ctx = ctx;
      this.pending = null;
      void ctx.lost.then(() => {
        if (this.ctx === ctx) this.ctx = null;
      });
      return ctx;
    });
    return this.pending;
  }
}

const PHASE_SW2 = Array.from({ length: 21 }, (_, i) => 0.5 + 0.2 * i);
const PHASE_SB2 = Array.from({ length: 16 }, (_, i) => 0.02 * i);

export function phaseDiagramMessage(activation: 'tanh'): FromWorker {
  const t0 = performance.now();
  const act = activationByName(activation);
  const maps = phaseDiagramHeatmaps(phaseDiagram(act, PHASE_SW2, PHASE_SB2), criticalLine(act, PHASE_SB2));
  return { type: 'phase-diagram', activation, chi1: maps.chi1, xiC: maps.xiC, ms: performance.now() - t0 };
}

/** Three standardised Gaussian inputs (|x|²/d = 1), d = 64: x0, a ρ = 0.9 twin of x0 and one orthogonal to x0 (c⁰ = 0). */
function propagationInputs(): { x: Float32Array; d: number; labels: string[] } {
  const d = 64;
  let state = 0x9e3779b9;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = (): Float64Array => Float64Array.from({ length: d }, () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()));
  const dot = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + v * b[i], 0) / d;
  const unit = (v: Float64Array): Float64Array => {
    const n = Math.sqrt(dot(v, v));
    return v.map((x) => x / n);
  };
  const orth = (v: Float64Array, to: Float64Array): Float64Array => {
    const k = dot(v, to);
    return v.map((x, i) => x - k * to[i]);
  };
  const x0 = unit(gauss());
  const u = unit(orth(gauss(), x0));
  const rho = 0.9;
  const x1 = x0.map((v, i) => rho * v + Math.sqrt(1 - rho * rho) * u[i]);
  const x2 = unit(orth(orth(gauss(), x0), u));
  const x = new Float32Array(3 * d);
  [x0, x1, x2].forEach((r, a) => x.set(r, a * d));
  return { x, d, labels: ['x0', `ρ = ${rho} twin of x0`, 'x2 ⟂ x0'] };
}

export class PropagationService {
  private readonly gpu = new Map<string, { ctx: GpuContext; gpu: GpuPropagation }>();

  private readonly propagations = new LatestOnly<PropagationRequest>(async (req) => {
    try {
      this.deps.post(await this.propagate(req));
    } catch (e) {
      this.deps.post({ type: 'propagation-error', id: req.id, message: (e as Error).message ?? String(e) });
    }
  });

  private readonly spectra = new LatestOnly<InitSpectraRequest>(async (req) => {
    try {
      const r = await liveInitSpectra(await this.deps.device(), { sw2: req.sw2, sb2: req.sb2, ...LIVE_INIT });
      this.deps.post({ type: 'init-spectra', id: req.id, ...r });
    } catch (e) {
      this.deps.post({ type: 'init-spectra-error', id: req.id, message: (e as Error).message ?? String(e) });
    }
  });

  constructor(private readonly deps: { device(): Promise<GpuContext>; post(m: FromWorker): void }) {}

  /** Measures q^l, c^l at the request's point (after the one running, if any; only the latest waiting request runs). */
  async enqueue(req: PropagationRequest): Promise<void> {
    await this.propagations.submit(req);
  }

  /** Jacobian spectra and curve length at the request's point, coalesced the same way. */
  async enqueueSpectra(req: InitSpectraRequest): Promise<void> {
    await this.spectra.submit(req);
  }

  private async propagate(req: PropagationRequest): Promise<FromWorker> {
    const ctx = await this.deps.device();
    const inputs = propagationInputs();
    const m = inputs.x.length / inputs.d;
    const cached = this.gpu.get(req.activation);
    let gpu = cached?.ctx === ctx ? cached.gpu : null;
    if (!gpu) {
      gpu = await GpuPropagation.create(ctx, { activation: req.activation, inputs: m });
      this.gpu.set(req.activation, { ctx, gpu });
    }
    const { sw2, sb2, width, depth, nets } = req;
    const result = await gpu.run({ activation: req.activation, sw2, sb2, width, depth, nets, seed: 1, inputs: inputs.x, inputDim: inputs.d, gradients: true });
    const theory = propagationTheory(activationByName(req.activation), sw2, sb2, inputs.x, inputs.d, depth);
    const cmp = comparePropagation(result, theory);
    const pairs = cmp.curves.pairs.map((_, k) => k).filter((k) => cmp.curves.pairs[k][0] === 0);
    const labels = pairs.map((k) => `${inputs.labels[0]}–${inputs.labels[cmp.curves.pairs[k][1]]} (c⁰ = ${cmp.curves.c[k].theory[0].toFixed(2)})`);
    const label = `${req.activation}, σ_w² = ${sw2}, σ_b² = ${sb2}`;
    return {
      type: 'propagation',
      id: req.id,
      sw2,
      sb2,
      charts: propagationCharts('live-prop', label, cmp, pairs, labels),
      seconds: result.seconds,
      agrees: { q: cmp.agreement.q.agrees, c: cmp.agreement.c.agrees },
      inputs: inputs.labels,
    };
  }
}
