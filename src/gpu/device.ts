/**
 * One way to get a WebGPU device, in the browser (navigator.gpu) and in Node (Dawn, npm `webgpu`).
 *
 * What the kernels need from the adapter is asked for explicitly (storage-buffer size, workgroup
 * storage, invocations per workgroup); `timestamp-query` is requested when the adapter has it.
 *
 * Node facts measured on a 2-core machine without a GPU (SwiftShader Vulkan):
 *  - the object returned by `create()` must stay reachable for the life of the device, or the
 *    instance is garbage-collected under the device and the process segfaults: GpuContext.instance
 *    keeps it, and a module-level set keeps every context's instance.
 *  - `disable_workgroup_init` skips the zero-fill of var<workgroup> memory, which costs a lot on
 *    SwiftShader. It is device-wide, so every shader in shaders/ must write workgroup memory before
 *    reading it (shaders/README.md states the rule; all tiled kernels load tiles first).
 *  - `timestamp_quantization` is disabled so timestamp queries resolve at full precision.
 *  - `disable_robustness` (needs `allow_unsafe_apis`) drops Dawn's bounds clamping of every
 *    buffer access: 30–40% faster matmuls on SwiftShader. Safe only because every kernel here
 *    clamps its loads and masks its stores itself (shaders/README.md); the odd-shape tests check it.
 *    Node only: a browser never runs without robustness.
 */

export type Runtime = 'node' | 'browser';

export interface GpuContext {
  device: GPUDevice;
  adapterInfo: { vendor: string; architecture: string; device: string; description: string };
  /** A short name for file names and tables, e.g. "swiftshader" or "nvidia-ampere". */
  adapterName: string;
  runtime: Runtime;
  hasTimestamps: boolean;
  /** True when running on a CPU emulation of a GPU (SwiftShader, lavapipe, WARP). */
  isSoftware: boolean;
  /** Resolves when the device is lost; never swallowed: the loss is also printed. */
  lost: Promise<GPUDeviceLostInfo>;
  /** Errors raised outside any error scope (uncaptured), newest last. Checked by the run loop. */
  uncapturedErrors: string[];
  /** Node only: the Dawn GPU instance, kept alive on purpose (see header). */
  readonly instance: unknown;
  destroy(): void;
}

/** What run folders record about the adapter a result was computed on. */
export interface AdapterRecord {
  name: string;
  description: string;
  runtime: Runtime;
}

export function adapterRecord(ctx: GpuContext): AdapterRecord {
  return { name: ctx.adapterName, description: ctx.adapterInfo.description, runtime: ctx.runtime };
}

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Extra limits to require; the defaults below cover every kernel in shaders/. */
  limits?: Record<string, number>;
  /** Ask for timestamp-query when available (default true). */
  timestamps?: boolean;
}

/** Where Debian's chromium package puts SwiftShader's Vulkan ICD. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const NODE_DAWN_FLAGS = [
  'enable-dawn-features=allow_unsafe_apis,disable_workgroup_init,disable_robustness',
  'disable-dawn-features=timestamp_quantization',
];

/** Limits every sgdscope kernel may rely on (all are within WebGPU's guaranteed minimums or common). */
const WANTED_LIMITS: Record<string, number> = {
  maxStorageBufferBindingSize: 1 << 30,
  maxBufferSize: 1 << 30,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxStorageBuffersPerShaderStage: 8,
};

const keepAlive = new Set<unknown>();

export function detectRuntime(): Runtime {
  return typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined'
    ? 'node'
    : 'browser';
}

