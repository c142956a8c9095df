/**
 * Two cadences of the instruments framework, in a real (tiny) training run:
 *  - perStep.consecutive: with every 3 and consecutive 2, steps t and t + 1 of every t divisible
 *    by 3 are measured (plus step 1), across chunk boundaries, each row holding that step's values;
 *  - uses: an instrument that uses another refreshes right after it when it is on, reads its
 *    provides(), and neither runs nor switches it on when it is off; the registry refuses a
 *    `uses` of an instrument not registered before it.
 */
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { Trainer } from '../src/train/trainer.ts';
import { gaussianMixture } from '../src/data/synthetic.ts';
import type { MlpConfig } from '../src/nn/config.ts';
import { InstrumentHost } from '../src/instruments/host.ts';
import { registerInstrument } from '../src/instruments/registry.ts';
import type { Instrument } from '../src/instruments/types.ts';

const ctx = useGpu();
const model: MlpConfig = { widths: [4, 5, 3], activation: 'tanh', bias: false, init: { kind: 'pytorch' } };
const data = gaussianMixture({ classes: 3, d: 4, n: 60, sep: 1, seed: 2 });

function instrument(id: string, o: Partial<Instrument>): Instrument {
  return { id, title: id, about: id, settings: {}, tables: {}, panels: [], charts: () => [], start: () => ({}), ...o };
}

async function run(active: Instrument[], steps: number): Promise<InstrumentHost> {
  const trainer = await Trainer.create(ctx(), model, { lr: 0.1, batchSize: 6, steps, epochs: null, seed: 3, chunkSteps: 4 }, { train: data, test: null });
  const host = await InstrumentHost.create({ trainer, trainSet: data, active: active.map((def) => ({ def, values: {} })), side: () => Promise.reject(new Error('no side device')) });
  await trainer.run(host.hooks());
  await host.finish(trainer.step, true);
  return host;
}

describe('instrument cadences', () => {
  it('measures pairs of consecutive steps', async () => {
    const seen: { step: number; loss: number }[] = [];
    let trainer: Trainer | null = null;
    const pairs = instrument('pairs', {
      start: (c) => {
        trainer = c.trainer;
        return {
          perStep: {
            every: 3,
            consecutive: 2,
            floats: 1,
            encode: (batch, view, out) => batch.copy(view.losses, 0, out, 0, 4),
            read: (rows, steps) => steps.forEach((step, r) => seen.push({ step, loss: rows[r] })),
          },
        };
      },
    });
    const host = await run([pairs], 13);
    expect(seen.map((s) => s.step)).toEqual([1, 3, 4, 6, 7, 9, 10, 12, 13]);
    // Each row is its own step's (a per-sample loss of that minibatch, not a neighbour's).
    for (const s of seen) expect(s.loss).toBeGreaterThan(0);
    expect(new Set(seen.map((s) => s.loss)).size).toBe(seen.length);
    expect(trainer).not.toBeNull();
    host.dispose();
  });

  it('refreshes a user right after the instrument it uses, and only when that one is on', async () => {
    let refreshes = 0;
    const source = instrument('source', { start: () => ({ refresh: { every: 4, run: async () => void refreshes++ }, provides: () => refreshes }) });
    const got: (number | null)[] = [];
    const user = instrument('user', { uses: ['source'], start: (c) => ({ refresh: { run: async () => void got.push(c.upstream<number>('source')) } }) });
    const both = await run([source, user], 12);
    // Refreshes at steps 4, 8, 12 (the chunk ends), the closing one at 12 skipped as already done.
    expect(got).toEqual([1, 2, 3]);
    both.dispose();
    got.length = 0;
    const alone = await run([user], 12);
    expect(got).toEqual([]);
    expect(alone.live.map((l) => l.def.id)).toEqual(['user']);
    alone.dispose();
    expect(() => registerInstrument(instrument('user-first', { uses: ['not-registered-yet'] }))).toThrow("uses 'not-registered-yet', which is not registered");
  });
});
