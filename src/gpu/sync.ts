/**
 * Waiting for the GPU without starving it.
 *
 * Dawn in Node resolves its promises by polling with setImmediate while any is pending, which
 * keeps one CPU core busy. On a GPU that costs nothing; on SwiftShader (the GPU *is* the CPU, 2
 * cores here) it takes a core away from the work being waited for. So a wait first sleeps with
 * setTimeout (no polling) for most of the time the work is expected to take, and only then creates
 * the promise that makes Dawn poll. Callers pass the expected time from their own measurements
 * (e.g. the previous chunk of training steps); 0 means "poll now".
 */
const SLEEP_FRACTION = 0.9;

let enabled = true;

/** Benchmarks switch the gentle wait off to measure what it saves. */
export function setGentleWaiting(on: boolean): void {
  enabled = on;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function gentleWait<T>(expectedMs: number, start: () => Promise<T>): Promise<T> {
  if (enabled && expectedMs > 1) await sleep(expectedMs * SLEEP_FRACTION);
  return start();
}

/** Exponential moving average of a duration, for the next gentleWait's expectation. */
export class DurationEstimate {
  private value = 0;
  constructor(private readonly alpha = 0.5) {}
  update(ms: number): void {
    this.value = this.value === 0 ? ms : this.alpha * ms + (1 - this.alpha) * this.value;
  }
  get ms(): number {
    return this.value;
  }
}