export async function acquireGpu(opts: AcquireOptions = {}): Promise<GpuContext> {
  const runtime = detectRuntime();
  const { gpu, instance } = runtime === 'node' ? await nodeGpu() : browserGpu();
  let adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  let keptInstance = instance;
  if (!adapter && runtime === 'node' && !process.env.VK_ICD_FILENAMES) {
    // No hardware Vulkan driver: retry on SwiftShader if Debian's chromium provides it.
    const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
    if (fs.existsSync(SWIFTSHADER_ICD)) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      const retry = await nodeGpu();
      keptInstance = retry.instance;
      adapter = await retry.gpu.requestAdapter();
    }
  }
  if (!adapter) throw new Error(noAdapterMessage(runtime));

  const requiredLimits: Record<string, number> = {};
  const wanted = { ...WANTED_LIMITS, ...(opts.limits ?? {}) };
  const adapterLimits = adapter.limits as unknown as Record<string, number>;
  for (const [name, value] of Object.entries(wanted)) {
    const have = adapterLimits[name];
    if (have === undefined) continue;
    requiredLimits[name] = Math.min(value, have);
  }
  const wantTimestamps = (opts.timestamps ?? true) && adapter.features.has('timestamp-query');
  const device = await adapter.requestDevice({
    label: 'sgdscope.device',
    requiredFeatures: wantTimestamps ? ['timestamp-query'] : [],
    requiredLimits,
  });

  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const adapterInfo = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
  };
  const text = `${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.device} ${adapterInfo.description}`.toLowerCase();
  const isSoftware =
    /swiftshader|llvmpipe|lavapipe|warp|software|cpu/.test(text) ||
    (runtime === 'node' && (process.env.VK_ICD_FILENAMES ?? '').includes('swiftshader'));
  const adapterName =
    (isSoftware && /swiftshader/.test(text)) || (runtime === 'node' && (process.env.VK_ICD_FILENAMES ?? '').includes('swiftshader'))
      ? 'swiftshader'
      : slug([adapterInfo.vendor, adapterInfo.architecture].filter(Boolean).join('-')) || 'gpu';

  const uncapturedErrors: string[] = [];
  device.addEventListener('uncapturederror', (ev) => {
    const msg = (ev as GPUUncapturedErrorEvent).error.message;
    uncapturedErrors.push(msg);
    console.error(`[sgdscope] uncaptured WebGPU error: ${msg}`);
  });
  let destroyed = false;
  const lost = device.lost.then((lostInfo) => {
    if (!destroyed) console.error(`[sgdscope] GPU device lost (${lostInfo.reason}): ${lostInfo.message}`);
    return lostInfo;
  });
  if (keptInstance) keepAlive.add(keptInstance);

  return {
    device,
    adapterInfo,
    adapterName,
    runtime,
    hasTimestamps: wantTimestamps,
    isSoftware,
    lost,
    uncapturedErrors,
    instance: keptInstance,
    destroy() {
      destroyed = true;
      device.destroy();
      // The instance stays in keepAlive: Dawn may still deliver the lost callback through it.
    },
  };
}

async function nodeGpu(): Promise<{ gpu: GPU; instance: unknown }> {
  quietSwiftShaderWsi();
  // A variable specifier keeps bundlers from pulling the Node addon into the browser build.
  const spec = 'webgpu';
  const mod = (await import(/* @vite-ignore */ spec)) as { create(flags: string[]): GPU; globals: object };
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create(NODE_DAWN_FLAGS);
  keepAlive.add(gpu);
  return { gpu, instance: gpu };
}

/**
 * SwiftShader's window-system code prints "XDG_RUNTIME_DIR is invalid or not set" on every
 * start when the variable is missing (headless machines, CI). Compute needs no window system;
 * giving it a private, empty runtime dir silences the message. Process-local, only when unset.
 */
function quietSwiftShaderWsi(): void {
  if (process.env.XDG_RUNTIME_DIR) return;
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  const os = process.getBuiltinModule('node:os') as typeof import('node:os');
  const dir = `${os.tmpdir()}/sgdscope-runtime-${process.getuid?.() ?? 'user'}`;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  } catch {
    // Only cosmetic: without it SwiftShader prints a harmless line.
  }
}

function browserGpu(): { gpu: GPU; instance: unknown } {
  const nav = globalThis.navigator as Navigator | undefined;
  if (!nav?.gpu) throw new Error(noAdapterMessage('browser'));
  return { gpu: nav.gpu, instance: null };
}

export function noAdapterMessage(runtime: Runtime): string {
  if (runtime === 'browser') {
    return (
      'WebGPU is not available in this browser. Use a recent Chrome or Edge (113+) on a machine with a ' +
      'GPU driver, or start Chromium with --enable-unsafe-webgpu (on Linux without a GPU, Debian\'s ' +
      'chromium package runs WebGPU on its bundled SwiftShader). Firefox needs dom.webgpu.enabled.'
    );
  }
  return (
    'No WebGPU adapter found by Dawn (npm package `webgpu`). Install a Vulkan GPU driver, or on a ' +
    'machine without a GPU install Debian\'s chromium and libvulkan1 packages ' +
    '(`apt-get install chromium libvulkan1`) and run with ' +
    `VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (sgdscope sets it itself when that file exists).`
  );
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}
