/**
 * An MLP as a physicist describes it: layer widths, one hidden activation, biases on or off, and
 * the initialisation (the mean-field σ_w, σ_b or PyTorch's nn.Linear default).
 */
import { ACTIVATIONS, type Activation } from '../kernels/activation.ts';
import { checkKeys, showValue } from '../util/keys.ts';

export type InitSpec =
  /** W ~ N(0, σ_w²/fan_in), b ~ N(0, σ_b²) (the signal-propagation convention). */
  | { kind: 'normal'; sigmaW: number; sigmaB: number }
  /** PyTorch nn.Linear default: W, b ~ U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5). */
  | { kind: 'pytorch' };

export interface MlpConfig {
  /** [inputs, hidden..., outputs], e.g. [784, 50, 50, 10]. */
  widths: number[];
  /** Activation of every hidden layer; the last layer is linear (logits). */
  activation: Activation;
  bias: boolean;
  init: InitSpec;
}

/** The Feng–Tu reference network: 784-50-50-10, ReLU, no biases, PyTorch default init. */
export const SEED_MLP: MlpConfig = {
  widths: [784, 50, 50, 10],
  activation: 'relu',
  bias: false,
  init: { kind: 'pytorch' },
};

export const MODEL_KEYS = ['widths', 'activation', 'bias', 'init'];
const INIT_KEYS = { normal: ['kind', 'sigmaW', 'sigmaB'], pytorch: ['kind'] };

export function validateMlpConfig(c: MlpConfig, where = 'model'): MlpConfig {
  checkKeys(c, MODEL_KEYS, where);
  if (!Array.isArray(c.widths) || c.widths.length < 2) {
    throw new Error(`${where}.widths must list at least 2 layer widths (inputs and outputs), got ${JSON.stringify(c.widths)}`);
  }
  c.widths.forEach((w, i) => {
    if (!(Number.isInteger(w) && w >= 1 && w <= 65536)) {
      throw new Error(`${where}.widths[${i}] must be an integer in [1, 65536], got ${showValue(w)}`);
    }
  });
  if (c.widths[c.widths.length - 1] < 2) throw new Error(`${where}.widths: the output layer needs at least 2 classes`);
  if (!ACTIVATIONS.includes(c.activation)) {
    throw new Error(`${where}.activation must be one of ${ACTIVATIONS.join(', ')}, got ${showValue(c.activation)}`);
  }
  if (typeof c.bias !== 'boolean') throw new Error(`${where}.bias must be true or false, got ${showValue(c.bias)}`);
  const init = c.init;
  if (!init || (init.kind !== 'normal' && init.kind !== 'pytorch')) {
    throw new Error(`${where}.init.kind must be 'normal' or 'pytorch', got ${JSON.stringify(init)}`);
  }
  checkKeys(init, INIT_KEYS[init.kind], `${where}.init`);
  if (init.kind === 'normal') {
    if (!(Number.isFinite(init.sigmaW) && init.sigmaW >= 0 && init.sigmaW <= 100)) {
      throw new Error(`${where}.init.sigmaW must be in [0, 100], got ${showValue(init.sigmaW)}`);
    }
    if (!(Number.isFinite(init.sigmaB) && init.sigmaB >= 0 && init.sigmaB <= 100)) {
      throw new Error(`${where}.init.sigmaB must be in [0, 100], got ${showValue(init.sigmaB)}`);
    }
  }
  return c;
}
