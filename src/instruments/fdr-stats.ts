/**
 * The arithmetic of the fluctuation–dissipation meter (src/instruments/fdr.ts), pure and on the
 * CPU: both sides of the relation from one layer's dot products, and the ratio of two averages
 * with its standard error from block means.
 *
 * The relation for the update sgdscope runs (shaders/sgd.wgsl; derivation in shaders/fdr.wgsl):
 *   u = g + λθ                          the update direction: data gradient plus weight decay
 *   μ = 0:  ⟨θ·u⟩ = (η/2)·⟨|u|²⟩         (λ = 0: Yaida's first relation ⟨θ·∇L_B⟩ = (η/2)⟨|∇L_B|²⟩)
 *   μ > 0:  ⟨θ·u⟩ = (η/2)·(1 + μ)·⟨|v|²⟩ with v = μ·v_prev + u the velocity after the step
 */

/** The hyper-parameters of one step. */
export interface StepHyper {
  lr: number;
  weightDecay: number;
  momentum: number;
}

/** Floats per layer in the kernel's output: θθ, θg, gg, vv, vg, vθ. */
export const FDR_DOTS = 6;

/**
 * Left side θ·u and right side of one step for one block of parameters, from its dot products
 * d[at .. at + 5] = [θθ, θg, gg, vv, vg, vθ] (θ = θ_{t−1}, g = ∇L_B(θ_{t−1}), v = v_{t−1}).
 */
export function fdrSides(d: ArrayLike<number>, at: number, h: StepHyper): { lhs: number; rhs: number } {
  const [tt, tg, gg, vv, vg, vt] = [d[at], d[at + 1], d[at + 2], d[at + 3], d[at + 4], d[at + 5]];
  const lam = h.weightDecay;
  const mu = h.momentum;
  const lhs = tg + lam * tt;
  const u2 = gg + 2 * lam * tg + lam * lam * tt;
  if (mu === 0) return { lhs, rhs: (h.lr / 2) * u2 };
  const v2 = mu * mu * vv + 2 * mu * (vg + lam * vt) + u2;
  return { lhs, rhs: (h.lr / 2) * (1 + mu) * v2 };
}

/**
 * R = Σ a_k / Σ b_k over n blocks (a_k, b_k block means of the two sides) and its standard error
 * by the delta method on the block means, treated as independent (blocks much longer than the
 * correlation time of the per-step products):
 *   SE(R) = sqrt( Σ_k (a_k − R·b_k)² / (n(n − 1)) ) / mean_k b_k
 * NaN where n < 1 (ratio) or n < 2 (error), or the right side averages to zero.
 */
export function ratioWithError(a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = a.length): { ratio: number; se: number; n: number } {
  const n = Math.max(0, to - from);
  let sa = 0;
  let sb = 0;
  for (let k = from; k < to; k++) {
    sa += a[k];
    sb += b[k];
  }
  const ratio = n > 0 && sb !== 0 ? sa / sb : NaN;
  if (n < 2 || !Number.isFinite(ratio)) return { ratio, se: NaN, n };
  let s2 = 0;
  for (let k = from; k < to; k++) s2 += (a[k] - ratio * b[k]) ** 2;
  return { ratio, se: Math.sqrt(s2 / (n * (n - 1))) / Math.abs(sb / n), n };
}

/** Formats R ± SE for notes and headlines. */
export function ratioText(r: { ratio: number; se: number }): string {
  if (!Number.isFinite(r.ratio)) return '–';
  const digits = Number.isFinite(r.se) && r.se > 0 ? Math.max(2, Math.min(4, 1 - Math.floor(Math.log10(r.se)))) : 3;
  return `${r.ratio.toFixed(digits)}${Number.isFinite(r.se) ? ` ± ${r.se.toFixed(digits)}` : ''}`;
}
