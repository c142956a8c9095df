/**
 * SIGINT and SIGTERM while a long command runs: the first asks the run to stop at the next chunk
 * boundary and write its checkpoint (the command then exits 130 or 143 with status "interrupted"
 * and the resume command); a second one exits at once, leaving the last periodic checkpoint.
 * During a stage that cannot stop midway, `onRequest` lets the command end the run right away
 * from the checkpoint it already has.
 */
import { EXIT } from './exit-codes.ts';

export type StopSignal = 'SIGINT' | 'SIGTERM';

export class StopSignals {
  signal: StopSignal | null = null;
  /** Called on the first signal (after the flag is set); e.g. commit "interrupted" and exit. */
  onRequest: ((s: StopSignal) => void) | null = null;
  private readonly handlers: [StopSignal, () => void][];

  constructor(private readonly say: (message: string) => void) {
    this.handlers = (['SIGINT', 'SIGTERM'] as const).map((s) => [s, () => this.receive(s)]);
    for (const [s, h] of this.handlers) process.on(s, h);
  }

  get requested(): boolean {
    return this.signal !== null;
  }

  get exitCode(): number {
    return this.signal ? EXIT[this.signal] : EXIT.ok;
  }

  private receive(s: StopSignal): void {
    if (this.signal) {
      process.stderr.write(`\n${s} again: exiting now (the last checkpoint stays for --resume)\n`);
      process.exit(EXIT[s]);
    }
    this.signal = s;
    this.say(`\n${s}: stopping at the next chunk boundary and writing a checkpoint (${s === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again exits at once)`);
    this.onRequest?.(s);
  }

  dispose(): void {
    for (const [s, h] of this.handlers) process.off(s, h);
  }
}
