/**
 * What a benchmark run produces (rows, notes, environment) and how it is printed: the same
 * fixed-width table on a terminal and on the bench page, and a markdown table for bench/results/.
 */

export type Bound = 'compute' | 'memory' | 'dispatch' | '-';

export interface Row {
  /** Kernel family or benchmark, e.g. 'dense_forward', 'sgd_step'. */
  kernel: string;
  /** Variant, e.g. '3: reg 8x8 (4x4 thr)', 'tfjs-webgpu', 'one pass'. */
  variant: string;
  /** Shape in llm.c order, e.g. '50x784x50' (M×K×N). */
  shape: string;
  /** Time per call, ms (GPU time from timestamps when measured, else wall). */
  ms: number | null;
  /** Wall time per call with R calls queued per submit, ms. */
  wallMs: number | null;
  timer: 'timestamp' | 'wall' | '-';
  flops: number;
  bytes: number;
  gflops: number | null;
  gbs: number | null;
  /** Time at the adapter's roofline (max of FLOP/peak and bytes/peak bandwidth) over the measured time, %. */
  peakPct: number | null;
  bound: Bound;
  /** 'ok', 'FAIL: …' or 'skipped: …'. */
  check: string;
  /** sgdscope / peer, when a peer ran the same thing: >1 means sgdscope is faster. */
  vsPeer?: { peer: string; ratio: number; basis: 'wall' | 'gpu' };
  /** Items per second for whole-step rows (steps/s). */
  perSecond?: number;
  note?: string;
  /** For the JSON: the raw timing samples. */
  samples?: { gpu: number[]; wall: number[]; calls: number };
}

export interface AdapterPeaks {
  fmaGflops: number | null;
  /** Bandwidth for a working set that stays in the CPU caches / GPU L2 (a few MiB). */
  cacheGBs: number | null;
  /** Bandwidth for a working set far larger than any cache. */
  dramGBs: number | null;
  /** GPU-side cost of one tiny dispatch, ms (timestamps), and its wall cost with many queued. */
  dispatchGpuMs: number | null;
  dispatchWallMs: number | null;
  /** Working sets up to this many bytes are judged against cacheGBs. */
  cacheBytes: number;
}

export interface StepSummary {
  variant: string;
  stepsPerSecond: number;
  wallMsPerStep: number;
  gpuMsPerStep: number | null;
  kernelMsPerStep: number | null;
  kernelShare: number | null;
  encodeMsPerStep: number | null;
}

export interface BenchResult {
  runtime: 'node' | 'browser';
  date: string;
  adapter: { name: string; vendor: string; architecture: string; device: string; description: string; isSoftware: boolean; timestamps: boolean };
  userAgent: string;
  options: Record<string, unknown>;
  peaks: AdapterPeaks;
  rows: Row[];
  steps: StepSummary[];
  notes: string[];
  seconds: number;
  /** 1-minute load average of the machine at the start and the end (Node only): other processes share the cores. */
  load?: [number, number];
}

export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  if (a >= 100) return x.toFixed(1);
  if (a >= 10) return x.toFixed(2);
  if (a >= 0.001) return x.toPrecision(digits);
  return x.toExponential(1);
}

const HEAD = ['kernel', 'variant', 'shape', 'ms', 'GFLOP/s', 'GB/s', '% of peak', 'bound', 'vs peer', 'check'];

function cells(r: Row): string[] {
  const vs = r.vsPeer ? `${fmt(r.vsPeer.ratio)}× ${r.vsPeer.peer}` : '';
  const ms = r.ms === null ? '-' : `${fmt(r.ms)}${r.timer === 'wall' ? ' w' : ''}`;
  return [
    r.kernel,
    r.variant,
    r.shape,
    ms,
    r.flops > 0 ? fmt(r.gflops) : '-',
    r.bytes > 0 ? fmt(r.gbs) : '-',
    r.peakPct === null ? '-' : `${fmt(r.peakPct, 2)}%`,
    r.bound,
    vs,
    r.check,
  ];
}

/** One table line (no header); widths are fixed so lines print as they are measured. */
export function formatRow(r: Row): string {
  const c = cells(r);
  const widths = [22, 30, 14, 10, 8, 8, 9, 8, 22];
  return c.map((s, i) => (i < widths.length ? s.padEnd(widths[i]) : s)).join(' | ');
}

export function formatHeader(): string {
  const widths = [22, 30, 14, 10, 8, 8, 9, 8, 22];
  const line = HEAD.map((s, i) => (i < widths.length ? s.padEnd(widths[i]) : s)).join(' | ');
  return `${line}\n${'-'.repeat(line.length + 8)}`;
}

export function markdownTable(rows: Row[]): string {
  const out = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`];
  for (const r of rows) out.push(`| ${cells(r).map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
  return out.join('\n');
}

export function markdownReport(res: BenchResult): string {
  const a = res.adapter;
  const p = res.peaks;
  const lines = [
    `# sgdscope benchmarks — ${res.runtime} — ${a.name}`,
    '',
    `- date: ${res.date}; ${res.seconds.toFixed(0)} s`,
    `- adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || a.name}${a.isSoftware ? ' (software, CPU-emulated)' : ''}; timestamp-query: ${a.timestamps ? 'yes' : 'no'}`,
    `- runtime: ${res.userAgent}${res.load ? `; machine load average ${res.load[0].toFixed(1)} at start, ${res.load[1].toFixed(1)} at end (other processes share the cores: absolute times are inflated by it, paired ratios much less)` : ''}`,
    `- adapter peaks: FMA ${fmt(p.fmaGflops)} GFLOP/s; bandwidth ${fmt(p.cacheGBs)} GB/s (≤ ${(p.cacheBytes / 2 ** 20).toFixed(0)} MiB working set), ${fmt(p.dramGBs)} GB/s (DRAM); dispatch ${fmt(p.dispatchGpuMs !== null ? p.dispatchGpuMs * 1000 : null)} µs GPU, ${fmt(p.dispatchWallMs !== null ? p.dispatchWallMs * 1000 : null)} µs wall`,
    '',
    'ms: per call, GPU time from timestamp queries (`w`: wall time, many calls queued per submit). ' +
      '% of peak: the time this work would take at the adapter roofline (max of FLOP / peak FMA and bytes / peak bandwidth) over the measured time. ' +
      'bound: the largest of the three lower bounds (compute, memory, one dispatch). vs peer: sgdscope / peer on the same adapter in the same run (>1: sgdscope faster), by wall time with many calls queued.',
    '',
    markdownTable(res.rows),
  ];
  if (res.steps.length) {
    lines.push('', '## Whole SGD step (784-50-50-10, B 50)', '', '| variant | steps/s | wall ms/step | GPU ms/step | Σ kernels ms/step | kernel share of wall | encode ms/step |', '|---|---|---|---|---|---|---|');
    for (const s of res.steps) {
      lines.push(
        `| ${s.variant} | ${fmt(s.stepsPerSecond)} | ${fmt(s.wallMsPerStep)} | ${fmt(s.gpuMsPerStep)} | ${fmt(s.kernelMsPerStep)} | ${s.kernelShare === null ? '-' : `${(100 * s.kernelShare).toFixed(0)}%`} | ${fmt(s.encodeMsPerStep)} |`,
      );
    }
  }
  if (res.notes.length) {
    lines.push('', '## Notes', '');
    for (const n of res.notes) lines.push(`- ${n}`);
  }
  return lines.join('\n') + '\n';
}
