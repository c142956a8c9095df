/** Activations the dense kernels support, with the codes their ACT override uses. */
export type Activation = 'identity' | 'relu' | 'tanh';

export const ACTIVATIONS: readonly Activation[] = ['identity', 'relu', 'tanh'];

export function activationCode(a: Activation): number {
  const code = ACTIVATIONS.indexOf(a);
  if (code < 0) throw new Error(`activation must be one of ${ACTIVATIONS.join(', ')}, got '${a}'`);
  return code;
}

/** act(z), in the same form as the shaders (CPU reference). */
export function activate(a: Activation, z: number): number {
  return a === 'relu' ? Math.max(z, 0) : a === 'tanh' ? Math.tanh(z) : z;
}

/** act'(z) expressed through y = act(z), as dense_backward.wgsl computes it. */
export function activationDerivFromOutput(a: Activation, y: number): number {
  return a === 'relu' ? (y > 0 ? 1 : 0) : a === 'tanh' ? 1 - y * y : 1;
}
