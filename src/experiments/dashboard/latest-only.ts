/**
 * Requests served one at a time where only the latest matters (a click on the phase diagram
 * supersedes the previous one): while one runs, newer requests replace each other and only the
 * last is served next.
 */
export class LatestOnly<T> {
  private busy = false;
  private pending: T | null = null;

  constructor(private readonly serve: (req: T) => Promise<void>) {}

  async submit(req: T): Promise<void> {
    this.pending = req;
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.pending !== null) {
        const next = this.pending;
        this.pending = null;
        await this.serve(next);
      }
    } finally {
      this.busy = false;
    }
  }
}
