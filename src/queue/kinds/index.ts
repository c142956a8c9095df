/** The multi-run commands the queue can run, by name. */
import type { KindName, QueueKind } from '../kind.ts';
import { sweepKind } from './sweep.ts';
import { signalPropagationKind } from './signal-propagation.ts';
import { awdKind } from './awd.ts';
import { fengTuKind } from './feng-tu.ts';

const KINDS: Record<string, QueueKind<never, never, never>> = {
  sweep: sweepKind as unknown as QueueKind<never, never, never>,
  awd: awdKind as unknown as QueueKind<never, never, never>,
  'feng-tu': fengTuKind as unknown as QueueKind<never, never, never>,
  'signal-propagation': signalPropagationKind as unknown as QueueKind<never, never, never>,
};

export function kindByName(name: string): QueueKind<unknown, unknown, unknown> {
  const k = KINDS[name];
  if (!k) throw new Error(`unknown job kind '${name}' (kinds: ${Object.keys(KINDS).join(', ')})`);
  return k as unknown as QueueKind<unknown, unknown, unknown>;
}

export const KIND_NAMES = Object.keys(KINDS) as KindName[];
