/**
 * Modules of src/kernels/ that may not exist yet (a colleague's noise-lab kernels): loaded at run
 * time by file name (the names globbed below), so the bench builds, type-checks and runs without them and reports a skipped
 * row with the reason instead. Under Vite (bench page, Vitest) the files present at build time are
 * split into lazy chunks by import.meta.glob; under plain Node (tsx) they are imported by URL.
 */
const lazy: Record<string, () => Promise<unknown>> | null = (import.meta as unknown as { env?: unknown }).env
  ? import.meta.glob(['../../src/kernels/per_sample_grad*.ts', '../../src/kernels/scatter*.ts', '../../src/kernels/probe_loss*.ts'])
  : null;

export async function optionalKernelModule<T>(file: string): Promise<T> {
  const key = `../../src/kernels/${file}`;
  if (lazy) {
    const load = lazy[key];
    if (!load) throw new Error(`src/kernels/${file} does not exist in this build`);
    return (await load()) as T;
  }
  const url = new URL(key, import.meta.url);
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  if (!fs.existsSync(url)) throw new Error(`src/kernels/${file} does not exist`);
  return (await import(/* @vite-ignore */ url.href)) as T;
}
