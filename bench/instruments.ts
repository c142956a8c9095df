/**
 * `node --import tsx bench/instruments.ts [--steps 800] [--repeats 2] [--set fdr,gauges,gauges:every=1] [--out bench/results]`:
 * what live instruments cost the training they watch. The seed network (784-50-50-10, B = 50,
 * lr 0.1) on MNIST-10k trains `steps` steps with no instrument and with each set of instruments
 * (`id[:key=value[:key=value]]`, `+` joins several in one set), in the same process on the same
 * device, the sets interleaved `repeats` times; reported: steps/s (median over repeats), the ratio
 * to the bare run, and the extra wall time per step and per measured step. Refreshes beside
 * training (window instruments) are left out: they run on the side device.
 * Writes <date>-instruments-<adapter>.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { acquireGpu } from '../src/gpu/device.ts';
import { loadDataset } from '../src/data/index.ts';
import { Trainer } from '../src/train/trainer.ts';
import { SEED_MLP } from '../src/nn/config.ts';
import { InstrumentHost } from '../src/instruments/host.ts';
import { instrumentById } from '../src/instruments/all.ts';
import { resolveValues } from '../src/instruments/values.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const steps = Number(arg('steps', '800'));
const repeats = Number(arg('repeats', '2'));
const sets = arg('set', 'fdr,gauges,gauges:every=1,grad-noise-scale').split(',');
const outDir = arg('out', join(import.meta.dirname, 'results'));

/** `gauges:every=1+fdr` → the instruments and their overridden settings. */
function parseSet(spec: string): { id: string; values: Record<string, number> }[] {
  return spec.split('+').map((part) => {
    const [id, ...kv] = part.split(':');
    return { id, values: Object.fromEntries(kv.map((p) => p.split('=')).map(([k, v]) => [k, Number(v)])) };
  });
}

async function main(): Promise<void> {
  const ctx = await acquireGpu();
  const data = await loadDataset({ kind: 'mnist10k' });
  // One evaluation, at the end: the bench times the training steps.
  const config = { lr: 0.1, batchSize: 50, steps, epochs: null, seed: 1, chunkSteps: 200, evalEvery: steps };
  const time = async (set: string | null): Promise<{ seconds: number; measured: number }> => {
    const trainer = await Trainer.create(ctx, SEED_MLP, config, { train: data.train, test: null });
    const active = set === null ? [] : parseSet(set).map(({ id, values }) => ({ def: instrumentById(id), values: resolveValues(instrumentById(id), values, null) }));
    const host = await InstrumentHost.create({ trainer, trainSet: data.train, active, side: () => Promise.reject(new Error('no side device in this bench')) });
    const t0 = performance.now();
    await trainer.run(host.hooks());
    const seconds = (performance.now() - t0) / 1000;
    await host.finish(trainer.step, false);
    const measured = Math.max(0, ...host.live.map((l) => l.store.data.steps?.step?.length ?? l.store.data.blocks?.measurements?.reduce((a, b) => a + b, 0) ?? 0));
    host.dispose();
    return { seconds, measured };
  };
  const load0 = loadavg()[0];
  await time(null); // warm-up: pipelines compiled, dataset uploaded
  const runs = new Map<string, { seconds: number[]; measured: number }>();
  for (let r = 0; r < repeats; r++) {
    for (const set of ['none', ...sets]) {
      const t = await time(set === 'none' ? null : set);
      const e = runs.get(set) ?? { seconds: [], measured: t.measured };
      e.seconds.push(t.seconds);
      runs.set(set, e);
      console.log(`${set}: ${(steps / t.seconds).toFixed(1)} steps/s`);
    }
  }
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const bare = median(runs.get('none')!.seconds);
  const lines = [
    `# sgdscope instruments bench — seed network 784-50-50-10, B 50, ${steps} steps per run, median of ${repeats}, adapter ${ctx.adapterName}, ${cpus().length} cores, load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`,
    '',
    '| instruments | steps/s | vs none | extra ms per step | measured steps | extra ms per measured step |',
    '|---|---|---|---|---|---|',
    ...[...runs.entries()].map(([set, e]) => {
      const s = median(e.seconds);
      const extra = ((s - bare) / steps) * 1000;
      return `| ${set} | ${(steps / s).toFixed(1)} | ${(bare / s).toFixed(2)} | ${extra.toFixed(2)} | ${set === 'none' ? '—' : e.measured} | ${set === 'none' || !e.measured ? '—' : (((s - bare) / e.measured) * 1000).toFixed(2)} |`;
    }),
  ];
  console.log(lines.join('\n'));
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${new Date().toISOString().slice(0, 10)}-instruments-${ctx.adapterName.replace(/\W+/g, '-')}.md`);
  writeFileSync(file, lines.join('\n') + '\n');
  console.log(`wrote ${file}`);
  ctx.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
