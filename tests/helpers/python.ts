/** Python for the tests' independent numpy checks of run folders (scripts/*.py). */
import { spawnSync } from 'node:child_process';

/** A python3 that has numpy: the PATH one, else Debian's (python3-numpy, scripts/ensure-deps.sh). */
export function pythonWithNumpy(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import numpy'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}
