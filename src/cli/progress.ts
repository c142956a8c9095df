/** A one-line progress bar on stderr (redrawn in place on a terminal, one line per update otherwise). */
export class ProgressBar {
  private lastLen = 0;
  private readonly tty = !!process.stderr.isTTY;
  private lastPlain = 0;
  constructor(readonly label: string) {}

  update(done: number, total: number | null, fields: string): void {
    const frac = total ? Math.min(1, done / total) : 0;
    const width = 24;
    const bar = total ? '█'.repeat(Math.round(frac * width)).padEnd(width, '░') : '';
    const line = `${this.label} ${bar} ${total ? `${(frac * 100).toFixed(0).padStart(3)}%` : ''} ${fields}`;
    if (this.tty) {
      process.stderr.write(`\r${line.padEnd(this.lastLen)}`);
      this.lastLen = line.length;
    } else if (performance.now() - this.lastPlain > 2000 || done === total) {
      process.stderr.write(`${line}\n`);
      this.lastPlain = performance.now();
    }
  }

  done(): void {
    if (this.tty && this.lastLen > 0) process.stderr.write('\n');
    this.lastLen = 0;
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${String(Math.round(seconds - 60 * m)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
