/**
 * A worker's long-lived resources (WorkerEnv, kind.ts): one GPU device for its life, datasets
 * loaded once per spec, and a few per-spec objects (a sweep's Hessian probe, an AWD probe) kept
 * while jobs of the same sweep keep coming — compiling their kernels costs more than a short run.
 */
import { acquireGpu, adapterRecord, type AdapterRecord, type GpuContext } from '../gpu/device.ts';
import { loadDataset, type DatasetSpec, type LoadedData } from '../data/index.ts';
import type { WorkerEnv } from './kind.ts';

const KEEP_DATASETS = 4;
const KEEP_OBJECTS = 3;

export class Resources implements WorkerEnv {
  private ctx: Promise<GpuContext> | null = null;
  private datasets = new Map<string, Promise<LoadedData>>();
  private objects = new Map<string, { value: Promise<unknown>; destroy: (v: unknown) => void }>();

  constructor(ctx: GpuContext | null = null) {
    if (ctx) this.ctx = Promise.resolve(ctx);
  }

  gpu(): Promise<GpuContext> {
    this.ctx ??= acquireGpu();
    return this.ctx;
  }

  async adapter(): Promise<AdapterRecord> {
    return adapterRecord(await this.gpu());
  }

  data(spec: DatasetSpec): Promise<LoadedData> {
    const key = JSON.stringify(spec);
    let d = this.datasets.get(key);
    if (!d) {
      d = loadDataset(spec);
      d.catch(() => this.datasets.delete(key));
      this.datasets.set(key, d);
      if (this.datasets.size > KEEP_DATASETS) this.datasets.delete(this.datasets.keys().next().value!);
    }
    return d;
  }

  async cached<T>(key: string, make: () => Promise<T>, destroy: (v: T) => void): Promise<T> {
    const hit = this.objects.get(key);
    if (hit) {
      // Most recently used last.
      this.objects.delete(key);
      this.objects.set(key, hit);
      return hit.value as Promise<T>;
    }
    const value = make();
    this.objects.set(key, { value, destroy: destroy as (v: unknown) => void });
    value.catch(() => this.objects.delete(key));
    while (this.objects.size > KEEP_OBJECTS) {
      const [oldKey, old] = this.objects.entries().next().value!;
      this.objects.delete(oldKey);
      old.value.then(old.destroy, () => undefined);
    }
    return value;
  }

  async destroy(): Promise<void> {
    for (const o of this.objects.values()) await o.value.then(o.destroy, () => undefined);
    this.objects.clear();
    if (this.ctx) (await this.ctx).destroy();
  }
}
