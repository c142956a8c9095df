/** Validation of the mean-field hyper-parameters σ_w², σ_b² (weights ~ N(0, σ_w²/N), biases ~ N(0, σ_b²)). */
export function checkWeightVariance(sw2: number): void {
  if (!(Number.isFinite(sw2) && sw2 > 0)) {
    throw new Error(`sw2 (σ_w², weight variance × fan-in) must be a finite number in (0, ∞), got ${sw2}`);
  }
}

export function checkBiasVariance(sb2: number): void {
  if (!(Number.isFinite(sb2) && sb2 >= 0)) {
    throw new Error(`sb2 (σ_b², bias variance) must be a finite number in [0, ∞), got ${sb2}`);
  }
}

export function checkParams(sw2: number, sb2: number): void {
  checkWeightVariance(sw2);
  checkBiasVariance(sb2);
}

export function checkDepth(depth: number): void {
  if (!(Number.isInteger(depth) && depth >= 0 && depth <= 100_000)) {
    throw new Error(`depth must be an integer in [0, 100000], got ${depth}`);
  }
}
