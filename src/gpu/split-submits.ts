/**
 * A long GPU job (hundreds of layers of a random network) encoded into several submits of about
 * `perSubmit` units of work each, so that no single submit runs for minutes (a watchdog on a real
 * GPU, an unresponsive page on SwiftShader) and progress can be reported. With a progress callback
 * it waits for each submit, sleeping through most of the expected time first (sync.ts), the
 * expectation coming from the caller's measured ms per unit of work.
 */
import type { GpuContext } from './device.ts';
import { GpuBatch } from './batch.ts';
import { finish } from './buffers.ts';

export class SplitSubmits {
  batch: GpuBatch;
  /** Work encoded so far. */
  work = 0;
  private pending = 0;
  private unwaited = 0;

  constructor(
    private readonly ctx: GpuContext,
    private readonly label: string,
    private readonly perSubmit: number,
    private readonly msPerWork: number,
    private readonly onProgress?: (work: number) => void,
  ) {
    this.batch = new GpuBatch(ctx, label);
  }

  /** Counts `w` units encoded into the current batch; submits (and maybe waits) past perSubmit. */
  async account(w: number): Promise<void> {
    this.work += w;
    this.pending += w;
    if (this.pending < this.perSubmit) return;
    this.batch.submit();
    this.unwaited += this.pending;
    this.pending = 0;
    if (this.onProgress) {
      await finish(this.ctx, this.unwaited * this.msPerWork);
      this.unwaited = 0;
      this.onProgress(this.work);
    }
    this.batch = new GpuBatch(this.ctx, this.label);
  }

  /** Submits the rest; returns the expected ms of the work not yet waited for (for the read-back). */
  submit(): number {
    this.batch.submit();
    const ms = (this.unwaited + this.pending) * this.msPerWork;
    this.unwaited += this.pending;
    this.pending = 0;
    return ms;
  }
}
