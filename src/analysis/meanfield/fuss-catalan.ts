/**
 * The Fuss–Catalan distribution of order s: the limiting law of the squared singular values of a
 * product of s independent square Ginibre matrices with N(0, 1/N) entries — the Jacobian JJᵀ of a
 * deep linear network with Gaussian weights at σ_w = 1 (Pennington, Schoenholz & Ganguli 2017).
 * Moments: m_k = C((s + 1)k, k)/(sk + 1) (1, s + 1, …); support (0, (s + 1)^{s+1}/s^s].
 *
 * Closed-form density in the angle φ ∈ (0, π/(s + 1)) (Haagerup & Möller 2012; Neuschel 2014):
 *   x(φ) = sin((s+1)φ)^{s+1} / (sin φ · sin(sφ)^s),
 *   f(x(φ)) = (1/π) sin²φ · sin(sφ)^{s−1} / sin((s+1)φ)^s.
 * An independent route to the same law as the free-probability solver (jacobian-spectrum.ts).
 */

/** (x, f(x)) at `points` angles, x descending from the upper edge towards 0. */
export function fussCatalanDensity(s: number, points = 2000): { x: Float64Array; density: Float64Array } {
  if (!(Number.isInteger(s) && s >= 1)) throw new Error(`fussCatalanDensity: order s must be an integer ≥ 1, got ${s}`);
  const x = new Float64Array(points);
  const density = new Float64Array(points);
  const top = Math.PI / (s + 1);
  for (let i = 0; i < points; i++) {
    const phi = (top * (i + 0.5)) / points;
    const a = Math.sin((s + 1) * phi);
    const b = Math.sin(phi);
    const c = Math.sin(s * phi);
    x[i] = a ** (s + 1) / (b * c ** s);
    density[i] = (b * b * c ** (s - 1)) / (Math.PI * a ** s);
  }
  return { x, density };
}

/** The k-th moment C((s + 1)k, k)/(sk + 1). */
export function fussCatalanMoment(s: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * ((s + 1) * k - k + i)) / i;
  return c / (s * k + 1);
}

/** Upper edge of the support, (s + 1)^{s+1}/s^s. */
export function fussCatalanEdge(s: number): number {
  return (s + 1) * ((s + 1) / s) ** s;
}
