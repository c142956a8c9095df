import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { GpuBatch } from '../src/gpu/batch.ts';
import { Profiler } from '../src/gpu/profiler.ts';
import { createStorage } from '../src/gpu/buffers.ts';
import { Sgd } from '../src/kernels/sgd.ts';
import { createReplicaSettings } from '../src/kernels/replica-settings.ts';

const ctx = useGpu();

describe('Profiler', () => {
  it('times every dispatch across several flushes before one collect', async () => {
    const c = ctx();
    if (!c.hasTimestamps) {
      console.log('adapter has no timestamp-query: nothing to test');
      return;
    }
    const sgd = await Sgd.create(c, { momentum: false });
    const P = 10000;
    const hyper = createReplicaSettings(c, 'settings', [{ lr: 0.1, weightDecay: 0, momentum: 0, dropout: 0, seed: 1 }]);
    const bg = sgd.bind({ w: createStorage(c, 'w', P * 4), g: createStorage(c, 'g', P * 4), v: createStorage(c, 'v', 16), hyper });
    const prof = new Profiler(c);
    const batch = new GpuBatch(c, 'prof', prof);
    for (let flush = 0; flush < 3; flush++) {
      for (let i = 0; i < 5; i++) sgd.encode(batch, bg, { count: P });
      batch.flush();
    }
    await prof.collect();
    const t = prof.timings();
    expect(t).toHaveLength(1);
    expect(t[0].calls).toBe(15);
    expect(t[0].totalMs).toBeGreaterThan(0);
    expect(c.uncapturedErrors).toEqual([]);
  });
});
