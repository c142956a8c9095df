/**
 * sgdscope's exit statuses — one table, the README's (section "Exit statuses"):
 *
 *   0    completed (or target reached; or --resume of a run that had already ended)
 *   1    internal error (a bug or an unexpected failure; the message says what)
 *   2    bad input: flags, config, grid or data files, --out/--run/--resume folders — detected
 *        before the GPU starts wherever the check does not need the GPU
 *   3    the training diverged (NaN/Inf or a loss above the bound); the last good weights are saved
 *   4    completed, but a part of the result failed: reproduce feng-tu with failed analysis stages
 *        (status "completed-with-failed-stages", summary.json stages.<name>.error; every other
 *        stage's files written; --resume runs the missing ones), or hessian --verify-dense where
 *        Lanczos and the dense solve disagree by more than 1e-3
 *   5    the GPU device was lost and no new one could be acquired: status "device-lost", resumable
 *   130  interrupted by SIGINT (Ctrl-C): checkpoint written, status "interrupted", resumable
 *   143  interrupted by SIGTERM (what batch schedulers send): the same
 */
export const EXIT = {
  ok: 0,
  internal: 1,
  badInput: 2,
  diverged: 3,
  verifyFailed: 4,
  failedStages: 4,
  deviceLost: 5,
  SIGINT: 130,
  SIGTERM: 143,
} as const;
