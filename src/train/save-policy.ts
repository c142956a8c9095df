/**
 * When a long run writes its checkpoint: every N steps (`--save-every 500`), every so many seconds
 * of work (`--save-every 90s`, `5m`; the default is a minute), or only when it stops
 * (`--save-every 0`). A stop (signal, end of the run) always writes one.
 */
export interface SavePolicy {
  steps: number | null;
  seconds: number | null;
}

export const DEFAULT_SAVE_POLICY: SavePolicy = { steps: null, seconds: 60 };

export const SAVE_EVERY_HELP = "write a resume checkpoint every N steps, or every Ns / Nm of work (default 60s; 0: only when the run stops)";

/** Parses --save-every: '500' (steps), '90s', '5m', '0'; throws a message naming the flag. */
export function parseSavePolicy(raw: string): SavePolicy {
  const m = /^(\d{1,12})(s|m)?$/.exec(raw.trim());
  if (!m) throw new Error(`--save-every must be a number of steps (500), seconds (90s) or minutes (5m), got '${raw}'`);
  const v = Number(m[1]);
  if (v === 0) return { steps: null, seconds: null };
  if (m[2] === 's') return { steps: null, seconds: v };
  if (m[2] === 'm') return { steps: null, seconds: 60 * v };
  return { steps: v, seconds: null };
}

/** Tracks the last save; due() says whether the policy asks for one now. */
export class SaveClock {
  private step: number;
  private at = performance.now();

  constructor(readonly policy: SavePolicy, step = 0) {
    this.step = step;
  }

  due(step: number): boolean {
    const p = this.policy;
    if (p.steps !== null && step - this.step >= p.steps) return true;
    return p.seconds !== null && performance.now() - this.at >= 1000 * p.seconds;
  }

  saved(step: number): void {
    this.step = step;
    this.at = performance.now();
  }
}
