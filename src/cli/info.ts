/** `sgdscope info`: the adapter sgdscope finds, how, and the limits that matter to its kernels. */
import { acquireGpu } from '../gpu/device.ts';

export async function infoCommand(argv: string[]): Promise<number> {
  if (argv.length) {
    process.stderr.write(`sgdscope info: takes no arguments, got ${argv.join(' ')}\n`);
    return 2;
  }
  const ctx = await acquireGpu();
  const l = ctx.device.limits;
  const lines = [
    `runtime:        ${ctx.runtime}${ctx.runtime === 'node' ? ` (Dawn, VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'})` : ''}`,
    `adapter:        ${ctx.adapterName} — ${[ctx.adapterInfo.vendor, ctx.adapterInfo.architecture, ctx.adapterInfo.device, ctx.adapterInfo.description].filter(Boolean).join(' / ')}`,
    `software:       ${ctx.isSoftware}`,
    `timestamps:     ${ctx.hasTimestamps}`,
    `max storage binding: ${l.maxStorageBufferBindingSize}  max buffer: ${l.maxBufferSize}`,
    `workgroup:      storage ${l.maxComputeWorkgroupStorageSize} B, ${l.maxComputeInvocationsPerWorkgroup} invocations`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  ctx.destroy();
  return 0;
}
