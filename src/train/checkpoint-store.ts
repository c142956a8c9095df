/**
 * Checkpoints on disk (Node): written atomically and durably (src/util/durable-fs.ts), read back
 * whole and checked (src/util/checkpoint-file.ts). `meta.progress` (a step, or runs finished)
 * orders checkpoints of one run, so a resume takes the furthest one it finds.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { decodeCheckpoint, decodeCheckpointHeader, encodeCheckpoint, type CheckpointContents } from '../util/checkpoint-file.ts';
import { writeFileDurable } from '../util/durable-fs.ts';

export function saveCheckpoint(path: string, c: CheckpointContents): void {
  writeFileDurable(path, encodeCheckpoint(c));
}

/** Reads and checks a checkpoint; `kind` must match (a sweep's checkpoint is no train run's). */
export function loadCheckpoint(path: string, kind: string): CheckpointContents {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`${path}: cannot read the checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const c = decodeCheckpoint(bytes, path);
  if (c.kind !== kind) throw new Error(`${path}: a checkpoint of '${c.kind}', not of '${kind}'`);
  return c;
}

/** meta.progress of a checkpoint from its header alone, or null when the file is not a usable checkpoint. */
export function checkpointProgress(path: string): number | null {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = new Uint8Array(16);
      if (readSync(fd, head, 0, 16, 0) < 16) return null;
      const h = new DataView(head.buffer).getUint32(12, true);
      if (h > 64 << 20) return null;
      const bytes = new Uint8Array(20 + h);
      readSync(fd, bytes, 0, bytes.length, 0);
      const p = decodeCheckpointHeader(bytes, path).meta.progress;
      return typeof p === 'number' && Number.isFinite(p) ? p : null;
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}
