/**
 * Surviving a lost GPU device (driver reset, GPU removed, `device.destroy()` in a test): when work
 * fails and the device turns out to be lost, a new device is acquired and the work is started
 * again — the work itself continues from its last checkpoint. If no device can be had, the caller
 * gets the reason instead of an exception, to record the run as "device-lost" with its resume
 * command.
 */
import type { GpuContext } from './device.ts';

/** The loss info if `ctx`'s device is lost, waiting up to `waitMs` for the lost promise to settle. */
export async function deviceLoss(ctx: GpuContext, waitMs = 2000): Promise<GPUDeviceLostInfo | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((res) => {
    timer = setTimeout(() => res(null), waitMs);
  });
  const info = await Promise.race([ctx.lost, timeout]);
  clearTimeout(timer);
  return info;
}

export interface RecoveryOptions {
  acquire(): Promise<GpuContext>;
  log(message: string): void;
  /** Losses survived before giving up (default 3). */
  maxLosses?: number;
}

export type Recovered<T> = { ok: true; value: T; ctx: GpuContext } | { ok: false; reason: string };

/**
 * Runs work(ctx); if it throws because the device was lost, acquires a new device and runs
 * work again on it (work resumes from its own last checkpoint). Errors that are not a device
 * loss propagate unchanged.
 */
export async function withDeviceRecovery<T>(first: GpuContext, work: (ctx: GpuContext, attempt: number) => Promise<T>, o: RecoveryOptions): Promise<Recovered<T>> {
  let ctx = first;
  for (let attempt = 0; ; attempt++) {
    try {
      return { ok: true, value: await work(ctx, attempt), ctx };
    } catch (e) {
      const info = await deviceLoss(ctx);
      if (!info) throw e;
      const what = `GPU device lost (${info.reason}${info.message ? `: ${info.message}` : ''})`;
      if (attempt + 1 > (o.maxLosses ?? 3)) return { ok: false, reason: `${what}, for the ${attempt + 1}th time; giving up` };
      try {
        ctx.destroy();
      } catch {
        // Already gone with the device.
      }
      try {
        ctx = await o.acquire();
      } catch (e2) {
        return { ok: false, reason: `${what}, and no new device could be acquired: ${(e2 as Error).message}` };
      }
      o.log(`${what}; continuing on a new device (${ctx.adapterName})`);
    }
  }
}
